#!/usr/bin/env bash
# Sets up, builds, and renders a demo patch to out/demo.wav.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
./waf configure >/dev/null
./waf build

wav=out/demo.wav
mkdir -p out

# The demo command: edit here (e.g. build/tools/chronus-render with a patch
# from presets/ and a MIDI file once the renderer exists).
if [[ -x build/tools/chronus-demo ]]; then
  build/tools/chronus-demo "$wav"
else
  echo "demo: build/tools/chronus-demo is not built yet" >&2
  exit 1
fi

echo "demo: wrote $(pwd)/$wav"
