#!/bin/sh
# benchmarks/image_codecs.sh: the lossless image-codec baselines for an image data set made by
# `ardm prep -format png` or `-format cifar10` (input/images/make.sh): every example of the split
# is written back as a 32 x 32 RGB PNG (from x, channel-planar) and compressed one file at a time
# with optipng -o7, zopflipng -m (the smallest PNG Debian's tools make) and cwebp -lossless -z 9
# (WebP lossless, the strongest setting); prints bits per sub-pixel = 8 x total file bytes /
# (examples x 3072) for each, whole files (headers included: a PNG's fixed chunks are 57 bytes,
# 0.15 bits per sub-pixel at 32 x 32 x 3).
# Usage: sh benchmarks/image_codecs.sh [DATA_DIR] [SPLIT] [JOBS]
#   defaults input/images/data, test, the number of cores
set -eu
cd "$(dirname "$0")/.."
dir=${1:-input/images/data}
split=${2:-test}
jobs=${3:-$(nproc 2>/dev/null || echo 1)}
nc=$dir/$split.nc
[ -r "$nc" ] || { echo "image_codecs.sh: $nc not found (make it with input/images/make.sh)" >&2; exit 1; }
for t in optipng zopflipng cwebp; do
  command -v $t >/dev/null || { echo "image_codecs.sh: $t not found (Debian packages optipng, zopfli, webp)" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/png" "$tmp/opti" "$tmp/zopfli" "$tmp/webp"
n=$(/usr/bin/python3 - "$nc" "$tmp/png" <<'EOF'
import sys
import numpy as np
from netCDF4 import Dataset
from PIL import Image
d = Dataset(sys.argv[1])
h, w, c = int(d.getncattr("height")), int(d.getncattr("width")), int(d.getncattr("channels"))
x = np.asarray(d.variables["x"][:], dtype=np.uint8).reshape(-1, c, h, w)
for i, img in enumerate(x):
    Image.fromarray(np.ascontiguousarray(img.transpose(1, 2, 0))).save("%s/%06d.png" % (sys.argv[2], i))
print(len(x))
EOF
)
echo "$nc: $n images of 32 x 32 x 3 ($((n * 3072)) sub-pixels), $jobs processes"
ls "$tmp/png" >"$tmp/list"
report() { # report NAME DIR SECONDS
  find "$2" -type f -printf '%s\n' | awk -v c="$1" -v n="$n" -v t="$3" '{ b += $1 } END {
    printf "  %-24s %10d bytes  %.4f bits/sub-pixel  (%.0f s)\n", c, b, 8 * b / (n * 3072), t }'
}
run() { # run NAME OUTDIR SCRIPT: sh -c SCRIPT with $0 = an input PNG, $1 = its output name without extension
  t0=$(date +%s)
  sed "s|^\(.*\)\.png\$|$tmp/png/\1.png\n$2/\1|" "$tmp/list" | xargs -d '\n' -n 2 -P "$jobs" sh -c "$3"
  report "$1" "$2" $(($(date +%s) - t0))
}
report "PNG (PIL, zlib default)" "$tmp/png" 0
run "optipng -o7" "$tmp/opti" 'optipng -quiet -o7 -out "$1.png" "$0"'
run "zopflipng -m" "$tmp/zopfli" 'zopflipng -m -y "$0" "$1.png" >/dev/null'
run "cwebp -lossless -z 9" "$tmp/webp" 'cwebp -quiet -lossless -z 9 "$0" -o "$1.webp"'
