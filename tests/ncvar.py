#!/usr/bin/python3
"""ncvar.py: small NetCDF checks for the shell tests (Debian's python3 with numpy + netCDF4).
  ncvar.py same A B VAR [RTOL]   exit 0 when VAR is equal in both files (bitwise when RTOL = 0)
  ncvar.py get F VAR             print VAR's values, one per line
  ncvar.py att F NAME            print a global attribute
  ncvar.py setatt F NAME VALUE   overwrite a global attribute, keeping its type (corrupt-file tests)
  ncvar.py setval F VAR I VALUE  overwrite element I of VAR (flat index), in place
"""
import sys
import numpy as np
from netCDF4 import Dataset

def main():
    cmd = sys.argv[1]
    if cmd == "same":
        a, b, var = sys.argv[2:5]
        rtol = float(sys.argv[5]) if len(sys.argv) > 5 else 0.0
        x = np.asarray(Dataset(a).variables[var][:], dtype=np.float64)
        y = np.asarray(Dataset(b).variables[var][:], dtype=np.float64)
        if x.shape != y.shape:
            print(f"{var}: shapes differ {x.shape} vs {y.shape}")
            return 1
        err = np.abs(x - y) / np.maximum(1.0, np.maximum(np.abs(x), np.abs(y)))
        worst = float(err.max()) if err.size else 0.0
        print(f"{var}: {x.size} values, largest relative difference {worst:.3g} (tolerance {rtol:g})")
        return 0 if worst <= rtol else 1
    if cmd == "get":
        f, var = sys.argv[2:4]
        for v in np.ravel(Dataset(f).variables[var][:]):
            print(repr(float(v)))
        return 0
    if cmd == "att":
        f, name = sys.argv[2:4]
        print(getattr(Dataset(f), name))
        return 0
    if cmd == "setatt":
        f, name, value = sys.argv[2:5]
        d = Dataset(f, "a")
        old = np.asarray(d.getncattr(name))
        d.setncattr(name, np.array(value, dtype=np.float64).astype(old.dtype))
        d.close()
        return 0
    if cmd == "setval":
        f, var, i, value = sys.argv[2:6]
        d = Dataset(f, "a")
        v = d.variables[var]
        a = np.array(v[:])
        a.flat[int(i)] = float(value)
        v[:] = a
        d.close()
        return 0
    print(__doc__)
    return 2

if __name__ == "__main__":
    sys.exit(main())
