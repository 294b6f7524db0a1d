#!/bin/sh
# test_runlock.sh: one run per run directory (issue 14): a second training on a directory that
# a running job holds fails with exit 1 naming the holder, the lock dies with its job (SIGKILL),
# a fresh run refuses another run's checkpoints unless -overwrite, which removes only train's
# own files; on 1 and 2 ranks.
. "$(dirname "$0")/../lib.sh"

ok make-markov ardm_np 1 prep -format markov -out "$T/mk" -n 64 -length 16 -classes 4 -p_stay 0.7 -seed 3
S="-data $T/mk/train.nc -batch 4 -model_blocks 1 -model_channels 8 -model_cycle 1 -log_every 2 -seed 7"

# wait_for FILE REGEX: up to 60 s until FILE has a line matching REGEX
wait_for() { i=0; while [ $i -lt 600 ] && ! grep -Eq "$2" "$1" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done; }

for np in 1 2; do
  R="$T/run$np"
  # a running job holds the directory: a second job (fresh or -resume) is refused, exit 1
  mpirun -n $np "$ARDM" train $S -steps 1000000 -ckpt_every 2 -out "$R" >"$T/bg$np.log" 2>&1 &
  bg=$!
  wait_for "$T/bg$np.log" '^step +4 '
  fails_exit second-run-np$np 1 "^ardm train: error: -out $R: another run holds this run directory \($R/\.lock locked by pid [0-9]+ on host [^ ]+\): wait for it to end or choose another -out$" \
    ardm_np $np train $S -steps 4 -out "$R" -resume
  fails_exit second-fresh-np$np 1 "another run holds this run directory" ardm_np $np train $S -steps 4 -out "$R" -overwrite
  kill -USR1 $bg
  wait $bg
  rc=$?
  check first-run-unharmed-np$np sh -c "test $rc -eq 3 && grep -q 'signal received at step' '$T/bg$np.log'"
  # the lock ends with its job: now the directory can be resumed
  ok resume-after-first-np$np ardm_np $np train $S -steps 4 -out "$R" -resume

  # a fresh run into a directory with another run's checkpoint: refused, nothing touched
  cp "$R/checkpoint.nc" "$T/keep.nc"
  fails_exit fresh-into-used-np$np 1 "^ardm train: error: -out $R: holds another run \(checkpoint.nc\): continue it with -resume, replace it with -overwrite, or choose another -out$" \
    ardm_np $np train $S -steps 2 -out "$R"
  check refused-kept-checkpoint-np$np cmp "$R/checkpoint.nc" "$T/keep.nc"
  fails_exit resume-and-overwrite-np$np 1 "^ardm train: error: -resume and -overwrite exclude each other" \
    ardm_np $np train $S -steps 2 -out "$R" -resume -overwrite
  # -overwrite: the old run's files go (its later ckpt-*.nc too), other files stay
  touch "$R/eval.nc" "$R/notes.txt" "$R/loss_t.nc.tmp.123.data.0"
  ok overwrite-np$np ardm_np $np train $S -steps 2 -ckpt_every 1 -out "$R" -overwrite
  check overwrite-only-new-ckpts-np$np sh -c "test \"\$(ls '$R' | grep -c '^ckpt-')\" = 2 && test -f '$R/ckpt-00000002.nc'"
  check overwrite-kept-others-np$np test -f "$R/eval.nc" -a -f "$R/notes.txt" -a ! -e "$R/loss_t.nc.tmp.123.data.0"
  check overwrite-fresh-log-np$np test "$(/usr/bin/python3 tests/ncvar.py get "$R/train_log.nc" step)" = 2.0
  # -resume without checkpoint.nc but with another run's ckpt-*.nc: refused
  rm "$R/checkpoint.nc"
  fails_exit resume-stale-ckpts-np$np 1 "^ardm train: error: -out $R: holds ckpt-0000000[12].nc but no checkpoint.nc to resume from: replace that run with -overwrite" \
    ardm_np $np train $S -steps 2 -out "$R" -resume
done

# a job killed with SIGKILL leaves the lock file, not the lock; a stale holder line is ignored
"$ARDM" train $S -steps 1000000 -out "$T/k" >"$T/k.log" 2>&1 &
bg=$!
wait_for "$T/k.log" '^step +2 '
kill -KILL $bg
wait $bg
check killed-left-lock-file test -f "$T/k/.lock"
ok after-sigkill ardm_np 2 train $S -steps 2 -out "$T/k" -overwrite
echo "pid 1 on host elsewhere" >"$T/k/.lock"
ok stale-lock-file ardm_np 1 train $S -steps 4 -out "$T/k" -resume
finish
