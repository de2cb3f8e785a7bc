#!/usr/bin/env bash
# jalv.gtk3 under Xvfb (display :91) and a private JACK server (dummy
# driver): it picks our UI, not its generic controls, embeds it at its
# size (960x600), and the window shows the patch drawn (cables in their
# signal colours, many colours in all).  Screenshot:
# build/test-artifacts/ui/jalv-gtk3.png.
# shellcheck disable=SC2317 # functions called through wait_for and traps
set -u
# shellcheck source=test/lib-e2e.sh
. "$(dirname "$0")/lib-e2e.sh"
make_tmp ui-jalv
out=${CH_BUILD_DIR:-$root/build}/test-artifacts/ui
display=${CH_UI_DISPLAY:-:91}
jack_env
export DISPLAY=$display

xvfb_pid=''
jackd_pid=''
jalv_pid=''
cleanup() {
  stop "$jalv_pid"
  stop "$jackd_pid"
  stop "$xvfb_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

all=(ui_jalv_picks_our_ui ui_jalv_embeds_at_size ui_jalv_draws_patch)

require Xvfb jackd jack_lsp jalv.gtk3 xwininfo import python3 flock
[[ -f $bundle/chronus_ui.so ]] || fail_all "no UI in $bundle (run ./waf build)"
mkdir -p "$out" "$tmp/lv2"
ln -s "$bundle" "$tmp/lv2/chronus.lv2"

start_xvfb 1280x1024x24
# shellcheck disable=SC2119 # no options: the plain dummy driver
start_jackd

LV2_PATH="$tmp/lv2:/usr/lib/lv2" stdbuf -oL -eL jalv.gtk3 -n chronus \
  urn:chronus:synth >"$tmp/jalv.log" 2>&1 </dev/null 9>&- &
jalv_pid=$!
# Our widget, inside jalv's window.
await_window 20 "$our_window" "$tmp/jalv.log" "no window of our UI appeared"

if grep -q '^UI: *urn:chronus:ui' "$tmp/jalv.log"; then
  pass ui_jalv_picks_our_ui
else
  fail ui_jalv_picks_our_ui "jalv says: $(grep '^UI:' "$tmp/jalv.log")"
fi
geometry=$(window "$our_window" | grep -oE '[0-9]+x[0-9]+\+' | head -1)
if [[ $geometry == 960x600+ ]]; then
  pass ui_jalv_embeds_at_size
else
  fail ui_jalv_embeds_at_size "our window is ${geometry%+}, not 960x600"
fi

# The patch drawn: wait until the picture holds cables (it needs the
# plugin's answer first), then keep the screenshot.
shot=$out/jalv-gtk3.png
drawn() {
  import -window root -crop 960x700+0+0 -depth 8 "$tmp/shot.ppm" 2>/dev/null &&
    python3 "$root/test/cables.py" "$tmp/shot.ppm" 200 >"$tmp/analysis"
}
if wait_for 15 drawn; then
  pass ui_jalv_draws_patch
else
  fail ui_jalv_draws_patch "colours, orange, blue pixels: $(cat "$tmp/analysis" 2>/dev/null)"
fi
import -window root -crop 960x640+0+0 "$shot" 2>/dev/null
