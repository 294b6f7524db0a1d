#!/bin/sh
# benchmarks/quality.sh: held-out quality per unit of compute on the SC09-style set.
# Trains one model for a wall-clock budget, keeping a checkpoint every CKPT_EVERY steps; then
# evaluates every checkpoint on the test split (bits/dim with its standard error, and the 50-
# and 100-step parallel bounds with plans made on the valid split), and writes the curve of
# held-out bits/dim against wall time and examples seen as OUT/quality.nc (+ quality.png when
# matplotlib is present, + quality.txt), with FLAC -8 on the same test clips beside it.
#
# usage: sh benchmarks/quality.sh OPTIONS_FILE HOURS [RANKS] [-real DIR] [-name NAME]
#   OPTIONS_FILE  ardm train options (e.g. input/sc09_demo.opts, input/sc09_upscale_b4.opts)
#   HOURS         training wall-clock budget (ardm train -max_hours; the run ends with exit 3)
#   RANKS         MPI ranks (default 2)
#   -real DIR     also evaluate the last checkpoint on real recordings in the Speech Commands
#                 layout (DIR/zero/*.wav ... with validation_list.txt/testing_list.txt)
#   -name NAME    run name (default: the options file's name)
# Env: DATA (default input/sc09/large: made with input/sc09/make.sh -size large when missing),
#      OUT (default output/quality/NAME), EX=48 test clips, DRAWS=8 (t, order) draws per clip,
#      CKPT_EVERY=250 steps, EXTRA="..." more train options (override the file's),
#      SKIP_TRAIN=1 re-evaluates an existing run.
# The run trains until HOURS is up (-steps 100000000) unless EXTRA sets -steps: a run with the
# final learning-rate decay sets the steps that fit the budget at the rate of a short run, and
# decays over the last fifth of them, e.g. EXTRA="-steps 15000 -decay_steps 3000" for 2 h on 2
# ranks of the 2-core machine (about 2.4 steps/s); HOURS then only guards the budget.
set -eu
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 1; }
OPTS=$1 HOURS=$2
shift 2
NP=2
case "${1:-}" in [0-9]*) NP=$1; shift ;; esac
REAL="" NAME=$(basename "$OPTS" .opts)
while [ $# -gt 0 ]; do
  case "$1" in
  -real) REAL=$2; shift 2 ;;
  -name) NAME=$2; shift 2 ;;
  *) echo "quality.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done
[ -f "$OPTS" ] || { echo "quality.sh: $OPTS: no such options file" >&2; exit 1; }
DATA=${DATA:-input/sc09/large}
OUT=${OUT:-output/quality/$NAME}
EX=${EX:-48}
DRAWS=${DRAWS:-8}
CKPT_EVERY=${CKPT_EVERY:-250}
export OPENBLAS_NUM_THREADS=1 OMPI_MCA_rmaps_base_oversubscribe=1
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ardm() { mpirun -n "$NP" bin/ardm "$@"; }

[ -f "$DATA/test.nc" ] || sh input/sc09/make.sh -size large -out "$DATA" -np "$NP"
mkdir -p "$OUT"
if [ -z "${SKIP_TRAIN:-}" ] || [ ! -f "$OUT/run/checkpoint.nc" ]; then
  rm -rf "$OUT/run"
  echo "quality.sh: training $NAME for $HOURS h on $NP ranks -> $OUT/run"
  rc=0
  date +%s >"$OUT/train_start" # checkpoint wall times are their mtimes less this
  ardm train -options_file "$OPTS" -data "$DATA/train.nc" -out "$OUT/run" -max_hours "$HOURS" \
    -steps 100000000 -ckpt_every "$CKPT_EVERY" -keep 100000 ${EXTRA:-} >"$OUT/train.out" 2>&1 || rc=$?
  # exit 3 = stopped by -max_hours with a checkpoint written: the expected end of a budgeted run
  [ $rc -eq 0 ] || [ $rc -eq 3 ] || { tail -5 "$OUT/train.out"; exit $rc; }
fi

# FLAC -8 on the same EX test clips (the stream only: no padding, no seek table)
rm -rf "$OUT/flac" && mkdir -p "$OUT/flac"
ardm export -format wav -in "$DATA/test.nc" -out "$OUT/flac" -name test -max "$EX" >/dev/null
flac -s -8 --no-padding --no-seektable -f "$OUT"/flac/*.wav
FLAC_BPS=$(cat "$OUT"/flac/*.flac | wc -c | awk -v n="$(ls "$OUT"/flac/*.flac | wc -l)" '{print $1 * 8 / (n * 16000)}')

# every checkpoint: plan on valid, evaluate on test (full ELBO and the 50/100-step bounds)
: >"$OUT/points.txt"
for ck in $(ls "$OUT"/run/ckpt-*.nc | sed 's/.*ckpt-\([0-9]*\)\.nc/\1/' | sort -n); do
  c="$OUT/run/ckpt-$ck.nc" e="$OUT/eval-$ck"
  ardm eval -ckpt "$c" -data "$DATA/valid.nc" -out "$e.valid.nc" -draws 2 -max_examples "$EX" >/dev/null
  ardm plan -loss "$e.valid.nc" -out "$e.plan.nc" -budgets 50,100 >/dev/null
  ardm eval -ckpt "$c" -data "$DATA/test.nc" -out "$e.test.nc" -draws "$DRAWS" -max_examples "$EX" \
    -plan "$e.plan.nc" >/dev/null
  echo "$ck $c $e.test.nc" >>"$OUT/points.txt"
  echo "quality.sh: step $ck evaluated"
done
REAL_BPD=nan REAL_SE=nan REAL_FLAC=nan
if [ -n "$REAL" ]; then
  last=$(tail -n 1 "$OUT/points.txt" | cut -d' ' -f2)
  ardm prep -format wav -in "$REAL" -digits_only -out "$OUT/real" >/dev/null
  ardm eval -ckpt "$last" -data "$OUT/real/test.nc" -out "$OUT/eval-real.nc" -draws "$DRAWS" \
    -max_examples "$EX" >/dev/null
  REAL_BPD=$(/usr/bin/python3 tests/ncvar.py get "$OUT/eval-real.nc" bpd)
  REAL_SE=$(/usr/bin/python3 tests/ncvar.py get "$OUT/eval-real.nc" bpd_stderr)
  rm -rf "$OUT/realwav" && mkdir -p "$OUT/realwav"
  ardm export -format wav -in "$OUT/real/test.nc" -out "$OUT/realwav" -name real -max "$EX" >/dev/null
  flac -s -8 --no-padding --no-seektable -f "$OUT"/realwav/*.wav
  REAL_FLAC=$(cat "$OUT"/realwav/*.flac | wc -c | awk -v n="$(ls "$OUT"/realwav/*.flac | wc -l)" \
    '{print $1 * 8 / (n * 16000)}')
fi
/usr/bin/python3 benchmarks/quality_curve.py "$OUT" "$NAME" "$FLAC_BPS" "$EX" "$REAL_BPD" "$REAL_SE" "$REAL_FLAC"
