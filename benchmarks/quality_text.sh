#!/bin/sh
# benchmarks/quality_text.sh: held-out bits per character of a text OA-ARDM for a wall-clock
# budget, next to gzip -9 / bzip2 -9 / xz -9e on the same characters (issue 12).
# Trains one model on the text8-style set (input/text8/make.sh), keeping a checkpoint every
# CKPT_EVERY steps; evaluates every checkpoint on a fixed subset of the test split (every
# STRIDE-th chunk, so every source is in it) with a BUDGET-step plan made on the same stride of
# the valid split (the parallel bound next to the all-steps ELBO); evaluates the last checkpoint
# on the WHOLE test split; draws samples (all 250 steps and BUDGET steps, unconditional and with
# the first half of held-out chunks given) and exports them as text. Writes OUT/quality.txt
# (the curve: step, examples seen, wall time, bits/char +- standard error, BUDGET-step bound)
# and OUT/samples/*.txt.
#
# usage: sh benchmarks/quality_text.sh OPTIONS_FILE HOURS [RANKS] [-name NAME]
#   OPTIONS_FILE  ardm train options (e.g. input/text8_small.opts)
#   HOURS         training wall-clock budget (ardm train -max_hours; the run ends with exit 3)
#   RANKS         MPI ranks (default 2)
#   -name NAME    run name (default: the options file's name)
# Env: DATA (default input/text8/data, made with input/text8/make.sh when missing),
#      OUT (default output/quality/NAME), STRIDE=16, DRAWS=2 (t, order) draws per chunk on the
#      subset, FINAL_DRAWS=1 on the whole test split, BUDGET=20, CKPT_EVERY=300,
#      EXTRA="..." more train options (override the file's), SKIP_TRAIN=1 re-evaluates a run.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 1; }
ME=quality_text.sh
. benchmarks/quality_lib.sh
quality_args "$@"
DATA=${DATA:-input/text8/data}
OUT=${OUT:-output/quality/$NAME}
STRIDE=${STRIDE:-16} DRAWS=${DRAWS:-2} FINAL_DRAWS=${FINAL_DRAWS:-1}
BUDGET=${BUDGET:-20} CKPT_EVERY=${CKPT_EVERY:-300}

[ -f "$DATA/test.nc" ] || sh input/text8/make.sh -out "$DATA" -np "$NP"
quality_train "$DATA" "$OUT" "$CKPT_EVERY"

# every STRIDE-th chunk of valid and test (the splits are source blocks in order: a stride keeps
# the mix of sources), written with the data set's attributes so ardm reads them as data sets
mkdir -p "$OUT/sub"
/usr/bin/python3 benchmarks/subset_nc.py "$DATA" "$OUT/sub" "$STRIDE" quality_text.sh

# the codecs on the same characters: the subset (what the curve is measured on) and the whole split
sh benchmarks/text_codecs.sh "$OUT/sub" test >"$OUT/codecs_sub.txt"
sh benchmarks/text_codecs.sh "$DATA" test >"$OUT/codecs_test.txt"

# every checkpoint: plan on the valid subset, evaluate on the test subset (ELBO and the bound)
: >"$OUT/points.txt"
for ck in $(ls "$OUT"/run/ckpt-*.nc | sed 's/.*ckpt-\([0-9]*\)\.nc/\1/' | sort -n); do
  c="$OUT/run/ckpt-$ck.nc" e="$OUT/eval-$ck"
  ardm eval -ckpt "$c" -data "$OUT/sub/valid.nc" -out "$e.valid.nc" -draws "$DRAWS" >/dev/null
  ardm plan -loss "$e.valid.nc" -out "$e.plan.nc" -budgets "$BUDGET" >/dev/null
  ardm eval -ckpt "$c" -data "$OUT/sub/test.nc" -out "$e.test.nc" -draws "$DRAWS" -plan "$e.plan.nc" >/dev/null
  echo "$ck $c $e.test.nc" >>"$OUT/points.txt"
  echo "quality_text.sh: step $ck evaluated"
done

# the last checkpoint on the whole test split
last=$(tail -n 1 "$OUT/points.txt") lck=$(echo "$last" | cut -d' ' -f1) lc=$(echo "$last" | cut -d' ' -f2)
ardm eval -ckpt "$lc" -data "$DATA/test.nc" -out "$OUT/eval-final.test.nc" -draws "$FINAL_DRAWS" \
  -plan "$OUT/eval-$lck.plan.nc" >/dev/null

# samples: all 250 steps and BUDGET steps, unconditional and with the first half given
mkdir -p "$OUT/samples"
ardm sample -ckpt "$lc" -n 4 -out "$OUT/samples/all_steps.nc" >/dev/null
ardm sample -ckpt "$lc" -n 4 -plan "$OUT/eval-$lck.plan.nc" -budget "$BUDGET" \
  -out "$OUT/samples/budget.nc" >/dev/null
ardm sample -ckpt "$lc" -n 4 -given "$OUT/sub/test.nc" -given_mask first_half \
  -out "$OUT/samples/prefix.nc" >/dev/null
for s in all_steps budget prefix; do
  bin/ardm export -format txt -in "$OUT/samples/$s.nc" -out "$OUT/samples" -name "$s" >/dev/null
done

/usr/bin/python3 - "$OUT" "$BUDGET" <<'EOF' | tee "$OUT/quality.txt"
import os, sys
import numpy as np
from netCDF4 import Dataset
out, budget = sys.argv[1], int(sys.argv[2])
start = float(open(f"{out}/train_start").read())
def row(ckpt, ev):
    e = Dataset(ev)
    b = np.asarray(e.variables["budget_bpd"][:], dtype=np.float64)
    bs = np.asarray(e.variables["budget_bpd_stderr"][:], dtype=np.float64)
    return (float(e.variables["bpd"][:]), float(e.variables["bpd_stderr"][:]), b[0], bs[0],
            int(e.dimensions["example"].size) if "example" in e.dimensions else -1)
print(f"| step | examples seen | wall (h) | test-subset bits/char | +- | {budget}-step bound | +- |")
print("|---|---|---|---|---|---|---|")
for line in open(f"{out}/points.txt"):
    step, ckpt, ev = line.split()
    seen = int(Dataset(ckpt).getncattr("examples_seen"))
    wall = (os.path.getmtime(ckpt) - start) / 3600
    bpd, se, b, bs, _ = row(ckpt, ev)
    print(f"| {step} | {seen:,} | {wall:.2f} | {bpd:.4f} | {se:.4f} | {b:.4f} | {bs:.4f} |")
bpd, se, b, bs, _ = row(ckpt, f"{out}/eval-final.test.nc")
print(f"\nlast checkpoint (step {step}) on the whole test split: {bpd:.4f} +- {se:.4f} bits/char; "
      f"{budget}-step bound {b:.4f} +- {bs:.4f}")
EOF
echo "codecs on the test subset:"; cat "$OUT/codecs_sub.txt"
echo "codecs on the whole test split:"; cat "$OUT/codecs_test.txt"
