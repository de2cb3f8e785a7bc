#!/usr/bin/env bash
# Sets up, builds, and renders a demo patch to out/demo.wav.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
./waf configure >/dev/null
./waf build

wav=out/demo.wav
mkdir -p out

# The demo command: the demo patch played by a timed script (a phrase with
# a filter sweep and a live re-patch); see docs/render.md.
build/tools/chronus-render --patch tools/demo/demo.ttl \
  --script tools/demo/demo.script -o "$wav"

echo "demo: wrote $(pwd)/$wav"
if command -v sox >/dev/null; then
  peak=$(sox -V1 "$wav" -n stats 2>&1 | awk '/^Pk lev dB/ { print $4 }')
  echo "demo: duration $(sox --i -d "$wav" 2>/dev/null), peak $peak dBFS"
fi
