#!/usr/bin/env bash
# The UI in our own test host (test/uihost) under Xvfb: the real plugin and
# the real UI, driven with XTest.  Screenshots of each step go to
# build/test-artifacts/ui/.  Prints the host's PASS/FAIL lines.
# Display :91 is this test's own (CH_UI_DISPLAY overrides).
set -u
root=${CH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
build=${CH_BUILD_DIR:-$root/build}
host=$build/test/ui-host
out=$build/test-artifacts/ui
display=${CH_UI_DISPLAY:-:91}

if [[ ! -x $host ]]; then
  echo "FAIL ui_host (not built: $host)"
  exit 1
fi
if ! command -v Xvfb >/dev/null; then
  echo "FAIL ui_host (Xvfb not found: apt install xvfb)"
  exit 1
fi
mkdir -p "$out"
rm -f "$out"/*.png

xvfb_pid=
cleanup() {
  if [[ -n $xvfb_pid ]]; then
    kill "$xvfb_pid" 2>/dev/null
    wait "$xvfb_pid" 2>/dev/null
  fi
}
trap cleanup EXIT

# -noreset: the server stays up between clients.  Wait for its socket.
Xvfb "$display" -screen 0 2048x1280x24 -nolisten tcp -noreset \
  >"$out/xvfb.log" 2>&1 &
xvfb_pid=$!
sock=/tmp/.X11-unix/X${display#:}
for _ in $(seq 100); do
  [[ -S $sock ]] && break
  kill -0 "$xvfb_pid" 2>/dev/null || break
  sleep 0.05
done
if [[ ! -S $sock ]]; then
  echo "FAIL ui_host (Xvfb did not start on $display)"
  sed 's/^/   | /' "$out/xvfb.log"
  exit 1
fi

export DISPLAY=$display
timeout -k 5 120 "$host" "$out"
rc=$?
((rc == 0)) || echo "FAIL ui_host_exit (status $rc)"
# The demo patch built by hand from an empty one, with a fresh plugin.
mkdir -p "$out/demo"
rm -f "$out/demo"/*.png
timeout -k 5 120 "$host" --build-demo "$out/demo"
rc=$?
((rc == 0)) || echo "FAIL ui_demo_exit (status $rc)"
mkdir -p "$out/scale2"
timeout -k 5 60 "$host" "$out/scale2" 2 | sed 's/^\(PASS\|FAIL\) ui_/\1 ui_scale2_/'
