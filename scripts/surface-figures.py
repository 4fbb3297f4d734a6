#!/usr/bin/env python3
"""Surface figures of shared/src for the closing note (issue 12 §5).

- lines: all lines of every .rs file under shared/src
- files over 700 lines
- pub items: lines matching `^\s*pub ` (same as `grep -rE '^\s*pub ' shared/src | wc -l`)
- functions over 50 lines: from the line of `fn name` to its closing brace, counted by brace depth
  (strings and comments are stripped first, roughly: "..." literals, // comments, char literals).
"""
import os, re, sys

root = sys.argv[1] if len(sys.argv) > 1 else "shared/src"
FN = re.compile(r'^\s*(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)')

def strip(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "''", line)
    i = line.find('//')
    return line[:i] if i >= 0 else line

total, big_files, pubs, long_fns = 0, [], 0, []
for d, _, fs in os.walk(root):
    for f in sorted(fs):
        if not f.endswith('.rs'):
            continue
        p = os.path.join(d, f)
        lines = open(p, encoding='utf-8').read().split('\n')
        if lines and lines[-1] == '':
            lines.pop()
        total += len(lines)
        if len(lines) > 700:
            big_files.append((len(lines), p))
        pubs += sum(1 for l in lines if re.match(r'^\s*pub ', l))
        i = 0
        while i < len(lines):
            m = FN.match(lines[i])
            if not m:
                i += 1
                continue
            depth, started, j = 0, False, i
            while j < len(lines):
                s = strip(lines[j])
                if not started and ';' in s and '{' not in s:
                    break  # a declaration without a body (trait method)
                for c in s:
                    if c == '{':
                        depth += 1; started = True
                    elif c == '}':
                        depth -= 1
                if started and depth <= 0:
                    break
                j += 1
            n = j - i + 1
            if started and n > 50:
                long_fns.append((n, p, m.group(6)))
            i += 1  # nested fns are counted on their own
print(f"lines in {root}: {total}")
print(f".rs files over 700 lines: {len(big_files)}")
for n, p in sorted(big_files, reverse=True):
    print(f"  {n:5} {p}")
print(f"pub items (grep -rE '^\\s*pub ' {root} | wc -l): {pubs}")
print(f"functions over 50 lines: {len(long_fns)}")
if '-v' in sys.argv:
    for n, p, name in sorted(long_fns, reverse=True):
        print(f"  {n:5} {p} {name}")
