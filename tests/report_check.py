#!/usr/bin/python3
"""report_check.py: checks of `ardm report` output for tests/cli/test_report.sh (Debian python3,
numpy, matplotlib for reading PNGs).
  report_check.py axes DIR            every figure in DIR/manifest.json exists, is an <img> of
                                      index.html, and every axes has an x and a y label (colour
                                      bars a label); every <img>/<audio> of index.html exists
  report_check.py notblank PNG        the screenshot is not blank (enough non-background pixels,
                                      several colours)
  report_check.py sections DIR S...   the manifest lists these sections
  report_check.py problem DIR REGEX   some problem line matches REGEX
  report_check.py noproblems DIR      no problem lines
"""
import json
import os
import re
import sys


def manifest(d):
    with open(os.path.join(d, "manifest.json")) as f:
        return json.load(f)


def main(argv):
    cmd, arg = argv[1], argv[2]
    if cmd == "axes":
        m = manifest(arg)
        page = open(os.path.join(arg, "index.html")).read()
        refs = re.findall(r'<(?:img|audio)[^>]* src="([^"]+)"', page)
        missing = [r for r in refs if not os.path.isfile(os.path.join(arg, r))]
        assert not missing, f"index.html references missing files: {missing}"
        assert m["figures"], "no figures"
        for fig in m["figures"]:
            assert fig["file"] in refs, f"{fig['file']} is not shown in index.html"
            assert fig["axes"], f"{fig['file']}: no axes"
            for ax in fig["axes"]:
                if "colorbar" in ax:
                    assert ax["colorbar"].strip(), f"{fig['file']}: colour bar without a label"
                else:
                    assert ax["xlabel"].strip() and ax["ylabel"].strip(), f"{fig['file']}: unlabelled axes {ax}"
        print(f"{len(m['figures'])} figures with labelled axes, {len(refs)} references, all present")
        return 0
    if cmd == "notblank":
        import matplotlib.image as mpimg
        import numpy as np
        im = mpimg.imread(arg)[:, :, :3]
        bg = im[0, 0]
        ink = np.mean(np.any(np.abs(im - bg) > 0.1, axis=2))
        colours = len(np.unique((im * 15).astype(int).reshape(-1, 3), axis=0))
        print(f"{im.shape[1]}x{im.shape[0]}: {100 * ink:.1f}% non-background pixels, {colours} colours")
        return 0 if ink > 0.03 and colours > 20 else 1
    m = manifest(arg)
    if cmd == "sections":
        missing = [s for s in argv[3:] if s not in m["sections"]]
        print("sections:", m["sections"], "problems:", m["problems"])
        return 1 if missing else 0
    if cmd == "problem":
        print(m["problems"])
        return 0 if any(re.search(argv[3], p) for p in m["problems"]) else 1
    if cmd == "noproblems":
        print(m["problems"])
        return 1 if m["problems"] else 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
