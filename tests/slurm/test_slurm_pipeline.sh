#!/bin/sh
# tests/slurm/test_slurm_pipeline.sh: the job scripts with the real bin/ardm on the private Slurm
# (POSIX sh). Issue 7's acceptance tests:
# - the whole pipeline prep -> train -> eval -> plan -> sample (+ export) -> report on a tiny text
#   configuration completes, and every output file exists and passes `ardm info` as its kind;
# - preemption: USR1 during training (what #SBATCH --signal=B:USR1@T delivers) -> checkpoint ->
#   exit 3 -> the job requeues itself -> resumes -> the final parameters equal those of an
#   uninterrupted run bitwise (same rank count, so the same reduction order);
# - a failing step (prep's input file missing) fails its job with ardm's message in the log and
#   the steps after it are cancelled;
# - the scaling array for 1 and 2 ranks produces the merged efficiency table.
# (Kept as tests/slurm/pipeline_test.sh.pending until every command exists in bin/ardm; the
# runner only picks up tests/slurm/test_*.sh.)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/slurm_lib.sh"

if ! slurm_available; then
  echo "SKIP $TEST_NAME: slurmctld/slurmd/munged not installed (make deps installs them)"
  exit 0
fi
ROOT=$(pwd)
case "$ARDM" in /*) ;; *) ARDM="$ROOT/$ARDM" ;; esac
export ARDM_BIN="$ARDM"
unset ARDM_ROOT RUN_DIR ARDM_LAUNCHER ARDM_NP 2>/dev/null
for c in prep train eval plan sample export info; do
  ok "command_$c" "$ARDM" "$c" -help
done
TEXT=/usr/share/common-licenses/GPL-3 # about 34k characters of English, always on Debian
ok slurm_up slurm_start
cat "$T/slurm_up.err" 2>/dev/null
[ -n "${SLURM_CONF:-}" ] || finish

# A model small enough for seconds of training on 2 cores.
cat >"$T/tiny.opts" <<EOF
-batch 8
-lr 1e-3
-model_blocks 2
-model_channels 16
-model_cycle 2
-log_every 5
-seed 7
EOF

# 1. The whole pipeline.
t0=$(date +%s)
RUN_DIR="$T/run" ARDM_PREP_ARGS="-format text -in $TEXT -length 32" ARDM_OPTIONS="$T/tiny.opts" \
  ARDM_STEPS=40 ARDM_CKPT_EVERY=20 ARDM_DRAWS=2 ARDM_BUDGETS=5,10 ARDM_SAMPLES=4 ARDM_EXPORT=txt \
  ARDM_NTASKS_PREP=2 ARDM_NTASKS_TRAIN=2 ARDM_NTASKS_EVAL=2 ARDM_NTASKS_PLAN=1 ARDM_NTASKS_SAMPLE=2 \
  bash jobs/pipeline.sh >"$T/pipeline.txt" 2>&1
cat "$T/pipeline.txt"
ids=$(sed -n 's/^[a-z]* \([0-9]*\)$/\1/p' "$T/pipeline.txt" | tr '\n' ' ')
check pipeline_submitted_6 test "$(echo $ids | wc -w)" = 6
# shellcheck disable=SC2086
wait_jobs 300 $ids
echo "pipeline: $(($(date +%s) - t0)) s"
for step in prep train eval plan sample report; do
  id=$(sed -n "s/^$step //p" "$T/pipeline.txt")
  check "pipeline_${step}_completed" test "$(job_state "$id")" = COMPLETED
done
check report_written grep -q '<img src="train_loss.png"' "$T/run/report/index.html"
is_kind() { "$ARDM" info "$2" >"$T/info.txt" 2>&1 && head -n 1 "$T/info.txt" | grep -q ": $1\$"; }
for f in dataset:data/train.nc dataset:data/valid.nc dataset:data/test.nc checkpoint:checkpoint.nc \
  train_log:train_log.nc loss_components:loss_t.nc eval:eval.nc plan:plan.nc samples:samples.nc; do
  check "info_${f#*:}" is_kind "${f%%:*}" "$T/run/${f#*:}"
done
check exported_samples test "$(find "$T/run/samples" -type f | wc -l)" -ge 1

# 2. Preemption. Reference: the same training uninterrupted. Then a run that gets USR1 once its
#    step-20 checkpoint exists; it must checkpoint, requeue itself and finish with equal params.
t0=$(date +%s)
data="$T/run/data/train.nc"
MED="-batch 8 -lr 1e-3 -model_blocks 6 -model_channels 96 -model_cycle 3 -log_every 10 -seed 9"
ref=$(RUN_DIR="$T/ref" ARDM_DATA="$data" ARDM_STEPS=80 ARDM_CKPT_EVERY=20 ARDM_ARGS="$MED" \
  submit -n 2 -o "$T/ref.out" "$ROOT/jobs/train.sbatch")
pre=$(RUN_DIR="$T/pre" ARDM_DATA="$data" ARDM_STEPS=80 ARDM_CKPT_EVERY=20 ARDM_ARGS="$MED" \
  submit -n 2 -o "$T/pre.out" "$ROOT/jobs/train.sbatch")
n=0
while [ $n -lt 600 ] && [ ! -f "$T/pre/ckpt-00000020.nc" ]; do sleep 0.2; n=$((n + 1)); done
ok preempt_signal_sent scancel --batch --signal=USR1 "$pre"
wait_jobs 300 "$ref" "$pre"
echo "preemption (uninterrupted + interrupted run): $(($(date +%s) - t0)) s"
check preempt_signal_checkpoint grep -q "signal received at step" "$T/pre.out"
check preempt_requeued grep -q "requeueing job $pre" "$T/pre.out"
check preempt_resumed grep -q "train: resuming from $T/pre/checkpoint.nc" "$T/pre.out"
check preempt_one_restart test "$(job_field "$pre" Restarts)" = 1
check preempt_completed test "$(job_state "$pre")" = COMPLETED
check reference_completed test "$(job_state "$ref")" = COMPLETED
NC="/usr/bin/python3 $ROOT/tests/ncvar.py"
check preempt_final_step test "$($NC att "$T/pre/checkpoint.nc" step)" = 80
check preempt_same_params $NC same "$T/ref/checkpoint.nc" "$T/pre/checkpoint.nc" params 0
check preempt_same_adam $NC same "$T/ref/checkpoint.nc" "$T/pre/checkpoint.nc" adam_v 0

# 3. A failing step: prep's input file is missing; ardm says so and the other steps are cancelled.
t0=$(date +%s)
RUN_DIR="$T/bad" ARDM_PREP_ARGS="-format text -in $T/missing.txt" ARDM_NTASKS_PREP=1 \
  bash jobs/pipeline.sh >"$T/bad.txt" 2>&1
ids=$(sed -n 's/^[a-z]* \([0-9]*\)$/\1/p' "$T/bad.txt" | tr '\n' ' ')
# shellcheck disable=SC2086
wait_jobs 60 $ids
echo "failing pipeline: $(($(date +%s) - t0)) s"
prep=$(sed -n 's/^prep //p' "$T/bad.txt")
check bad_prep_failed test "$(job_state "$prep")" = FAILED
check bad_prep_message grep -q "ardm prep.*$T/missing.txt" "$T/bad/logs/prep-$prep.out"
for step in train eval plan sample; do
  id=$(sed -n "s/^$step //p" "$T/bad.txt")
  check "after_bad_prep_${step}_cancelled" test "$(job_state "$id")" = CANCELLED
done

# 4. Scaling array on 1 and 2 ranks, both modes, then the merge.
t0=$(date +%s)
a=$(ARDM_SCALING_DIR="$T/scaling" ARDM_SCALING_RANKS="1 2" ARDM_SCALING_BATCH=8 ARDM_SCALING_BATCH_PER_RANK=4 \
  ARDM_SCALING_STEPS=10 ARDM_DATA="$data" ARDM_OPTIONS="$T/tiny.opts" \
  submit --array=0-3 -n 2 -o "$T/scaling-%a.out" "$ROOT/jobs/scaling.sbatch")
m=$(submit -n 1 -d afterok:"$a" --kill-on-invalid-dep=yes -o "$T/merge.out" \
  --wrap "/usr/bin/python3 '$ROOT/jobs/scaling_merge.py' '$T/scaling'")
wait_jobs 300 "$a" "$m"
echo "scaling array + merge: $(($(date +%s) - t0)) s"
check merge_completed test "$(job_state "$m")" = COMPLETED
for mode in strong weak; do
  for p in 1 2; do
    check "table_${mode}_np$p" awk -F, -v m=$mode -v p=$p '$1 == m && $2 == p && $9 > 0 { f = 1 } END { exit !f }' \
      "$T/scaling/scaling.csv"
  done
done
cat "$T/scaling/scaling.txt" 2>/dev/null | head -n 5

finish
