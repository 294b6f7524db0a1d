#!/bin/sh
# tests/run.sh: runs every test (C unit/MPI programs at their rank counts, CLI scripts,
# Slurm scripts) and prints one closing line "N passed, N failed" (", N skipped" when a test could not run: a SKIP line,
# never counted as passed). Exit 1 when any failed.
# Env: ARDM_BIN (the binary under test), ARDM_TESTS (directory of built C tests),
#      ARDM_TEST_FILTER (only tests whose file name contains it), ARDM_ASAN=1 (sanitizer build).
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
export ARDM_BIN="${ARDM_BIN:-bin/ardm}" ARDM_TESTS="${ARDM_TESTS:-build/tests}"
case "$ARDM_BIN" in /*) ;; *) ARDM_BIN="$ROOT/$ARDM_BIN" ;; esac
# more ranks than cores: ranks waiting in MPI yield the core instead of spinning
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_MCA_mpi_yield_when_idle=1
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# Open MPI's own allocations are not ours to chase: leaks are checked with valgrind instead.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
FILTER="${ARDM_TEST_FILTER:-}"
LOG=$(mktemp -d "${TMPDIR:-/tmp}/ardm-tests.XXXXXX")
results="$LOG/results"
: >"$results"
start=$(date +%s)

# run_one LABEL TIMEOUT CMD...: runs a test program, keeps its PASS/FAIL lines, and records a
# FAIL of its own when the program died without reporting (crash, time-out, hang).
run_one() {
  label=$1; limit=$2; shift 2
  out="$LOG/$(echo "$label" | tr '/ ' '__').out"
  t0=$(date +%s)
  timeout -k 10 "$limit" "$@" >"$out" 2>&1
  rc=$?
  grep -E '^(PASS|FAIL|SKIP) ' "$out" | tee -a "$results"
  if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
    echo "FAIL $label: exited with $rc$( [ $rc -eq 124 ] && echo ' (timed out)')" | tee -a "$results"
    tail -n 15 "$out" | sed 's/^/    | /'
  elif grep -q '^FAIL ' "$out"; then
    grep -v -E '^(PASS|FAIL) ' "$out" | tail -n 15 | sed 's/^/    | /'
  fi
  echo "  ($label: $(( $(date +%s) - t0 )) s)"
}

for t in "$ARDM_TESTS"/test_*; do
  [ -x "$t" ] || continue
  name=$(basename "$t")
  case "$name" in *"$FILTER"*) ;; *) continue ;; esac
  ranks=$(sed -n 's|^// ranks: *||p' "tests/unit/$name.c" | head -n 1)
  for np in ${ranks:-1}; do
    run_one "$name[np=$np]" 600 mpirun -n "$np" "$t"
  done
done

for dir in tests/cli tests/slurm; do
  for s in "$dir"/test_*.sh; do
    [ -f "$s" ] || continue
    case "$s" in *"$FILTER"*) ;; *) continue ;; esac
    run_one "$s" 1200 sh "$s"
  done
done

passed=$(grep -c '^PASS ' "$results")
failed=$(grep -c '^FAIL ' "$results")
skipped=$(grep -c '^SKIP ' "$results")
echo ""
grep '^FAIL ' "$results" | sed 's/^/  /'
echo "tests took $(( $(date +%s) - start )) s; logs in $LOG"
grep '^SKIP ' "$results" | sed 's/^/  /'
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"; else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
