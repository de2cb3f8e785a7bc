#!/usr/bin/env bash
# Chronus driven over OSC in jalv (console) under a private JACK server
# (dummy driver): `jalv -c osc_port=P` turns the server on; oscsend builds a
# patch from nothing, commits it and plays a note, and the recording has
# the patch's pitch; answers come back to the sender (ack, committed, the
# error of a bad edit, of malformed and unknown messages); a second
# instance cannot take the same port (a clear error in the log), works on
# another port side by side, and stops listening at osc_port 0.
#
# Shares the JACK server name and lock of test/lib-e2e.sh (see there why),
# and uses UDP ports 15000-15099 only; the recording is analysed by
# test/audio.py.
# Needs: jackd, jalv, jack_capture, oscsend (liblo-tools), python3, flock.  CH_E2E_KEEP=DIR keeps logs and recording.
# shellcheck disable=SC2317 # functions called through wait_for and traps
set -u
# shellcheck source=test/lib-e2e.sh
. "$(dirname "$0")/lib-e2e.sh"
make_tmp osc-test
# chronus-osc.py waits for the one answer; generous on a loaded machine.
ask="python3 $root/tools/chronus-osc.py"
client="$ask -t 10"
jack_env

jackd_pid=
jalv_a=
jalv_b=
cap_pid=

