#!/usr/bin/env bash
# Installs the Debian (bookworm) packages Chronus needs to build, test and
# demo. Idempotent: does nothing, quietly, when everything is installed.
set -euo pipefail

packages=(
  # build
  build-essential pkg-config python3 dpkg-dev xz-utils
  lv2-dev liblilv-dev libserd-dev libsord-dev libsratom-dev
  libsndfile1-dev libsmf-dev libcairo2-dev libx11-dev
  libpango1.0-dev libxtst-dev
  # loudness measurement in the sound tests of the bank
  libebur128-dev
  # RealtimeSanitizer builds (CC=clang-22 ./waf configure --rtsan)
  clang-22 libclang-rt-22-dev
  # hosts and tools used by tests and the demo
  lilv-utils serdi sordi jalv jackd2 libjack-jackd2-dev jack-capture sox
  # Ardour 7 (ardour7-lua, ardour7-export) for test/e2e-ardour.sh and
  # test/e2e-ui-ardour.sh
  ardour
  # OSC control (plugin/osc.c) and its tests
  liblo-dev liblo-tools
  # UI tests (a font for pango; xwininfo)
  xvfb xdotool imagemagick x11-utils fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing ${missing[*]}"
  sudo=()
  if ((EUID != 0)); then sudo=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  # jackd2 asks whether to enable realtime scheduling; answer for it.
  echo "jackd2 jackd/tweak_rt_limits boolean false" |
    "${sudo[@]}" debconf-set-selections 2>/dev/null || true
  log=$(mktemp /tmp/chronus-setup.XXXXXX.log)
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
    >"$log" 2>&1 </dev/null; then
    tail -n 40 "$log" >&2
    echo "setup: apt-get failed (full log: $log)" >&2
    exit 1
  fi
  rm -f "$log"
  echo "setup: done"
fi
