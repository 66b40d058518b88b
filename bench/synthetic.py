#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""synthetic.py OUT TRIALS REFERENCE...: a synthetic run in OUT of TRIALS real
trial records (the trials of the version 1 REFERENCE files), relabelled over
the cells listed in OUT/cells.txt (`punchlab run --dry-run` lines: ID FIELDS),
as OUT/synthetic-20260101T000000Z.json and .trials.ndjson. The summaries
are left to `punchlab merge`. Used by bench/results-scale and
bench/report-scale."""
import json, sys, os, hashlib
out, n, refs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
records = []
for f in refs:
    records += json.load(open(f))["trials"]          # version 1 files: real trials
cells = []
for line in open(os.path.join(out, "cells.txt")):
    cid, fields = line.split(" ", 1)
    cells.append((cid, json.loads(fields)))
sha = hashlib.sha256(open("experiments/nat-matrix.json", "rb").read()).hexdigest()
base = "synthetic-20260101T000000Z"
count = {}
with open(os.path.join(out, base + ".trials.ndjson"), "w") as f:
    f.write(json.dumps({"format": "punchlab-trials", "version": 2, "suite_sha256": sha},
                       separators=(",", ":")) + "\n")
    for i in range(n):
        cid = cells[i % len(cells)][0]
        t = dict(records[i % len(records)])
        t["cell"], t["trial"] = cid, count.get(cid, 0)
        count[cid] = t["trial"] + 1
        f.write(json.dumps(t, separators=(",", ":")) + "\n")
# the summaries are punchlab merge's job; these only have to be well formed
summ = [{"id": cid, "fields": fl, "trials": count[cid], "successes": 0} for cid, fl in cells if cid in count]
doc = {"format": "punchlab-results", "version": 2,
       "metadata": {"punchlab": "bench", "start_utc": "2026-01-01T00:00:00Z", "end_utc": "2026-01-01T00:00:00Z",
                    "kernel": "", "command": "bench/results-scale", "sysctls": {}, "delay_mechanism": [],
                    "interrupted": False, "capture_drops": 0},
       "suite": {"file": os.path.abspath("experiments/nat-matrix.json"), "sha256": sha,
                 "description": "synthetic: %d real trial records over the nat-matrix cells" % n,
                 "trials": max(count.values()), "rounds": 3, "probes": 3, "seed": 1, "cells": len(cells)},
       "trials_file": base + ".trials.ndjson", "trials_count": n, "cells": summ}
json.dump(doc, open(os.path.join(out, base + ".json"), "w"))