cleanup() {
  exec 3>&- 4>&- 2>/dev/null
  stop "$cap_pid" 2
  stop "$jalv_a" 3
  stop "$jalv_b" 3
  stop "$jackd_pid" 0
  drop_tmp "$tmp"/*.log "$tmp"/*.wav
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
trap '' PIPE

# pass NAME [DETAIL]: DETAIL on a line of its own.
pass() { echo "PASS $1${2:+
   | $2}"; }
check() { if [[ $2 == 1 ]]; then pass "$1" "$3"; else fail "$1" "$3"; fi; }

all=(osc_enabled_by_port osc_builds_and_plays osc_answers_committed
  osc_bad_edit_error osc_undo_redo osc_polyphony osc_malformed_errors osc_port_taken_error
  osc_two_instances osc_more_answers osc_port_off)

# --- environment -----------------------------------------------------------
require jackd jack_lsp jalv jack_capture oscsend python3 timeout flock stdbuf
[[ -f $bundle/chronus.so ]] || fail_all "no plugin bundle at $bundle (run ./waf build)"
lv2_path_for "$bundle"

# Three free UDP ports of 15000-15099 (other runs may hold some).
read -r p1 p2 p3 < <(python3 - <<'EOF'
import random, socket
free = []
for p in random.sample(range(15000, 15100), 100):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", p)); free.append(p)
    except OSError:
        pass
    s.close()
    if len(free) == 3: break
print(*free)
EOF
)
[[ -n ${p3:-} ]] || fail_all "no three free UDP ports in 15000-15099"

# --- JACK ------------------------------------------------------------------
start_jackd -S

# --- two jalvs ---------------------------------------------------------------
# start_jalv NAME FIFO_FD_VAR OSC_PORT: jalv -c osc_port=..., its prompt fed
# from a FIFO (EOF makes it quit).
mkfifo "$tmp/a.in" "$tmp/b.in"
LV2_PATH=$lv2_path stdbuf -o0 jalv -x -n chronus -c "osc_port=$p1" \
  urn:chronus:synth <"$tmp/a.in" >"$tmp/jalv-a.log" 2>&1 9>&- &
jalv_a=$!
exec 3<>"$tmp/a.in"
answers() { $ask -t 1 "$1" /patch/get >/dev/null 2>&1; }
if ! wait_for 15 answers "$p1"; then
  show "$tmp/jalv-a.log"
  fail_all "jalv -c osc_port=$p1 does not answer /patch/get on UDP $p1"
fi
# Bound to the loopback address only: /proc/net/udp lists 0100007F:PORT.
bound=$(awk -v p="$(printf ':%04X' "$p1")" '$2 ~ p"$" { print $2 }' /proc/net/udp)
if [[ $bound == "0100007F$(printf ':%04X' "$p1")" ]]; then
  pass osc_enabled_by_port "jalv -c osc_port=$p1: /patch/get answered; bound to $bound (127.0.0.1 only)"
else
  fail osc_enabled_by_port "bound to '${bound}', want 127.0.0.1:$p1 only"
fi

# --- build a patch from nothing with oscsend, commit, play -------------------
printf '@prefix ch: <urn:chronus:> .\n<> a ch:Patch .\n' >"$tmp/empty.ttl"
osc() { oscsend localhost "$p1" "$@"; }
osc /patch/load s "$tmp/empty.ttl" &&
  osc /patch/create ss voice voice &&
  osc /patch/create ss osc osc &&
  osc /patch/create ss env adsr &&
  osc /patch/create ss amp vca &&
  osc /patch/create ss out output &&
  osc /patch/connect ss voice:pitch osc:pitch &&
  osc /patch/connect ss voice:gate env:gate &&
  osc /patch/connect ss osc:out amp:in &&
  osc /patch/connect ss env:out amp:cv &&
  osc /patch/connect ss amp:out out:mono || fail_all "oscsend failed"
committed=$($client "$p1" /patch/commit 2>&1)
read -r what generation build_ms <<<"$committed"
ok=0
[[ $what == /chronus/committed && $generation -ge 2 ]] && ok=1
check osc_answers_committed $ok "/patch/commit answered: $committed"
# /mod acts on the playing graph at once: one octave up, 440 Hz for A3.
osc /mod/osc/pitch f 1.0 && osc /mod/out/level f 0.3 ||
  fail_all "oscsend failed"
patch=$($client "$p1" /patch/get)

jack_capture --daemon -f wav -d 3 --port chronus:out_l \
  --port chronus:out_r "$tmp/osc.wav" >"$tmp/capture.log" 2>&1 9>&- &
cap_pid=$!
sleep 0.5
osc /note/on ii 57 100
sleep 1.5
osc /note/off i 57
stop "$cap_pid" 5
cap_pid=
# The recording (float WAV, jack_capture's default) by test/audio.py:
# pitch and level from a quarter second after the note starts.
analysis=$(PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$root/test timeout 60 \
  python3 - "$tmp/osc.wav" <<'EOF'
import sys
from audio import Stereo, read_float_wav
rate, L, R = read_float_wav(sys.argv[1])
s = Stereo(L, R, rate)
x0 = s.onset(0, s.n, 0.01)
if x0 < 0:
    print("0 0 silent")
else:
    x0 += rate // 4
    print("%.1f %.4f ok" % (s.median_pitch(x0, x0 + rate), s.rms(x0, x0 + rate)))
EOF
)
read -r hz rms _ <<<"$analysis"
ok=$(python3 -c "print(int(abs($hz - 440) <= 0.03 * 440 and $rms > 0.01))" 2>/dev/null || echo 0)
[[ $patch == *'ch:kind "vca"'* && $patch != *'"svf"'* ]] || ok=0
check osc_builds_and_plays "$ok" \
  "note 57 over OSC: pitch $hz Hz (want 440: osc:pitch +1 set by /mod), rms $rms; /patch/get shows the built patch (vca, no svf)"

# --- error answers -------------------------------------------------------------
# Refused: standby is unchanged, so committing it gives the same patch.
bad=$($client "$p1" /patch/connect ss nope:out amp:in 2>&1)
again=$($client "$p1" /patch/commit 2>&1)
after=$($client "$p1" /patch/get)
ok=0
[[ $bad == "/chronus/error "*nope* && $again == /chronus/committed* &&
  $after == "$patch" ]] && ok=1
check osc_bad_edit_error $ok "/patch/connect nope:out amp:in -> $bad; then $again, same patch"

# Undo and redo over OSC: each a commit; back where it was.
un=$($client "$p1" /patch/undo 2>&1)
re=$($client "$p1" /patch/redo 2>&1)
back=$($client "$p1" /patch/get)
ok=0
[[ $un == /chronus/committed* && $re == /chronus/committed* &&
  $back == "$patch" ]] && ok=1
check osc_undo_redo $ok "/patch/undo -> $un; /patch/redo -> $re; same patch"

# Voices over OSC: an edit like any other, heard after the commit, undone.
v1=$($client "$p1" /patch/polyphony i 3 2>&1)
v2=$($client "$p1" /patch/commit 2>&1)
three=$($client "$p1" /patch/get)
v3=$($client "$p1" /patch/polyphony i 17 2>&1)
v4=$($client "$p1" /patch/undo 2>&1)
back=$($client "$p1" /patch/get)
ok=0
[[ $v1 == "/chronus/ack /patch/polyphony" && $v2 == /chronus/committed* &&
  $three == *"ch:polyphony 3"* && $v3 == *"want a whole number 1..16"* &&
  $v4 == /chronus/committed* && $back == "$patch" ]] && ok=1
check osc_polyphony $ok "3 -> $v1; $v2; /patch/get has $(grep -o 'ch:polyphony [0-9]*' <<<"$three"); 17 -> $v3; undo -> $v4"

m1=$($client "$p1" /patch/create i 3 2>&1)
m2=$($client "$p1" /no/such/address 2>&1)
m3=$($client "$p1" /note/on ii 200 100 2>&1)
m4=$(python3 -c "
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(10)
s.sendto(b'/patch/create\0\0\0,ss\0' + b'x' * 9000, ('127.0.0.1', $p1))
print(s.recvfrom(65536)[0][:120])" 2>&1)
ok=0
[[ $m1 == *"/patch/create: expects s:name s:kind"* &&
  $m2 == *"/no/such/address: unknown address"* &&
  $m3 == *"/note/on: argument 1 is 200"* &&
  $m4 == *"/chronus/error"*"not an OSC message"* ]] && ok=1
check osc_malformed_errors $ok "$m1 | $m2 | $m3 | $m4"

# --- a second instance: the taken port, then its own -----------------------------
LV2_PATH=$lv2_path stdbuf -o0 jalv -x -n chronus-b -c "osc_port=$p1" \
  urn:chronus:synth <"$tmp/b.in" >"$tmp/jalv-b.log" 2>&1 9>&- &
jalv_b=$!
exec 4<>"$tmp/b.in"
taken() { grep -q "cannot listen on UDP 127.0.0.1:$p1: Address already in use" "$tmp/jalv-b.log"; }
ok=0
wait_for 15 taken && ok=1
check osc_port_taken_error $ok "$(grep -o "error: .*OSC.*" "$tmp/jalv-b.log" | head -1)"

echo "set osc_port $p2" >&4
ok=0
if wait_for 10 answers "$p2"; then
  b_patch=$($client "$p2" /patch/get)
  a_patch=$($client "$p1" /patch/get)
  [[ $b_patch == *'"svf"'* && $a_patch == "$patch" ]] && ok=1
fi
check osc_two_instances $ok "A on $p1 plays the OSC patch, B on $p2 its own (init, with svf)"

u=$($client "$p2" /patch/undo 2>&1)
g=$($client "$p2" /gate/env s on 2>&1)
pr=$($client "$p2" /program i 1 2>&1)
ok=0
[[ $u == "/chronus/error nothing to undo"* && $g == "/chronus/ack /gate/env" &&
  $pr == "/chronus/ack /program" ]] && ok=1
check osc_more_answers $ok "$u | $g | $pr"

echo "set osc_port 0" >&4
gone() { ! $ask -t 0.5 "$p2" /patch/get >/dev/null 2>&1; }
ok=0
wait_for 10 gone && answers "$p1" && ok=1
check osc_port_off $ok "B at osc_port 0 no longer answers on $p2; A still does on $p1"

errors=$(grep -v "OSC: cannot listen" "$tmp/jalv-a.log" "$tmp/jalv-b.log" |
  grep -o 'error: .*' | grep -v "nope" | sort | uniq -c | head -3 | tr '\n' ';')
[[ -z $errors ]] || echo "   | jalv logged: $errors"
exit 0
