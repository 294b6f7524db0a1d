#!/bin/sh
# input/demo.sh (run by `make demo`): the main job end to end on the small default SC09-style
# set, on 2 MPI ranks: make the data, train an OA-ARDM, evaluate held-out bits/dim (with the
# loss components), plan for budgets of network calls, sample with a plan, export WAVs,
# compare with FLAC's bits/sample on the same test clips, and write the run's report.
set -eu
cd "$(dirname "$0")/.."
NP=${ARDM_NP:-2}
RUN=${RUN_DIR:-output/demo}
DATA=input/sc09/data
export OPENBLAS_NUM_THREADS=1
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
export OMPI_MCA_rmaps_base_oversubscribe=1
run() { echo "+ $*"; "$@"; }
ardm() { run mpirun -n "$NP" bin/ardm "$@"; }

[ -f "$DATA/test.nc" ] || run sh input/sc09/make.sh
rm -rf "$RUN" && mkdir -p "$RUN"
bin/ardm info "$DATA/train.nc" | tail -3
t0=$(date +%s)
ardm train -options_file input/sc09_demo.opts -data "$DATA/train.nc" -out "$RUN"
ardm eval -ckpt "$RUN/checkpoint.nc" -data "$DATA/test.nc" -out "$RUN/eval.nc" -draws 4 -max_examples 24
ardm plan -loss "$RUN/eval.nc" -out "$RUN/plan.nc" -budgets 20,50,100 -curve_max 200
ardm eval -ckpt "$RUN/checkpoint.nc" -data "$DATA/test.nc" -out "$RUN/eval_plan.nc" -draws 2 -max_examples 24 \
  -plan "$RUN/plan.nc"
ardm sample -ckpt "$RUN/checkpoint.nc" -plan "$RUN/plan.nc" -budget 50 -n 4 -batch 2 -out "$RUN/samples.nc"
ardm export -format wav -in "$RUN/samples.nc" -out "$RUN/samples"

# FLAC baseline on the same 24 test clips (flac -8, no padding or seek table: only the stream)
ardm export -format wav -in "$DATA/test.nc" -out "$RUN/test_wav" -name test -max 24
flac -s -8 --no-padding --no-seektable -f "$RUN"/test_wav/*.wav
flac_bytes=$(cat "$RUN"/test_wav/*.flac | wc -c)
n=$(ls "$RUN"/test_wav/*.flac | wc -l)
bpd=$(/usr/bin/python3 tests/ncvar.py get "$RUN/eval.nc" bpd)
se=$(/usr/bin/python3 tests/ncvar.py get "$RUN/eval.nc" bpd_stderr)
echo ""
echo "demo finished in $(( $(date +%s) - t0 )) s; outputs in $RUN/"
/usr/bin/python3 - "$bpd" "$se" "$flac_bytes" "$n" <<'PY'
import sys
bpd, se, fb, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
flac = fb * 8 / (n * 16000)
print(f"held-out bits/dim (ARDM, {n} test clips): {bpd:.3f} +- {se:.3f}")
print(f"FLAC -8 bits/sample on the same clips:     {flac:.3f}   (16 = raw PCM)")
PY
bin/ardm report "$RUN" >"$RUN/report.log" 2>&1 || { cat "$RUN/report.log"; exit 1; }
echo "report: $(cd "$RUN/report" && pwd)/index.html"
