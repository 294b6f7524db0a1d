#!/bin/sh
# tests/cli/test_images_make.sh: input/images/make.sh (the icon set of issue 13) on small trees of
# the icon-theme and clip-art layouts written here (ARDM_ICONS_DIR, ARDM_CLIPART_DIR): which file
# of an icon is drawn (32 px first, then the smallest larger, then scalable, then the largest
# smaller; @2x skipped), SVGs rendered with the aspect kept and centred, splits by theme,
# duplicates kept only in the first split (test), nearly empty and unreadable drawings left out,
# the data sets' contents and attributes, -jobs not changing the data, and the errors.
. "$(dirname "$0")/../lib.sh"
cd "$(dirname "$0")/../.."

/usr/bin/python3 - "$T" <<'EOF'
import os, sys
from PIL import Image
t = sys.argv[1]
def png(path, size, box, rgba, full=False):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    if full:
        box = (0, 0, size, size)
    im.paste(Image.new("RGBA", (box[2] - box[0], box[3] - box[1]), rgba), box[:2])
    im.save(path)
def svg(path, body, w=32, h=32):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "w").write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}">{body}</svg>\n')
I, C = f"{t}/icons", f"{t}/clip"
png(f"{I}/Tango/32x32/apps/a.png", 32, (8, 8, 24, 24), (255, 0, 0, 255))    # chosen: drawn for 32
png(f"{I}/Tango/48x48/apps/a.png", 48, (8, 8, 40, 40), (0, 0, 255, 255))    # larger: not chosen
svg(f"{I}/Tango/scalable/apps/b.svg", '<rect width="64" height="32" fill="#00ff00"/>', 64, 32)
png(f"{I}/Tango/16x16/apps/c.png", 16, None, (255, 255, 0, 255), True)      # largest smaller
png(f"{I}/Tango/8x8/apps/c.png", 8, None, (255, 0, 255, 255), True)
png(f"{I}/Tango/32x32@2x/apps/d.png", 64, None, (9, 9, 9, 255), True)      # @2x: skipped
png(f"{I}/Tango/32x32/apps/blank.png", 32, (0, 0, 2, 2), (0, 0, 0, 255))    # under 2% coverage
png(f"{I}/Tango/32x32/apps/dup.png", 32, (4, 4, 28, 28), (255, 255, 255, 255))
os.makedirs(f"{I}/Tango/32x32/apps", exist_ok=True)
open(f"{I}/Tango/32x32/apps/bad.png", "wb").write(b"\x89PNG\r\n\x1a\nnot a png")
png(f"{I}/oxygen/32x32/apps/dup.png", 32, (4, 4, 28, 28), (255, 255, 255, 255))  # same drawing
svg(f"{I}/oxygen/scalable/apps/o.svg", '<circle cx="16" cy="16" r="12" fill="#123456"/>')
png(f"{I}/suru/32x32/apps/v.png", 32, (2, 2, 30, 30), (0, 255, 255, 255))
svg(f"{C}/animals/cat.svg", '<ellipse cx="16" cy="16" rx="14" ry="9" fill="#000000"/>')
svg(f"{C}/food/apple.svg", '<circle cx="16" cy="16" r="10" fill="#ff0000"/>')
svg(f"{C}/misc/sub/thing.svg", '<rect x="4" y="10" width="24" height="12" fill="#804020"/>')
EOF

export ARDM_ICONS_DIR="$T/icons" ARDM_CLIPART_DIR="$T/clip"
THEMES=Tango,oxygen,suru,openclipart-animals,openclipart-food,openclipart-misc
ok make_jobs2 sh input/images/make.sh -out "$T/d1" -jobs 2 -themes $THEMES
cp "$T/.out.$$" "$T/make1.log"
check listed grep -q "icons: 12 drawings listed (5 SVG to render, 7 PNG): train 7, valid 2, test 3" "$T/make1.log"
check kept grep -q "icons: 9 images kept (train 4, valid 2, test 3); left out: 1 duplicates, 1 nearly empty, 1 unreadable" "$T/make1.log"
check prep_line grep -q "train 4, valid 2, test 3 examples" "$T/make1.log"
check tree sh -c "cd '$T/d1/png' && find . -name '*.png' | LC_ALL=C sort | tr '\n' ' ' | grep -qx \
'./test/openclipart-animals/cat.png ./test/oxygen/dup.png ./test/oxygen/o.png ./train/Tango/a.png ./train/Tango/b.png ./train/Tango/c.png ./train/openclipart-misc/sub-thing.png ./valid/openclipart-food/apple.png ./valid/suru/v.png '"

# pixels: the 32 px red square (not the 48 px blue), the 2:1 SVG centred with background above and
# below, the 16 px yellow scaled up to fill, and the data sets hold exactly the PNGs, channel-planar
check pixels_and_sets /usr/bin/python3 - "$T/d1" <<'EOF'
import glob, sys
import numpy as np
from PIL import Image
from netCDF4 import Dataset
d = sys.argv[1]
img = lambda p: np.asarray(Image.open(f"{d}/png/{p}").convert("RGB"))
a, b, c = img("train/Tango/a.png"), img("train/Tango/b.png"), img("train/Tango/c.png")
assert tuple(a[16, 16]) == (255, 0, 0), a[16, 16]
assert tuple(a[1, 1]) != (255, 0, 0) and tuple(a[1, 1]) != (0, 0, 255), a[1, 1]
assert tuple(b[16, 16]) == (0, 255, 0) and tuple(b[12, 3]) == (0, 255, 0), b[16, 16]
assert tuple(b[2, 16]) != (0, 255, 0) and tuple(b[29, 16]) != (0, 255, 0), (b[2, 16], b[29, 16])
assert (c == np.array([255, 255, 0])).all(), c[0, 0]
for split in ("train", "valid", "test"):
    f = Dataset(f"{d}/{split}.nc")
    assert (f.getncattr("height"), f.getncattr("width"), f.getncattr("channels")) == (32, 32, 3)
    x = np.asarray(f.variables["x"][:])
    want = sorted(img(p[len(d) + 5:]).transpose(2, 0, 1).ravel().tolist()
                  for p in glob.glob(f"{d}/png/{split}/*/*.png"))
    assert x.shape == (len(want), 3072), (split, x.shape)
    assert sorted(x.tolist()) == want, split
EOF

# -jobs does not change the data
ok make_jobs1 sh input/images/make.sh -out "$T/d2" -jobs 1 -themes $THEMES
check jobs_same /usr/bin/python3 -c "
import sys, numpy as np; from netCDF4 import Dataset
for s in ('train', 'valid', 'test'):
    x1, x2 = (np.asarray(Dataset(f'{d}/{s}.nc').variables['x'][:]) for d in sys.argv[1:])
    assert x1.shape == x2.shape and (x1 == x2).all(), s" "$T/d1" "$T/d2"

fails_exit unknown_theme 1 "^icons.py: unknown theme\(s\) nope \(icon themes: Adwaita," \
  sh input/images/make.sh -out "$T/d3" -themes Tango,nope
fails_exit not_installed 1 "^icons.py: not installed: adwaita-icon-theme .*oxygen-icon-theme.* \(make images installs them\)" \
  env ARDM_ICONS_DIR="$T/none" sh input/images/make.sh -out "$T/d3" -themes Tango,oxygen,Adwaita
fails_exit bad_option 1 "^make.sh: unknown option '-bogus' \(see -help\)" sh input/images/make.sh -bogus
finish
