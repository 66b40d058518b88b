#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""measure.py [--max-s S] [--max-mb M] WHAT CMD...: runs CMD (stdout to
/dev/null) and prints one line: WHAT, its wall seconds and its peak RSS in MB
(of CMD alone: getrusage of this process's only child). Past a target it says
so. Exit status: CMD's."""
import resource
import subprocess
import sys
import time

args = sys.argv[1:]
max_s = max_mb = None
while args and args[0].startswith("--max-"):
    opt, val = args[0], float(args[1])
    if opt == "--max-s":
        max_s = val
    else:
        max_mb = val
    args = args[2:]
what, cmd = args[0], args[1:]
t0 = time.monotonic()
rc = subprocess.call(cmd, stdout=subprocess.DEVNULL)
dt = time.monotonic() - t0
mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
over = []
if max_s is not None and dt >= max_s:
    over.append("over %g s" % max_s)
if max_mb is not None and mb >= max_mb:
    over.append("over %g MB" % max_mb)
if rc:
    over.append("exit status %d" % rc)
print("%-38s %7.2f s %8.1f MB%s" % (what, dt, mb, "   <-- " + ", ".join(over) if over else ""))
sys.exit(rc)
