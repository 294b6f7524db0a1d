#!/usr/bin/python3
"""ncvar.py: small NetCDF checks for the shell tests (Debian's python3 with numpy + netCDF4).
  ncvar.py same A B VAR [RTOL]   exit 0 when VAR is equal in both files (bitwise when RTOL = 0)
  ncvar.py get F VAR             print VAR's values, one per line
  ncvar.py att F NAME            print a global attribute
  ncvar.py setatt F NAME VALUE   overwrite a global attribute, keeping its type (corrupt-file tests)
  ncvar.py delatt F NAME         remove a global attribute (files from before it existed)
  ncvar.py setval F VAR I VALUE  overwrite element I of VAR (flat index), in place
  ncvar.py flip F VAR I          flip the lowest bit of element I of VAR (flat index) in the file's
                                 raw bytes, not through NetCDF (a bit flip on the disk; checksum
                                 tests): the element is found by searching the file for the bytes
                                 of the values from I on, which must occur exactly once
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
    if cmd == "delatt":
        f, name = sys.argv[2:4]
        d = Dataset(f, "a")
        d.delncattr(name)
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
    if cmd == "flip":
        f, var, i = sys.argv[2:5]
        i = int(i)
        d = Dataset(f)
        v = d.variables[var]
        a = np.ravel(np.asarray(v[:], dtype=v.dtype))
        # the stored bytes of elements i, i+1, ... (little-endian, as HDF5 writes them here):
        # 64 bytes, or fewer up to the end of the chunk's row (a chunk is stored whole, then
        # its checksum), so that they occur once
        n = max(1, 64 // a.itemsize)
        ch = v.chunking()
        if ch != "contiguous":
            last = int(np.unravel_index(i, v.shape)[-1])
            n = min(n, ch[-1] - last % ch[-1])
        d.close()
        want = a[i:i + n].astype(a.dtype.newbyteorder("<")).tobytes()
        raw = bytearray(open(f, "rb").read())
        at = raw.find(want)
        if at < 0 or raw.find(want, at + 1) >= 0:
            print(f"{var}[{i}..{i + n - 1}]: found {'no' if at < 0 else 'more than one'} copy of its bytes in {f}")
            return 1
        raw[at] ^= 1
        open(f, "wb").write(raw)
        print(f"{f}: flipped bit 0 of byte {at} ({var}[{i}])")
        return 0
    print(__doc__)
    return 2

if __name__ == "__main__":
    sys.exit(main())
