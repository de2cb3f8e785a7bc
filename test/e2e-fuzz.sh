#!/usr/bin/env bash
# Builds every libFuzzer target test/fuzz/fuzz_NAME.c with clang-22 (ASan,
# UBSan, LeakSanitizer) against the engine and the plugin code, runs each
# for a bounded time on its seed corpus test/fuzz/corpus/NAME/, and prints
# one PASS/FAIL line per target for test/run-tests.  docs/fuzzing.md.
#
# Env: CH_FUZZ_SECONDS  run time per target (default 60)
#      CH_FUZZ_ARGS     more libFuzzer options (e.g. -jobs=2)
#      CH_FUZZ_ONLY     run only targets whose name contains this
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
cc=${CH_FUZZ_CC:-clang-22}
seconds=${CH_FUZZ_SECONDS:-60}
out=$root/build-fuzz

if ! command -v "$cc" >/dev/null; then
  echo "FAIL fuzz ($cc not found: run tools/setup.sh)"
  exit 1
fi
shopt -s nullglob
targets=(test/fuzz/fuzz_*.c)
if ((${#targets[@]} == 0)); then
  echo "FAIL fuzz (no test/fuzz/fuzz_*.c)"
  exit 1
fi

pkgs=(lv2 serd-0 sord-0 lilv-0 sratom-0 liblo)
read -ra pkg_cflags <<<"$(pkg-config --cflags "${pkgs[@]}")"
read -ra pkg_libs <<<"$(pkg-config --libs "${pkgs[@]}")"
san=("-fsanitize=address,undefined" -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer)
cflags=(-std=c11 -O1 -g "${san[@]}" -Wall -Wextra
  -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -DCH_FUZZ=1
  '-DCH_VERSION="fuzz"' "-DCH_BUNDLE_DIR=\"$out/lv2/chronus.lv2\""
  "-DCH_SOURCE_DIR=\"$root\"" -Isrc -Iplugin -Itest -Itools
  "${pkg_cflags[@]}")
libs=("${pkg_libs[@]}" -lm -lpthread -ldl)

# The engine, the plugin's code, the LV2 host library and the test helpers
# in one archive: each target takes what it uses (rtcheck.c's interposer
# steps aside under ASan).
mkdir -p "$out/obj"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
lib_src=(src/*.c src/modules/*.c plugin/*.c tools/lib/*.c)
for h in test/*.c; do
  case $(basename "$h") in test_*.c) ;; *) lib_src+=("$h") ;; esac
done
objs=()
build_ok=true
for src in "${lib_src[@]}"; do
  obj=$out/obj/$(echo "$src" | tr / _).o
  objs+=("$obj")
  # -fsanitize=fuzzer-no-link: coverage for the fuzzer, no main().
  "$cc" "${cflags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj" \
    >>"$log" 2>&1 || build_ok=false
done
rm -f "$out/libchronus_fuzz.a"
if ! $build_ok || ! ar rcs "$out/libchronus_fuzz.a" "${objs[@]}" >>"$log" 2>&1; then
  echo "FAIL fuzz (building the engine failed)"
  grep -E 'error' "$log" | head -n 20 | sed 's/^/   | /'
  exit 1
fi

for t in "${targets[@]}"; do
  name=$(basename "$t" .c)
  short=${name#fuzz_}
  [[ -n ${CH_FUZZ_ONLY:-} && $short != *"$CH_FUZZ_ONLY"* ]] && continue
  bin=$out/$name
  if ! "$cc" "${cflags[@]}" -fsanitize=fuzzer "$t" "$out/libchronus_fuzz.a" \
    "${libs[@]}" -o "$bin" >"$log" 2>&1; then
    echo "FAIL $name (build failed)"
    grep -E 'error' "$log" | head -n 20 | sed 's/^/   | /'
    continue
  fi
  # Run on a copy of the seeds, so new finds do not touch the repository.
  work=$out/corpus-$short
  rm -rf "$work" && mkdir -p "$work"
  [[ -d test/fuzz/corpus/$short ]] && cp -r "test/fuzz/corpus/$short/." "$work/"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
    -malloc_limit_mb=1024 -detect_leaks=1 -print_final_stats=1
    -artifact_prefix="$out/$name-")
  [[ -f test/fuzz/$name.dict ]] && args+=(-dict="test/fuzz/$name.dict")
  # shellcheck disable=SC2206
  args+=(${CH_FUZZ_ARGS:-})
  start=$SECONDS
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    timeout -k 10 $((seconds + 120)) "$bin" "${args[@]}" "$work" >"$log" 2>&1
  rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1)
  what="${runs:-?} runs in $((SECONDS - start)) s, ${cov:-cov: ?}, corpus $(find "$work" -type f | wc -l)"
  if ((rc == 0)); then
    echo "PASS $name ($what)"
  else
    echo "FAIL $name (exit $rc; $what)"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|fuzz_[a-z]+:' "$log" |
      head -n 20 | sed 's/^/   | /'
    tail -n 30 "$log" | sed 's/^/   | /'
  fi
done
