#!/bin/sh
# benchmarks/sampling.sh: sampling time as a function of the budget against budget x one network
# forward, both measured in the same run by `ardm sample` (the model times its own forward
# calls); target: sampling within 10% of the network time (ratio <= 1.10).
# Usage: sh benchmarks/sampling.sh [CKPT]   (default: the demo's checkpoint, D = 16000)
set -eu
cd "$(dirname "$0")/.."
CKPT=${1:-output/demo/checkpoint.nc}
export OPENBLAS_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -f "$CKPT" ] || { echo "no checkpoint $CKPT: run 'make demo' first"; exit 1; }
bin/ardm info "$CKPT" | grep -E "model_(blocks|channels|D)|data_modality" || true
printf "%8s %8s %12s %12s %12s %8s\n" budget samples "s/sample" "net s/samp" "s/call" ratio
for budget in 10 50 200; do
  out=$(mpirun -n 1 bin/ardm sample -ckpt "$CKPT" -budget "$budget" -n 4 -batch 4 -out /tmp/ardm-bench-samples.nc)
  echo "$out" | sed -n 's/.*network calls per stage per batch; rank 0: sampling \([0-9.]*\) s, of which \([0-9.]*\) s.*(ratio \([0-9.]*\)).*/\1 \2 \3/p' |
    awk -v b="$budget" '{printf "%8d %8d %12.4f %12.4f %12.5f %8.3f\n", b, 4, $1 / 4, $2 / 4, $2 / b, $3}'
done
rm -f /tmp/ardm-bench-samples.nc
