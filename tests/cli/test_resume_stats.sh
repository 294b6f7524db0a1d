#!/bin/sh
# test_resume_stats.sh: a run stopped between two log steps keeps the loss observations made
# since the last one in its checkpoint (issue 14), so that stopping and resuming, even several
# times, gives the uninterrupted run's loss_t.nc bit for bit (1 and 2 ranks), and resuming on
# another rank count still counts every observation; a corrupt saved observation is refused.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

ok make-markov ardm_np 1 prep -format markov -out "$T/mk" -n 64 -length 16 -classes 4 -p_stay 0.7 -seed 3
# log steps 4, 8, 10; -max_hours 1e-9 stops right after the next step, between log steps
S="-data $T/mk/train.nc -batch 4 -model_blocks 1 -model_channels 8 -model_cycle 1 -log_every 4 -seed 7 -steps 10"

# stop_twice NP DIR: stops at steps 1 and 2 (the second resuming the first)
stop_twice() {
  mpirun -n "$1" "$ARDM" train $S -out "$2" -max_hours 1e-9 >"$2.log" 2>&1
  mpirun -n "$1" "$ARDM" train $S -out "$2" -max_hours 1e-9 -resume >>"$2.log" 2>&1
  grep -c 'max_hours reached at step' "$2.log"
}

for np in 1 2; do
  ok uninterrupted-np$np ardm_np $np train $S -out "$T/u$np"
  check stopped-twice-np$np test "$(stop_twice $np "$T/s$np")" = 2
  check pending-saved-np$np test "$($NC get "$T/s$np/checkpoint.nc" pending_step | wc -l)" = 8
  cp -r "$T/s$np" "$T/x$np"
  ok resume-to-end-np$np ardm_np $np train $S -out "$T/s$np" -resume
  for v in count loss loss_sq loss_ema; do
    check "loss_t-$v-bitwise-np$np" $NC same "$T/u$np/loss_t.nc" "$T/s$np/loss_t.nc" $v 0
  done
  check plan-stats-bitwise-np$np $NC same "$T/u$np/checkpoint.nc" "$T/s$np/checkpoint.nc" stats_sum 0
done

# stopped on 2 ranks, resumed on 1: every observation is counted (sums up to reduction order)
ok resume-other-rank-count ardm_np 1 train $S -out "$T/x2" -resume
check other-rank-count-counts $NC same "$T/u2/loss_t.nc" "$T/x2/loss_t.nc" count 0
check other-rank-count-loss $NC same "$T/u2/loss_t.nc" "$T/x2/loss_t.nc" loss 1e-12

# a corrupt saved observation (a stage the model does not have) is bad input
$NC setval "$T/x1/checkpoint.nc" pending_stage 2 7 >/dev/null
fails_exit corrupt-pending 1 "checkpoint.nc: pending loss observation 2 is out of range \(expected a step below 2, a slot >= 0, a stage below 1" \
  ardm_np 2 train $S -out "$T/x1" -resume
finish
