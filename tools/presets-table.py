#!/usr/bin/env python3
"""Rewrites the table of docs/presets.md from what build/test/test_sound
prints (run from the top of the source tree, after a build)."""
import re
import subprocess
import sys

rows = ['| program | what it is | LUFS | peak dBFS | DC dB | corr | alias dB | retrig dB |',
        '| --- | --- | --- | --- | --- | --- | --- | --- |']
out = subprocess.run(['build/test/test_sound'], capture_output=True,
                     text=True).stdout
for line in out.splitlines():
    m = re.match(r'\| (\S+)\.ttl\s+\|(.*)\|\s*$', line)
    if not m:
        continue
    name = m.group(1)
    values = ['-' if v.strip() == '-inf' else v.strip()
              for v in m.group(2).split('|')]
    with open('presets/bank/%s.ttl' % name) as f:
        comment = re.search(r'rdfs:comment "([^"]*)"', f.read())
    rows.append('| `%s` | %s | %s |' % (name, comment.group(1) if comment else '',
                                        ' | '.join(values)))
if len(rows) < 3:
    sys.exit('presets-table: no rows from build/test/test_sound')
with open('docs/presets.md') as f:
    text = f.read()
start = text.index('| program | what it is')
end = text.index('\n\n', start)
with open('docs/presets.md', 'w') as f:
    f.write(text[:start] + '\n'.join(rows) + text[end:])
