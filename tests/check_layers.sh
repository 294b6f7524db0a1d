#!/bin/sh
# tests/check_layers.sh (make check-layers, run by make check): src/ is layered
# core <- nn <- ardm <- io <- prep <- cmd (doc/design.md); a file may include headers of its own
# layer and of the layers below it, never above. Names every upward include; exit 1 if any.
cd "$(dirname "$0")/.." || exit 1
rank() {
  case "$1" in core) echo 0 ;; nn) echo 1 ;; ardm) echo 2 ;; io) echo 3 ;; prep) echo 4 ;; cmd) echo 5 ;; *) echo -1 ;; esac
}
bad=0 n=0
for f in src/*/*.c src/*/*.h; do
  layer=$(basename "$(dirname "$f")")
  me=$(rank "$layer")
  if [ "$me" -lt 0 ]; then echo "check-layers: $f: folder '$layer' is not a layer"; bad=1; continue; fi
  n=$((n + 1))
  for inc in $(sed -n 's|^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*|\1|p' "$f"); do
    case "$inc" in
    */*) to=$(rank "${inc%%/*}") ;;
    *) echo "check-layers: $f: #include \"$inc\" has no layer folder (write \"<layer>/$inc\")"; bad=1; continue ;;
    esac
    if [ "$to" -lt 0 ]; then
      echo "check-layers: $f: #include \"$inc\" is not under a layer of src/"; bad=1
    elif [ "$to" -gt "$me" ]; then
      echo "check-layers: $f ($layer) includes \"$inc\" (${inc%%/*}): upward"; bad=1
    fi
  done
done
[ "$(ls src/*.c src/*.h 2>/dev/null | wc -l)" -eq 0 ] || { echo "check-layers: files directly under src/: $(ls src/*.[ch])"; bad=1; }
[ $bad -eq 0 ] && echo "check-layers: $n files, every include points down the layers"
exit $bad
