#!/usr/bin/env bash
# Chronus side by side with other LV2 instruments, in one run: installs
# Debian's synthv1-lv2, zynaddsubfx-lv2 and calf-plugins (only here, never
# in tests or CI), then plays each the same MIDI as Chronus's program 0
# through the same host (bench/count.sh, tools/chronus-bench-play.c) and
# rewrites the table between the GENERATED-PEERS markers of
# docs/benchmarks.md.  Needs root (or sudo) for apt-get, and valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."

packages="synthv1-lv2 zynaddsubfx-lv2 calf-plugins valgrind"
missing=$(dpkg-query -W -f '${Package} ${Status}\n' $packages 2>/dev/null |
  awk '$NF != "installed" { print $1 }' || true)
for p in $packages; do
  dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "${missing// /}" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get install -y --no-install-recommends $missing
fi
./waf build >/dev/null
export LV2_PATH=${LV2_PATH:-/usr/lib/lv2}

# Each plugin's default sound (its default state or first program): what
# a user gets on loading it.  Calf's Organ is its polyphonic instrument.
table=$(mktemp)
trap 'rm -f "$table" "$table.md"' EXIT
bench/count.sh \
  "Chronus program 0 (init)" urn:chronus:synth program=0 -- \
  "synthv1" http://synthv1.sourceforge.net/lv2 -- \
  "ZynAddSubFX" http://zynaddsubfx.sourceforge.net -- \
  "Calf Organ" http://calf.sourceforge.net/plugins/Organ -- \
  "Calf Monosynth (1 voice)" http://calf.sourceforge.net/plugins/Monosynth \
  >"$table"

{
  echo "<!-- GENERATED-PEERS by bench/peers.sh: do not edit between these markers -->"
  echo
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') with \`bench/peers.sh\`" \
    "at commit $(git rev-parse --short HEAD); $(nproc) cores," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)," \
    "load average before: $(cut -d' ' -f1-3 /proc/loadavg)."
  for p in synthv1-lv2 zynaddsubfx-lv2 calf-plugins; do
    echo "$p $(dpkg-query -W -f '${Version}' "$p");"
  done | paste -sd' ' | sed 's/^/Packages: /; s/;$/./'
  echo
  cat "$table"
  echo
  echo "<!-- END GENERATED-PEERS -->"
} >"$table.md"

doc=docs/benchmarks.md
if grep -q '^<!-- GENERATED-PEERS' "$doc"; then
  awk -v gen="$table.md" '
    /^<!-- GENERATED-PEERS/ { while ((getline line < gen) > 0) print line; skip = 1; next }
    /^<!-- END GENERATED-PEERS/ { skip = 0; next }
    !skip { print }
  ' "$doc" >"$doc.new"
  mv "$doc.new" "$doc"
else
  cat "$table.md" >>"$doc"
fi
cat "$table.md"
echo "bench/peers.sh: wrote $doc" >&2
