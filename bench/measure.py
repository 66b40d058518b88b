#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""measure.py [--cpu] [--max-s S] [--max-mb M] WHAT CMD...: runs CMD (stdout
to /dev/null) and prints one line: WHAT, its wall seconds and its peak RSS in
MB, with --cpu also its user and system CPU seconds (its own and its
children's). Past a target it says so. Exit status: CMD's.

The peak is CMD's own VmHWM, read from /proc every 5 ms while it runs.
getrusage(RUSAGE_CHILDREN) would not do: a child's ru_maxrss starts at the
RSS of the process it was forked from (this Python, about 14 MB), so it
never shows less. A command that ends within a few milliseconds may be read
before it peaks (its figure is then a lower bound); one never read at all
falls back to the getrusage bound, marked "<=". """
import os
import resource
import subprocess
import sys
import time

args = sys.argv[1:]
max_s = max_mb = None
cpu = bool(args) and args[0] == "--cpu"
if cpu:
    args = args[1:]
while args and args[0].startswith("--max-"):
    opt, val = args[0], float(args[1])
    if opt == "--max-s":
        max_s = val
    else:
        max_mb = val
    args = args[2:]
what, cmd = args[0], args[1:]
def hwm_kb(pid, before_exec):
    """VmHWM of PID, or 0 while it is still the copy of this process that
    fork made (its name is still ours)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return 0
    if fields.get("Name", "").strip() == before_exec and not os.path.basename(cmd[0]).startswith(before_exec):
        return 0
    return int(fields.get("VmHWM", "0 kB").split()[0])


with open("/proc/self/status") as f:
    me = f.readline().split(":", 1)[1].strip()
t0 = time.monotonic()
p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
peak = 0
while p.poll() is None:
    peak = max(peak, hwm_kb(p.pid, me))
    time.sleep(0.005)
rc = p.returncode
dt = time.monotonic() - t0
bound = ""
mb = peak / 1024
if not peak:
    mb, bound = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "<="
over = []
if max_s is not None and dt >= max_s:
    over.append("over %g s" % max_s)
if max_mb is not None and mb >= max_mb:
    over.append("over %g MB" % max_mb)
if rc:
    over.append("exit status %d" % rc)
times = ""
if cpu:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    times = "  (user %.1f s, sys %.1f s)" % (ru.ru_utime, ru.ru_stime)
print("%-38s %7.2f s %2s%6.1f MB%s%s" % (what, dt, bound, mb, times,
                                        "   <-- " + ", ".join(over) if over else ""))
sys.exit(rc)
