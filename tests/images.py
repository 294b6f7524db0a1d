#!/usr/bin/python3
"""images.py: small image inputs of the exact external formats for the image tests, written
without any imaging library (PNG chunks with zlib; CIFAR-10 binary records), and checks of
what `ardm prep` made of them.

  images.py png DIR N SIZE         N PNGs of SIZE x SIZE under DIR/{train,valid,test}/ (round robin),
                                   colour types cycling RGB, RGBA (alpha 0 or 255), grey, grey+alpha;
                                   DIR/expected.nc holds the expected channel-planar values per split
  images.py png-flat DIR N SIZE    the same without split folders (hashed split)
  images.py png-odd DIR            one 8 x 6 PNG (a size prep must reject)
  images.py check-png DIR OUT      OUT/{train,valid,test}.nc hold exactly DIR/expected.nc's images
  images.py cifar DIR N            data_batch_1..5.bin and test_batch.bin with N records each
  images.py check-cifar DIR OUT F  OUT/*.nc: train = first (1-F) of the batches, valid the rest,
                                   test = test_batch, pixels and labels exact
"""
import os
import struct
import sys
import zlib

import numpy as np
from netCDF4 import Dataset


def png_bytes(rows, color_type, width, height):
    """rows: bytes of each scanline without the filter byte."""
    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + r for r in rows)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def make_image(i, size):
    """(png bytes, expected planar uint8[3][size][size]) for image i."""
    rng = np.random.default_rng(1000 + i)
    rgb = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    kind = i % 4
    if kind == 0:  # RGB
        data, ct, exp = rgb, 2, rgb
    elif kind == 1:  # RGBA, alpha 0 or 255: transparent pixels become white
        a = np.where(rng.random((size, size)) < 0.3, 0, 255).astype(np.uint8)
        data, ct = np.dstack([rgb, a]), 6
        exp = np.where(a[:, :, None] == 255, rgb, 255).astype(np.uint8)
    elif kind == 2:  # grey, expanded to three equal channels
        g = rgb[:, :, 0]
        data, ct, exp = g[:, :, None], 0, np.dstack([g, g, g])
    else:  # grey + alpha
        g = rgb[:, :, 1]
        a = np.where(rng.random((size, size)) < 0.5, 0, 255).astype(np.uint8)
        data, ct = np.dstack([g, a]), 4
        e = np.where(a == 255, g, 255).astype(np.uint8)
        exp = np.dstack([e, e, e])
    rows = [data[y].tobytes() for y in range(size)]
    return png_bytes(rows, ct, size, size), np.transpose(exp, (2, 0, 1)).copy()


def write_expected(path, per_split, size):
    with Dataset(path, "w") as f:
        for s, imgs in per_split.items():
            f.createDimension("n_" + s, len(imgs))
            f.createDimension("d_" + s, 3 * size * size)
            v = f.createVariable(s, "u1", ("n_" + s, "d_" + s))
            if imgs:
                v[:] = np.stack([x.reshape(-1) for x in imgs])


def cmd_png(d, n, size, folders):
    splits = ["train", "valid", "test"]
    per = {s: [] for s in splits}
    for i in range(n):
        s = splits[0] if i % 5 < 3 else splits[i % 5 - 2]  # 3:1:1
        sub = os.path.join(d, s, "theme%d" % (i % 3)) if folders else os.path.join(d, "theme%d" % (i % 3))
        os.makedirs(sub, exist_ok=True)
        data, exp = make_image(i, size)
        name = "img%03d.png" % i
        with open(os.path.join(sub, name), "wb") as f:
            f.write(data)
        # prep sorts by relative path: split/theme/name
        per[s].append((os.path.relpath(os.path.join(sub, name), d), exp))
    if folders:
        write_expected(os.path.join(d, "expected.nc"),
                       {s: [e for _, e in sorted(per[s], key=lambda t: t[0])] for s in splits}, size)


def cmd_check_png(d, out):
    exp = Dataset(os.path.join(d, "expected.nc"))
    for s in ["train", "valid", "test"]:
        e = np.asarray(exp.variables[s][:])
        f = Dataset(os.path.join(out, s + ".nc"))
        x = np.asarray(f.variables["x"][:])
        attrs = (f.getncattr("modality"), int(f.getncattr("height")), int(f.getncattr("width")),
                 int(f.getncattr("channels")), int(f.getncattr("num_classes")))
        if x.shape != e.shape or not (x == e).all():
            print("split %s: %s vs expected %s, %d values differ" % (s, x.shape, e.shape,
                                                                   (x != e).sum() if x.shape == e.shape else -1))
            return 1
        if attrs[0] != "image" or attrs[3] != 3 or attrs[4] != 256 or attrs[1] * attrs[2] * 3 != x.shape[1]:
            print("split %s: attributes %s" % (s, attrs))
            return 1
    return 0


def cmd_cifar(d, n):
    os.makedirs(d, exist_ok=True)
    names = ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]
    for k, name in enumerate(names):
        rng = np.random.default_rng(50 + k)
        rec = np.zeros((n, 3073), dtype=np.uint8)
        rec[:, 0] = rng.integers(0, 10, n)
        rec[:, 1:] = rng.integers(0, 256, (n, 3072))
        rec.tofile(os.path.join(d, name))


def cmd_check_cifar(d, out, frac):
    train = np.concatenate([np.fromfile(os.path.join(d, "data_batch_%d.bin" % i), dtype=np.uint8).reshape(-1, 3073)
                            for i in range(1, 6)])
    test = np.fromfile(os.path.join(d, "test_batch.bin"), dtype=np.uint8).reshape(-1, 3073)
    nv = int(frac * len(train))
    want = {"train": train[:len(train) - nv], "valid": train[len(train) - nv:], "test": test}
    for s, r in want.items():
        f = Dataset(os.path.join(out, s + ".nc"))
        x = np.asarray(f.variables["x"][:])
        lab = np.asarray(f.variables["label"][:])
        if x.shape != (len(r), 3072) or not (x == r[:, 1:]).all() or not (lab == r[:, 0]).all():
            print("split %s: shape %s, expected %s, or values/labels differ" % (s, x.shape, (len(r), 3072)))
            return 1
        if int(f.getncattr("height")) != 32 or int(f.getncattr("channels")) != 3:
            print("split %s: wrong attributes" % s)
            return 1
    return 0


def main(a):
    if a[0] == "png":
        cmd_png(a[1], int(a[2]), int(a[3]), True)
    elif a[0] == "png-flat":
        cmd_png(a[1], int(a[2]), int(a[3]), False)
    elif a[0] == "png-odd":
        os.makedirs(a[1], exist_ok=True)
        with open(os.path.join(a[1], "odd.png"), "wb") as f:
            f.write(png_bytes([bytes(24)] * 6, 2, 8, 6))
    elif a[0] == "check-png":
        return cmd_check_png(a[1], a[2])
    elif a[0] == "cifar":
        cmd_cifar(a[1], int(a[2]))
    elif a[0] == "check-cifar":
        return cmd_check_cifar(a[1], a[2], float(a[3]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
