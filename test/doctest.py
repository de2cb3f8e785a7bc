#!/usr/bin/env python3
"""Runs the examples of Chronus's Markdown docs and checks that they do what
the text says.  Used by test/e2e-docs.sh; prints "PASS name" / "FAIL name".

Every fenced block (```) in a document must follow a marker comment on the
line before it (blank lines between are allowed), so that no example goes
untested by accident:

  <!-- doc-test: file NAME -->       the block is saved as NAME (a patch, a
                                     script) in the document's scratch folder
  <!-- doc-test: run -->             the block runs in bash (-e -u) in the
                                     scratch folder and must exit 0
  <!-- doc-test: run STATUS -->      ... and must exit with STATUS
  <!-- doc-test: output -->          each non-blank line of the block must
                                     appear, in order, in what the last run
                                     printed (stdout and stderr); runs of
                                     blanks count as one
  <!-- doc-test: output numbers -->  the same, but any number matches any
                                     number (times, levels, build times)
  <!-- doc-test: skip REASON -->     not run, for a reason (a display, a DAW)

Each document gets one scratch folder, shared by its blocks in order, with
`build`, `tools` and `presets` linked to the checkout and HOME pointing at
the folder itself (so `~/.lv2` is the scratch folder's).  A run is killed
after CH_DOC_TIMEOUT seconds (default 60), and its background jobs with it.

Usage: test/doctest.py ROOT DOC.md...
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

MARKER = re.compile(r"^<!--\s*doc-test:\s*(\w+)\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(```|~~~)")
NUMBER = re.compile(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?")


def blocks(path):
    """(line number, marker kind, marker argument, block text) per block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, marker, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        m = MARKER.match(line.strip())
        if m:
            marker = (m.group(1), m.group(2), i + 1)
        elif FENCE.match(line.strip()):
            fence = line.strip()[:3]
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(fence):
                body.append(lines[i])
                i += 1
            kind, arg, _ = marker if marker else (None, "", 0)
            out.append((start, kind, arg, "\n".join(body) + "\n"))
            marker = None
        elif line.strip() and marker and not line.startswith("<!--"):
            marker = None  # a marker applies to the very next block only
        i += 1
    return out


def normalise(text, numbers):
    text = re.sub(r"[ \t]+", " ", text.strip())
    return NUMBER.sub("N", text) if numbers else text


def check_output(expected, printed, numbers):
    """The first expected line not found in order, or None."""
    got = [normalise(line, numbers) for line in printed.split("\n")]
    pos = 0
    for line in expected.split("\n"):
        want = normalise(line, numbers)
        if not want:
            continue
        while pos < len(got) and want not in got[pos]:
            pos += 1
        if pos == len(got):
            return line
        pos += 1
    return None


def run(script, cwd, timeout):
    """Runs `script` in its own process group; (status, output)."""
    env = dict(os.environ, HOME=cwd)
    env.pop("LV2_PATH", None)
    proc = subprocess.Popen(
        ["bash", "-euc", script], cwd=cwd, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return 124, out + "\n(timed out after %d s)" % timeout
    finally:
        try:  # whatever it left running in the background
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    return proc.returncode, out


def test_document(root, doc, timeout):
    name = os.path.relpath(doc, root)
    scratch = tempfile.mkdtemp(prefix="chronus-doctest.")
    for link in ("build", "tools", "presets"):
        os.symlink(os.path.join(root, link), os.path.join(scratch, link))
    failures, last, ran = [], "", 0
    for line, kind, arg, text in blocks(doc):
        where = "%s:%d" % (name, line)
        if kind == "file":
            with open(os.path.join(scratch, arg), "w") as f:
                f.write(text)
        elif kind == "run":
            want = int(arg) if arg else 0
            status, last = run(text, scratch, timeout)
            ran += 1
            if status != want:
                failures.append("%s: exit status %d, want %d:\n%s" %
                                (where, status, want, last[-3000:]))
        elif kind == "output":
            missing = check_output(text, last, arg == "numbers")
            if missing is not None:
                failures.append("%s: not printed: %r\nprinted:\n%s" %
                                (where, missing.strip(), last[-3000:]))
        elif kind != "skip" or not arg:
            failures.append("%s: a block without a doc-test marker (or a "
                            "skip without a reason)" % where)
    shutil.rmtree(scratch, ignore_errors=True)
    return name, failures, ran


def main():
    root = os.path.abspath(sys.argv[1])
    timeout = int(os.environ.get("CH_DOC_TIMEOUT", "60"))
    failed = 0
    for doc in sys.argv[2:]:
        name, failures, ran = test_document(root, doc, timeout)
        test = "docs_examples_" + re.sub(r"\W", "_", name[:-3])
        if failures:
            failed += 1
            for f in failures:
                print("   | " + f.replace("\n", "\n   | "), file=sys.stderr)
            print("FAIL %s" % test)
        else:
            print("PASS %s (%d runs)" % (test, ran))
    return 0


if __name__ == "__main__":
    sys.exit(main())
