#!/bin/sh
# input/text8/make.sh: makes a text8-style data set with no download: the Jargon File
# (Debian package jargon-text, about 1.7 MB of English) cleaned the text8 way by
# `ardm prep -format text` (lowercase a-z and single spaces, digits spelled out; K = 27,
# ' ' = 0, 'a'..'z' = 1..26) and cut into chunks of 250 characters, split 90/5/5 into
# contiguous blocks as text8 is (train first, then valid, then test).
#
# usage: input/text8/make.sh [-out DIR] [-length N] [-np P] [-in FILE]
#   -out DIR     output directory (default input/text8/data, ignored by git)
#   -length N    characters per example (default 250)
#   -np P        MPI ranks for ardm prep (default 1)
#   -in FILE     another text file (plain or .gz) instead of the Jargon File
# Env: ARDM_BIN (default bin/ardm).
set -eu
cd "$(dirname "$0")/../.."
out=input/text8/data length=250 np=1 src=/usr/share/doc/jargon-text/jargon.txt.gz
while [ $# -gt 0 ]; do
  case "$1" in
  -out | --out) out=$2; shift 2 ;;
  -length | --length) length=$2; shift 2 ;;
  -np | --np) np=$2; shift 2 ;;
  -in | --in) src=$2; shift 2 ;;
  -h | -help | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "make.sh: unknown option '$1' (see -help)" >&2; exit 1 ;;
  esac
done
ARDM=${ARDM_BIN:-bin/ardm}
[ -x "$ARDM" ] || { echo "make.sh: $ARDM is not built; run make first" >&2; exit 1; }
[ -r "$src" ] || { echo "make.sh: $src not found (Debian package jargon-text: make deps installs it)" >&2; exit 1; }
now() { date +%s.%N; }
t0=$(now)
mkdir -p "$out"
case "$src" in *.gz) gzip -dc "$src" >"$out/source.txt" ;; *) cp "$src" "$out/source.txt" ;; esac
rm -f "$out/train.nc" "$out/valid.nc" "$out/test.nc"
set -- prep -format text -in "$out/source.txt" -out "$out" -length "$length" -valid_frac 0.05 -test_frac 0.05
if [ "$np" -gt 1 ]; then mpirun -n "$np" "$ARDM" "$@"; else "$ARDM" "$@"; fi
t1=$(now)
awk -v a="$t0" -v b="$t1" -v s="$(wc -c <"$out/source.txt")" -v n="$(du -cb "$out"/*.nc | tail -n 1 | cut -f1)" \
  -v o="$out" 'BEGIN { printf "text8: %.1f MB of text -> data sets %.1f MB in %s in %.1f s\n", s / 1e6, n / 1e6, o, b - a }'
