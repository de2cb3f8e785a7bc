#!/usr/bin/env bash
# Builds the unit and plugin tests with clang-22 under AddressSanitizer +
# UndefinedBehaviorSanitizer (build-asan/) and RealtimeSanitizer
# (build-rtsan/: every CH_REALTIME function is checked), runs them, and
# prints one PASS/FAIL line per sanitizer build for test/run-tests.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
cc=${CH_SANITIZE_CC:-clang-22}

if ! command -v "$cc" >/dev/null; then
  echo "FAIL sanitize ($cc not found: run tools/setup.sh)"
  exit 1
fi

# name, out dir, configure flags
builds=("asan build-asan --sanitize=address,undefined"
        "rtsan build-rtsan --rtsan")

for b in "${builds[@]}"; do
  read -r name out flags <<<"$b"
  log=$(mktemp)
  # A lock file of its own, so that build/ stays the default build.
  export WAFLOCK=.lock-waf-$name
  start=$SECONDS
  if ! CC=$cc ./waf configure -o "$out" "$flags" >"$log" 2>&1 ||
    ! ./waf build -j2 >>"$log" 2>&1; then
    echo "FAIL sanitize-$name (build failed)"
    tail -n 30 "$log" | sed 's/^/   | /'
    rm -f "$log"
    continue
  fi
  built=$((SECONDS - start))
  # UBSan: print the stack; ASan: leaks fail the test too (the default).
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    CH_BUILD_DIR="$root/$out" CH_TEST_TIMEOUT=300 \
    test/run-tests test_ >"$log" 2>&1
  rc=$?
  last=$(tail -n 1 "$log")
  if ((rc == 0)); then
    echo "PASS sanitize-$name ($last; built in ${built}s, run in $((SECONDS - start - built))s)"
  else
    echo "FAIL sanitize-$name ($last)"
    grep -E '^(FAIL|failed:)|ERROR: |runtime error:|SUMMARY:' "$log" | head -n 40 |
      sed 's/^/   | /'
  fi
  rm -f "$log"
done
