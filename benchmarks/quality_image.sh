#!/bin/sh
# benchmarks/quality_image.sh: held-out bits per sub-pixel of an image OA-ARDM or upscale ARDM for
# a wall-clock budget, next to optimised PNG and WebP lossless on the same images (issue 13).
# Trains one model on the icon set (input/images/make.sh), keeping a checkpoint every CKPT_EVERY
# steps; evaluates every EVAL_EVERY-th step's checkpoint (and the last) on every STRIDE-th image
# of the test split, with BUDGET-step plans made on the same stride of the valid split (for an
# upscale model: BUDGET steps per stage (-allocate equal, as the paper) and BUDGET x stages in
# total (-allocate optimal)); evaluates the last checkpoint on the WHOLE test split; draws samples
# (BUDGET-step plan: an 8 x 8 grid; all steps; inpainting with the top half and the centre square
# given, BUDGET-step plan) and exports them as PNG. Writes OUT/quality.txt (the curve: step, examples seen, wall
# time, valid-subset bits/dim, test-subset bits/dim +- standard error, the bounds) and OUT/samples/*.png.
#
# usage: sh benchmarks/quality_image.sh OPTIONS_FILE HOURS [RANKS] [-name NAME]
#   OPTIONS_FILE  ardm train options (e.g. input/cifar_small.opts)
#   HOURS         training wall-clock budget (ardm train -max_hours; the run ends with exit 3)
#   RANKS         MPI ranks (default 2)
#   -name NAME    run name (default: the options file's name)
# Env: DATA (default input/images/data, made with input/images/make.sh when missing),
#      OUT (default output/quality/NAME), STRIDE=4, DRAWS=2 (t, order) draws per image on the
#      subset, FINAL_DRAWS=1 on the whole test split, BUDGET=50, CKPT_EVERY=250, EVAL_EVERY=1000,
#      ALL_N=4 samples with all steps, EXTRA="..." more train options (override the file's),
#      SKIP_TRAIN=1 re-evaluates a run, CODECS=0 skips the (slow) codec baselines, SAMPLES=0
#      skips the samples.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 1; }
ME=quality_image.sh
. benchmarks/quality_lib.sh
quality_args "$@"
DATA=${DATA:-input/images/data}
OUT=${OUT:-output/quality/$NAME}
STRIDE=${STRIDE:-4} DRAWS=${DRAWS:-2} FINAL_DRAWS=${FINAL_DRAWS:-1} BUDGET=${BUDGET:-50}
CKPT_EVERY=${CKPT_EVERY:-250} EVAL_EVERY=${EVAL_EVERY:-1000} ALL_N=${ALL_N:-4}

[ -f "$DATA/test.nc" ] || sh input/images/make.sh -out "$DATA" -np "$NP"
quality_train "$DATA" "$OUT" "$CKPT_EVERY"

mkdir -p "$OUT/sub"
/usr/bin/python3 benchmarks/subset_nc.py "$DATA" "$OUT/sub" "$STRIDE" quality_image.sh

# the codecs on the same images: the subset (what the curve is measured on) and the whole split
if [ "${CODECS:-1}" != 0 ]; then
  sh benchmarks/image_codecs.sh "$OUT/sub" test "$NP" >"$OUT/codecs_sub.txt"
  sh benchmarks/image_codecs.sh "$DATA" test "$NP" >"$OUT/codecs_test.txt"
fi

