# Shared by the end-to-end scripts (sourced, not run): reporting checks,
# waiting, stopping what a script started, and starting the private JACK
# server and Xvfb.  A script sets `all` (its check names) and `tmp` (its
# temporary folder, make_tmp) before it calls these.
# shellcheck shell=bash
# shellcheck disable=SC2154 # all, tmp, display: set by the sourcing script
# shellcheck disable=SC2034 # root, bundle, lv2_path, xvfb_pid: read by the sourcing script

# The checkout and the bundle under test (run-tests exports CH_ROOT and
# CH_BUNDLE_DIR; run by hand, this checkout's build).
root=${CH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
bundle=${CH_BUNDLE_DIR:-$root/build/lv2/chronus.lv2}

# make_tmp NAME: the script's temporary folder, /tmp/chronus-NAME.XXXXXX,
# in tmp (the script's cleanup removes it).
make_tmp() { tmp=$(mktemp -d "/tmp/chronus-$1.XXXXXX"); }
# drop_tmp FILE...: the end of a cleanup: copies the FILEs (of tmp) to
# CH_E2E_KEEP when it names a folder to keep them in, then removes tmp.
drop_tmp() {
  if [[ -n ${CH_E2E_KEEP:-} ]] && mkdir -p "$CH_E2E_KEEP"; then
    cp -r "$@" "$CH_E2E_KEEP"/ 2>/dev/null
  fi
  rm -rf "$tmp"
}

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1${2:+ ($2)}"; }
# fail_all REASON: the environment cannot run the test; fail every check.
fail_all() {
  local t
  for t in "${all[@]}"; do fail "$t" "$1"; done
  exit 0
}
# show FILE [LINES]: the last lines of a log, indented.
show() { [[ -s $1 ]] && tail -n "${2:-15}" "$1" | sed 's/^/   | /'; }

# wait_for SECONDS COMMAND...: poll every 50 ms until COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS >= deadline)) && return 1
    sleep 0.05
  done
}

# stop PID [GRACE]: wait GRACE s (default 0) for PID to end by itself, then
# SIGTERM it (twice, 2.5 s apart: jackd was seen to miss one), then
# SIGKILL it.
stop() {
  local pid=$1 grace=${2:-0} i
  [[ -n $pid ]] || return 0
  for ((i = 0; i < grace * 10 + 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    ((i >= grace * 10 && (i - grace * 10) % 25 == 0)) && kill -TERM "$pid" 2>/dev/null
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "   | (pid $pid ignored SIGTERM for 5 s: killed)"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  return 0
}

# require COMMAND...: fail every check unless all are installed.
require() {
  local missing=() cmd
  for cmd in "$@"; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  ((${#missing[@]} == 0)) ||
    fail_all "not installed: ${missing[*]} (run tools/setup.sh)"
}

# lv2_path_for BUNDLE: sets lv2_path, run-tests' CH_LV2_PATH or, run by
# hand, a folder with only BUNDLE and the system's folders.
lv2_path_for() {
  if [[ -n ${CH_LV2_PATH:-} ]]; then
    lv2_path=$CH_LV2_PATH
  else
    mkdir "$tmp/lv2" && ln -s "$1" "$tmp/lv2/chronus.lv2"
    lv2_path="$tmp/lv2:/usr/local/lib/lv2:/usr/lib/lv2"
  fi
}

# One fixed JACK server name, and runs take turns (the lock): JACK's server
# registry (/dev/shm/jack-shm-registry) has 8 slots and reclaims a dead
# server's slot only for a server of the same name, so unique names leak a
# slot whenever a jackd dies hard, until no server can start on the machine.
# jack_env: that name and lock, for the script and the clients it starts.
jack_env() {
  server=chronus-e2e
  lock=/tmp/chronus-e2e-jack.lock
  export JACK_DEFAULT_SERVER=$server
  # Never let a client start a server of its own (libjack's autostart).
  export JACK_NO_START_SERVER=1
  unset JACK_PROMISCUOUS_SERVER
}

# start_jackd [OPTION...]: takes the lock (held on fd 9 until the script
# ends) and starts the server with the dummy driver, 48 kHz, 256 frames;
# sets jackd_pid.  No child inherits fd 9.
start_jackd() {
  exec 9>>"$lock"
  flock -w 50 9 || fail_all "another run of an e2e test held $lock for 50 s"
  jackd -n "$server" --no-realtime "$@" -d dummy -r 48000 -p 256 \
    >"$tmp/jackd.log" 2>&1 </dev/null 9>&- &
  jackd_pid=$!
  if ! wait_for 10 jack_up; then
    show "$tmp/jackd.log"
    if grep -q 'Too many servers' "$tmp/jackd.log"; then
      fail_all "JACK's server registry is full: $(grep -aoE 'jack-[0-9]+:[^:[:cntrl:]]+:' /dev/shm/jack-shm-registry 2>/dev/null | cut -d: -f2 | tr '\n' ' ')(servers that died hard; start and stop a jackd -n NAME for each to free its slot)"
    fi
    fail_all "the JACK server ($server, dummy driver) did not start"
  fi
}
jack_up() {
  kill -0 "$jackd_pid" 2>/dev/null || return 2
  timeout 3 jack_lsp >/dev/null 2>&1
}

# start_xvfb WxHxDEPTH: an X server on $display; sets xvfb_pid.
start_xvfb() {
  Xvfb "$display" -screen 0 "$1" -nolisten tcp -noreset \
    >"$tmp/xvfb.log" 2>&1 &
  xvfb_pid=$!
  wait_for 5 x_up || fail_all "Xvfb did not start on $display"
}
x_up() { [[ -S /tmp/.X11-unix/X${display#:} ]]; }

# The window named as our UI names its own: "Chronus", no class.
our_window='"Chronus": \(\)'
# window PATTERN: the first line of the X window tree matching PATTERN
# (grep -E), or nothing.
window() { xwininfo -root -tree 2>/dev/null | grep -E "$1" | head -1; }
has_window() { [[ -n $(window "$1") ]]; }
# await_window SECONDS PATTERN LOG WHY: waits for such a window; if none
# comes, shows LOG and fails every check with WHY.
await_window() {
  wait_for "$1" has_window "$2" && return 0
  show "$3"
  fail_all "$4"
}
