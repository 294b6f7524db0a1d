#!/usr/bin/python3
"""check_prep.py: independent checks of what `ardm prep` wrote (used by tests/cli/test_prep.sh).
Recomputes the expected data sets with Python's own readers and rules and compares exactly.

  check_prep.py wav IN_DIR OUT_DIR D       SC09 layout: every file of IN_DIR is mono 16-bit;
      splits from validation_list.txt / testing_list.txt, examples in byte-sorted path order,
      x = samples + 32768 padded with 32768 / trimmed to D, label = digit of the folder.
  check_prep.py text FILE OUT_DIR L VALID_FRAC TEST_FRAC
      text8 cleaning by regular expressions, chunks of L, contiguous train/valid/test blocks.
Prints one line per failed check and exits 1 when any failed."""
import os, re, sys, wave
import numpy as np
import netCDF4

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
bad = []


def expect(cond, msg):
    if not cond:
        bad.append(msg)


def read_split(path):
    if not os.path.exists(path):
        return None
    with netCDF4.Dataset(path) as f:
        f.set_auto_mask(False)
        x = np.array(f.variables["x"][:], dtype=np.int64)
        lab = np.array(f.variables["label"][:]) if "label" in f.variables else None
        return x, lab, {a: f.getncattr(a) for a in f.ncattrs()}


def check_wav(indir, outdir, D):
    files = []
    for root, dirs, names in os.walk(indir):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for n in names:
            if n.lower().endswith(".wav") and not n.startswith("."):
                files.append(os.path.relpath(os.path.join(root, n), indir))
    files.sort(key=lambda s: s.encode())
    lists = {}
    for split, name in (("valid", "validation_list.txt"), ("test", "testing_list.txt")):
        with open(os.path.join(indir, name)) as f:
            lists[split] = set(l.strip() for l in f if l.strip())
    for split in ("train", "valid", "test"):
        want = [r for r in files if (split == "test" and r in lists["test"]) or
                (split == "valid" and r in lists["valid"] and r not in lists["test"]) or
                (split == "train" and r not in lists["test"] and r not in lists["valid"])]
        got = read_split(os.path.join(outdir, split + ".nc"))
        if not want:
            expect(got is None, f"{split}: written although empty")
            continue
        if got is None:
            bad.append(f"{split}.nc missing")
            continue
        x, lab, att = got
        expect(x.shape == (len(want), D), f"{split}: shape {x.shape}, want {(len(want), D)}")
        expect(att.get("num_classes") == 65536 and att.get("modality") == "audio" and att.get("split") == split
               and att.get("sample_rate") == 16000, f"{split}: attributes {att}")
        for i, rel in enumerate(want[: x.shape[0]]):
            with wave.open(os.path.join(indir, rel)) as w:
                s = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int64)[:D] + 32768
            row = np.full(D, 32768, dtype=np.int64)
            row[: len(s)] = s
            expect(np.array_equal(x[i], row), f"{split}[{i}] ({rel}): samples differ")
            digit = WORDS.index(rel.split("/")[-2]) if rel.split("/")[-2] in WORDS else -1
            expect(lab is not None and lab[i] == digit, f"{split}[{i}] ({rel}): label {None if lab is None else lab[i]}, want {digit}")


def check_text(path, outdir, L, vfrac, tfrac):
    raw = open(path, "rb").read().lower()  # bytes.lower() changes A-Z only
    s = re.sub(rb"[0-9]", lambda m: b" " + WORDS[int(m.group())].encode() + b" ", raw)
    s = re.sub(rb"[^a-z]+", b" ", s).lstrip(b" ")
    n = len(s) // L
    counts = {"test": int(tfrac * n), "valid": int(vfrac * n)}
    counts["train"] = n - counts["test"] - counts["valid"]
    first = {"train": 0, "valid": counts["train"], "test": counts["train"] + counts["valid"]}
    sym = np.array([0 if c == 32 else c - 96 for c in s[: n * L]], dtype=np.int64).reshape(n, L)
    for split in ("train", "valid", "test"):
        got = read_split(os.path.join(outdir, split + ".nc"))
        if counts[split] == 0:
            expect(got is None, f"{split}: written although empty")
            continue
        if got is None:
            bad.append(f"{split}.nc missing")
            continue
        x, lab, att = got
        expect(att.get("num_classes") == 27 and att.get("alphabet") == " abcdefghijklmnopqrstuvwxyz"
               and att.get("modality") == "text" and lab is None, f"{split}: attributes {att}")
        want = sym[first[split]: first[split] + counts[split]]
        expect(x.shape == want.shape and np.array_equal(x, want), f"{split}: chunks differ (shape {x.shape} vs {want.shape})")


if sys.argv[1] == "wav":
    check_wav(sys.argv[2], sys.argv[3], int(sys.argv[4]))
else:
    check_text(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]))
for b in bad[:20]:
    print("check_prep:", b)
sys.exit(1 if bad else 0)
