#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# External heuristics that go wrong, for tests/heuristics.sh. Each answers
# its first request (round 0, at start) properly, then per MODE:
#   hang     never answers again (the deadline)
#   crash3   answers, but exits with status 3 on its third prediction
#   garbage  prints a line that is not JSON
#   flood    prints 10 MB without a newline
#   good     answers last+1 (for the server's side of a good heuristic)
import json
import sys
import time

mode = sys.argv[1]
calls = 0
for line in sys.stdin:
    req = json.loads(line)
    answer = json.dumps({"id": req["id"], "candidates": [req["ports"][-1] % 65535 + 1]})
    if req["round"] == 0 or mode == "good":
        print(answer, flush=True)
        continue
    calls += 1
    if mode == "hang":
        time.sleep(3600)
    elif mode == "crash3" and calls == 3:
        sys.exit(3)
    elif mode == "garbage":
        print("the port after the last one, I think", flush=True)
    elif mode == "flood":
        sys.stdout.write("x" * 10_000_000)
        sys.stdout.flush()
    else:
        print(answer, flush=True)
