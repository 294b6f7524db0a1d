# jobs/lib.sh: shared by the ardm job scripts (bash, sourced; not a job itself).
# Sets up one job step of ardm the same way for every script: finds the binary, refuses to run
# outside Slurm unless forced, --cpus-per-task threads per rank, Open MPI's root permission only
# when running as root, a log header, and a launcher (srun with PMIx or mpirun) that forwards
# the warning signal to every rank.
#
# Variables (all optional; set them in the environment before sbatch, which exports them):
#   ARDM_ROOT      ardm checkout or installation (default: found by the job script, see there)
#   ARDM_BIN       the binary (default $ARDM_ROOT/bin/ardm, else `ardm` on PATH)
#   ARDM_LAUNCHER  srun | mpirun (default srun inside Slurm, mpirun outside)
#   ARDM_LAUNCHER_ARGS  extra launcher options, e.g. "--cpu-bind=cores" (default none)
#   ARDM_NP        ranks per ardm run (default $SLURM_NTASKS, else 1)
#   ARDM_FORCE=1   allow running a job script outside Slurm (for debugging; no requeue)
# Open MPI as root: OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM)=1 are exported only when the job really
# runs as root (containers, test clusters); an ordinary user's environment is left alone.

ardm_log() { echo "[$(date '+%F %T')] ${ARDM_JOB_NAME:-ardm-job}: $*"; }
ardm_die() { ardm_log "error: $*" >&2; exit "${2:-1}"; }

# ardm_job_init NAME: checks and environment for one job script.
ardm_job_init() {
  ARDM_JOB_NAME=$1
  if [ -z "${SLURM_JOB_ID:-}" ] && [ "${ARDM_FORCE:-0}" != 1 ]; then
    ardm_die "not inside a Slurm job: submit with sbatch, or set ARDM_FORCE=1 to run it here"
  fi
  if [ -z "${ARDM_BIN:-}" ]; then
    if [ -x "$ARDM_ROOT/bin/ardm" ]; then ARDM_BIN=$ARDM_ROOT/bin/ardm
    else ARDM_BIN=$(command -v ardm || true); fi
  fi
  [ -n "$ARDM_BIN" ] && [ -x "$ARDM_BIN" ] ||
    ardm_die "no ardm binary (looked for \$ARDM_ROOT/bin/ardm = $ARDM_ROOT/bin/ardm and ardm on PATH; set ARDM_BIN)"
  ARDM_LAUNCHER=${ARDM_LAUNCHER:-$([ -n "${SLURM_JOB_ID:-}" ] && echo srun || echo mpirun)}
  case "$ARDM_LAUNCHER" in srun | mpirun) ;; *) ardm_die "ARDM_LAUNCHER must be srun or mpirun, not '$ARDM_LAUNCHER'" ;; esac
  ARDM_NP=${ARDM_NP:-${SLURM_NTASKS:-1}}
  # Threads per rank = sbatch --cpus-per-task (ardm -threads defaults to OMP_NUM_THREADS); srun
  # (Slurm >= 22.05) gives each task that many CPUs only through SRUN_CPUS_PER_TASK.
  local t=${SLURM_CPUS_PER_TASK:-1}
  export OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t SRUN_CPUS_PER_TASK=$t
  if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
  ardm_log "job ${SLURM_JOB_ID:-none (ARDM_FORCE)}${SLURM_ARRAY_TASK_ID:+ array task $SLURM_ARRAY_TASK_ID}" \
    "restart ${SLURM_RESTART_COUNT:-0} on $(hostname) (${SLURM_JOB_NODELIST:-local}):" \
    "$ARDM_NP ranks via $ARDM_LAUNCHER, binary $ARDM_BIN"
}

