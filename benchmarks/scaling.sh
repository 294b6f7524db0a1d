#!/bin/sh
# benchmarks/scaling.sh: weak and strong scaling of `ardm train`, 1 -> 2 ranks (or the rank
# counts in RANKS), with the time split into compute (ArdmNetFwd + ArdmNetBwd + ArdmHead),
# communication (ArdmGradComm: reduce-scatter + the small allreduce + the parameter
# all-gather), update (ArdmOptimizer: Adam + EMA on the shard) and I/O (ArdmIORead +
# ArdmIOWrite) from PETSc's -log_view, then the communication model
# (benchmarks/comm_model.c) projected to 64, 256 and 1024 ranks.
# Each configuration runs REPEATS times (default 3) and the fastest run counts: these VMs share
# their host, and single runs of the same configuration varied by up to 35%.
# Usage: sh benchmarks/scaling.sh [STEPS]   (env: RANKS="1 2", PER_RANK_BATCH=2, REPEATS=3, MODEL=...)
set -eu
cd "$(dirname "$0")/.."
STEPS=${1:-6}
RANKS=${RANKS:-"1 2"}
REPEATS=${REPEATS:-3}
PB=${PER_RANK_BATCH:-2}
MODEL=${MODEL:-"-model_blocks 12 -model_channels 64 -model_cycle 6 -head logistic_mixture -mixtures 30"}
OUT=${OUT:-/tmp/ardm-scaling}
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT"
DATA=input/sc09/data/train.nc
if [ ! -f "$DATA" ]; then
  DATA="$OUT/markov/train.nc"
  [ -f "$DATA" ] || mpirun -n 2 bin/ardm prep -format markov -out "$OUT/markov" -n 64 -length 16000 -classes 65536
fi
echo "data $DATA; model $MODEL; $STEPS steps; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"

# run KIND P GLOBAL_BATCH -> prints "KIND P batch per_step compute comm update io"
run() {
  kind=$1; p=$2; gb=$3; dir="$OUT/$kind-$p"
  rm -rf "$dir"
  mpirun -n "$p" bin/ardm train -data "$DATA" -out "$dir" -steps "$STEPS" -batch "$gb" $MODEL -log_every "$STEPS" \
    -ckpt_every 1000000 -log_view ":$dir.log" >"$dir.out" 2>&1
  awk -v k="$kind" -v p="$p" -v gb="$gb" -v s="$STEPS" '
    $1 == "ArdmNetFwd" || $1 == "ArdmNetBwd" || $1 == "ArdmHead" {c += $4} $1 == "ArdmGradComm" {g += $4}
    $1 == "ArdmOptimizer" {u += $4} $1 == "ArdmIORead" || $1 == "ArdmIOWrite" {i += $4}
    END {t = c + g + u + i; printf "%-6s %3d %5d %9.3f %9.3f %9.3f %9.3f %9.3f\n", k, p, gb, t / s, c / s, g / s, u / s, i / s}' "$dir.log"
}

printf "%-6s %3s %5s %9s %9s %9s %9s %9s\n" kind P batch "s/step" compute gradcomm update io
best() { for r in $(seq 1 "$REPEATS"); do run "$@"; done | sort -k4 -g | head -n 1; }
for p in $RANKS; do best weak "$p" $((PB * p)); done | tee "$OUT/weak.txt"
for p in $RANKS; do best strong "$p" $((PB * $(echo $RANKS | awk '{print $NF}'))); done | tee "$OUT/strong.txt"
awk 'NR == 1 {t1 = $4} {printf "weak scaling efficiency at %d ranks: %.3f (time per step %.3f s vs %.3f s on 1 rank)\n", $2, t1 / $4, $4, t1}' "$OUT/weak.txt"
awk 'NR == 1 {t1 = $4; p1 = $2} {printf "strong scaling efficiency at %d ranks: %.3f\n", $2, t1 * p1 / ($4 * $2)}' "$OUT/strong.txt"
if [ -x build/bench/comm_model ]; then
  mpirun -n "$(echo $RANKS | awk '{print $NF}')" build/bench/comm_model
fi
