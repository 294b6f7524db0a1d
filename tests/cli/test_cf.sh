#!/bin/sh
# test_cf.sh: every NetCDF file kind ardm writes follows the CF conventions that xarray, NCO and
# ncview rely on (doc/formats.md "Common rules"): global Conventions, title, source, history
# (the input file's history appended below, as NCO does) and command_line; long_name and units
# on every variable (bits/char for text); coordinate variables for step, t, stage and budget,
# so that xarray's plots have labelled axes. Checked with ncdump -h and with Debian's xarray.
. "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

ok prep ardm_np 2 prep -format markov -out "$T/m" -n 48 -length 24 -classes 4 -p_stay 0.7 -seed 5
ok train ardm_np 2 train -data "$T/m/train.nc" -out "$T/r" -steps 6 -batch 8 -model_blocks 1 -model_channels 8 \
  -log_every 2 -ckpt_every 3
ok eval ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/valid.nc" -out "$T/r/eval.nc" -draws 2
ok plan ardm_np 1 plan -loss "$T/r/loss_t.nc" -out "$T/r/plan.nc" -budgets 4,8
ok eval-plan ardm_np 2 eval -ckpt "$T/r/checkpoint.nc" -data "$T/m/valid.nc" -out "$T/r/evalp.nc" -draws 1 \
  -plan "$T/r/plan.nc"
ok sample ardm_np 2 sample -ckpt "$T/r/checkpoint.nc" -plan "$T/r/plan.nc" -budget 4 -n 2 -out "$T/r/samples.nc"
printf 'the quick brown fox jumps over the lazy dog %.0s' $(seq 1 40) >"$T/t.txt"
ok prep-text ardm_np 1 prep -format text -in "$T/t.txt" -out "$T/txt" -length 32
ok train-text ardm_np 1 train -data "$T/txt/train.nc" -out "$T/rt" -steps 2 -batch 4 -model_blocks 1 -model_channels 8

# ncdump -h: the global attributes of every kind, and the units of the per-dim losses
for f in m/train.nc r/checkpoint.nc r/train_log.nc r/loss_t.nc r/eval.nc r/evalp.nc r/plan.nc r/samples.nc; do
  check "ncdump-global-$f" sh -c "h=\$(ncdump -h '$T/$f') && for a in ':Conventions = \"CF-1.8\"' ':title = \"ardm' \
    ':source = \"ardm ' ':history = \"' ':command_line = \"' ':ardm_kind = '; do
    echo \"\$h\" | grep -qF \"\$a\" || { echo \"missing \$a\"; exit 1; }; done"
done
check ncdump-coordinate-step sh -c "ncdump -h '$T/r/train_log.nc' | grep -q 'int64 step(step)'"
check ncdump-coordinate-t sh -c "ncdump -h '$T/r/loss_t.nc' | grep -q 'int64 t(t)'"
check ncdump-coordinate-budget sh -c "ncdump -h '$T/r/plan.nc' | grep -q 'int64 budget(budget)'"
check ncdump-units-bpd sh -c "ncdump -h '$T/r/eval.nc' | grep -q 'bpd:units = \"bits/dim\"'"
check ncdump-units-text sh -c "ncdump -h '$T/rt/loss_t.nc' | grep -q 'loss:units = \"bits/char\"' &&
  ncdump -h '$T/rt/train_log.nc' | grep -q 'bpd:units = \"bits/char\"'"
check ncdump-units-time sh -c "ncdump -h '$T/r/train_log.nc' | grep -q 'wall_s:units = \"s\"' &&
  ncdump -h '$T/r/train_log.nc' | grep -q 'examples_per_s:units = \"examples/s\"'"
# history: the newest line first, then the parent's lines (eval <- checkpoint <- data set <- prep)
check history-appended sh -c "$PY - '$T/r/eval.nc' <<'PY'
import sys
from netCDF4 import Dataset
h = Dataset(sys.argv[1]).getncattr('history').split('\n')
print(h)
assert len(h) == 3, h
assert ' eval ' in h[0] and ' train ' in h[1] and ' prep ' in h[2], h
PY"

# xarray: every variable has long_name and units, the coordinates are there, and a plot of the
# loss has both axes labelled from them
check xarray-all-kinds $PY - "$T" <<'PY'
import sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import xarray as xr
T = sys.argv[1]
want = {"m/train.nc": [], "r/checkpoint.nc": ["stage", "t"], "r/train_log.nc": ["step"],
        "r/loss_t.nc": ["stage", "t"], "r/eval.nc": ["stage", "t"], "r/evalp.nc": ["budget", "stage", "t"],
        "r/plan.nc": ["budget", "stage", "step", "n"], "r/samples.nc": [], "rt/loss_t.nc": ["stage", "t"]}
for f, coords in want.items():
    ds = xr.open_dataset(f"{T}/{f}")
    assert ds.attrs["Conventions"] == "CF-1.8", f
    for a in ("title", "history", "source", "command_line"):
        assert ds.attrs.get(a), (f, a)
    for c in coords:
        assert c in ds.coords, (f, c, list(ds.coords))
    for name, v in ds.variables.items():
        assert v.attrs.get("long_name") and v.attrs.get("units"), (f, name, v.attrs)
    print(f, "ok:", sorted(ds.coords))
def labels(da):
    plt.figure()
    ln = da.plot()
    ax = ln[0].axes
    return ax.get_xlabel(), ax.get_ylabel()
x, y = labels(xr.open_dataset(f"{T}/r/train_log.nc")["loss"])
print(repr(x), repr(y))
assert x == "optimizer step [1]" and y.replace("\n", " ") == "training loss [bits/dim]", (x, y)
x, y = labels(xr.open_dataset(f"{T}/r/loss_t.nc")["loss"].sel(stage=0))
print(repr(x), repr(y))
assert x.startswith("t: dims already known") and "[bits/dim]" in y, (x, y)
x, y = labels(xr.open_dataset(f"{T}/r/plan.nc")["expected_bpd"])
print(repr(x), repr(y))
assert x.startswith("budget") and "[bits/dim]" in y, (x, y)
PY
finish