# ardm_time_left_s: seconds this job has left before its time limit (squeue %L prints
# [D-]HH:MM:SS or MM:SS); fails when there is no job or no limit (UNLIMITED).
ardm_time_left_s() {
  local t d=0 a b c
  [ -n "${SLURM_JOB_ID:-}" ] || return 1
  t=$(squeue -h -j "$SLURM_JOB_ID" -o %L 2>/dev/null | head -n 1)
  case "$t" in "" | *[!0-9:-]*) return 1 ;; *-*) d=${t%%-*} t=${t#*-} ;; esac
  IFS=: read -r a b c <<<"$t"
  if [ -n "$c" ]; then echo $(((10#$d * 24 + 10#$a) * 3600 + 10#$b * 60 + 10#$c))
  else echo $((10#$d * 86400 + 10#$a * 60 + 10#${b:-0})); fi
}

# ardm_require_file WHAT FILE: a clear message instead of a launcher error for a missing input.
ardm_require_file() { [ -f "$2" ] || ardm_die "$1 '$2' does not exist"; }

# ardm_launch NP ARGS...: runs `ardm ARGS` on NP ranks and returns its exit status. USR1 and
# TERM sent to the batch shell (#SBATCH --signal=B:USR1@T, preemption, scancel) are passed on to
# the launcher as USR1, which it passes to every rank (srun forwards signals to its tasks;
# mpirun forwards USR1/USR2, but on TERM terminates the ranks after a few seconds).
# The exit-3 contract through either launcher: a launcher that got TERM itself (from Slurm,
# which signals every process of the job) may report 1 (mpirun) or a signal even when every
# rank checkpointed and exited with 3. Rank 0 writes the ranks' status to $ARDM_STATUS_FILE (a
# temporary file here, on the batch host, where both launchers place rank 0), and a 3 there is
# the job's status whatever the launcher says.
ardm_launch() {
  local np=$1 pid rc status ranks
  shift
  local -a cmd
  if [ "$ARDM_LAUNCHER" = srun ]; then
    # No --kill-on-bad-exit: ranks that exit 3 (checkpointed) a moment before rank 0 would make
    # srun kill rank 0 and return 143 instead of 3 (seen with Slurm 22.05). ardm aborts the
    # whole job itself on internal errors (MPI_Abort), so a failing rank does not hang the step.
    cmd=(srun --mpi=pmix --ntasks="$np")
  else
    cmd=(mpirun -n "$np" -x ARDM_STATUS_FILE) # -x: also to ranks on other nodes
    [ "$OMP_NUM_THREADS" -gt 1 ] && cmd+=(--map-by "slot:PE=$OMP_NUM_THREADS") # a rank's threads get their cores
  fi
  # shellcheck disable=SC2206
  [ -n "${ARDM_LAUNCHER_ARGS:-}" ] && cmd+=($ARDM_LAUNCHER_ARGS)
  ardm_log "run: ${cmd[*]} $ARDM_BIN $*"
  _ardm_sig=""
  status=$(mktemp "${TMPDIR:-/tmp}/ardm-status.XXXXXX") || status=""
  ARDM_STATUS_FILE=$status "${cmd[@]}" "$ARDM_BIN" "$@" &
  pid=$!
  trap '_ardm_sig=USR1; ardm_log "got USR1: passing it to the ranks"; kill -USR1 '"$pid"' 2>/dev/null' USR1
  # TERM is passed on as USR1, which ardm treats alike: srun and mpirun that get TERM themselves
  # kill the ranks (srun at once when a second signal follows), USR1 they only forward.
  trap '_ardm_sig=TERM; ardm_log "got TERM: passing it to the ranks (as USR1)"; kill -USR1 '"$pid"' 2>/dev/null' TERM
  wait "$pid"
  rc=$?
  # wait returns early (status > 128) when a trapped signal arrives: wait again for the real one
  while [ -n "$_ardm_sig" ] && [ $rc -gt 128 ]; do
    _ardm_sig=""
    wait "$pid"
    rc=$?
  done
  trap - USR1 TERM
  ranks=""
  [ -n "$status" ] && ranks=$(head -c 8 "$status" 2>/dev/null) && rm -f "$status"
  if [ "$ranks" = 3 ] && [ $rc -ne 3 ]; then
    ardm_log "$ARDM_LAUNCHER exited with $rc, but the ranks wrote a checkpoint and exited with 3: status 3"
    rc=3
  fi
  ardm_log "ardm exited with $rc"
  return $rc
}

# ardm_finish RC: ends the job script with ardm's exit status, explaining the common ones.
ardm_finish() {
  case "$1" in
    0) ardm_log "done" ;;
    1) ardm_log "failed: bad input (see ardm's message above); dependent jobs will be cancelled" ;;
    3) ardm_log "ardm stopped early after writing a checkpoint (exit 3); submit again to resume" ;;
    *) ardm_log "failed with exit status $1; dependent jobs will be cancelled" ;;
  esac
  exit "$1"
}
