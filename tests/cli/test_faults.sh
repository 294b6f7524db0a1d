#!/bin/sh
# test_faults.sh: faults a job meets from outside and inputs that hold nothing, on 1 and 2 ranks:
# a data file truncated, overwritten in place or replaced while `ardm train` reads it, a data set
# with zero examples (train, eval, sample -given), and every kind of bad file handed to
# `ardm export`. Each ends with exit 1 and one line naming the file and what is wrong.
. "$(dirname "$0")/../lib.sh"
SMALL="-model_blocks 2 -model_channels 8 -batch 4"

ok make-data ardm_np 1 prep -format markov -out "$T/d" -n 64 -length 16 -classes 4
ok train ardm_np 1 train -data "$T/d/train.nc" -out "$T/r" -steps 2 -ckpt_every 2 -log_every 1 $SMALL

# ---- the data file changed while training reads it ----
# change_under_train NP HOW: trains on a copy of the data; once the first step is logged (so the
# file was opened and read), HOW changes it: truncate (to 4 KB), overwrite (its last 64 bytes
# in place, same size) or replace (a new file renamed over it). Prints the output and exits as
# the training did (a detection that never comes ends in timeout's exit 124, not 1).
change_under_train() {
  np=$1 how=$2 f="$T/ch-$2-$1.nc" out="$T/ch-$2-$1.out"
  cp "$T/d/train.nc" "$f"
  timeout -k 5 60 mpirun -n "$np" "$ARDM" train -data "$f" -out "$T/rch-$how-$np" -steps 1000000 \
    -log_every 1 -ckpt_every 1000000 $SMALL >"$out" 2>&1 &
  pid=$!
  i=0
  while ! grep -q '^step' "$out" && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
  case $how in
  truncate) truncate -s 4096 "$f" ;;
  overwrite) dd if=/dev/zero of="$f" bs=1 count=64 seek=$(($(stat -c %s "$f") - 64)) conv=notrunc 2>/dev/null ;;
  replace) cp "$T/d/train.nc" "$f.new" && mv "$f.new" "$f" ;;
  esac
  wait $pid
  rc=$?
  cat "$out"
  return $rc
}
CHANGED="the data file changed since it was opened"
fails_exit truncated-np1 1 "ch-truncate-1.nc: $CHANGED \(its size went from [0-9]+ to 4096 bytes\)" \
  change_under_train 1 truncate
fails_exit truncated-np2 1 "ch-truncate-2.nc: $CHANGED \(its size went from [0-9]+ to 4096 bytes\)" \
  change_under_train 2 truncate
fails_exit overwritten-np2 1 "ch-overwrite-2.nc: $CHANGED \(it was overwritten: the modification time differs\)" \
  change_under_train 2 overwrite
fails_exit replaced-np1 1 "ch-replace-1.nc: $CHANGED \(it was replaced by another file\)" \
  change_under_train 1 replace

# ---- a data set with zero examples: rejected when opened (info still describes it) ----
/usr/bin/python3 - "$T/d/valid.nc" "$T/empty.nc" <<'EOF'
import sys
from netCDF4 import Dataset
src = Dataset(sys.argv[1])
out = Dataset(sys.argv[2], "w", format="NETCDF4")
out.createDimension("example", None)  # unlimited, with no record written
out.createDimension("dim", len(src.dimensions["dim"]))
out.createVariable("x", "u1", ("example", "dim"))
out.setncatts({k: src.getncattr(k) for k in src.ncattrs()})
out.close()
EOF
EMPTY="$T/empty.nc: the data set has no examples \(dimension 'example' is 0\)"
for np in 1 2; do
  fails_exit empty-train-np$np 1 "$EMPTY" ardm_np $np train -data "$T/empty.nc" -out "$T/r0-$np" -steps 2 $SMALL
  fails_exit empty-eval-np$np 1 "$EMPTY" ardm_np $np eval -ckpt "$T/r/checkpoint.nc" -data "$T/empty.nc" -out "$T/e.nc"
  fails_exit empty-sample-given-np$np 1 "$EMPTY" \
    ardm_np $np sample -ckpt "$T/r/checkpoint.nc" -given "$T/empty.nc" -out "$T/s.nc" -n 2
done
check empty-no-outputs sh -c "! ls '$T/e.nc' 2>/dev/null && ! ls '$T/s.nc' 2>/dev/null && ! ls '$T'/r0-*/*.nc 2>/dev/null"
ok empty-info ardm_np 1 info "$T/empty.nc"

# ---- export trusts nothing it reads: each bad file is one line, exit 1, and no output ----
/usr/bin/python3 - "$T/d/train.nc" "$T" <<'EOF'
import sys
import numpy as np
from netCDF4 import Dataset
src, out = Dataset(sys.argv[1]), sys.argv[2]
x = np.array(src.variables["x"][:8])
def make(name, data, dims=("example", "dim"), **atts):
    d = Dataset(f"{out}/{name}.nc", "w", format="NETCDF4")
    for n, l in zip(dims, data.shape):
        d.createDimension(n, l)
    d.createVariable("x", data.dtype, dims)[:] = data
    a = {k: src.getncattr(k) for k in src.ncattrs()}
    a.update(atts)
    d.setncatts(a)
    d.close()
big = x.copy(); big[3, 5] = 9
make("big", big)                                     # a value at or above K = 4
make("nan", np.full(x.shape, np.nan, np.float32))    # floats, NaN
make("k1", np.zeros_like(x), num_classes=np.int64(1))
make("swapped", x.T.copy(), dims=("dim", "example"))
make("rate0", x, sample_rate=np.int64(0))
make("rateneg", x, sample_rate=np.int64(-8000))
make("image", x, height=np.int64(4), width=np.int64(4), channels=np.int64(3))  # 48 != 16 dims
EOF
exp() { # exp NAME FORMAT REGEX [NP...]: export of $T/NAME.nc fails (on 2 ranks, or NP...) and writes nothing
  xn=$1 xf=$2 xp=$3
  shift 3
  for np in ${@:-2}; do
    fails_exit export-$xn-np$np 1 "ardm export: error: $T/$xn.nc: $xp" \
      ardm_np $np export -format $xf -in "$T/$xn.nc" -out "$T/out-$xn"
  done
  check export-$xn-no-output test ! -e "$T/out-$xn"
}
exp big wav 'x\[3\]\[5\] = 9 is not below num_classes = 4' 1 2
exp nan wav "variable 'x' has type float, expected ubyte or ushort"
exp k1 wav 'num_classes = 1, expected 2\.\.65536'
exp swapped wav "variable 'x' dimension 0 is 'dim', expected 'example'"
exp rate0 wav 'sample_rate = 0, expected 1\.\.655350 Hz'
exp rateneg txt 'sample_rate = -8000, expected 1\.\.655350 Hz'
exp image png 'height x width x channels = 4 x 4 x 3 does not match dim = 16'
exp empty wav 'x has 0 examples of 16 dims: nothing to export'
ok export-good ardm_np 2 export -format wav -in "$T/d/valid.nc" -out "$T/wav"
check export-good-files sh -c "test \$(ls '$T/wav' | grep -c '\.wav$') -eq 6"
finish
