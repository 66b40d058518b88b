#!/bin/sh
# SPDX-License-Identifier: MIT
# The smoke suite end to end (as root): run it, check the table, validate the
# results file against docs/results.schema.json, and check that nothing of
# the run's labs is left.
set -eu
PL=$1 SRC=$2
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "1..4"
"$PL" run "$SRC/experiments/smoke.json" -o "$out" > "$out/table" 2> "$out/err" &
pid=$!
wait $pid
echo "ok 1 - punchlab run smoke.json"
f=$(ls "$out"/smoke-*.json)
grep -q "A=windows-xp B=windows-xp" "$out/table" && grep -q "mispredicted" "$out/table"
echo "ok 2 - the table has the cells and the failure reason"
python3 - "$f" "$SRC/docs/results.schema.json" <<'PY'
import json, sys, jsonschema
res, schema = (json.load(open(p)) for p in sys.argv[1:3])
jsonschema.validate(res, schema)
cells = {c["id"]: c for c in res["cells"]}
assert len(cells) == 3 and len(res["trials"]) == 6, (len(cells), len(res["trials"]))
xp = [c for c in cells.values() if c["fields"]["os_a"] == "windows-xp"][0]
lin = [c for c in cells.values() if c["fields"]["os_a"] == "linux-2.6" and "proxy_a" not in c["fields"]][0]
assert xp["successes"] == 2, xp
assert lin["successes"] == 0 and lin["failures"] == {"mispredicted": 2}, lin
assert not res["metadata"]["interrupted"]
assert res["metadata"]["capture_drops"] == 0, res["metadata"]["capture_drops"]
for t in res["trials"]:
    cap = t["capture"]
    assert cap["syns_crossed"] == t["connected"], (t["cell"], t["trial"], cap["syns_crossed"])
    assert set(cap["external_ports"]) == {"nat-a", "nat-b"}, cap["external_ports"]
PY
echo "ok 3 - the results validate against the schema, with the expected outcomes and crossing SYNs"
# the run's labs are named r<pid>-<worker>-<cell>
! ls /run/netns 2>/dev/null | grep -q "^pl-r$((pid % 100000))-"
! ls /run/punchlab 2>/dev/null | grep -q "^r$((pid % 100000))-"
echo "ok 4 - no namespace or state of the run is left"
