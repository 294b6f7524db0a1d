#!/usr/bin/python3
"""icons.py: the image set of input/images/make.sh from the icon themes and clip art Debian
ships (Debian's python3 with PIL, numpy, and librsvg + cairo through python3-gi).

  icons.py list OUT_TSV [THEMES]
                             one drawing per (theme, icon name) from the icon themes and the clip
                             art (THEMES, CLIPART below) with its split, as split/theme/name/path;
                             THEMES (comma-separated, e.g. menta,nuoveXT2,openclipart-plants)
                             takes only those
  icons.py build TSV OUT JOBS
                             every listed drawing fitted into 32 x 32 (SVGs rendered by librsvg,
                             the renderer of rsvg-convert, in-process: starting rsvg-convert costs
                             ~50x the render of an icon; PNGs resized with Lanczos on premultiplied
                             alpha), flattened onto its background, duplicates removed, written as
                             RGB PNGs to OUT/<split>/<theme>/<name>.png, JOBS processes

Splits are by theme (SPLIT below), so train and test share no drawing set. Within a theme each
icon name appears once: the file drawn for 32 pixels when the theme has one, else the smallest
larger size, else the scalable SVG, else the largest smaller size. Backgrounds are deterministic:
a colour, or a vertical or horizontal gradient between two colours, from a hash of theme/name.
Duplicates are drawings whose 32 x 32 render (premultiplied RGBA, before the background) is
identical; the first kept is in test, then valid, then train, so train never repeats a test
drawing. Nearly empty renders (under 2% coverage) are left out.
"""
import hashlib
import os
import re
import sys
from multiprocessing import Pool

SIDE = 32
# where Debian installs them; ARDM_ICONS_DIR / ARDM_CLIPART_DIR point elsewhere (the test's own
# small trees of the same layout)
ICONS = os.environ.get("ARDM_ICONS_DIR", "/usr/share/icons")
CLIPART = os.environ.get("ARDM_CLIPART_DIR", "/usr/share/openclipart/svg")
# icon themes (directory under /usr/share/icons -> Debian package); variants (-Dark, -Light,
# ePapirus, breeze-dark, Faenza-*, Numix-Light, Paper-Mono-Dark) are left out: same drawings
THEMES = {
    "Adwaita": "adwaita-icon-theme",
    "Faba": "faba-icon-theme",
    "Faenza": "faenza-icon-theme",
    "Moka": "moka-icon-theme",
    "Numix": "numix-icon-theme",
    "Paper": "paper-icon-theme",
    "Papirus": "papirus-icon-theme",
    "Tango": "tango-icon-theme",
    "breeze": "breeze-icon-theme",
    "elementary": "elementary-icon-theme",
    "gnome": "gnome-icon-theme",
    "gnome-colors-common": "gnome-colors-common",
    "mate": "mate-icon-theme",
    "menta": "mate-icon-theme",
    "nuoveXT2": "lxde-icon-theme",
    "oxygen": "oxygen-icon-theme",
    "suru": "suru-icon-theme",
}
# held-out themes: whole drawing sets (designers), about 5% each; everything else is train.
# openclipart-* are the clip-art categories (openclipart-svg).
SPLIT = {
    "oxygen": "test",
    "openclipart-animals": "test",
    "openclipart-plants": "test",
    "suru": "valid",
    "nuoveXT2": "valid",
    "openclipart-food": "valid",
    "openclipart-buildings": "valid",
}
ORDER = {"test": 0, "valid": 1, "train": 2}


def size_of(rel):
    """The pixel size a file is drawn for, from its folders: 32x32, 32, 32x32@2x (skipped), scalable."""
    size = None
    for part in rel.split("/")[:-1]:
        if "@" in part or part == "sources":
            return -1
        m = re.fullmatch(r"(\d+)(x\d+)?", part)
        if m:
            size = int(m.group(1))
        elif part in ("scalable", "symbolic"):
            size = 0
    return 0 if size is None and rel.endswith(".svg") else size


