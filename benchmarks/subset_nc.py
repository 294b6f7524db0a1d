#!/usr/bin/env python3
"""benchmarks/subset_nc.py: every STRIDE-th example of a data set's valid and test splits, written
with the data set's attributes so that ardm reads the subsets as data sets (used by the quality
benchmarks: the splits are blocks of sources in order, so a stride keeps their mix).

usage: subset_nc.py SRC_DIR DST_DIR STRIDE SCRIPT_NAME
"""
import os
import sys

from netCDF4 import Dataset

src, dst, stride, who = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for split in ("valid", "test"):
    a = Dataset(f"{src}/{split}.nc")
    x = a.variables["x"][::stride, :]
    tmp = f"{dst}/{split}.tmp.nc"
    b = Dataset(tmp, "w", format="NETCDF4")
    b.createDimension("example", x.shape[0])
    b.createDimension("dim", x.shape[1])
    v = b.createVariable("x", a.variables["x"].dtype, ("example", "dim"))
    v.setncatts({k: a.variables["x"].getncattr(k) for k in a.variables["x"].ncattrs()})
    v[:] = x
    b.setncatts({k: a.getncattr(k) for k in a.ncattrs()})
    b.setncattr("history", a.getncattr("history") + f"\nevery {stride}th example ({who})")
    b.close()
    os.replace(tmp, f"{dst}/{split}.nc")
