#!/bin/sh
# test_train.sh: `ardm train` / `ardm eval` through real MPI ranks and real files:
# rank-count independence, exact restart (same and different rank counts), SIGUSR1 -> checkpoint
# -> exit 3 -> resume, learning a Markov chain to within 5% of its entropy, and bad input.
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

ok make-markov ardm_np 2 prep -format markov -out "$T/mk" -n 256 -length 32 -classes 4 -p_stay 0.7 -seed 3
SMALL="-data $T/mk/train.nc -batch 8 -lr 2e-3 -model_blocks 2 -model_channels 16 -model_cycle 2 -log_every 1 -seed 7"

# the same global batch on 1, 2 and 4 ranks gives the same losses (up to reduction order)
for np in 1 2 4; do ok train-np$np ardm_np $np train $SMALL -steps 20 -ckpt_every 5 -out "$T/r$np"; done
check same-loss-np1-np2 $NC same "$T/r1/train_log.nc" "$T/r2/train_log.nc" loss 1e-5
check same-loss-np1-np4 $NC same "$T/r1/train_log.nc" "$T/r4/train_log.nc" loss 1e-5
check same-params-np1-np4 $NC same "$T/r1/checkpoint.nc" "$T/r4/checkpoint.nc" params 1e-5
check keeps-last-3-ckpts sh -c "ls '$T/r2' | grep -c '^ckpt-' | grep -qx 3 && test -f '$T/r2/ckpt-00000020.nc'"
check loss-components-file sh -c "'$ARDM' info '$T/r2/loss_t.nc' | grep -q 'loss_components'"

# exact restart: 10 steps, stop, resume to 20 == 20 in one go (bitwise, same rank count)
ok train-first-10 ardm_np 2 train $SMALL -steps 10 -out "$T/rs"
cp -r "$T/rs" "$T/rs1"
ok train-resume-to-20 ardm_np 2 train $SMALL -steps 20 -out "$T/rs" -resume
check restart-params-bitwise $NC same "$T/r2/checkpoint.nc" "$T/rs/checkpoint.nc" params 0
check restart-ema-bitwise $NC same "$T/r2/checkpoint.nc" "$T/rs/checkpoint.nc" ema 0
check restart-adam-bitwise $NC same "$T/r2/checkpoint.nc" "$T/rs/checkpoint.nc" adam_v 0
check restart-log-bitwise $NC same "$T/r2/train_log.nc" "$T/rs/train_log.nc" loss 0
check restart-losst-bitwise $NC same "$T/r2/loss_t.nc" "$T/rs/loss_t.nc" loss 0
# resuming with a different rank count re-splits the shards
ok train-resume-on-1-rank ardm_np 1 train $SMALL -steps 20 -out "$T/rs1" -resume
check resume-1-rank-params $NC same "$T/r2/checkpoint.nc" "$T/rs1/checkpoint.nc" params 1e-5

# SIGUSR1 mid-run: checkpoint, exit code 3, resume completes with the uninterrupted result. The
# signal is sent once the run has logged step 10 of 400, so it lands mid-run on any machine speed.
MED="-data $T/mk/train.nc -batch 8 -lr 1e-3 -model_blocks 6 -model_channels 64 -model_cycle 3 -log_every 5 -seed 9 -steps 400"
ok train-uninterrupted ardm_np 2 train $MED -out "$T/u"
mpirun -n 2 "$ARDM" train $MED -out "$T/sig" >"$T/sig.log" 2>&1 &
pid=$!
for i in $(seq 1 600); do grep -q '^step  *10 ' "$T/sig.log" && break; sleep 0.1; done
kill -USR1 $pid
wait $pid
rc=$?
check signal-exit-code-3 sh -c "test $rc -eq 3 || { echo 'exit $rc (0 means the run ended before the signal)'; tail -3 '$T/sig.log'; exit 1; }"
check signal-wrote-checkpoint grep -q 'signal received at step' "$T/sig.log"
check signal-stopped-mid-run sh -c "! grep -q '^step  *400 ' '$T/sig.log'"
ok train-resume-after-signal ardm_np 2 train $MED -out "$T/sig" -resume
check signal-resume-params-bitwise $NC same "$T/u/checkpoint.nc" "$T/sig/checkpoint.nc" params 0
check signal-resume-log-bitwise $NC same "$T/u/train_log.nc" "$T/sig/train_log.nc" loss 0

# -decay_steps: the logged learning rate (that of the step just taken, 0-based step s - 1) is
# 2e-3 until the decay and 2e-3 (20 - (s - 1)) / 10 in it, and the weights differ from the
# constant run's (r2: the same options without the decay)
ok train-decay ardm_np 2 train $SMALL -steps 20 -decay_steps 10 -out "$T/dec"
check decay-lr-logged /usr/bin/python3 -c "
import sys
lr = [float(v) for v in sys.stdin.read().split()]
want = [2e-3 * min(1.0, (20 - s) / 10) for s in range(20)]
print(lr); sys.exit(0 if len(lr) == 20 and all(abs(a - b) < 1e-12 for a, b in zip(lr, want)) else 1)" \
  <<EOF_LR