def rank(size):
    """Lower is better: 32, then the smallest larger size, then scalable, then the largest smaller."""
    if size == SIDE:
        return (0, 0)
    if size > SIDE:
        return (1, size)
    if size == 0:
        return (2, 0)
    return (3, -size)


def safe(name):
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name)


def walk(root):
    for d, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            if f.endswith((".svg", ".png")) and not os.path.islink(p):
                yield os.path.relpath(p, root), p


def list_theme(theme, root):
    best = {}
    for rel, path in walk(root):
        size = size_of(rel)
        if size is None or size < 0:
            continue
        name = safe(os.path.basename(rel).rsplit(".", 1)[0])
        key = (rank(size), rel)
        if name not in best or key < best[name][0]:
            best[name] = (key, path)
    return {n: p for n, (k, p) in best.items()}


def cmd_list(out, only=None):
    rows, missing = [], []
    want = set(only.split(",")) if only else None
    clip = {"openclipart-" + safe(c) for c in os.listdir(CLIPART)} if os.path.isdir(CLIPART) else set()
    unknown = want - set(THEMES) - clip if want else set()
    if unknown:
        sys.exit("icons.py: unknown theme(s) %s (icon themes: %s; clip art: openclipart-<category>)"
                 % (",".join(sorted(unknown)), ",".join(sorted(THEMES))))
    for theme in sorted(THEMES):
        if want and theme not in want:
            continue
        root = os.path.join(ICONS, theme)
        if not os.path.isdir(root):
            missing.append(THEMES[theme])
            continue
        for name, path in sorted(list_theme(theme, root).items()):
            rows.append((SPLIT.get(theme, "train"), theme, name, path))
    if not os.path.isdir(CLIPART):
        missing.append("openclipart-svg")
    else:
        for cat in sorted(os.listdir(CLIPART)):
            theme = "openclipart-" + safe(cat)
            if want and theme not in want:
                continue
            seen = set()
            for rel, path in walk(os.path.join(CLIPART, cat)):
                if not rel.endswith(".svg"):
                    continue
                name = safe(rel.rsplit(".", 1)[0].replace("/", "-"))
                if name not in seen:
                    seen.add(name)
                    rows.append((SPLIT.get(theme, "train"), theme, name, path))
    if missing:
        sys.exit("icons.py: not installed: %s (make images installs them)" % " ".join(sorted(set(missing))))
    with open(out + ".tmp", "w") as f:
        for r in rows:
            f.write("\t".join(r) + "\n")
    os.rename(out + ".tmp", out)
    n = {s: sum(r[0] == s for r in rows) for s in ORDER}
    svg = sum(r[3].endswith(".svg") for r in rows)
    print("icons: %d drawings listed (%d SVG to render, %d PNG): train %d, valid %d, test %d"
          % (len(rows), svg, len(rows) - svg, n["train"], n["valid"], n["test"]))


def background(theme, name):
    """32 x 32 x 3 floats: a colour or a two-colour gradient chosen by a hash of theme/name."""
    import numpy as np

    h = hashlib.sha256((theme + "/" + name).encode()).digest()
    c1, c2 = np.array(list(h[0:3]), float), np.array(list(h[3:6]), float)
    kind = h[6] % 3
    if kind == 0:
        return np.broadcast_to(c1, (SIDE, SIDE, 3)).copy()
    w = np.linspace(0.0, 1.0, SIDE)[:, None] if kind == 1 else np.linspace(0.0, 1.0, SIDE)[None, :]
    w = np.broadcast_to(w, (SIDE, SIDE))[:, :, None]
    return (1 - w) * c1 + w * c2


