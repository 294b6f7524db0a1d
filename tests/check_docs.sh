#!/bin/sh
# tests/check_docs.sh (run by make check): the repository is self-contained.
# 1. Every citation of the documents in src/, tests/, input/, benchmarks/, jobs/, doc/ and
#    README.md resolves: "doc/method.md section(s) <numbers>" needs a heading "## <number>."
#    in doc/method.md; 'doc/design.md "Name"' and 'doc/formats.md "Name"' need a heading whose
#    text is Name (or "Name (...)"); a bare mention needs the file.
# 2. Nothing points outside the repository (the background notes the project started from).
# Names every broken citation; exit 1 if any.
cd "$(dirname "$0")/.." || exit 1
bad=0 n=0
WHERE="src tests input benchmarks jobs doc README.md INSTALL"
self=tests/check_docs.sh
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT

# headings of a document without the leading #'s: "1. The ..." / "Data set"
headings() { sed -n 's/^#\{1,6\}[[:space:]]\{1,\}//p' "$1"; }

# cites ERE: "file:line:citation" for every match of ERE in the files under $WHERE (this script
# excepted), also when a citation is wrapped onto the next line (comment markers stripped)
cites() {
  for f in $(grep -rlE 'doc/[A-Za-z_]+\.md' $WHERE 2>/dev/null); do
    [ "$f" = "$self" ] && continue
    awk -v F="$f" -v re="$1" '
      function scan(cur, rest, at) {
        rest = prev " " cur
        while (match(rest, re) && RSTART <= length(prev) - at) {
          print F ":" pn ":" substr(rest, RSTART, RLENGTH)
          at += RSTART + RLENGTH - 1
          rest = substr(rest, RSTART + RLENGTH)
        }
      }
      { cur = $0; sub(/^[ \t]*(\/\/|#|\*)?[ \t]*/, "", cur); if (NR > 1) scan(cur); prev = $0; pn = FNR }
      END { if (NR) scan("") }' "$f"
  done
}

for d in method design formats; do
  [ -f "doc/$d.md" ] || { echo "check-docs: doc/$d.md is missing"; bad=1; }
done

# every cited file exists (doc/<name>.md)
for f in $(grep -rhoE 'doc/[A-Za-z_]+\.md' $WHERE 2>/dev/null | sort -u); do
  n=$((n + 1))
  [ -f "$f" ] || { echo "check-docs: $f is cited but does not exist"; bad=1; }
done

# numbered sections of doc/method.md: "section 2", "sections 1 and 3", "sections 3-4", "sections 1, 3"
# (bracket expressions only: mawk mis-handles a starred group)
cites 'doc/method[.]md,?[ ]+sections?[ ]+[0-9][-0-9 ,and]*' >"$tmp"
while IFS= read -r hit; do
  where=${hit%%:doc/*}
  cite=${hit#*doc/method.md}
  nums=$(printf '%s\n' "$cite" | grep -oE '[0-9]+')
  first=$(printf '%s\n' "$nums" | head -1) last=$(printf '%s\n' "$nums" | tail -1)
  case "$cite" in *-*) nums=$(seq "$first" "$last") ;; esac
  for k in $nums; do
    n=$((n + 1))
    headings doc/method.md | grep -q "^$k\. " || { echo "check-docs: $where cites doc/method.md section $k: no heading '## $k.'"; bad=1; }
  done
done <"$tmp"

# named sections of doc/design.md and doc/formats.md
cites 'doc/(design|formats)[.]md[ ]+"[^"]+"' >"$tmp"
while IFS= read -r hit; do
  where=${hit%%:doc/*}
  rest=${hit#"$where":}
  file=${rest%% *}
  name=${rest#* \"}
  name=${name%\"}
  n=$((n + 1))
  found=
  [ -f "$file" ] && found=$(headings "$file" | awk -v n="$name" '$0 == n || index($0, n " (") == 1 { print "y"; exit }')
  [ -n "$found" ] || { echo "check-docs: $where cites $file \"$name\": no such heading"; bad=1; }
done <"$tmp"

# nothing outside the repository
out=$(grep -rnE 'ARDM\.md|DESIGN\.md|\.\./shared' $WHERE Makefile .ci 2>/dev/null | grep -v "^$self:")
[ -z "$out" ] || { printf '%s\n' "$out" | sed 's/^/check-docs: points outside the repository: /'; bad=1; }

[ $bad -eq 0 ] && echo "check-docs: $n citations of doc/ resolve; nothing points outside the repository"
exit $bad
