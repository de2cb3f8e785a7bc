#!/usr/bin/env bash
# docs/modules.md must be what the registry says: regenerate and compare.
set -u
root=${CH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
if diff -u "$root/docs/modules.md" <("$root/build/tools/chronus-modules") >&2; then
  echo "PASS docs_modules_current"
else
  echo "docs/modules.md is stale: build/tools/chronus-modules > docs/modules.md" >&2
  echo "FAIL docs_modules_current"
fi
