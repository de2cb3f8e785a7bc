#!/usr/bin/env bash
# Sets up, builds and runs every test; the last line is "N passed, N failed".
# Arguments go to test/run-tests (name filters); CH_CONFIGURE_FLAGS go to
# waf configure (e.g. CC=clang-22 CH_CONFIGURE_FLAGS=--rtsan tools/test.sh).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

tools/setup.sh || { echo "setup failed"; exit 1; }
# Configure every time: it is fast and picks up wscript changes.
./waf configure ${CH_CONFIGURE_FLAGS:-} >/dev/null || { ./waf configure ${CH_CONFIGURE_FLAGS:-}; exit 1; }
./waf build || exit 1
exec test/run-tests "$@"
