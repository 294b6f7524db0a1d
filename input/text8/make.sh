#!/bin/sh
# input/text8/make.sh: makes a text8-style data set with no download from the English text
# Debian ships: the Collaborative International Dictionary of English (dict-gcide, Webster
# 1913 + WordNet), WordNet's glosses and examples (dict-wn), the King James Bible
# (bible-kjv-text, read with bible-kjv), FOLDOC (dict-foldoc), the fortune cookies
# (fortunes, fortunes-min, fortune-anarchism), the Jargon File (jargon-text) and The Devil's
# Dictionary (dict-devil). Each source is stripped of its markup (pronunciations, verse
# numbers, chapter headings, source tags, % separators), then `ardm prep -format text -in A,B,...`
# cleans it the text8 way (lowercase a-z and single spaces, digits spelled out; K = 27,
# ' ' = 0, 'a'..'z' = 1..26), cuts it into chunks of 250 characters and splits every source
# 90/5/5 into contiguous blocks (train first, then valid, then test), so every split has the
# same mix of sources. About 68 million characters.
#
# usage: input/text8/make.sh [-out DIR] [-length N] [-np P] [-in FILE] [-sources LIST]
#   -out DIR       output directory (default input/text8/data, ignored by git)
#   -length N      characters per example (default 250)
#   -np P          MPI ranks for ardm prep (default 1)
#   -in FILE       one other text file (plain or .gz) instead of the Debian sources
#   -sources LIST  comma-separated subset of gcide,wordnet,kjv,foldoc,fortunes,jargon,devil
#                  (default all)
# Env: ARDM_BIN (default bin/ardm).
set -eu
cd "$(dirname "$0")/../.."
out=input/text8/data length=250 np=1 src="" sources=gcide,wordnet,kjv,foldoc,fortunes,jargon,devil
while [ $# -gt 0 ]; do
  case "$1" in
  -out | --out) out=$2; shift 2 ;;
  -length | --length) length=$2; shift 2 ;;
  -np | --np) np=$2; shift 2 ;;
  -in | --in) src=$2; shift 2 ;;
  -sources | --sources) sources=$2; shift 2 ;;
  -h | -help | --help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "make.sh: unknown option '$1' (see -help)" >&2; exit 1 ;;
  esac
done
ARDM=${ARDM_BIN:-bin/ardm}
[ -x "$ARDM" ] || { echo "make.sh: $ARDM is not built; run make first" >&2; exit 1; }
dictd=/usr/share/dictd fortunes=/usr/share/games/fortunes
nohead='/^00-database/d; /^ *[a-z]*:\/\/[^ ]* *$/d' # dictd's header entries and bare URL lines

need() { # need FILE PACKAGE: stops with a clear message when a source is not installed
  [ -r "$1" ] || { echo "make.sh: $1 not found (Debian package $2; make text8 installs it)" >&2; exit 1; }
}

# extract NAME: writes the source's plain text (markup removed) to stdout
extract() {
  case "$1" in
  gcide) # drop the \pro*nun"ci*a`tion\ marks and the [1913 Webster]-style source tags
    need $dictd/gcide.dict.dz dict-gcide
    gzip -dc $dictd/gcide.dict.dz | sed -e "$nohead" -e 's/\\[^\\]*\\//g' -e '/^ *\[[^]]*\] *$/d' ;;
  wordnet)
    need $dictd/wn.dict.dz dict-wn
    gzip -dc $dictd/wn.dict.dz | sed -e "$nohead" ;;
  kjv) # verses without their numbers; the 1,189 "Book N" chapter headings dropped
    need /usr/lib/bible.data bible-kjv-text
    command -v bible >/dev/null || { echo "make.sh: the bible program not found (Debian package bible-kjv)" >&2; exit 1; }
    bible gen1:1-rev22:21 | sed -e '/^[1-3]\{0,1\} \{0,1\}[A-Z][A-Za-z ]* [0-9][0-9]*$/d' -e 's/^ *[0-9][0-9]* //' ;;
  foldoc) # without the (YYYY-MM-DD) revision dates
    need $dictd/foldoc.dict.dz dict-foldoc
    gzip -dc $dictd/foldoc.dict.dz | sed -e "$nohead" -e '/^ *([0-9-]*) *$/d' ;;
  fortunes) # the English cookies of the three packages, without the ASCII-art files
    need $fortunes/fortunes fortunes-min
    need $fortunes/computers fortunes
    need $fortunes/anarchism fortune-anarchism
    for f in $(dpkg-query -L fortunes fortunes-min fortune-anarchism | grep "^$fortunes/[^./]*\$" | sort); do
      case "$f" in */art | */ascii-art) ;; *) [ -f "$f" ] && sed '/^%$/d' "$f" ;; esac
    done ;;
  jargon)
    need /usr/share/doc/jargon-text/jargon.txt.gz jargon-text
    gzip -dc /usr/share/doc/jargon-text/jargon.txt.gz ;;
  devil)
    need $dictd/devil.dict.dz dict-devil
    gzip -dc $dictd/devil.dict.dz | sed -e "$nohead" ;;
  esac
}

now() { date +%s.%N; }
t0=$(now)
mkdir -p "$out/sources"
rm -f "$out/train.nc" "$out/valid.nc" "$out/test.nc" "$out"/sources/*.txt
list=""
if [ -n "$src" ]; then
  [ -r "$src" ] || { echo "make.sh: -in $src: not found" >&2; exit 1; }
  case "$src" in *.gz) gzip -dc "$src" >"$out/sources/input.txt" ;; *) cp "$src" "$out/sources/input.txt" ;; esac
  list=$out/sources/input.txt
else
  for s in $(echo "$sources" | tr ',' ' '); do
    case ",gcide,wordnet,kjv,foldoc,fortunes,jargon,devil," in
    *",$s,"*) ;;
    *) echo "make.sh: unknown source '$s' (gcide, wordnet, kjv, foldoc, fortunes, jargon, devil)" >&2; exit 1 ;;
    esac
  done
  trap 'rm -f "$out"/sources/*.tmp' EXIT
  for s in $(echo "$sources" | tr ',' ' '); do
    extract "$s" >"$out/sources/$s.tmp"
    mv "$out/sources/$s.tmp" "$out/sources/$s.txt"
    list=${list:+$list,}$out/sources/$s.txt
  done
fi
set -- prep -format text -in "$list" -out "$out" -length "$length" -valid_frac 0.05 -test_frac 0.05
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if [ "$np" -gt 1 ]; then mpirun -n "$np" "$ARDM" "$@"; else "$ARDM" "$@"; fi
t1=$(now)
for f in $(echo "$list" | tr ',' ' '); do printf '  %-10s %11d bytes\n' "$(basename "$f" .txt)" "$(wc -c <"$f")"; done
awk -v a="$t0" -v b="$t1" -v s="$(cat "$out"/sources/*.txt | wc -c)" -v n="$(du -cb "$out"/*.nc | tail -n 1 | cut -f1)" \
  -v o="$out" 'BEGIN { printf "text8: %.1f MB of text -> data sets %.1f MB in %s in %.1f s\n", s / 1e6, n / 1e6, o, b - a }'