# an upscale checkpoint (stages > 1) also gets the optimal allocation of BUDGET x stages calls
stages=$(/usr/bin/python3 -c "
import sys; from netCDF4 import Dataset
d = Dataset(sys.argv[1]); print(int(d.getncattr('model_stages')) if 'model_stages' in d.ncattrs() else 1)
" "$OUT/run/checkpoint.nc")

# the checkpoints evaluated: every EVAL_EVERY-th step and the last
steps=$(ls "$OUT"/run/ckpt-*.nc | sed 's/.*ckpt-\([0-9]*\)\.nc/\1/' | sort -n)
last=$(echo "$steps" | tail -n 1)
: >"$OUT/points.txt"
for ck in $steps; do
  n=$(echo "$ck" | sed 's/^0*\([0-9]\)/\1/') # the names are zero-padded: not octal
  [ $((n % EVAL_EVERY)) -eq 0 ] || [ "$ck" = "$last" ] || continue
  c="$OUT/run/ckpt-$ck.nc" e="$OUT/eval-$ck"
  ardm eval -ckpt "$c" -data "$OUT/sub/valid.nc" -out "$e.valid.nc" -draws "$DRAWS" >/dev/null
  ardm plan -loss "$e.valid.nc" -out "$e.plan.nc" -budgets "$BUDGET" >/dev/null
  ardm eval -ckpt "$c" -data "$OUT/sub/test.nc" -out "$e.test.nc" -draws "$DRAWS" -plan "$e.plan.nc" >/dev/null
  if [ "$stages" -gt 1 ]; then
    ardm plan -loss "$e.valid.nc" -out "$e.plan_opt.nc" -allocate optimal \
      -budgets $((BUDGET * stages)) >/dev/null
    ardm eval -ckpt "$c" -data "$OUT/sub/test.nc" -out "$e.test_opt.nc" -draws "$DRAWS" \
      -plan "$e.plan_opt.nc" >/dev/null
  fi
  echo "$ck $c $e" >>"$OUT/points.txt"
  echo "quality_image.sh: step $ck evaluated"
done

# the last checkpoint on the whole test split
lc="$OUT/run/ckpt-$last.nc" lp="$OUT/eval-$last.plan.nc"
ardm eval -ckpt "$lc" -data "$DATA/test.nc" -out "$OUT/eval-final.test.nc" -draws "$FINAL_DRAWS" \
  -plan "$lp" >/dev/null

# samples: an 8 x 8 grid with the BUDGET-step plan, ALL_N with all steps, inpainting of 8 test
# images (the BUDGET-step plan stretched over the unknown dims)
mkdir -p "$OUT/samples"
[ "${SAMPLES:-1}" = 0 ] || {
ardm sample -ckpt "$lc" -n 64 -plan "$lp" -budget "$BUDGET" -out "$OUT/samples/budget.nc" >/dev/null
ardm sample -ckpt "$lc" -n "$ALL_N" -out "$OUT/samples/all_steps.nc" >/dev/null
for m in top_half centre; do
  ardm sample -ckpt "$lc" -n 8 -given "$OUT/sub/test.nc" -given_mask $m -plan "$lp" -budget "$BUDGET" \
    -out "$OUT/samples/$m.nc" >/dev/null
done
for s in budget all_steps top_half centre; do
  bin/ardm export -format png -in "$OUT/samples/$s.nc" -out "$OUT/samples" -name "$s" >/dev/null
done
}

/usr/bin/python3 - "$OUT" "$BUDGET" "$stages" <<'EOF' | tee "$OUT/quality.txt"
import os, sys
import numpy as np
from netCDF4 import Dataset
out, budget, stages = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = float(open(f"{out}/train_start").read())
def ev(path):
    e = Dataset(path)
    b = np.asarray(e.variables["budget_bpd"][:], dtype=np.float64)
    bs = np.asarray(e.variables["budget_bpd_stderr"][:], dtype=np.float64)
    return float(e.variables["bpd"][:]), float(e.variables["bpd_stderr"][:]), b[0], bs[0]
head = f"| step | examples seen | wall (h) | valid-subset | test-subset bits/dim | +- | {budget}-step bound | +- |"
if stages > 1:
    head = (f"| step | examples seen | wall (h) | valid-subset | test-subset bits/dim | +- | {stages} x {budget} steps"
            f" (equal) | +- | {stages * budget} steps (optimal) | +- |")
print(head)
print("|---" * (head.count("|") - 1) + "|")
for line in open(f"{out}/points.txt"):
    step, ckpt, e = line.split()
    seen = int(Dataset(ckpt).getncattr("examples_seen"))
    wall = (os.path.getmtime(ckpt) - start) / 3600
    bpd, se, b, bs = ev(f"{e}.test.nc")
    vbpd = float(Dataset(f"{e}.valid.nc").variables["bpd"][:])  # what a recipe is tuned on
    row = f"| {int(step)} | {seen:,} | {wall:.2f} | {vbpd:.4f} | {bpd:.4f} | {se:.4f} | {b:.4f} | {bs:.4f} |"
    if stages > 1:
        _, _, bo, bso = ev(f"{e}.test_opt.nc")
        row += f" {bo:.4f} | {bso:.4f} |"
    print(row)
bpd, se, b, bs = ev(f"{out}/eval-final.test.nc")
print(f"\nlast checkpoint (step {int(step)}) on the whole test split: {bpd:.4f} +- {se:.4f} bits/dim; "
      f"{budget}-step{' per stage' if stages > 1 else ''} bound {b:.4f} +- {bs:.4f}")
EOF
if [ "${CODECS:-1}" != 0 ]; then
  echo "codecs on the test subset:"; cat "$OUT/codecs_sub.txt"
  echo "codecs on the whole test split:"; cat "$OUT/codecs_test.txt"
fi