def render_svg(path):
    """The SVG fitted into SIDE x SIDE (aspect kept, centred): premultiplied RGBA bytes."""
    import cairo
    import gi
    import numpy as np

    gi.require_version("Rsvg", "2.0")
    from gi.repository import Rsvg

    h = Rsvg.Handle.new_from_file(path)
    h.set_dpi(96)
    ok, w, hh = h.get_intrinsic_size_in_pixels()
    if not ok or w <= 0 or hh <= 0:  # no absolute width/height: the viewBox's shape
        d = h.get_intrinsic_dimensions()
        ok = d.out_has_viewbox and d.out_viewbox.width > 0 and d.out_viewbox.height > 0
        w, hh = (d.out_viewbox.width, d.out_viewbox.height) if ok else (SIDE, SIDE)
    surf = cairo.ImageSurface(cairo.FORMAT_ARGB32, SIDE, SIDE)
    ctx = cairo.Context(surf)
    s = SIDE / max(w, hh)
    ctx.translate((SIDE - w * s) / 2, (SIDE - hh * s) / 2)
    ctx.scale(s, s)
    vp = Rsvg.Rectangle()
    vp.x, vp.y, vp.width, vp.height = 0, 0, w, hh
    h.render_document(ctx, vp)
    surf.flush()
    bgra = np.ndarray((SIDE, SIDE, 4), np.uint8, surf.get_data())  # cairo: premultiplied, native-endian ARGB
    return bgra[:, :, [2, 1, 0, 3]].tobytes()


def load(args):
    """(row index, dedup key or None, flattened RGB bytes or a reason) for one listed drawing."""
    import numpy as np
    from PIL import Image

    i, theme, name, path = args
    try:
        if path.endswith(".svg"):
            im = Image.frombytes("RGBa", (SIDE, SIDE), render_svg(path))
        else:
            im = Image.open(path)
            im.load()
            im = im.convert("RGBA").convert("RGBa")  # premultiplied: resizing does not bleed hidden colours
    except Exception:
        return i, None, "unreadable"
    if im.size != (SIDE, SIDE):
        s = SIDE / max(im.size)
        w, h = max(1, round(im.size[0] * s)), max(1, round(im.size[1] * s))
        if (w, h) != im.size:
            im = im.resize((w, h), Image.LANCZOS)
        canvas = Image.new("RGBa", (SIDE, SIDE))
        canvas.paste(im, ((SIDE - w) // 2, (SIDE - h) // 2))
        im = canvas
    a = np.asarray(im, dtype=np.uint8)
    if a[:, :, 3].sum() < 0.02 * 255 * SIDE * SIDE:
        return i, None, "blank"
    key = hashlib.sha1(a.tobytes()).digest()
    fg = a[:, :, :3].astype(float)
    alpha = a[:, :, 3:4].astype(float) / 255.0
    rgb = fg + (1.0 - alpha) * background(theme, name)
    return i, key, np.clip(np.rint(rgb), 0, 255).astype(np.uint8).tobytes()


def cmd_build(tsv, out, jobs):
    from PIL import Image

    rows = [line.rstrip("\n").split("\t") for line in open(tsv)]
    order = sorted(range(len(rows)), key=lambda i: (ORDER[rows[i][0]], i))
    tasks = [(i, rows[i][1], rows[i][2], rows[i][3]) for i in order]
    seen, kept, why = set(), {s: 0 for s in ORDER}, {"unreadable": 0, "blank": 0, "duplicate": 0}
    with Pool(int(jobs)) as pool:
        for i, key, data in pool.imap(load, tasks, chunksize=64):
            split, theme, name = rows[i][:3]
            if key is None:
                why[data] += 1
                continue
            if key in seen:
                why["duplicate"] += 1
                continue
            seen.add(key)
            d = os.path.join(out, split, theme)
            os.makedirs(d, exist_ok=True)
            Image.frombytes("RGB", (SIDE, SIDE), data).save(os.path.join(d, name + ".png"))
            kept[split] += 1
    print("icons: %d images kept (train %d, valid %d, test %d); left out: %d duplicates, %d nearly empty, "
          "%d unreadable" % (sum(kept.values()), kept["train"], kept["valid"], kept["test"],
                                             why["duplicate"], why["blank"], why["unreadable"]))


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "list":
        cmd_list(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "build":
        cmd_build(*sys.argv[2:])
    else:
        sys.exit(__doc__)
