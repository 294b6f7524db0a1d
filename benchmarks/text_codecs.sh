#!/bin/sh
# benchmarks/text_codecs.sh: the general-purpose compressor baselines for a text data set made by
# `ardm prep -format text` (input/text8/make.sh): the test split's chunks, decoded back to a-z
# and space with the file's alphabet attribute and joined into one stream (as text8's baselines
# compress the whole file), compressed with gzip -9, bzip2 -9 and xz -9e; prints bits per
# character = 8 x compressed bytes / characters for each.
# Usage: sh benchmarks/text_codecs.sh [DATA_DIR] [SPLIT]   (defaults input/text8/data, test)
set -eu
cd "$(dirname "$0")/.."
dir=${1:-input/text8/data}
split=${2:-test}
nc=$dir/$split.nc
[ -r "$nc" ] || { echo "text_codecs.sh: $nc not found (make it with input/text8/make.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 - "$nc" "$tmp/text" <<'EOF'
import sys
import numpy as np
from netCDF4 import Dataset
d = Dataset(sys.argv[1])
alphabet = np.frombuffer(d.getncattr("alphabet").encode(), dtype=np.uint8)
x = np.asarray(d.variables["x"][:], dtype=np.int64)
open(sys.argv[2], "wb").write(alphabet[x].tobytes())
EOF
n=$(wc -c <"$tmp/text")
echo "$nc: $n characters"
for c in "gzip -9" "bzip2 -9" "xz -9e"; do
  t0=$(date +%s.%N)
  b=$($c -c <"$tmp/text" | wc -c)
  t1=$(date +%s.%N)
  awk -v c="$c" -v b="$b" -v n="$n" -v t0="$t0" -v t1="$t1" \
    'BEGIN { printf "  %-9s %10d bytes  %.4f bits/char  (%.1f s)\n", c, b, 8 * b / n, t1 - t0 }'
done
