#!/bin/sh
# test_threads.sh: -threads N, the option of every command (core/threads.h): a few training
# steps with -threads 1 and -threads 2 (1 and 2 ranks) give the same losses and gradient norms,
# the default comes from OMP_NUM_THREADS, every command lists the option, the job scripts pass
# --cpus-per-task through, and a bad value is one error line with exit 1.
# Tolerance 1e-5 (relative): the OpenMP loops give the same bits for any thread count
# (tests/unit/test_threads.c checks that), but OpenBLAS may block a GEMM differently with 2
# threads, which changes float rounding (~1e-7 relative per product); after a few Adam steps
# that stays ~100x below 1e-5, while a race or an indexing error in a threaded loop changes
# losses by far more. (Parameters are not compared: Adam moves a parameter whose gradient is
# rounding noise by about lr either way, so they differ by up to ~lr for a harmless reason.)
. "$(dirname "$0")/../lib.sh"
NC="/usr/bin/python3 tests/ncvar.py"

# D = 2048 and 32 channels: every pass of the network (one example's C x D) and of the head is
# above the size at which the loops go parallel (NN_PAR_MIN in src/nn/layers.h)
ok make-markov ardm_np 1 prep -format markov -out "$T/mk" -n 32 -length 2048 -classes 256 -p_stay 0.7 -seed 3
RUN="train -data $T/mk/train.nc -batch 4 -lr 2e-3 -model_blocks 2 -model_channels 32 -model_cycle 2 -log_every 1 -seed 7 -steps 4 -ckpt_every 100"
# --bind-to none: Open MPI binds one or two ranks to one core each, where 2 threads would share it
for np in 1 2; do
  for th in 1 2; do
    ok train-np$np-threads$th mpirun --bind-to none -n $np "$ARDM" $RUN -out "$T/r$np-$th" -threads $th
  done
  check same-loss-np$np $NC same "$T/r$np-1/train_log.nc" "$T/r$np-2/train_log.nc" loss 1e-5
  check same-grad-norm-np$np $NC same "$T/r$np-1/train_log.nc" "$T/r$np-2/train_log.nc" grad_norm 1e-5
done

# the default is OMP_NUM_THREADS; -threads overrides it; every command lists the option
check default-from-env sh -c "OMP_NUM_THREADS=3 '$ARDM' info -help 2>&1 | grep -q -- '-threads <now 3 : formerly 3>'"
check option-overrides-env sh -c "OMP_NUM_THREADS=3 '$ARDM' info -help -threads 2 2>&1 | grep -q -- '-threads <now 2 : formerly 3>'"
for c in prep train eval plan sample export info report; do
  check help-lists-threads-$c sh -c "'$ARDM' $c -help 2>&1 | grep -q -- '-threads <now 1'"
done

# bad values: one line naming the option, exit 1 (on 2 ranks too)
for bad in 0 abc 2000; do
  fails_exit threads-$bad 1 "^ardm train: error: -threads $bad: expected an integer in 1\.\.1024$" \
    ardm_np 2 train -data x.nc -threads $bad
  check threads-$bad-one-line test "$(grep -c 'error:' "$T/.out.$$")" -eq 1
done
# the job scripts pass sbatch --cpus-per-task through (jobs/lib.sh): run jobs/train.sbatch as if
# in a job with 2 CPUs per task (ARDM_FORCE, mpirun) with a probe in place of ardm
printf '#!/bin/sh\necho "OMP_NUM_THREADS=$OMP_NUM_THREADS" >"%s"\n' "$T/probe.txt" >"$T/probe.sh"
chmod +x "$T/probe.sh"
echo data >"$T/data.nc"
ok job-runs env -u SLURM_JOB_ID ARDM_FORCE=1 ARDM_LAUNCHER=mpirun ARDM_NP=1 SLURM_CPUS_PER_TASK=2 \
  ARDM_BIN="$T/probe.sh" RUN_DIR="$T/job" ARDM_DATA="$T/data.nc" bash jobs/train.sbatch
check job-threads-from-cpus-per-task grep -qx "OMP_NUM_THREADS=2" "$T/probe.txt"

fails_exit omp-num-threads-bad 1 'ardm info: error: OMP_NUM_THREADS=x: expected an integer in 1\.\.1024' \
  env OMP_NUM_THREADS=x "$ARDM" info x.nc
finish
