#!/bin/sh
# benchmarks/threads.sh: threads inside a rank (-threads, issue 17), measured with `ardm train`
# itself: the whole training step (network, logistic-mixture head, gradient reduce-scatter,
# Adam, parameter all-gather) of the 12 x 64 and 36 x 256 audio networks at D = 16000, batch 1
# per rank, as
#   1 rank x 1 thread,  1 rank x 2 threads,  2 ranks x 1 thread
# in one invocation. Step time = the fastest step after the first (differences of wall_s in
# train_log.nc); throughput = examples per step / step time. Prints each configuration's step
# time and its speed-up over 1 rank x 1 thread (throughput ratio; target >= 1.8 for 2 threads).
# Data: a synthetic Markov chain with 65536 classes (the SC09 shape); model cycle 12, kernel 3,
# 30-component mixture head (as benchmarks/train_step.c).
# Usage: sh benchmarks/threads.sh [STEPS_SMALL [STEPS_LARGE]]   (defaults 6 and 3; env OUT=dir,
#        MODELS="12x64 36x256")
set -eu
cd "$(dirname "$0")/.."
STEPS_SMALL=${1:-6}
STEPS_LARGE=${2:-3}
OUT=${OUT:-/tmp/ardm-threads}
MODELS=${MODELS:-"12x64 36x256"}
export OMPI_MCA_rmaps_base_oversubscribe=1
unset OMP_NUM_THREADS OPENBLAS_NUM_THREADS
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$OUT"
DATA="$OUT/markov/train.nc"
[ -f "$DATA" ] || mpirun -n 1 bin/ardm prep -format markov -out "$OUT/markov" -n 16 -length 16000 -classes 65536 >/dev/null
echo "$(nproc) CPUs; OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}; $(uptime)"

# run MODEL RANKS THREADS STEPS -> "seconds per step" (fastest step after the first)
run() {
  b=${1%x*} c=${1#*x} dir="$OUT/$1-$2x$3"
  rm -rf "$dir"
  # --bind-to none: Open MPI binds 1-2 ranks to one core each, which 2 threads would share
  mpirun --bind-to none -n "$2" bin/ardm train -data "$DATA" -out "$dir" -steps "$4" -batch "$2" -threads "$3" \
    -model_blocks "$b" -model_channels "$c" -model_cycle 12 -head logistic_mixture -mixtures 30 \
    -log_every 1 -ckpt_every 1000000 >"$dir.out" 2>&1 || { tail -5 "$dir.out" >&2; exit 1; }
  /usr/bin/python3 tests/ncvar.py get "$dir/train_log.nc" wall_s |
    awk '{t[n++] = $1} END {best = 1e30; for (i = 2; i < n; i++) if (t[i] - t[i-1] < best) best = t[i] - t[i-1]; printf "%.4f\n", best}'
}

printf "%-7s %-18s %10s %12s %9s\n" model config "s/step" "examples/s" speed-up
for m in $MODELS; do
  steps=$STEPS_SMALL
  [ "$m" = 12x64 ] || steps=$STEPS_LARGE
  t11=$(run "$m" 1 1 "$steps")
  t12=$(run "$m" 1 2 "$steps")
  t21=$(run "$m" 2 1 "$steps")
  awk -v m="$m" -v a="$t11" -v b="$t12" -v c="$t21" 'BEGIN {
    printf "%-7s %-18s %10.3f %12.3f %9.2f\n", m, "1 rank x 1 thread", a, 1 / a, 1
    printf "%-7s %-18s %10.3f %12.3f %9.2f\n", m, "1 rank x 2 threads", b, 1 / b, a / b
    printf "%-7s %-18s %10.3f %12.3f %9.2f\n", m, "2 ranks x 1 thread", c, 2 / c, 2 * a / c
    printf "%-7s 2 threads against 2 ranks (throughput): %.2f\n", m, c / (2 * b) }'
done
echo "load after: $(uptime)"