$($NC get "$T/dec/train_log.nc" lr)
EOF_LR
check decay-differs-from-constant sh -c "! $NC same '$T/r2/checkpoint.nc' '$T/dec/checkpoint.nc' params 0"

# -max_hours: the same checkpoint-and-requeue path without a signal
mpirun -n 2 "$ARDM" train $SMALL -steps 50 -max_hours 1e-9 -out "$T/mh" >"$T/mh.log" 2>&1
rc=$?
check max-hours-exit-3 test $rc -eq 3
check max-hours-message grep -q 'max_hours reached at step 1' "$T/mh.log"
check max-hours-checkpoint test -f "$T/mh/ckpt-00000001.nc"

# non-finite guardrail: an absurd learning rate overflows the weights; the non-finite steps are
# skipped and counted, and after -max_bad_steps in a row the run stops (exit 1) leaving the
# last good checkpoint as it was
ok train-good-4 ardm_np 2 train $SMALL -steps 4 -out "$T/nf"
cp "$T/nf/checkpoint.nc" "$T/nf-good.nc"
mpirun -n 2 "$ARDM" train $SMALL -steps 40 -lr 1e38 -clip 0 -max_bad_steps 3 -ckpt_every 1000 -out "$T/nf" \
  -resume >"$T/nf.log" 2>&1
rc=$?
check nonfinite-exit-1 test $rc -eq 1
check nonfinite-message grep -q 'consecutive steps with non-finite loss or gradient' "$T/nf.log"
check nonfinite-skipped-logged grep -q 'step skipped (3 in a row)' "$T/nf.log"
check nonfinite-kept-checkpoint cmp "$T/nf/checkpoint.nc" "$T/nf-good.nc"

# learning: a first-order Markov chain (K = 4, D = 64, stay 0.7) to within 5% of its entropy
ok make-markov-64 ardm_np 2 prep -format markov -out "$T/m64" -n 512 -length 64 -classes 4 -p_stay 0.7 -seed 5 \
  -test_frac 0.5
ok train-markov ardm_np 2 train -data "$T/m64/train.nc" -out "$T/learn" -steps 1500 -batch 32 -lr 3e-3 \
  -model_blocks 6 -model_channels 32 -model_cycle 6 -log_every 500 -ema 0.99 -seed 1
ok eval-markov ardm_np 2 eval -ckpt "$T/learn/checkpoint.nc" -data "$T/m64/test.nc" -out "$T/learn/eval.nc" -draws 8
H=$($NC att "$T/m64/test.nc" entropy_bpd)
B=$($NC get "$T/learn/eval.nc" bpd)
echo "markov: entropy $H bits/dim, model $B bits/dim"
check learns-within-5pct /usr/bin/python3 -c "import sys; h=$H; b=$B; print(b/h); sys.exit(0 if h <= b*1.0001 and b <= 1.05*h else 1)"
check eval-has-loss-components sh -c "'$ARDM' info '$T/learn/eval.nc' | grep -q 'loss '"

# bad input: clear one-line errors, non-zero exit on all ranks, nothing damaged
fails_exit train-missing-data 1 'cannot read the file' ardm_np 2 train -data "$T/none.nc" -out "$T/bad"
fails_exit train-no-data 1 '-data FILE is required' ardm_np 2 train -out "$T/bad"
mkdir -p "$T/ro" && chmod 500 "$T/ro"
if [ "$(id -u)" = 0 ]; then RO=/proc/ardm-run; else RO="$T/ro/run"; fi
fails_exit train-unwritable-out 1 'not a writable directory' ardm_np 2 train $SMALL -steps 2 -out "$RO"
cp "$T/r2/checkpoint.nc" "$T/good.nc"
ok eval-runs ardm_np 2 eval -ckpt "$T/r2/checkpoint.nc" -data "$T/mk/test.nc" -out "$T/e.nc" -draws 2
fails_exit eval-wrong-D 1 'dim = 64, but the model expects D = 32' ardm_np 2 eval -ckpt "$T/r2/checkpoint.nc" -data "$T/m64/test.nc" -out "$T/e2.nc"
check eval-wrong-D-no-output test ! -e "$T/e2.nc"
fails_exit eval-missing-ckpt 1 'cannot read the file' ardm_np 2 eval -ckpt "$T/nockpt.nc" -data "$T/mk/test.nc"
head -c 5000 "$T/good.nc" >"$T/trunc.nc"
fails_exit eval-corrupt-ckpt 1 'not a readable NetCDF-4 file' ardm_np 2 eval -ckpt "$T/trunc.nc" -data "$T/mk/test.nc"
fails_exit train-resume-other-model 1 'differs from the options' ardm_np 2 train $SMALL -model_channels 8 -steps 30 -out "$T/r2" -resume
check resume-refusal-kept-checkpoint cmp "$T/r2/checkpoint.nc" "$T/good.nc"
finish
