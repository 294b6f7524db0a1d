# tests/slurm/slurm_lib.sh: helpers for the Slurm tests (POSIX sh, sourced after tests/lib.sh).
#   slurm_available           true when the Slurm and munge daemons are installed
#   slurm_start               slurm_up.sh + SLURM_CONF exported + slurm_down.sh at exit (also on
#                             INT/TERM); returns 1 (after printing why) when it did not start
#   submit SBATCH-ARGS...     sbatch --parsable with the test's directory as working directory;
#                             prints the job id
#   wait_jobs SECONDS ID...   waits until none of the jobs is pending/running/completing;
#                             1 on time-out (the jobs are then shown)
#   job_state ID              final state as slurmctld reports it (COMPLETED, FAILED, ...)
#   job_field ID FIELD        any field of `scontrol show job` (Restarts, ExitCode, ...)
SLURM_TESTS_DIR=$(cd "$(dirname "$0")" && pwd)

slurm_available() {
  for p in slurmctld slurmd munged sbatch; do command -v "$p" >/dev/null 2>&1 || return 1; done
}

_slurm_cleanup() {
  if [ -n "${ARDM_SLURM_DIR:-}" ]; then
    # shellcheck disable=SC2154 # _fails comes from tests/lib.sh
    if [ "$_fails" -gt 0 ] && [ -f "$ARDM_SLURM_DIR/log/slurmctld.log" ]; then
      echo "--- tail of slurmctld.log and slurmd.log (a test failed)"
      tail -n 10 "$ARDM_SLURM_DIR/log/slurmctld.log" "$ARDM_SLURM_DIR/log/slurmd.log" 2>/dev/null
    fi
    sh "$SLURM_TESTS_DIR/slurm_down.sh" "$ARDM_SLURM_DIR"
  fi
  rm -rf "$T"
}

slurm_start() {
  trap _slurm_cleanup EXIT
  trap 'exit 130' INT TERM # the EXIT trap still stops Slurm
  _t0=$(date +%s)
  if ! _env=$(sh "$SLURM_TESTS_DIR/slurm_up.sh" 2>"$T/slurm_up.err"); then
    cat "$T/slurm_up.err"
    return 1
  fi
  eval "$_env"
  cat "$T/slurm_up.err"
}

submit() { sbatch --parsable -D "$T" "$@" | cut -d';' -f1; }

wait_jobs() {
  _n=$(($1 * 5)); shift
  _ids=$(echo "$@" | tr ' ' ',')
  case "$_ids" in "" | *[!0-9,_]*) echo "wait_jobs: bad job ids '$*'"; return 1 ;; esac
  while [ $_n -gt 0 ]; do
    # an squeue error (controller busy) counts as "still running", not as "done"
    _q=$(squeue -h -j "$_ids" -t PD,R,CG,S,CF,RQ,RS,SO 2>/dev/null) && [ -z "$_q" ] && return 0
    sleep 0.2; _n=$((_n - 1))
  done
  echo "jobs still queued after the time-out:"; squeue -j "$_ids"
  return 1
}

job_field() { scontrol show job -o "$1" 2>/dev/null | head -n 1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
job_state() { job_field "$1" JobState; }
