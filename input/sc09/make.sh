#!/bin/sh
# input/sc09/make.sh: makes the SC09-style spoken-digit data set with no download.
# espeak-ng speaks "zero".."nine" in many voices (input/sc09/synth.c, compiled here against
# libespeak-ng and libsndfile), written as 1 s, 16 kHz, 16-bit mono WAVs in the real Speech
# Commands layout (OUT/wav/<word>/<speaker>_nohash_<n>.wav, validation_list.txt,
# testing_list.txt; speakers disjoint between the splits), then `ardm prep -format wav`
# turns them into OUT/train.nc, OUT/valid.nc, OUT/test.nc.
#
# usage: input/sc09/make.sh [-size small|large] [-out DIR] [-seed N] [-np P] [-jobs J]
#   -size small  40 speakers x 10 words (400 clips: 320 train, 40 valid, 40 test); default,
#                seconds to make (make demo and the tests use it)
#   -size large  all 632 speakers x 10 words x 4 takes (25,280 clips)
#   -size tiny   10 speakers x 10 words (100 clips: 80 / 10 / 10), for the tests
#   -out DIR     output directory (default input/sc09/data, ignored by git)
#   -seed N      seed (default 1); the same seed and size give identical files
#   -np P        MPI ranks for ardm prep (default 1)
#   -jobs J      synthesis processes (default: the number of cores; does not change the data)
# Env: ARDM_BIN (default bin/ardm), CC (default gcc).
set -eu
cd "$(dirname "$0")/../.."
size=small out=input/sc09/data seed=1 np=1 jobs=$(nproc 2>/dev/null || echo 1)
while [ $# -gt 0 ]; do
  case "$1" in
  -size | --size) size=$2; shift 2 ;;
  -out | --out) out=$2; shift 2 ;;
  -seed | --seed) seed=$2; shift 2 ;;
  -np | --np) np=$2; shift 2 ;;
  -jobs | --jobs) jobs=$2; shift 2 ;;
  -h | -help | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "make.sh: unknown option '$1' (see -help)" >&2; exit 1 ;;
  esac
done
case "$size" in
tiny) speakers=10 reps=1 ;;
small) speakers=40 reps=1 ;;
large) speakers=0 reps=4 ;;
*) echo "make.sh: -size must be small, large or tiny" >&2; exit 1 ;;
esac
ARDM=${ARDM_BIN:-bin/ardm}
[ -x "$ARDM" ] || { echo "make.sh: $ARDM is not built; run make first" >&2; exit 1; }

# the synthesiser, rebuilt when its sources change
synth=build/recipes/sc09_synth
mkdir -p build/recipes
for src in input/sc09/synth.c src/prep/resample.c src/prep/resample.h src/core/rng.c src/core/rng.h; do
  [ -x "$synth" ] && [ ! "$src" -nt "$synth" ] || rm -f "$synth"
done
if [ ! -x "$synth" ]; then
  ${CC:-gcc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wshadow -Isrc input/sc09/synth.c src/prep/resample.c src/core/rng.c \
    $(pkg-config --cflags --libs espeak-ng sndfile) -lm -o "$synth"
fi

now() { date +%s.%N; }
t0=$(now)
wav="$out/wav"
rm -rf "$wav"
mkdir -p "$wav"
pids="" i=0
while [ "$i" -lt "$jobs" ]; do
  "$synth" "$wav" "$speakers" "$reps" "$seed" "$i" "$jobs" &
  pids="$pids $!"
  i=$((i + 1))
done
fail=0
for p in $pids; do wait "$p" || fail=1; done
[ "$fail" = 0 ] || { echo "make.sh: synthesis failed" >&2; exit 1; }
t1=$(now)
clips=$(find "$wav" -name '*.wav' | wc -l)
rm -f "$out/train.nc" "$out/valid.nc" "$out/test.nc"
if [ "$np" -gt 1 ]; then
  # Open MPI refuses root unless told; the same rule as jobs/lib.sh (only when really root)
  [ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpirun -n "$np" "$ARDM" prep -format wav -in "$wav" -out "$out"
else
  "$ARDM" prep -format wav -in "$wav" -out "$out"
fi
t2=$(now)
awk -v c="$clips" -v a="$t0" -v b="$t1" -v e="$t2" -v w="$(du -sb "$wav" | cut -f1)" \
  -v n="$(du -cb "$out"/*.nc | tail -n 1 | cut -f1)" -v o="$out" 'BEGIN {
  printf "sc09: %d clips synthesised in %.1f s, prep %.1f s; WAVs %.1f MB in %s/wav, data sets %.1f MB in %s\n",
    c, b - a, e - b, w / 1e6, o, n / 1e6, o }'
