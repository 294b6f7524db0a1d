# benchmarks/quality_lib.sh: what quality_text.sh and quality_image.sh share (sourced, from the
# repository root, with ME set to the script's name): the arguments OPTIONS_FILE HOURS [RANKS]
# [-name NAME] (sets OPTS, HOURS, NP, NAME), the MPI environment with ardm() on NP ranks, and the
# budgeted training run quality_train DATA OUT CKPT_EVERY (writes OUT/run, OUT/train.out and
# OUT/train_start; SKIP_TRAIN=1 keeps an existing run; EXTRA="..." adds train options).

quality_args() {
  OPTS=$1 HOURS=$2
  shift 2
  NP=2
  case "${1:-}" in [0-9]*) NP=$1; shift ;; esac
  NAME=$(basename "$OPTS" .opts)
  while [ $# -gt 0 ]; do
    case "$1" in
    -name) NAME=$2; shift 2 ;;
    *) echo "$ME: unknown argument '$1'" >&2; exit 1 ;;
    esac
  done
  [ -f "$OPTS" ] || { echo "$ME: $OPTS: no such options file" >&2; exit 1; }
  export OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1
  if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
}

ardm() { mpirun -n "$NP" --bind-to none bin/ardm "$@"; }

quality_train() { # DATA OUT CKPT_EVERY
  mkdir -p "$2"
  if [ -n "${SKIP_TRAIN:-}" ] && [ -f "$2/run/checkpoint.nc" ]; then return 0; fi
  rm -rf "$2/run"
  echo "$ME: training $NAME for $HOURS h on $NP ranks -> $2/run"
  rc=0
  date +%s >"$2/train_start" # checkpoint wall times are their mtimes less this
  ardm train -options_file "$OPTS" -data "$1/train.nc" -out "$2/run" -max_hours "$HOURS" \
    -ckpt_every "$3" -keep 100000 ${EXTRA:-} >"$2/train.out" 2>&1 || rc=$?
  # exit 3 = stopped by -max_hours with a checkpoint written: the expected end of a budgeted run
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || { tail -n 5 "$2/train.out"; exit $rc; }
}
