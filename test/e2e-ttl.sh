#!/usr/bin/env bash
# The bundle's Turtle: valid against the installed LV2 specs (sord_validate),
# and readable by lilv as the plugin we document (lv2info).
# Prints "PASS name" / "FAIL name" lines for test/run-tests.
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
bundle=${CH_BUNDLE_DIR:-$root/build/chronus.lv2}
spec_dir=/usr/lib/lv2 # where Debian's lv2-dev installs the specs
status=0

tmp=$(mktemp -d /tmp/chronus-e2e-ttl.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS $1"; }
fail() {
  echo "FAIL $1: $2"
  status=1
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
  symbols+=(limiter)
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
  if ((${#problems[@]})); then
    printf '   | %s\n' "${problems[@]}"
    fail lv2info "lv2info does not show the plugin as documented"
  else
    pass lv2info
  fi
}

ttl_valid
lv2info_check
exit "$status"
