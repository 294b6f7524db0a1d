#!/bin/sh
# benchmarks/sampling.sh: the cost of `ardm sample`, every figure from the -log_view events of
# its Sample stage (ArdmSampleLoop: the whole loop; ArdmNetFwd: the network calls; ArdmHead:
# drawing the new values, i.e. the Gumbel/logistic draws and their scatter into the samples),
# measured in this one invocation on 1 rank, one thread:
#  1. sampling time against budget x one network forward, budgets 10, 50, 200, batch 4
#     (target: the loop within 10% of its network calls, ratio <= 1.10);
#  2. a network call at batch n against n calls at batch 1 (budget 50, n = 4; target <= 1.0),
#     best of REPEATS alternating runs of each;
#  3. the per-step work outside the network at budget 50 (loop - network calls) and the draws'
#     part of it (ArdmHead), as shares of the loop (target < 2%).
# Usage: sh benchmarks/sampling.sh [CKPT]   (env REPEATS=3). Default CKPT: the demo's checkpoint
# (output/demo/checkpoint.nc, from `make demo`); when it is absent, a stand-in with the demo's
# network (6 blocks x 32 channels, 10-component mixture, D = 16000) trained 2 steps on a
# synthetic chain: the time of a call does not depend on the weights.
set -eu
cd "$(dirname "$0")/.."
CKPT=${1:-output/demo/checkpoint.nc}
REPEATS=${REPEATS:-3}
TMP=${TMPDIR:-/tmp}/ardm-bench-sampling
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
mkdir -p "$TMP"
if [ ! -f "$CKPT" ] && [ $# -eq 0 ]; then
  echo "no $CKPT: training a stand-in with the demo's network in $TMP/ckpt"
  [ -f "$TMP/data/train.nc" ] ||
    mpirun -n 1 bin/ardm prep -format markov -out "$TMP/data" -n 8 -length 16000 -classes 65536 >/dev/null
  rm -rf "$TMP/ckpt"
  mpirun -n 1 bin/ardm train -data "$TMP/data/train.nc" -out "$TMP/ckpt" -options_file input/sc09_demo.opts \
    -steps 2 -decay_steps 0 -batch 2 -plan_budgets 20 >/dev/null
  CKPT=$TMP/ckpt/checkpoint.nc
fi
[ -f "$CKPT" ] || { echo "no checkpoint $CKPT"; exit 1; }
bin/ardm info "$CKPT" | grep -E "^ *(model_(blocks|channels|D)|data_modality) " || true
echo "load: $(uptime)"

# sample BUDGET BATCH -> "loop_s net_s head_s calls" (the Sample stage of -log_view)
sample() {
  mpirun -n 1 bin/ardm sample -ckpt "$CKPT" -budget "$1" -n "$2" -batch "$2" -out "$TMP/samples.nc" \
    -log_view ":$TMP/log.txt" >/dev/null
  awk '/^--- Event Stage [0-9]+: Sample/ {on = 1; next} /^--- Event Stage/ {on = 0}
    on && $1 == "ArdmSampleLoop" && !l {l = $4} on && $1 == "ArdmNetFwd" && !n {n = $4; c = $2}
    on && $1 == "ArdmHead" && !h {h = $4} END {printf "%s %s %s %s\n", l, n, h, c}' "$TMP/log.txt"
}

echo "1. sampling time against its network calls (batch 4, 4 samples)"
printf "%8s %12s %12s %12s %8s\n" budget "s/sample" "net s/samp" "s/call" ratio
for budget in 10 50 200; do
  sample "$budget" 4 | awk -v b="$budget" '{printf "%8d %12.4f %12.4f %12.5f %8.3f\n", b, $1 / 4, $2 / 4, $2 / $4, $1 / $2}'
done

echo "2./3. budget 50: batch 4 against batch 1 (best of $REPEATS runs each, alternating)"
: >"$TMP/b1" && : >"$TMP/b4"
for r in $(seq 1 "$REPEATS"); do
  sample 50 1 >>"$TMP/b1"
  sample 50 4 >>"$TMP/b4"
done
best() { sort -k2 -g "$1" | head -n 1; } # the run with the fastest network time
best "$TMP/b1" >"$TMP/b1.best"
best "$TMP/b4" >"$TMP/b4.best"
paste "$TMP/b1.best" "$TMP/b4.best" | awk '{
  c1 = $2 / $4; c4 = $6 / $8
  printf "s per network call: batch 1 %.5f, batch 4 %.5f; batch 4 / (4 x batch 1) = %.3f (target <= 1.0)\n", c1, c4, c4 / (4 * c1)
  printf "outside the network at budget 50: batch 1 %.2f%% of the loop (draws %.2f%%), batch 4 %.2f%% (draws %.2f%%) (target < 2%%)\n",
    100 * ($1 - $2) / $1, 100 * $3 / $1, 100 * ($5 - $6) / $5, 100 * $7 / $5 }'
rm -f "$TMP/samples.nc"
