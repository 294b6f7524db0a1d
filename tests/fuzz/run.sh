#!/bin/sh
# tests/fuzz/run.sh [SECONDS] [READER...]: fuzzes each file reader (default: all of them, see
# tests/fuzz/fuzz_target.c) for SECONDS of wall time (default 60) with libFuzzer (`make fuzz`:
# clang, ASan + UBSan), starting from real outputs (tests/fuzz/seed.sh) and the committed corpus,
# then merges what it found back into the minimised corpus tests/fuzz/corpus/<reader>/ that
# `make check` replays (tests/unit/test_fuzz_corpus.c). A crash, sanitizer report, hang (10 s),
# out-of-memory (2 GiB) or a reader failing with anything but a bad-input error is a finding:
# written to build/fuzz/findings/<reader>-*, counted in the summary, and the run goes on
# (libFuzzer is restarted). One line per reader is appended to build/fuzz/log.txt. Exit 1 when any finding.
set -eu
cd "$(dirname "$0")/../.."
SECS=${1:-60}
[ $# -gt 0 ] && shift
READERS=${*:-dataset ckpt loss plan trainlog info wav text png}
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMPI_MCA_sharedfp=individual OPENBLAS_NUM_THREADS=1
[ "${FUZZ_NO_BUILD:-}" ] || make --no-print-directory fuzz >/dev/null
[ -d build/fuzz/seeds ] || ARDM_BIN=bin/ardm sh tests/fuzz/seed.sh build/fuzz/seeds
mkdir -p build/fuzz/findings
total=0
for r in $READERS; do
  work=build/fuzz/corpus/$r
  mkdir -p "$work" "tests/fuzz/corpus/$r"
  cp build/fuzz/seeds/"$r"/* tests/fuzz/corpus/"$r"/* "$work"/ 2>/dev/null || true
  before=$(ls build/fuzz/findings | grep -c "^$r-" || true)
  t0=$(date +%s)
  : >"build/fuzz/$r.log"
  execs=0
  # libFuzzer stops at its first finding (written to the artifact prefix): restart it until the
  # time is spent, so one finding does not end the run
  while left=$((SECS - ($(date +%s) - t0))) && [ "$left" -gt 0 ]; do
    ARDM_FUZZ_READER=$r build/fuzz/fuzz -max_total_time="$left" -timeout=10 -rss_limit_mb=2048 -max_len=131072 \
      -artifact_prefix="build/fuzz/findings/$r-" "$work" >"build/fuzz/$r.last" 2>&1 || true
    cat "build/fuzz/$r.last" >>"build/fuzz/$r.log"
    n=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "build/fuzz/$r.last" | tail -n 1)
    execs=$((execs + ${n:-0}))
  done
  t1=$(date +%s)
  # minimise: the smallest set of inputs with the same coverage becomes the committed corpus
  rm -rf "build/fuzz/merged-$r" && mkdir -p "build/fuzz/merged-$r"
  ARDM_FUZZ_READER=$r build/fuzz/fuzz -merge=1 "build/fuzz/merged-$r" "$work" >>"build/fuzz/$r.log" 2>&1 || true
  if [ -n "$(ls "build/fuzz/merged-$r")" ]; then
    rm -rf "tests/fuzz/corpus/$r" && mv "build/fuzz/merged-$r" "tests/fuzz/corpus/$r"
  fi
  found=$(( $(ls build/fuzz/findings | grep -c "^$r-" || true) - before ))
  total=$((total + found))
  line="$(date -u +%FT%TZ) reader=$r seconds=$((t1 - t0)) execs=${execs:-?} findings=$found corpus=$(ls "tests/fuzz/corpus/$r" | wc -l)"
  echo "$line" | tee -a build/fuzz/log.txt
done
[ "$total" -eq 0 ]
