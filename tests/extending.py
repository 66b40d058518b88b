#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/extending.md shows real code: every C or JSON block in it must be,
verbatim, in the file the text before it names last (`src/...`, `topologies/...`,
`experiments/...`), so the guide cannot drift from the tree."""
import os
import re
import sys

src = sys.argv[1]
doc = open(os.path.join(src, "docs/extending.md"), encoding="utf-8").read()
blocks = list(re.finditer(r"^```(c|json)\n(.*?)^```$", doc, re.M | re.S))
print(f"1..{len(blocks)}")
start = 0
for n, b in enumerate(blocks, 1):
    prose = doc[start:b.start()]
    start = b.end()
    paths = [p for p in re.findall(r"`((?:src|topologies|experiments)/[^`\s]+)`", prose)
             if os.path.isfile(os.path.join(src, p))]
    first = b.group(2).splitlines()[0].strip()
    if not paths:
        print(f"not ok {n} - no file named before the block starting {first!r}")
        continue
    text = open(os.path.join(src, paths[-1]), encoding="utf-8").read()
    if b.group(2) in text:
        print(f"ok {n} - {paths[-1]}: {first}")
    else:
        print(f"not ok {n} - {paths[-1]} no longer has the block starting {first!r}")
