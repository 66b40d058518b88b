#!/usr/bin/awk -f
# SPDX-License-Identifier: MIT
# The `delta` heuristic in awk (docs/heuristics.md): the last port plus the
# last difference, then its neighbours; the same answers as the built-in.
#   punchlab predict --heuristic 'exec:awk -f examples/heuristics/delta.awk' FILE
function wrap(p) { p = (p - 1) % 65535; return (p < 0 ? p + 65535 : p) + 1 }
function add(p) { p = wrap(p); if (m < k && !(p in got)) { got[p]; out = out (m++ ? "," : "") p } }
{
	match($0, /"id":[0-9]+/); id = substr($0, RSTART + 5, RLENGTH - 5)
	match($0, /"k":[0-9]+/); k = substr($0, RSTART + 4, RLENGTH - 4)
	match($0, /"ports":\[[0-9,]*\]/); n = split(substr($0, RSTART + 9, RLENGTH - 10), p, ",")
	d = n >= 2 ? p[n] - p[n - 1] : 1
	if (d > 32767) d -= 65535; else if (d < -32767) d += 65535
	m = 0; out = ""; split("", got); base = p[n] + d
	for (i = 0; m < k && i < 65536; i++) { add(base + i); if (i) add(base - i) }
	printf "{\"id\":%s,\"candidates\":[%s]}\n", id, out; fflush()
}
