#!/bin/sh
# tests/slurm/test_slurm_jobscripts.sh: the Slurm logic of jobs/*.sbatch, jobs/pipeline.sh and
# jobs/scaling_merge.py on the private Slurm (POSIX sh). ardm's commands are played by
# tests/slurm/fake_ardm.sh (same CLI and exit codes, computes nothing), so this checks the job
# scripts alone: refusing to run outside Slurm; the pipeline's order, arguments and outputs;
# train's self-requeue on exit 3 and -resume; the USR1 warning reaching every rank through srun
# and through mpirun; a failing step cancelling the steps after it; the scaling array and merged
# efficiency table. The same flows with the real ardm: tests/slurm/pipeline_test.sh.pending.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/slurm_lib.sh"

if ! slurm_available; then
  echo "SKIP $TEST_NAME: slurmctld/slurmd/munged not installed (make deps installs them)"
  exit 0
fi
ROOT=$(pwd)
FAKE="$ROOT/tests/slurm/fake_ardm.sh"
export ARDM_BIN="$FAKE" FAKE_ARDM_LOG="$T/fake.log"
unset ARDM_ROOT RUN_DIR ARDM_LAUNCHER ARDM_NP 2>/dev/null
mkdir -p "$T/raw" "$T/direct/data"
echo raw >"$T/raw/clip.wav"
echo data >"$T/direct/data/train.nc"

# 0. Outside Slurm the scripts refuse to run unless forced (no Slurm needed for this).
fails_exit refuses_outside_slurm 1 "not inside a Slurm job" env -u SLURM_JOB_ID RUN_DIR="$T/direct" bash jobs/train.sbatch
ok forced_outside_slurm env -u SLURM_JOB_ID ARDM_FORCE=1 ARDM_LAUNCHER=mpirun ARDM_NP=1 RUN_DIR="$T/direct" \
  ARDM_STEPS=3 bash jobs/train.sbatch
check forced_run_trained grep -qx "step 3" "$T/direct/checkpoint.nc"

ok slurm_up slurm_start
cat "$T/slurm_up.err" 2>/dev/null
[ -n "${SLURM_CONF:-}" ] || finish

# 1. The pipeline, all six steps; train checkpoints and exits 3 at step 4 (as at -max_hours),
#    requeues itself and resumes; eval must only start once the resumed training finished.
t0=$(date +%s)
rm -f "$FAKE_ARDM_LOG"
RUN_DIR="$T/run" ARDM_PREP_ARGS="-in $T/raw" ARDM_STEPS=10 FAKE_STOP_AT=4 ARDM_NTASKS_TRAIN=2 \
  ARDM_NTASKS_PREP=1 ARDM_NTASKS_EVAL=1 ARDM_NTASKS_SAMPLE=1 ARDM_BUDGETS=5,10 \
  bash jobs/pipeline.sh >"$T/pipeline.txt" 2>"$T/pipeline.err"
check pipeline_submitted_6 test "$(grep -cE '^(prep|train|eval|plan|sample|report) [0-9]+$' "$T/pipeline.txt")" = 6
ids=$(sed -n 's/^[a-z]* \([0-9]*\)$/\1/p' "$T/pipeline.txt" | tr '\n' ' ')
# shellcheck disable=SC2086
wait_jobs 90 $ids
echo "pipeline with one requeue: $(($(date +%s) - t0)) s"
for step in prep train eval plan sample report; do
  id=$(sed -n "s/^$step //p" "$T/pipeline.txt")
  check "pipeline_${step}_completed" test "$(job_state "$id")" = COMPLETED
