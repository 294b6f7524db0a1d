#!/bin/sh
# benchmarks/recipe_sc09.sh: the training-recipe study of issue 15 on the SC09-style set.
# Trains one model per variant for the same wall-clock budget (one rank each, PAR variants at a
# time, one per core), evaluates each final checkpoint on the VALID split (never test: this
# chooses the defaults) with the same clips and the same (t, order) draws, and prints valid
# bits/dim +- its standard error, and the paired difference to the first variant +- its own
# standard error (recipe_compare.py; pairing removes most of the clip-to-clip variance).
#
# usage: sh benchmarks/recipe_sc09.sh MINUTES BASE_OPTIONS_FILE SPEC_FILE
#   MINUTES            training wall clock per variant (ardm train -max_hours)
#   BASE_OPTIONS_FILE  options every variant starts from (e.g. input/sc09_demo.opts)
#   SPEC_FILE          one variant per line: NAME followed by the train options it adds or
#                      overrides (an empty rest = the base itself); '#' lines are comments
# Env: DATA (default input/sc09/large, made with input/sc09/make.sh -size large when missing),
#      OUT (default output/recipe), PAR=2 variants at once, EX=200 valid clips, DRAWS=4 draws per
#      clip, WEIGHTS=ema (or params), SKIP_TRAIN=1 re-evaluates existing runs, CKPT_EVERY=N also
#      keeps a checkpoint every N steps and evaluates each (the curve, OUT/NAME/valid-STEP.nc).
# Writes OUT/NAME/{run,train.out,valid.nc} and appends the table (and the curve) to OUT/results.txt.
set -eu
cd "$(dirname "$0")/.."
[ $# -eq 3 ] || { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 1; }
MIN=$1 BASE=$2 SPEC=$3
[ -f "$BASE" ] || { echo "recipe_sc09.sh: $BASE: no such options file" >&2; exit 1; }
[ -f "$SPEC" ] || { echo "recipe_sc09.sh: $SPEC: no such variant file" >&2; exit 1; }
DATA=${DATA:-input/sc09/large} OUT=${OUT:-output/recipe} PAR=${PAR:-2}
EX=${EX:-200} DRAWS=${DRAWS:-4} WEIGHTS=${WEIGHTS:-ema}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
[ -f "$DATA/valid.nc" ] || sh input/sc09/make.sh -size large -out "$DATA" -np 2
HOURS=$(awk -v m="$MIN" 'BEGIN { printf "%.6f", m / 60 }')
mkdir -p "$OUT"

one() { # NAME OPTIONS...: train (one rank, no mpirun: no core binding) then evaluate on valid
  n=$1
  shift
  d="$OUT/$n"
  mkdir -p "$d"
  if [ -z "${SKIP_TRAIN:-}" ] || [ ! -f "$d/run/checkpoint.nc" ]; then
    rm -rf "$d/run"
    rc=0
    bin/ardm train -options_file "$BASE" -data "$DATA/train.nc" -out "$d/run" -max_hours "$HOURS" \
      -steps 100000000 -ckpt_every "${CKPT_EVERY:-100000000}" -keep 100000 -log_every 50 "$@" >"$d/train.out" 2>&1 || rc=$?
    [ $rc -eq 0 ] || [ $rc -eq 3 ] || { echo "recipe_sc09.sh: $n: train exited $rc" >&2; tail -n 3 "$d/train.out" >&2; return 1; }
  fi
  ev() { bin/ardm eval -ckpt "$1" -data "$DATA/valid.nc" -out "$2" -draws "$DRAWS" -max_examples "$EX" \
    -weights "$WEIGHTS" -seed 1234 >/dev/null; }
  ev "$d/run/checkpoint.nc" "$d/valid.nc"
  if [ -n "${CKPT_EVERY:-}" ]; then
    for c in "$d"/run/ckpt-*.nc; do
      s=$(echo "$c" | sed 's/.*ckpt-0*\([0-9][0-9]*\)\.nc/\1/')
      ev "$c" "$d/valid-$s.nc"
    done
  fi
  echo "$*" >"$d/options"
  echo "recipe_sc09.sh: $n done"
}

names=""
running=0
grep -v '^[[:space:]]*\(#\|$\)' "$SPEC" >"$OUT/.spec"
while read -r name opts; do
  # shellcheck disable=SC2086 # the options are words
  one "$name" $opts &
  names="$names $name"
  running=$((running + 1))
  if [ "$running" -ge "$PAR" ]; then wait; running=0; fi
done <"$OUT/.spec"
wait
{
  echo "# $(date -u '+%Y-%m-%d %H:%M') UTC: $MIN min per variant on one rank ($PAR at once), base $BASE, $EX valid clips x $DRAWS draws, $WEIGHTS weights"
  # shellcheck disable=SC2086
  /usr/bin/python3 benchmarks/recipe_compare.py "$OUT" $names
} | tee -a "$OUT/results.txt"
