#!/bin/sh
# benchmarks/upscale_sc09.sh: OA-ARDM (logistic mixture) against upscale ARDMs (b = 256, 16, 4)
# on the SC09-style set with the same network and training budget (doc/method.md section 5 reports
# 7.93 vs 6.36 / 6.30 / 6.29 bits/dim for the full-size models), then per-stage budgets 50 and
# 100 planned against all S x D steps for each model.
# Usage: sh benchmarks/upscale_sc09.sh [STEPS]  (env: NP=2, MODEL="-model_blocks 6 ...", EX=24 test clips,
#        DRAWS=32 (t, order) draws per clip, SKIP_TRAIN=1 to re-evaluate existing runs)
set -eu
cd "$(dirname "$0")/.."
STEPS=${1:-300}
NP=${NP:-2}
EX=${EX:-24}
DRAWS=${DRAWS:-32}
MODEL=${MODEL:-"-model_blocks 6 -model_channels 32 -model_cycle 6"}
TRAIN="-steps $STEPS -batch 8 -lr 2e-3 -warmup 20 -clip 100 -ema 0.98 -log_every 50 -ckpt_every 100000"
OUT=${OUT:-output/upscale_sc09}
DATA=input/sc09/data
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -f "$DATA/test.nc" ] || sh input/sc09/make.sh
mkdir -p "$OUT"
printf "%-22s %10s %10s %10s %10s\n" model "bpd(full)" stderr "budget 50" "budget 100" >"$OUT/results.txt"
for cfg in "oa_mixture:-head logistic_mixture -mixtures 10" "upscale_256:-upscale_b 256" "upscale_16:-upscale_b 16" \
  "upscale_4:-upscale_b 4"; do
  name=${cfg%%:*}; opts=${cfg#*:}
  run="$OUT/$name"
  t0=$(date +%s)
  if [ -z "${SKIP_TRAIN:-}" ] || [ ! -f "$run/checkpoint.nc" ]; then
    rm -rf "$run"
    mpirun -n "$NP" bin/ardm train -data "$DATA/train.nc" -out "$run" $MODEL $TRAIN $opts >"$run.train.log" 2>&1
  fi
  mpirun -n "$NP" bin/ardm eval -ckpt "$run/checkpoint.nc" -data "$DATA/valid.nc" -out "$run/eval_valid.nc" -draws 4 \
    -max_examples "$EX" >/dev/null
  mpirun -n "$NP" bin/ardm plan -loss "$run/eval_valid.nc" -out "$run/plan.nc" -budgets 50,100 >/dev/null
  mpirun -n "$NP" bin/ardm eval -ckpt "$run/checkpoint.nc" -data "$DATA/test.nc" -out "$run/eval.nc" -draws "$DRAWS" \
    -max_examples "$EX" -plan "$run/plan.nc" >"$run.eval.log" 2>&1
  /usr/bin/python3 - "$run/eval.nc" "$name" >>"$OUT/results.txt" <<'PY'
import sys
from netCDF4 import Dataset
d = Dataset(sys.argv[1])
b = d.variables["budget_bpd"][:]
print(f"{sys.argv[2]:<22s} {float(d.variables['bpd'][:]):10.3f} {float(d.variables['bpd_stderr'][:]):10.3f} {b[0]:10.3f} {b[1]:10.3f}")
PY
  echo "$name: $(( $(date +%s) - t0 )) s"
done
cat "$OUT/results.txt"
