#!/usr/bin/env bash
# Check a built bundle the way a user runs it: from another folder, with no Python involved.
#
#   bash packaging/check_bundle.sh [dist/gcnn-viewer] [--train]
#
# 1. every shared library in the bundle finds its dependencies (ldd), except libwayland-cursor
#    and libwayland-egl, which every Wayland desktop has (like the pip-installed PySide6, the
#    bundle uses the system's; without them Qt's Wayland plugin is skipped for xcb);
# 2. --version; 3. the app stays up 20 s offscreen; 4. `evaluate p4cnn --json` (needs MNIST-rot
# in the data cache: `gcnn-viewer data info`); 5. with --train, `data fetch` (a no-op when the
# cache is complete) and a one-epoch `train` of Z2CNN on the CPU (about a minute on two cores).
set -euo pipefail
bundle=$(cd "${1:-dist/gcnn-viewer}" && pwd)
app="$bundle/gcnn-viewer"
work=$(mktemp -d)
cd "$work"
trap 'rm -rf "$work"' EXIT

echo "== shared libraries"
missing=$(find "$bundle" -name '*.so*' -type f -print0 |
    xargs -0 -n 50 env LD_LIBRARY_PATH="$bundle/_internal" ldd 2>/dev/null |
    grep "not found" | grep -v -E "libwayland-(cursor|egl)" | sort -u || true)
if [ -n "$missing" ]; then echo "$missing"; echo "FAIL: unresolved libraries"; exit 1; fi
echo "all resolve"

echo "== --version"
"$app" --version

echo "== app offscreen for 20 s"
QT_QPA_PLATFORM=offscreen "$app" > app.log 2>&1 &
pid=$!
sleep 20
if ! kill -0 "$pid" 2>/dev/null; then cat app.log; echo "FAIL: the app exited"; exit 1; fi
kill "$pid"; wait "$pid" 2>/dev/null || true
if grep -q Traceback app.log; then cat app.log; echo "FAIL: traceback"; exit 1; fi
echo "still running after 20 s"

echo "== evaluate p4cnn --json"
"$app" evaluate p4cnn --json

if [ "${2:-}" = "--train" ]; then
    echo "== data fetch"
    "$app" data fetch
    echo "== train z2cnn, 1 epoch"
    "$app" train --model z2cnn --epochs 1 --eval-every 0 --device cpu --out "$work/z2.pt"
    "$app" evaluate "$work/z2.pt" --json
fi
echo "bundle OK: $(du -sh "$bundle" | cut -f1) in $bundle"
