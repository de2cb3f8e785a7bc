#!/usr/bin/env bash
# The offline renderer, end to end: the demo, a script on the default patch,
# pitch, block-size independence, a MIDI file, and errors that name a line.
set -u
root=${CH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
build=${CH_BUILD_DIR:-$root/build}
render=$build/tools/chronus-render
tmp=$(mktemp -d /tmp/chronus-render-test.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() {
  echo "FAIL $1${2:+ ($2)}"
  [[ -s $tmp/err ]] && sed 's/^/   | /' "$tmp/err" | tail -n 15
}

if [[ ! -x $render ]]; then
  echo "FAIL render_built (no $render: run ./waf build)"
  exit 0
fi

# stat FILE [SOX EFFECTS...] -> "rms peak rough_frequency" of channel 1.
stat() {
  local f=$1
  shift
  sox -V1 "$f" -n remix 1 "$@" stat 2>&1 | awk '
    /^RMS +amplitude/     { rms = $3 }
    /^Maximum amplitude/  { max = $3 }
    /^Minimum amplitude/  { min = -$3 }
    /^Rough +frequency/   { freq = $3 }
    END { print rms, (max > min ? max : min), freq }'
}
# near VALUE TARGET TOLERANCE
near() { awk -v v="$1" -v t="$2" -v e="$3" 'BEGIN { exit !(v - t <= e && t - v <= e) }'; }
above() { awk -v v="$1" -v t="$2" 'BEGIN { exit !(v > t) }'; }
# renders NAME RENDER_ARGS...: render quietly; a failure fails NAME.
renders() {
  local name=$1
  shift
  "$render" -q "$@" 2>"$tmp/err" && return 0
  fail "$name" "exit status $?"
  return 1
}
# render_says STATUS PATTERN RENDER_ARGS...: the render exits with STATUS
# and says PATTERN (a grep pattern); sets status to its exit status.
render_says() {
  local want=$1 pattern=$2
  shift 2
  "$render" "$@" 2>"$tmp/err"
  status=$?
  ((status == want)) && grep -q -- "$pattern" "$tmp/err"
}
# patch FILE TURTLE...: a patch file, the prefixes and then these lines.
patch() {
  local file=$1
  shift
  {
    echo '@prefix ch:    <urn:chronus:> .'
    echo '@prefix param: <urn:chronus:param#> .'
    echo '@prefix :      <urn:chronus:module#> .'
    printf '%s\n' "$@"
  } >"$file"
}

# A sine played by the voice's pitch: note 69 (A4) is 440 Hz.
patch "$tmp/sine.ttl" \
  ':voice ch:kind "voice" .' \
  ':osc   ch:kind "osc" ; param:shape "sine" .' \
  ':out   ch:kind "output" ; param:level 0.5 .' \
  '[] ch:from "voice:pitch" ; ch:to "osc:pitch" .' \
  '[] ch:from "osc:out" ; ch:to "out:mono" .'

# A script on the plugin's default patch: notes, a bend, CCs, macros, gain.
cat >"$tmp/simple.script" <<'EOF'
# no commits: the output must not depend on the block size
0     note-on  A3 100
0.3   bend 4096
0.4   note-off A3
0.5   note-on  60 90   # C4
0.5   bend 0
0.6   cc 1 64
0.7   set filter cutoff 800
0.8   gate voice on
0.9   macro 3 0.5
1.0   gain -6
1.1   note-off 60
1.3   gate voice off
EOF

# 1. The demo renders, loud enough and not clipping.
if renders render_demo --patch "$root/tools/demo/demo.ttl" \
  --script "$root/tools/demo/demo.script" -o "$tmp/demo.wav"; then
  read -r rms peak _ < <(stat "$tmp/demo.wav")
  len=$(sox --i -D "$tmp/demo.wav" 2>/dev/null)
  if above "$rms" 0.05 && ! above "$peak" 0.999 && above "$len" 8; then
    pass render_demo
  else
    fail render_demo "rms $rms, peak $peak, length $len s"
  fi
fi

# 2. A script alone plays the default patch.
if renders render_script --script "$tmp/simple.script" -o "$tmp/simple.wav"; then
  read -r rms peak _ < <(stat "$tmp/simple.wav")
  len=$(sox --i -D "$tmp/simple.wav" 2>/dev/null)
  if above "$rms" 0.02 && ! above "$peak" 0.999 && near "$len" 3.3 0.001; then
    pass render_script
  else
    fail render_script "rms $rms, peak $peak, length $len s (want 3.3)"
  fi
fi

# 3. Pitch: A4 on a sine is 440 Hz.
printf '0 note-on 69 100\n2 note-off 69\n' >"$tmp/a4.script"
if renders render_pitch_a4 --patch "$tmp/sine.ttl" --script "$tmp/a4.script" \
  --length 2 -o "$tmp/a4.wav"; then
  read -r rms _ freq < <(stat "$tmp/a4.wav" trim 0.1 1.5)
  if near "$freq" 440 3 && near "$rms" 0.3536 0.01; then
    pass render_pitch_a4
  else
    fail render_pitch_a4 "frequency $freq Hz, rms $rms"
  fi
fi

# 4. Any block size gives the same file: without commits after time 0,
#    and (since a commit lands at its own frame) with the demo's live edit.
same_blocks() {
  local name=$1 ref=$2
  shift 2
  local ok=1 b
  for b in 1 4096 37; do
    if ! "$render" -q --block "$b" "$@" -o "$tmp/block$b.wav" 2>"$tmp/err"; then
      fail "$name" "--block $b: exit status $?"
      return
    fi
    cmp -s "$ref" "$tmp/block$b.wav" || { ok=0; break; }
  done
  if ((ok)); then pass "$name"; else fail "$name" "--block $b differs from 256"; fi
}
same_blocks render_block_sizes "$tmp/simple.wav" --script "$tmp/simple.script"
same_blocks render_block_sizes_commit "$tmp/demo.wav" \
  --patch "$root/tools/demo/demo.ttl" --script "$root/tools/demo/demo.script"

# 5. A MIDI file, with a tempo change (tempo map) and a pitch bend:
#    A4 for 0.5 s at 120 bpm, then at 60 bpm C5 bent up a half semitone.
python3 - "$tmp/test.mid" <<'EOF'
import struct, sys
def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.insert(0, (n & 0x7F) | 0x80)
        n >>= 7
    return bytes(out)
tempo = lambda us: b'\xff\x51\x03' + us.to_bytes(3, 'big')
events = [(0, tempo(500000)), (0, b'\x90\x45\x64'), (480, b'\x80\x45\x00'),
          (960, tempo(1000000)), (960, b'\xe0\x00\x50'),
          (960, b'\x90\x48\x64'), (1440, b'\x80\x48\x00'),
          (1440, b'\xff\x2f\x00')]
track, last = b'', 0
for tick, data in events:
    track += vlq(tick - last) + data
    last = tick
with open(sys.argv[1], 'wb') as f:
    f.write(b'MThd' + struct.pack('>IHHH', 6, 0, 1, 480))
    f.write(b'MTrk' + struct.pack('>I', len(track)) + track)
EOF
if renders render_midi --patch "$tmp/sine.ttl" --midi "$tmp/test.mid" \
  -o "$tmp/midi.wav"; then
  len=$(sox --i -D "$tmp/midi.wav" 2>/dev/null)
  read -r _ _ f1 < <(stat "$tmp/midi.wav" trim 0.05 0.4)
  read -r _ _ f2 < <(stat "$tmp/midi.wav" trim 1.05 0.9)
  # last event at 2.0 s (not 1.5 s: the tempo halves at 1 s) + 2 s of tail;
  # 523.25 Hz * 2^(0.5/12) = 538.58 Hz
  if near "$len" 4 0.001 && near "$f1" 440 3 && near "$f2" 538.6 3; then
    pass render_midi
  else
    fail render_midi "length $len s (want 4), frequencies $f1, $f2 Hz"
  fi
fi

# 6. A bad script line: exit 1, and the message names the line.
printf '0 note-on 60 100\n# fine\n0.5 note-on 60\n1 note_off 60\n' \
  >"$tmp/bad.script"
if render_says 1 'bad.script:3:' --script "$tmp/bad.script" \
  -o "$tmp/bad.wav" &&
  grep -q "bad.script:4: unknown command 'note_off' (did you mean 'note-off'? commands: note-on, note-off, cc," "$tmp/err"; then
  pass render_bad_script_line
else
  fail render_bad_script_line "exit status $status"
fi

# 7. An edit the plugin refuses: ch:Error printed with the script line,
#    exit 2; --keep-going exits 0.
printf '0 note-on 60 100\n0.5 create x theremin\n1 note-off 60\n' \
  >"$tmp/refused.script"
if render_says 2 "refused.script:2: .*theremin" \
  --script "$tmp/refused.script" -o "$tmp/refused.wav" &&
  "$render" -q --keep-going --script "$tmp/refused.script" \
    -o "$tmp/refused.wav" 2>/dev/null; then
  pass render_plugin_error
else
  fail render_plugin_error "exit status $status"
fi

# 8. Silence is reported: a script with no notes.
printf '0.5 set filter cutoff 900\n' >"$tmp/silent.script"
if render_says 3 silent --script "$tmp/silent.script" -o "$tmp/silent.wav"; then
  pass render_silence_warned
else
  fail render_silence_warned "exit status $status"
fi

# 9. '#' starts a comment only at the start of a word: F#3 is a note
#    (185 Hz), and a comment after it is still a comment.
printf '0 note-on F#3 100   # F sharp\n1 note-off F#3\n' >"$tmp/sharp.script"
if renders render_sharp_note_name --patch "$tmp/sine.ttl" \
  --script "$tmp/sharp.script" -o "$tmp/sharp.wav"; then
  read -r _ _ freq < <(stat "$tmp/sharp.wav" trim 0.1 0.5)
  if near "$freq" 185 3; then
    pass render_sharp_note_name
  else
    fail render_sharp_note_name "frequency $freq Hz, want 185"
  fi
fi

# 10. A --patch or a load that cannot be committed (no output module, a
#     cycle) stops the render, exit 1, before anything is written.
patch "$tmp/noout.ttl" ':osc ch:kind "osc" .'
printf '0 note-on 60 100\n0.5 load noout.ttl\n0.5 commit\n' >"$tmp/load.script"
rm -f "$tmp/none.wav"
if render_says 1 \
  "noout.ttl: cannot be committed: the patch has no 'output' module" \
  --patch "$tmp/noout.ttl" -o "$tmp/none.wav" &&
  render_says 1 "load.script:2: noout.ttl: cannot be committed" \
    --script "$tmp/load.script" -o "$tmp/none.wav" &&
  [[ ! -e $tmp/none.wav ]]; then
  pass render_uncommittable_patch_stops
else
  fail render_uncommittable_patch_stops "exit status $status"
fi

# 11. Choice labels in `set`, as in patch files: the osc of the initial
#     patch becomes a square (odd harmonics: its crest factor is 1).
printf '0 note-on A3 100\n0 set osc shape square\n0 set filter cutoff 20000\n1 note-off A3\n' \
  >"$tmp/label.script"
printf '0 set osc shape squarish\n' >"$tmp/badlabel.script"
if renders render_set_choice_label --script "$tmp/label.script" \
  -o "$tmp/label.wav"; then
  if render_says 1 "badlabel.script:1: bad value 'squarish' (a number or one of: sine, saw, square, triangle)" \
    -q --script "$tmp/badlabel.script" -o "$tmp/none.wav"; then
    pass render_set_choice_label
  else
    fail render_set_choice_label "exit status $status"
  fi
fi

# 12. The limiter: a loud chord is limited and the summary says so;
#     --no-limiter lets it through; a quiet note never engages it.
printf '0 set out level 2\n0 note-on C3 127\n0 note-on E3 127\n0 note-on G3 127\n1 note-off C3\n' \
  >"$tmp/loud.script"
"$render" --script "$tmp/loud.script" -o "$tmp/loud.wav" 2>"$tmp/err"
s1=$?
read -r _ p1 _ < <(stat "$tmp/loud.wav")
grep -q "limiter: engaged for [0-9.]* s, most gain reduction [0-9.]* dB" \
  "$tmp/err"
g1=$?
"$render" --no-limiter --keep-going --script "$tmp/loud.script" \
  -o "$tmp/loud2.wav" 2>"$tmp/err"
g2=$(grep -c "limiter:" "$tmp/err")
grep -q "warning: the output exceeds 0 dBFS" "$tmp/err"
g4=$?
"$render" --patch "$tmp/sine.ttl" --script "$tmp/sharp.script" \
  -o "$tmp/sharp.wav" 2>"$tmp/err"
grep -q "limiter: never engaged" "$tmp/err"
g3=$?
if ((s1 == 0 && g1 == 0 && g2 == 0 && g3 == 0 && g4 == 0)) &&
  near "$p1" 0.944 0.001; then
  pass render_limiter_summary
else
  fail render_limiter_summary "exit $s1, greps $g1/$g2/$g3/$g4, peak $p1"
fi

# 13. Float WAVs have a standard header: sox reads them without a warning.
if [[ -z $(sox --i "$tmp/sharp.wav" 2>&1 >/dev/null) ]] &&
  [[ -z $(sox "$tmp/sharp.wav" -n stat 2>&1 | grep -i warn) ]] &&
  [[ $(sox --i -e "$tmp/sharp.wav") == "Floating Point PCM" ]] &&
  [[ $(sox --i -b "$tmp/sharp.wav") == 32 ]] &&
  [[ $(sox --i -s "$tmp/sharp.wav") == $((48000 * 3)) ]]; then
  pass render_float_wav_header
else
  fail render_float_wav_header "$(sox --i "$tmp/sharp.wav" 2>&1 | head -3)"
fi

# 14. chronus-midi-send reads its script before it looks for JACK: a bad
#     line is reported with its line and stops it (exit 1).
send=$build/tools/chronus-midi-send
if [[ -x $send ]]; then
  printf '0 note-on F#3 100  # ok\n0.5 note-on H4 100\n1 set osc shape 2\n' \
    >"$tmp/send.script"
  JACK_NO_START_SERVER=1 "$send" -c nowhere:control "$tmp/send.script" \
    2>"$tmp/err"
  status=$?
  if ((status == 1)) &&
    grep -q "send.script:2: bad note 'H4' (0..127 or a name like A4)" "$tmp/err" &&
    grep -q "send.script:3: unknown command 'set'" "$tmp/err" &&
    ! grep -q "send.script:1:" "$tmp/err"; then
    pass midi_send_bad_lines
  else
    fail midi_send_bad_lines "exit status $status"
  fi
fi

# 15. A bar-quantised commit asked for at 0.3 s at 120 bpm (4/4) is heard
#     from exactly 2.000 s (frame 96000 at 48 kHz), inside a block of 333;
#     without --bpm (no transport) at once.
patch "$tmp/empty.ttl" ':out ch:kind "output" .'
printf '%s\n' '0.3 create dc osc' '0.3 set dc shape sine' '0.3 set dc level 0.25' \
  '0.3 connect dc:out out:mono' '0.3 commit bar' >"$tmp/bar.script"
if renders render_commit_on_the_bar --bpm 120 --block 333 \
  --patch "$tmp/empty.ttl" --script "$tmp/bar.script" --length 2.5 \
  -o "$tmp/bar.wav"; then
  read -r _ before _ < <(stat "$tmp/bar.wav" trim 0s 96000s)
  read -r _ first _ < <(stat "$tmp/bar.wav" trim 96000s 1s)
  read -r _ later _ < <(stat "$tmp/bar.wav" trim 2.1)
  if near "$before" 0 0 && above "$first" 0 && near "$later" 0.25 0.001; then
    pass render_commit_on_the_bar
  else
    fail render_commit_on_the_bar "peak $before before 2 s, $first at 2 s, $later after"
  fi
fi
if renders render_commit_bar_without_transport --block 333 \
  --patch "$tmp/empty.ttl" --script "$tmp/bar.script" --length 1 \
  -o "$tmp/now.wav"; then
  read -r _ before _ < <(stat "$tmp/now.wav" trim 0s 14400s)
  read -r _ after _ < <(stat "$tmp/now.wav" trim 0.4 0.1)
  if near "$before" 0 0 && near "$after" 0.25 0.001; then
    pass render_commit_bar_without_transport
  else
    fail render_commit_bar_without_transport "peak $before before 0.3 s, $after after"
  fi
fi
printf '0.3 commit soon\n' >"$tmp/badq.script"
if ! "$render" -q --script "$tmp/badq.script" -o "$tmp/badq.wav" \
  2>"$tmp/err" && grep -q "badq.script:1: bad quantize 'soon'" "$tmp/err"; then
  pass render_commit_bad_quantize
else
  fail render_commit_bad_quantize
fi
