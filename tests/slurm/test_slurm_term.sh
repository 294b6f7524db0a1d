#!/bin/sh
# tests/slurm/test_slurm_term.sh: SIGTERM (scancel, preemption) keeps the exit-3 contract through
# both launchers of jobs/lib.sh with the real bin/ardm on the private Slurm (issue 14): the ranks
# checkpoint and exit 3, and the job ends with 3 too, although mpirun itself reports 1 after a
# TERM. TERM to the batch shell only (lib.sh passes it on) and to every process of the job.
# ARDM_MAX_RESTARTS=0 keeps the job from requeueing itself, so its exit code is the one to check.
# Not covered: TERM to every process with srun as launcher (scancel --full): srun itself kills
# its tasks at once on TERM, before they can checkpoint (jobs/README.md).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/slurm_lib.sh"

if ! slurm_available; then
  echo "SKIP $TEST_NAME: slurmctld/slurmd/munged not installed (make deps installs them)"
  exit 0
fi
ROOT=$(pwd)
case "$ARDM" in /*) ;; *) ARDM="$ROOT/$ARDM" ;; esac
export ARDM_BIN="$ARDM" ARDM_ROOT="$ROOT"
unset RUN_DIR ARDM_LAUNCHER ARDM_NP ARDM_OVERWRITE 2>/dev/null
ok make-markov ardm_np 1 prep -format markov -out "$T/mk" -n 64 -length 16 -classes 4 -seed 3
ok slurm_up slurm_start
[ -n "${SLURM_CONF:-}" ] || finish

for how in srun:batch mpirun:batch mpirun:full; do
  launcher=${how%:*} who=${how#*:} run=$(echo "$how" | tr : -)
  t0=$(date +%s) f0=$_fails
  j=$(RUN_DIR="$T/$run" ARDM_DATA="$T/mk/train.nc" ARDM_LAUNCHER=$launcher ARDM_STEPS=1000000 ARDM_MAX_RESTARTS=0 \
    ARDM_ARGS="-batch 4 -model_blocks 1 -model_channels 8 -model_cycle 1 -log_every 5" \
    submit -n 2 -o "$T/$run.out" "$ROOT/jobs/train.sbatch")
  n=0
  while [ $n -lt 300 ] && ! grep -q '^step  *10 ' "$T/$run.out" 2>/dev/null; do sleep 0.2; n=$((n + 1)); done
  ok "${run}_term_sent" scancel --"$who" --signal=TERM "$j"
  wait_jobs 60 "$j"
  echo "TERM to $who via $launcher: $(($(date +%s) - t0)) s"
  check "${run}_checkpoint" test -f "$T/$run/checkpoint.nc"
  check "${run}_ardm_exit_3" grep -q 'ardm exited with 3$' "$T/$run.out"
  check "${run}_job_exit_3" test "$(job_field "$j" ExitCode)" = 3:0
  [ "$_fails" = "$f0" ] || { echo "--- $run.out (the job's log)"; cat "$T/$run.out"; }
done
grep -h "exited with" "$T"/*-*.out
finish