done
train=$(sed -n 's/^train //p' "$T/pipeline.txt")
check train_requeued_once test "$(job_field "$train" Restarts)" = 1
check train_log_restart grep -q "train: job $train restart 1 " "$T/run/logs/train-$train.out"
check train_resumed grep -q -- "-resume$" "$T/run/logs/train-$train.out"
check train_finished_all_steps grep -qx "step 10" "$T/run/checkpoint.nc"
for f in data/train.nc data/valid.nc data/test.nc checkpoint.nc eval.nc plan.nc samples.nc samples/sample_000.wav \
  report/index.html; do
  check "output_$f" test -s "$T/run/$f"
done
check eval_on_valid_split grep -q "rank 0 np 1 cmd eval -ckpt $T/run/checkpoint.nc -data $T/run/data/valid.nc -out $T/run/eval.nc" "$FAKE_ARDM_LOG"
check plan_budgets grep -q "cmd plan -loss $T/run/eval.nc -out $T/run/plan.nc -budgets 5,10 " "$FAKE_ARDM_LOG"
check sample_last_budget grep -q "cmd sample .* -plan $T/run/plan.nc -budget 10 " "$FAKE_ARDM_LOG"
order=$(sed -n 's/^rank 0 \(np [0-9]* cmd \([a-z]*\).*\|\(finished\) .*\)$/\2\3/p' "$FAKE_ARDM_LOG" | tr '\n' ' ')
check steps_in_order test "$order" = "prep train train finished eval plan sample export report "

# 2. Failing steps cancel the steps after them: a missing data file (the job script's own check)
#    and ardm failing with a bad input (prep's -in does not exist).
t0=$(date +%s)
RUN_DIR="$T/nodata" ARDM_STEPS_RUN="train eval plan sample" ARDM_NTASKS_TRAIN=1 bash jobs/pipeline.sh >"$T/nodata.txt" 2>&1
RUN_DIR="$T/badprep" ARDM_PREP_ARGS="-in $T/missing" ARDM_NTASKS_PREP=1 bash jobs/pipeline.sh >"$T/badprep.txt" 2>&1
ids=$(sed -n 's/^[a-z]* \([0-9]*\)$/\1/p' "$T/nodata.txt" "$T/badprep.txt" | tr '\n' ' ')
# shellcheck disable=SC2086
wait_jobs 60 $ids
echo "two failing pipelines: $(($(date +%s) - t0)) s"
train=$(sed -n 's/^train //p' "$T/nodata.txt")
check missing_data_fails test "$(job_state "$train")" = FAILED
check missing_data_message grep -q "error: training data set (ARDM_DATA) '$T/nodata/data/train.nc' does not exist" \
  "$T/nodata/logs/train-$train.out"
prep=$(sed -n 's/^prep //p' "$T/badprep.txt")
check bad_prep_fails test "$(job_state "$prep")" = FAILED
check bad_prep_message grep -q "ardm prep: error: -in $T/missing: no such file" "$T/badprep/logs/prep-$prep.out"
for step in eval plan sample; do
  id=$(sed -n "s/^$step //p" "$T/nodata.txt")
  check "after_missing_data_${step}_cancelled" test "$(job_state "$id")" = CANCELLED
done
for step in train eval plan sample report; do
  id=$(sed -n "s/^$step //p" "$T/badprep.txt")
  check "after_bad_prep_${step}_cancelled" test "$(job_state "$id")" = CANCELLED
done
check cancelled_steps_never_ran test "$(find "$T/nodata/logs" "$T/badprep/logs" -name '*.out' | wc -l)" = 2

