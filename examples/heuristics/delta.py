#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""punchlab's built-in `delta` heuristic as an external one (docs/heuristics.md):

    punchlab predict --heuristic 'exec:python3 examples/heuristics/delta.py' FILE
    punchlab server --listen 0.0.0.0:7777 --heuristic 'exec:python3 examples/heuristics/delta.py'

One JSON request a line on stdin, one JSON answer a line on stdout. It
predicts the last port plus the last difference, then that port's
neighbours (+1, -1, +2, ...), as src/punch/heuristic.c does.
"""
import json
import sys


def wrap(p):
    """P into 1..65535, the way round the port space (0 is skipped)."""
    return (p - 1) % 65535 + 1


def diff(a, b):
    """B - A, the short way round the port space."""
    d = b - a
    if d > 32767:
        d -= 65535
    if d < -32767:
        d += 65535
    return d


def around(base, k):
    """BASE, then BASE+1, BASE-1, BASE+2, ...: k distinct ports."""
    out = [wrap(base)]
    for d in range(1, 65536):
        for p in (base + d, base - d):
            if len(out) < k and wrap(p) not in out:
                out.append(wrap(p))
        if len(out) >= k:
            break
    return out[:k]


def delta(ports, k):
    d = diff(ports[-2], ports[-1]) if len(ports) >= 2 else 1
    return around(ports[-1] + d, k)


def main():
    for line in sys.stdin:
        req = json.loads(line)
        ans = {"id": req["id"], "candidates": delta(req["ports"], req["k"])}
        sys.stdout.write(json.dumps(ans) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
