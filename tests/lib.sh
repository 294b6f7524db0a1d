# tests/lib.sh: helpers for the shell tests (sourced). Each check prints one PASS/FAIL line.
#   ok NAME CMD...              passes when CMD exits 0
#   fails_exit NAME CODE REGEX CMD...  passes when CMD exits with exactly CODE (1 bad input, 3 requeue,
#                               4 internal) and its output matches REGEX. There is deliberately no
#                               "fails with any non-zero code": a wrong exit code must fail a test.
#   ardm_np N ARGS...           runs bin/ardm on N MPI ranks
#   tmpdir                      a fresh directory removed at exit (set as $T)
set -u
TEST_NAME=$(basename "$0" .sh)
ARDM="${ARDM_BIN:-bin/ardm}"
T=$(mktemp -d "${TMPDIR:-/tmp}/ardm-$TEST_NAME.XXXXXX")
trap 'rm -rf "$T"' EXIT
_fails=0

ardm_np() { np=$1; shift; mpirun -n "$np" "$ARDM" "$@"; }

_report() { # _report STATUS NAME OUTPUTFILE [WHY]
  if [ "$1" = PASS ]; then echo "PASS $TEST_NAME:$2"; else
    echo "FAIL $TEST_NAME:$2: $4"; tail -n 8 "$3" | sed 's/^/    | /'; _fails=$((_fails + 1)); fi
}
ok() {
  name=$1; shift; o="$T/.out.$$"
  if "$@" >"$o" 2>&1; then _report PASS "$name" "$o"; else _report FAIL "$name" "$o" "exit $? from: $*"; fi
}
fails_exit() {
  name=$1; code=$2; pat=$3; shift 3; o="$T/.out.$$"
  case "$code" in 1 | 3 | 4) ;; *) echo "FAIL $TEST_NAME:$name: fails_exit needs the code 1, 3 or 4, not '$code'"; _fails=$((_fails + 1)); return ;; esac
  "$@" >"$o" 2>&1; rc=$?
  if [ $rc -ne "$code" ]; then _report FAIL "$name" "$o" "expected exit $code, got $rc from: $*"
  elif grep -Eq -- "$pat" "$o"; then _report PASS "$name" "$o"
  else _report FAIL "$name" "$o" "output does not match /$pat/"; fi
}
# check NAME CONDITION-CMD...: passes when the command succeeds (for file/content checks)
check() { name=$1; shift; o="$T/.out.$$"; if "$@" >"$o" 2>&1; then _report PASS "$name" "$o"; else _report FAIL "$name" "$o" "check failed: $*"; fi; }
finish() { exit $_fails; }
