#!/usr/bin/env bash
# Refreshes the web UI's third-party files from their npm packages (run by hand when bumping a
# version; the files are committed, so building and running Reprise never needs npm or a CDN).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/gateway-service/src/main/resources/META-INF/resources/vendor
XTERM=6.0.0 FIT=0.11.0 UPLOT=1.6.32
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@xterm/xterm@$XTERM" "@xterm/addon-fit@$FIT" "uplot@$UPLOT" >/dev/null)
for tgz in "$work"/*.tgz; do mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"; done
mkdir -p "$OUT"
cp "$work/xterm-xterm-$XTERM/package/lib/xterm.js" "$work/xterm-xterm-$XTERM/package/css/xterm.css" "$OUT/"
cp "$work/xterm-addon-fit-$FIT/package/lib/addon-fit.js" "$OUT/"
cp "$work/uplot-$UPLOT/package/dist/uPlot.iife.min.js" "$work/uplot-$UPLOT/package/dist/uPlot.min.css" "$OUT/"
cat >"$OUT/VERSIONS" <<VERSIONS
@xterm/xterm $XTERM (MIT) xterm.js xterm.css
@xterm/addon-fit $FIT (MIT) addon-fit.js
uplot $UPLOT (MIT) uPlot.iife.min.js uPlot.min.css
VERSIONS
echo "vendored into ${OUT#"$ROOT"/}:" && ls "$OUT"
