#!/usr/bin/env bash
# The docs say what the program does: docs/modules.md is what the registry
# says, and every example in README.md and docs/*.md (patches, scripts,
# commands, the headless jalv recipe) runs and prints what the text shows
# (test/doctest.py explains the <!-- doc-test: ... --> markers).
set -u
root=${CH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
if diff -u "$root/docs/modules.md" <("$root/build/tools/chronus-modules") >&2; then
  echo "PASS docs_modules_current"
else
  echo "docs/modules.md is stale: build/tools/chronus-modules > docs/modules.md" >&2
  echo "FAIL docs_modules_current"
fi

# docs/hosts.md starts a JACK server named chronus-headless: runs take
# turns, so that two never fight over the name.
exec 9>>/tmp/chronus-headless-jack.lock
if ! flock -w 60 9; then
  echo "FAIL docs_examples (another run held the JACK lock for 60 s)"
  exit 0
fi
python3 "$root/test/doctest.py" "$root" "$root/README.md" "$root"/docs/*.md 9>&-
