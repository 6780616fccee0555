#!/usr/bin/env bash
# The roff man pages in packaging/man/ (what the Debian package ships) are pandoc's rendering of
# docs/man/*.md, the pages' source: a page edited in one place and not the other fails here.
set -euo pipefail
: "${FLAME_SOURCE_DIR:?}"
command -v pandoc >/dev/null || { echo "man_pages: pandoc is missing (tools/setup.sh installs it)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for md in "$FLAME_SOURCE_DIR"/docs/man/*.md; do
  page=$(basename "$md" .md)
  roff="$FLAME_SOURCE_DIR/packaging/man/$page"
  [[ -f "$roff" ]] || { echo "man_pages: $page has no packaging/man/$page" >&2; exit 1; }
  pandoc -s -f markdown -t man -o "$tmp/$page" "$md"
  diff -u "$roff" "$tmp/$page" >"$tmp/$page.diff" || {
    head -n 30 "$tmp/$page.diff" >&2
    echo "man_pages: packaging/man/$page differs from docs/man/$page.md; regenerate it with" >&2
    echo "  pandoc -s -f markdown -t man -o packaging/man/$page docs/man/$page.md" >&2
    exit 1
  }
  n=$((n + 1))
done
((n == 5)) || { echo "man_pages: expected 5 pages, found $n" >&2; exit 1; }
echo "man_pages: $n pages match their sources"
