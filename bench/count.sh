#!/usr/bin/env bash
# Deterministic cost of run(): for each instrument given, plays an 8-note
# chord and then silence (tools/chronus-bench-play.c) at blocks 1, 64 and
# 256, once under callgrind (instructions executed inside run() per output
# sample) and once natively (wall-clock ns per sample), and prints a
# markdown table.  A benchmark, not a test: it never fails on a figure.
#
#   bench/count.sh LABEL URI [PORT=VALUE ...] [-- LABEL URI ...]
#
# Needs valgrind.  LV2_PATH must find the plugins (build/lv2 is added for
# Chronus).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || {
  echo "bench/count.sh: needs valgrind (apt-get install valgrind)" >&2
  exit 1
}
export LV2_PATH="$PWD/build/lv2${LV2_PATH:+:$LV2_PATH}"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen} # synthv1 without X
play=build/tools/chronus-bench-play
blocks=${BENCH_BLOCKS:-1 64 256}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Instructions per sample of the segments "playing" and "idle" of one run
count() {
  rm -f "$work"/cg.*
  valgrind --tool=callgrind --instr-atstart=no --collect-atstart=no \
    --callgrind-out-file="$work/cg.%p" "$play" "$@" >/dev/null 2>"$work/err" ||
    { sed 's/^/  /' "$work/err" | grep -v '^  ==' >&2; return 1; }
  for label in playing idle; do
    f=$(grep -l "^desc: Trigger: Client Request: $label\$" "$work"/cg.*.* | head -n 1)
    awk '/^totals:/ { printf "%.0f ", $2 / 24000 }' "$f"
  done
}

# Best wall-clock ns per sample of three native runs, playing and idle
wall() {
  for _ in 1 2 3; do
    "$play" "$@" 2>/dev/null |
      sed -n 's/.* playing \([0-9.]*\) ns.* idle \([0-9.]*\) ns.*/\1 \2/p'
  done | sort -n -k1 | awk 'NR == 1 { p = $1 } { if (i == "" || $2 < i) i = $2 }
    END { printf "%.1f %.1f", p, i }'
}

echo "| instrument | block | playing: instructions / sample | idle | playing: ns / sample | idle |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
while [ $# -gt 0 ]; do
  label=$1
  uri=$2
  shift 2
  args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    args+=("$1")
    shift
  done
  [ $# -gt 0 ] && shift
  for b in $blocks; do
    if ir=$(count "$uri" "$b" "${args[@]}") && ns=$(wall "$uri" "$b" "${args[@]}"); then
      read -r ir_play ir_idle <<<"$ir"
      read -r ns_play ns_idle <<<"$ns"
      echo "| $label | $b | $ir_play | $ir_idle | $ns_play | $ns_idle |"
    else
      echo "| $label | $b | failed | | | |"
    fi
  done
done
