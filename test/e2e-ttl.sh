#!/usr/bin/env bash
# The bundle's Turtle: valid against the installed LV2 specs (sord_validate),
# readable by lilv as the plugin we document (lv2info), with the bank's
# program names, a complete description (maintainer, licence, version, port
# groups), presets in program order, and a build folder lilv scans cleanly.
# Prints "PASS name" / "FAIL name" lines for test/run-tests.
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
bundle=${CH_BUNDLE_DIR:-$root/build/lv2/chronus.lv2}
spec_dir=/usr/lib/lv2 # where Debian's lv2-dev installs the specs
status=0

tmp=$(mktemp -d /tmp/chronus-e2e-ttl.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() {
  echo "FAIL $1: $2"
  status=1
}
# verdict NAME WHY [NOTE]: fails NAME for WHY, listing the caller's
# `problems`, if it has any; else passes it (NOTE, if given, first).
verdict() {
  if ((${#problems[@]})); then
    printf '   | %s\n' "${problems[@]}"
    fail "$1" "$2"
  else
    [[ -z ${3:-} ]] || echo "   | $3"
    pass "$1"
  fi
}

# ttl_valid: every property and class we use is defined, every literal is
# of the right type.  The specs' own complaints (none with lv2 1.18) are
# shown but only ours fail the test.
ttl_valid() {
  local ours specs out
  shopt -s nullglob
  ours=("$bundle"/*.ttl)
  specs=("$spec_dir"/*.lv2/*.ttl)
  shopt -u nullglob
  if ! command -v sord_validate >/dev/null; then
    fail ttl_valid "sord_validate not found (apt install sordi)"
    return
  fi
  if ((${#ours[@]} == 0)); then
    fail ttl_valid "no .ttl in $bundle (build first)"
    return
  fi
  if ((${#specs[@]} == 0)); then
    fail ttl_valid "no LV2 specs under $spec_dir (apt install lv2-dev)"
    return
  fi
  # Complaints that appear only once our files join the specs are ours
  # (with -l each is one line, whatever its subject: a URI or a blank node).
  local baseline rc
  baseline=$(sord_validate -l "${specs[@]}" 2>&1 | grep -Ei '^(error|warning)')
  out=$(sord_validate -l "${specs[@]}" "${ours[@]}" 2>&1)
  rc=$?
  local bad others
  bad=$(grep -Ei '^(error|warning)' <<<"$out" | grep -vxF -e "$baseline" ||
    true)
  if [[ -z $baseline ]]; then
    bad=$(grep -Ei '^(error|warning)' <<<"$out" || true)
  fi
  others=$baseline
  if [[ -n $others ]]; then
    echo "note: sord_validate complains about the installed specs:"
    sed 's/^/   | /' <<<"$others"
  fi
  if [[ -n $bad ]]; then
    echo "$bad" | sed 's/^/   | /'
    fail ttl_valid "sord_validate reports problems in our Turtle"
  elif [[ -z $others ]] && { ((rc != 0)) || ! grep -q '^Found 0 errors' <<<"$out"; }; then
    echo "$out" | tail -n 5 | sed 's/^/   | /'
    fail ttl_valid "sord_validate failed (status $rc)"
  else
    pass ttl_valid
  fi
}

# lv2info: lilv finds the plugin, with its name and every port in order.
lv2info_check() {
  if ! command -v lv2info >/dev/null; then
    fail lv2info "lv2info not found (apt install lilv-utils)"
    return
  fi
  local lv2_path=${CH_LV2_PATH:-}
  if [[ -z $lv2_path ]]; then
    # Standalone run: our bundle alone plus the system's specs.
    mkdir "$tmp/lv2"
    ln -s "$bundle" "$tmp/lv2/chronus.lv2"
    lv2_path="$tmp/lv2:$spec_dir"
  fi
  local out err rc
  out=$(LV2_PATH=$lv2_path lv2info urn:chronus:synth 2>"$tmp/lv2info.err")
  rc=$?
  err=$(cat "$tmp/lv2info.err")
  local problems=()
  ((rc == 0)) || problems+=("lv2info exited with status $rc")
  grep -Eq '^[[:space:]]*Name:[[:space:]]+Chronus$' <<<"$out" ||
    problems+=("no 'Name: Chronus'")
  grep -Eq '^[[:space:]]*Class:[[:space:]]+Instrument' <<<"$out" ||
    problems+=("not an instrument")
  grep -Eq 'Required Features:[[:space:]]+http://lv2plug.in/ns/ext/urid#map$' \
    <<<"$out" || problems+=("urid:map is not the required feature")
  if [[ $(grep -c 'Required Features' <<<"$out") -ne 1 ]] ||
    grep -A1 'Required Features' <<<"$out" | sed -n 2p |
    grep -Eq '^[[:space:]]+http'; then
    problems+=("more than urid:map is required")
  fi
  local symbols=(control notify out_l out_r gain program)
  local i
  for i in 1 2 3 4 5 6 7 8; do
    symbols+=("macro$i")
  done
  symbols+=(limiter osc_port)
  # Port N has symbol symbols[N].
  local listed
  listed=$(awk '/^[[:space:]]*Port [0-9]+:/ { gsub(":", "", $2); port = $2 }
                /^[[:space:]]*Symbol:/ { print port, $2 }' <<<"$out")
  for i in "${!symbols[@]}"; do
    grep -qx "$i ${symbols[$i]}" <<<"$listed" ||
      problems+=("port $i is not '${symbols[$i]}'")
  done
  local n_ports
  n_ports=$(grep -c '^[[:space:]]*Port [0-9]*:' <<<"$out")
  ((n_ports == ${#symbols[@]})) ||
    problems+=("$n_ports ports, expected ${#symbols[@]}")
  if grep -Eqi '(error|warning)' <<<"$err"; then
    problems+=("lilv complains: $(head -n 3 <<<"$err" | tr '\n' ' ')")
  fi
  verdict lv2info "lv2info does not show the plugin as documented"
}

# The bank's files, in program order: "NN name" per line.
bank_files() {
  local f
  for f in "$root"/presets/bank/[0-9][0-9]-*.ttl; do
    f=${f##*/}
    echo "${f:0:2} ${f:3:-4}"
  done | sort -n
}

# program_names: lv2info shows one scale point per bank program, "NN Label"
# with value NN, and the port's range is exactly the bank.
program_names() {
  local out problems=() n=0 num name max
  out=$(LV2_PATH=$lv2_path lv2info urn:chronus:synth 2>/dev/null)
  local port5
  port5=$(awk '/^[[:space:]]*Port 5:/ { p = 1; next }
               /^[[:space:]]*Port [0-9]+:/ { p = 0 } p' <<<"$out")
  while read -r num name; do
    n=$((n + 1))
    grep -Eq "^[[:space:]]+$((10#$num)) = \"$num [^\"]+\"$" <<<"$port5" ||
      problems+=("no scale point $((10#$num)) = \"$num ...\" for $num-$name.ttl")
  done < <(bank_files)
  ((n > 0)) || problems+=("no bank files in presets/bank/")
  local points
  points=$(grep -Ec '^[[:space:]]+[0-9]+ = "' <<<"$port5")
  ((points == n)) || problems+=("$points scale points, $n programs in the bank")
  max=$(awk '/Maximum:/ { print $2 }' <<<"$port5")
  [[ $max == "$((n - 1)).000000" ]] ||
    problems+=("program maximum is $max, want $((n - 1)) (the bank's last)")
  grep -q 'lv2core#enumeration' <<<"$port5" ||
    problems+=("program is not lv2:enumeration")
  grep -q 'lv2core#integer' <<<"$port5" || problems+=("program is not lv2:integer")
  verdict program_names "the program port does not name the bank" \
    "$n program names: $(grep -Eo '"[0-9]{2} [^"]+"' <<<"$port5" | sort | tr '\n' ' ')"
}

# presets_in_bank_order: jalv.gtk3 sorts its Presets menu by label with
# strcmp (menu_cmp in its GTK menu code): the labels, so
# sorted, are the programs in order; each preset sets the program port to
# its number.
presets_in_bank_order() {
  local out problems=() labels want
  out=$(LV2_PATH=$lv2_path lv2info urn:chronus:synth 2>/dev/null)
  labels=$(awk '/^[[:space:]]*Presets:/ { p = 1; next }
                /^[[:space:]]*Port [0-9]+:/ { p = 0 }
                p && NF { sub(/^[[:space:]]+/, ""); print }' <<<"$out" |
    LC_ALL=C sort)
  want=$(bank_files | awk '{ print $1 }')
  [[ $(cut -c1-2 <<<"$labels") == "$want" ]] ||
    problems+=("presets sorted by label: $(tr '\n' '|' <<<"$labels")")
  # Each preset's program port value is its number (from the label).
  local values
  values=$(sordi "$bundle/presets.ttl" 2>/dev/null | python3 -c '
import re, sys
label, port, value, symbol = {}, {}, {}, {}
for line in sys.stdin:
    m = re.match(r"(\S+) <([^>]+)> (.*) \.$", line)
    if not m: continue
    s, p, o = m.groups()
    if p.endswith("rdf-schema#label"): label[s] = o.strip("\"")
    elif p.endswith("lv2core#port"): port[s] = o
    elif p.endswith("presets#value"): value[s] = o.split("\"")[1]
    elif p.endswith("lv2core#symbol"): symbol[s] = o.strip("\"")
for s, l in sorted(label.items(), key=lambda x: x[1]):
    b = port.get(s)
    print(l[:2], symbol.get(b), value.get(b))
')
  local num sym val
  while read -r num sym val; do
    [[ $sym == program && $val == "$((10#$num))" ]] ||
      problems+=("preset $num sets '$sym' to '$val', want program = $((10#$num))")
  done <<<"$values"
  [[ $(wc -l <<<"$values") -eq $(bank_files | wc -l) ]] ||
    problems+=("$(wc -l <<<"$values") presets, $(bank_files | wc -l) programs")
  verdict presets_in_bank_order "presets are not the bank in order" \
    "jalv's order: $(tr '\n' '|' <<<"$labels")"
}

# bundle_description: maintainer, licence and version (the build's), the
# stereo output as a port group; the whole-patch text is readable but not
# offered to hosts as a writable parameter (the patch file is).
bundle_description() {
  local nt problems=() out version
  nt=$(sordi "$bundle/chronus.ttl" 2>/dev/null)
  out=$(LV2_PATH=$lv2_path lv2info urn:chronus:synth 2>/dev/null)
  has() { grep -Fq -- "$1" <<<"$nt" || problems+=("$2"); }
  grep -Eq '^[[:space:]]*Author:[[:space:]]+Chronus developers$' <<<"$out" ||
    problems+=("lv2info shows no 'Author: Chronus developers'")
  has '<urn:chronus:synth> <http://usefulinc.com/ns/doap#license> <https://spdx.org/licenses/ISC>' \
    "no doap:license"
  version=$(sed -n "s/^VERSION = '\([0-9.]*\)'$/\1/p" "$root/wscript")
  IFS=. read -r _ minor micro <<<"$version"
  has "<urn:chronus:synth> <http://lv2plug.in/ns/lv2core#minorVersion> \"$minor\"" \
    "lv2:minorVersion is not $minor (VERSION $version)"
  has "<urn:chronus:synth> <http://lv2plug.in/ns/lv2core#microVersion> \"$micro\"" \
    "lv2:microVersion is not $micro (VERSION $version)"
  has '<urn:chronus:synth#out> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://lv2plug.in/ns/ext/port-groups#StereoGroup>' \
    "the output group is not a pg:StereoGroup"
  local side
  for side in left right; do
    grep -q "port-groups#$side> \.\$" <<<"$nt" ||
      problems+=("no port designated pg:$side")
  done
  [[ $(grep -c 'port-groups#group> <urn:chronus:synth#out>' <<<"$nt") -eq 2 ]] ||
    problems+=("out_l and out_r are not both in the output group")
  has '<urn:chronus:synth> <http://lv2plug.in/ns/ext/patch#writable> <urn:chronus:patchFile>' \
    "ch:patchFile is not writable"
  grep -Fq '<urn:chronus:synth> <http://lv2plug.in/ns/ext/patch#writable> <urn:chronus:patch> ' \
    <<<"$nt" && problems+=("ch:patch is offered as a writable parameter")
  has '<urn:chronus:synth> <http://lv2plug.in/ns/ext/patch#readable> <urn:chronus:patch>' \
    "ch:patch is not readable"
  verdict bundle_description "the bundle's description is incomplete"
}

# lv2_path_clean: the build's lv2 folder holds bundles only, so lilv scans
# LV2_PATH=<it> without a single complaint.
lv2_path_clean() {
  local dir err rc
  dir=$(dirname "$bundle")
  err=$(LV2_PATH=$dir lv2info urn:chronus:synth 2>&1 >/dev/null)
  rc=$?
  if ((rc == 0)) && [[ -z $err ]]; then
    pass lv2_path_clean
  else
    sed 's/^/   | /' <<<"$err" | head -n 5
    fail lv2_path_clean "LV2_PATH=$dir: lv2info status $rc, $(grep -c . <<<"$err") lines on stderr"
  fi
}

# installed_bundle_works: `./waf install` (staged with DESTDIR) puts a
# complete bundle in the configured lv2 folder, which lilv loads cleanly,
# presets and bank included, without the build tree.
installed_bundle_works() {
  local stage=$tmp/stage out err rc dir
  if ! (cd "$root" && DESTDIR=$stage timeout 120 ./waf install) \
    >"$tmp/install.log" 2>&1; then
    tail -n 5 "$tmp/install.log" | sed 's/^/   | /'
    fail installed_bundle_works "./waf install failed"
    return
  fi
  dir=$(find "$stage" -type d -name chronus.lv2 | head -n 1)
  if [[ -z $dir ]]; then
    fail installed_bundle_works "no chronus.lv2 under the staged install"
    return
  fi
  out=$(LV2_PATH=$(dirname "$dir") lv2info urn:chronus:synth 2>"$tmp/inst.err")
  rc=$?
  err=$(cat "$tmp/inst.err")
  local problems=()
  ((rc == 0)) || problems+=("lv2info status $rc")
  [[ -z $err ]] || problems+=("lilv complains: $(head -n 2 <<<"$err" | tr '\n' ' ')")
  grep -q "Bundle:.*file://$dir/\$" <<<"$out" ||
    problems+=("lv2info does not load the installed bundle")
  local n_presets n_bank
  # preset lines ("	         NN Name"), not scale points ("NN = ...")
  n_presets=$(grep -Ec '^[[:space:]]+[0-9]{2} [^=]' <<<"$out")
  n_bank=$(find "$dir/bank" -name '[0-9][0-9]-*.ttl' | wc -l)
  ((n_presets == n_bank && n_bank > 0)) ||
    problems+=("$n_presets presets, $n_bank bank files installed")
  verdict installed_bundle_works "the installed bundle is not usable" \
    "installed to ${dir#"$stage"}, $n_bank programs"
}

lv2_path=${CH_LV2_PATH:-}
if [[ -z $lv2_path ]]; then
  lv2_path="$(dirname "$bundle"):$spec_dir"
fi
ttl_valid
lv2info_check
program_names
presets_in_bank_order
bundle_description
lv2_path_clean
installed_bundle_works
exit "$status"