# 3. The warning signal (#SBATCH --signal=B:USR1@T delivers USR1 to the batch shell; scancel
#    --batch does the same now) reaches every rank through either launcher; they checkpoint,
#    exit 3, the job requeues itself and resumes from the step the signal interrupted.
#    Submitted from outside the checkout: the script finds jobs/lib.sh through Slurm's record.
for launcher in srun mpirun; do
  t0=$(date +%s)
  rm -f "$FAKE_ARDM_LOG" "$T/direct/checkpoint.nc"
  j=$(cd "$T" && RUN_DIR="$T/direct" ARDM_LAUNCHER=$launcher ARDM_STEPS=30 FAKE_STEP_S=0.1 \
    sbatch --parsable -n 2 -o "$T/sig-$launcher.out" "$ROOT/jobs/train.sbatch")
  n=0
  while [ $n -lt 100 ] && [ "$(grep -c ' cmd train ' "$FAKE_ARDM_LOG" 2>/dev/null)" != 2 ]; do sleep 0.2; n=$((n + 1)); done
  sleep 1 # both ranks are stepping now
  ok "${launcher}_signal_sent" scancel --batch --signal=USR1 "$j"
  wait_jobs 60 "$j"
  echo "USR1 + requeue via $launcher: $(($(date +%s) - t0)) s"
  at=$(sed -n 's/^rank 0 got USR1 at step \([0-9]*\)$/\1/p' "$FAKE_ARDM_LOG")
  check "${launcher}_rank0_got_usr1" test -n "$at"
  check "${launcher}_rank1_got_usr1" grep -q "^rank 1 got USR1 at step" "$FAKE_ARDM_LOG"
  check "${launcher}_stopped_midway" test "${at:-0}" -gt 0 -a "${at:-30}" -lt 30
  check "${launcher}_resumed_there" grep -qx "rank 0 resumed at step ${at:-x}" "$FAKE_ARDM_LOG"
  check "${launcher}_finished" grep -qx "rank 0 finished at step 30" "$FAKE_ARDM_LOG"
  check "${launcher}_completed" test "$(job_state "$j")" = COMPLETED
  check "${launcher}_one_restart" test "$(job_field "$j" Restarts)" = 1
done

# 4. The scaling array for 1 and 2 ranks in both modes, and the merge as a dependent job. The
#    fake reports examples_per_s = 100 * P^0.9, so efficiency(P=2) = 2^0.9 / 2 in both modes.
t0=$(date +%s)
a=$(ARDM_SCALING_DIR="$T/scaling" ARDM_SCALING_RANKS="1 2" ARDM_SCALING_BATCH=8 \
  ARDM_SCALING_BATCH_PER_RANK=3 ARDM_SCALING_STEPS=5 ARDM_DATA="$T/direct/data/train.nc" FAKE_EPS_EXP=0.9 \
  submit --array=0-3 -n 2 -o "$T/scaling-%a.out" "$ROOT/jobs/scaling.sbatch")
m=$(submit -n 1 -d afterok:"$a" --kill-on-invalid-dep=yes -o "$T/merge.out" \
  --wrap "/usr/bin/python3 '$ROOT/jobs/scaling_merge.py' '$T/scaling'")
wait_jobs 60 "$a" "$m"
echo "scaling array of 4 + merge: $(($(date +%s) - t0)) s"
for f in strong_np1 strong_np2 weak_np1 weak_np2; do check "scaling_$f.nc" test -s "$T/scaling/$f.nc"; done
check merge_completed test "$(job_state "$m")" = COMPLETED
check merge_table test -s "$T/scaling/scaling.txt"
# csv columns: mode,ranks,batch,per_rank,steps,step_s,examples/s,speedup,efficiency,...
expect=$(awk 'BEGIN { printf "%.6f", 2 ^ 0.9 / 2 }')
for row in "strong 1 8 8 1" "strong 2 8 4 $expect" "weak 1 3 3 1" "weak 2 6 3 $expect"; do
  set -- $row
  # 1e-4: the fake writes examples_per_s with 6 decimals, far below this
  check "efficiency_$1_np$2" awk -F, -v m="$1" -v p="$2" -v b="$3" -v br="$4" -v e="$5" '
    $1 == m && $2 == p && $3 == b && $4 == br { found = 1; d = $9 - e; ok = (d < 1e-4 && d > -1e-4) }
    END { exit !(found && ok) }' "$T/scaling/scaling.csv"
done
grep -v '^$' "$T/scaling/scaling.txt" | head -n 5

finish
