#!/bin/sh
# input/images/make.sh: makes a CIFAR-like image set (32 x 32 RGB, K = 256) with no download from
# the icon themes and clip art Debian ships (input/images/icons.py): one drawing per theme and
# icon name from 17 icon themes (Papirus, Paper, Numix, breeze, Adwaita, elementary, mate,
# Faenza, Faba, Moka, oxygen, suru, gnome, gnome-colors-common, Tango, nuoveXT2, menta) and the
# openclipart categories, SVGs rendered by librsvg and PNGs resized (aspect kept, centred),
# transparency flattened onto a background chosen by a hash of the name (a colour or a
# two-colour gradient), identical drawings removed, split BY THEME so train and test share no
# drawing set (test: oxygen + clip-art animals and plants; valid: suru, nuoveXT2 + clip-art food
# and buildings; about 5% each), then `ardm prep -format png` writes OUT/{train,valid,test}.nc.
# About 31,000 images; deterministic (the same packages give identical files).
#
# usage: input/images/make.sh [-out DIR] [-jobs J] [-np P] [-themes LIST]
#   -out DIR       output directory (default input/images/data, ignored by git); the PNGs are
#                  kept in DIR/png/<split>/<theme>/<name>.png
#   -jobs J        rendering processes (default: the number of cores; does not change the data)
#   -np P          MPI ranks for ardm prep (default 1)
#   -themes LIST   only these themes, comma-separated (e.g. menta,nuoveXT2,openclipart-plants:
#                  one each for train, valid and test; for a quick try)
# Env: ARDM_BIN (default bin/ardm); ARDM_ICONS_DIR, ARDM_CLIPART_DIR: other roots of the same
#      layout as /usr/share/icons and /usr/share/openclipart/svg (tests/cli/test_images_make.sh).
set -eu
cd "$(dirname "$0")/../.."
out=input/images/data jobs=$(nproc 2>/dev/null || echo 1) np=1 themes=""
while [ $# -gt 0 ]; do
  case "$1" in
  -out | --out) out=$2; shift 2 ;;
  -jobs | --jobs) jobs=$2; shift 2 ;;
  -np | --np) np=$2; shift 2 ;;
  -themes | --themes) themes=$2; shift 2 ;;
  -h | -help | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "make.sh: unknown option '$1' (see -help)" >&2; exit 1 ;;
  esac
done
ARDM=${ARDM_BIN:-bin/ardm}
[ -x "$ARDM" ] || { echo "make.sh: $ARDM is not built; run make first" >&2; exit 1; }
now() { date +%s.%N; }
t0=$(now)
mkdir -p "$out"
rm -rf "$out/png" "$out/train.nc" "$out/valid.nc" "$out/test.nc"
/usr/bin/python3 input/images/icons.py list "$out/list.tsv" $themes
/usr/bin/python3 input/images/icons.py build "$out/list.tsv" "$out/png" "$jobs"
t1=$(now)
set -- prep -format png -in "$out/png" -out "$out" -height 32 -width 32
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ "$np" -gt 1 ]; then mpirun -n "$np" "$ARDM" "$@"; else "$ARDM" "$@"; fi
t2=$(now)
awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$(du -cb "$out"/*.nc | tail -n 1 | cut -f1)" -v o="$out" \
  -v p="$(du -sb "$out/png" | cut -f1)" 'BEGIN { printf "images: %.1f MB of PNGs, data sets %.1f MB in %s; %.1f s (render %.1f s, prep %.1f s)\n",
    p / 1e6, n / 1e6, o, c - a, b - a, c - b }'
