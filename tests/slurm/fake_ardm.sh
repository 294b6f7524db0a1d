#!/bin/bash
# tests/slurm/fake_ardm.sh: a stand-in for bin/ardm that lets tests/slurm/test_slurm_jobscripts.sh
# check the Slurm logic of jobs/*.sbatch and jobs/pipeline.sh (argument passing, requeue on exit 3,
# -resume, signal forwarding to every rank, dependencies, the scaling files) independently of
# the real commands. It follows ardm's documented CLI and exit codes; it computes nothing.
# Runs on every rank (srun or mpirun); rank 0 writes the files. Each rank appends one line per
# event to $FAKE_ARDM_LOG: "rank R np P cmd ARGS... restart N" and "rank R got USR1 at step K".
# train: "steps" last FAKE_STEP_S seconds each (default 0.05); the checkpoint is a text file
# "step K" in -out DIR/checkpoint.nc; on USR1/TERM, or at step FAKE_STOP_AT of a run without
# -resume, it writes the checkpoint and exits 3. With -log_every it writes DIR/train_log.nc
# (ncgen) whose examples_per_s is FAKE_EPS * P^FAKE_EPS_EXP (defaults 100 and 1).
# Missing input files: "ardm CMD: error: ..." and exit 1, like ardm.
set -u
rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${SLURM_PROCID:-0}}}
np=${OMPI_COMM_WORLD_SIZE:-${SLURM_STEP_NUM_TASKS:-${SLURM_NTASKS:-1}}}
cmd=${1:-}
shift
log() { echo "rank $rank $*" >>"${FAKE_ARDM_LOG:-/dev/null}"; }
log "np $np cmd $cmd $* restart ${SLURM_RESTART_COUNT:-0}"
err() { [ "$rank" = 0 ] && echo "ardm $cmd: error: $*" >&2; exit 1; }

declare -A opt=()
resume=0 help=0 pos=""
if [ "$cmd" = report ] && [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then pos=$1; shift; fi # ardm report RUN_DIR
while [ $# -gt 0 ]; do
  case "$1" in
    -resume) resume=1; shift ;;
    -help) help=1; shift ;;
    -*) opt[${1#-}]=${2:-}; shift 2 ;;
    *) err "unexpected argument '$1'" ;;
  esac
done
[ $help = 1 ] && { echo "fake ardm $cmd: options ..."; exit 0; }
need() { for k in "$@"; do [ -f "${opt[$k]:-}" ] || err "-$k ${opt[$k]:-}: no such file"; done; }
w0() { [ "$rank" = 0 ] && echo "$2" >"$1"; return 0; } # rank 0 writes a file

case "$cmd" in
  prep)
    [ -e "${opt[in]:-}" ] || err "-in ${opt[in]:-}: no such file or directory"
    for s in train valid test; do w0 "${opt[out]}/$s.nc" "fake dataset $s"; done ;;
  train)
    need data
    out=${opt[out]}
    steps=${opt[steps]:-10}
    step=0
    if [ $resume = 1 ]; then
      [ -f "$out/checkpoint.nc" ] || err "-resume: no checkpoint in $out"
      step=$(sed -n 's/^step //p' "$out/checkpoint.nc")
      log "resumed at step $step"
    fi
    stop() { # checkpoint and ask to be requeued, as ardm does on a signal or at -max_hours
      log "got $1 at step $step"
      w0 "$out/checkpoint.nc" "step $step"
      # ardm's checkpoint is collective and MPI_Finalize waits for every rank; the other ranks
      # stand in for that by giving rank 0 time to finish (launchers end a step early when
      # one rank exits non-zero)
      [ "$rank" = 0 ] || sleep 1
      exit 3
    }
    trap 'stop USR1' USR1
    trap 'stop TERM' TERM
    while [ "$step" -lt "$steps" ]; do
      [ $resume = 0 ] && [ "$step" = "${FAKE_STOP_AT:-none}" ] && stop max_hours
      sleep "${FAKE_STEP_S:-0.05}" & wait $! # wait returns at once when a signal arrives
      step=$((step + 1))
    done
    w0 "$out/checkpoint.nc" "step $step"
    w0 "$out/params.txt" "params after $step steps"
    if [ -n "${opt[log_every]:-}" ] && [ "$rank" = 0 ]; then
      eps=$(awk "BEGIN { printf \"%.6f\", ${FAKE_EPS:-100} * $np ^ ${FAKE_EPS_EXP:-1} }")
      vals=$(for i in $(seq 1 "$steps"); do printf '%s%s' "$([ "$i" = 1 ] || echo ', ')" "$eps"; done)
      printf 'netcdf train_log {\ndimensions:\n step = UNLIMITED ;\nvariables:\n double examples_per_s(step) ;\n :ardm_kind = "train_log" ;\ndata:\n examples_per_s = %s ;\n}\n' \
        "$vals" | ncgen -4 -o "$out/train_log.nc" || exit 4
    fi
    log "finished at step $step" ;;
  eval) need ckpt data; w0 "${opt[out]}" "fake eval" ;;
  plan) need loss; w0 "${opt[out]}" "fake plan ${opt[budgets]:-}" ;;
  sample) need ckpt; [ -n "${opt[plan]:-}" ] && need plan; w0 "${opt[out]}" "fake samples ${opt[n]:-}" ;;
  export) need in; w0 "${opt[out]}/sample_000.${opt[format]:-wav}" "fake export" ;;
  report)
    [ -d "$pos" ] || err "$pos: not a run directory"
    [ "$rank" = 0 ] && mkdir -p "${opt[out]:-$pos/report}"
    w0 "${opt[out]:-$pos/report}/index.html" "fake report" ;;
  *) err "unknown command" ;;
esac
exit 0
