# tests/lib.sh: helpers for the shell tests (sourced). Each check prints one PASS/FAIL line.
#   ok NAME CMD...              passes when CMD exits 0
#   fails_exit NAME CODE REGEX CMD...  passes when CMD exits with exactly CODE (1 bad input, 3 requeue,
#                               4 internal) and its output matches REGEX. There is deliberately no
#                               "fails with any non-zero code": a wrong exit code must fail a test.
#   ardm_np N ARGS...           runs bin/ardm on N MPI ranks
#   tmpdir                      a fresh directory removed at exit (set as $T)
#   model_attr_default ...      the checks of a model option whose default is new (see below)
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

# model_attr_default OPT DEFAULT OLD MAX DEFAULT_CKPT RESUME_STEPS EVAL_ARGS TRAIN_ARGS...:
# a model option (checkpoint attribute OPT) whose new default DEFAULT differs from the value OLD
# that a checkpoint without the attribute (written before the option) has. DEFAULT_CKPT was
# trained with TRAIN_ARGS and the default. Checks: ardm info shows both values; OLD trains a
# different network; the checkpoint with the attribute removed evaluates bit for bit like OLD
# (EVAL_ARGS); resuming it with the default is refused naming OPT, with -OPT OLD it continues;
# OPT above MAX is refused. Uses $NC (tests/ncvar.py).
model_attr_default() {
  _a=$1 _def=$2 _old=$3 _max=$4 _ck=$5 _rs=$6 _ev=$7; shift 7
  _d="$T/$_a-$_old"
  ok "train-$_a$_old" ardm_np 1 train "$@" -"$_a" "$_old" -out "$_d"
  check "info-$_a-default" sh -c "'$ARDM' info '$_ck' | grep -q '^ *$_a *$_def\$'"
  check "info-$_a$_old" sh -c "'$ARDM' info '$_d/checkpoint.nc' | grep -q '^ *$_a *$_old\$'"
  check "$_a-changes-training" sh -c "! $NC same '$_ck' '$_d/checkpoint.nc' params 1e-3"
  cp "$_d/checkpoint.nc" "$_d.old.nc"
  ok "strip-$_a" $NC delatt "$_d.old.nc" "$_a"
  ok "eval-$_a$_old" ardm_np 1 eval -ckpt "$_d/checkpoint.nc" $_ev -out "$_d.ev.nc"
  ok "eval-$_a$_old-stripped" ardm_np 1 eval -ckpt "$_d.old.nc" $_ev -out "$_d.ev_old.nc"
  check "stripped-$_a-reads-$_old" $NC same "$_d.ev.nc" "$_d.ev_old.nc" bpd 0
  mv "$_d.old.nc" "$_d/checkpoint.nc"
  fails_exit "resume-stripped-$_a-default" 1 \
    "checkpoint.nc: its model has -$_a $_old, the options say $_def \\(resume with -$_a $_old\\)\$" \
    ardm_np 1 train "$@" -steps "$_rs" -resume -out "$_d"
  ok "resume-stripped-$_a$_old" ardm_np 1 train "$@" -steps "$_rs" -resume -"$_a" "$_old" -out "$_d"
  fails_exit "$_a-too-large" 1 "-$_a $((_max + 1)): expected an integer in 0..$_max\$" \
    ardm_np 1 train "$@" -"$_a" $((_max + 1)) -out "$T/$_a-too-large"
}
