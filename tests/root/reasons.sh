#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs as root (issue 12, item 6): a trial's failure reason does not depend on
# what the NAT does with an unsolicited SYN. native x native behind rfc5382
# (drop) and behind home-2009 (RST): every failure whose punch the capture saw
# off a port S did not predict is "mispredicted" behind both, and "timeout" is
# only ever given to a trial whose ports were predicted right.
set -eu
PL=$1 SRC=$(cd "$2" && pwd)
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'
cat >"$out/reasons.json" <<JSON
{
  "description": "issue 12 item 6: failure reasons behind a dropping and a RST-ing NAT",
  "topology": "$SRC/topologies/two-nats.json",
  "matrix": {"nat": ["rfc5382", "home-2009"], "os_a": ["native", "windows-xp"]},
  "defaults": {"os_b": "native"},
  "trials": 6,
  "rounds": 1,
  "probes": 3,
  "seed": 12
}
JSON

run_suite() {
	"$PL" run "$out/reasons.json" -o "$out/res" --quiet
}

# Every failed trial of RESULTS: its reason against its prediction hits (from the capture).
same_reasons() { # RESULTS
	python3 - "$1" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
r = load(sys.argv[1])
by_cell = {c["id"]: c["fields"] for c in r["cells"]}
seen = {}
for t in r["trials"]:
    f = by_cell[t["cell"]]
    if t["connected"]:
        continue
    hit = t["prediction_hit"]
    why = t["reason"]
    seen.setdefault((f["nat"], f["os_a"]), []).append(why)
    if why == "timeout":
        assert hit["a"] is True and hit["b"] is True, ("timeout with a wrong prediction", f, t["trial"], hit)
    if hit["a"] is False or hit["b"] is False:
        assert why == "mispredicted", (f, t["trial"], why, hit)
for os_a in ("native", "windows-xp"):
    drop, rst = seen.get(("rfc5382", os_a), []), seen.get(("home-2009", os_a), [])
    print("#", os_a, "rfc5382:", drop, "home-2009:", rst)
    assert drop and rst, ("no failures to compare", os_a, drop, rst)
    assert set(drop) == {"mispredicted"} == set(rst), (os_a, drop, rst)
PY
}

check "punchlab run: native x native and windows-xp x native behind rfc5382 and home-2009" run_suite
check "the same failures get the same reason behind both NATs: mispredicted" \
	same_reasons "$(ls "$out"/res/reasons-*.json)"
