#!/bin/sh
# SPDX-License-Identifier: MIT
# The smoke suite end to end (as root): run it, check the table, validate the
# results file against docs/results.schema.json, and check that nothing of
# the run's labs is left (and that those checks see a leftover when there is one).
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'

# The results format is read here only.
results_as_expected() { # RESULTS SCHEMA
	python3 - "$1" "$2" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from plresults import validate
res = validate(sys.argv[1], sys.argv[2])  # RUN.json, its trials header and every trial
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
}

# three cells, each with its row; the one that cannot connect says why
table_as_expected() {
	cat "$out/table"
	grep -q "A=windows-xp B=windows-xp .* 2/2 " "$out/table"
	grep -q "A=linux-2.6 B=windows-xp .* 0/2 .* mispredicted x2" "$out/table"
	grep -q "A=linux-2.6+proxy B=macosx-10.5 " "$out/table"
}

one_results_file() {
	set -- "$out"/smoke-*.json
	if [ $# != 1 ] || [ ! -f "$1" ]; then
		echo "not one results file: $*"
		return 1
	fi
	results_as_expected "$1" "$SRC/docs/results.schema.json"
}

plan 7
"$PL" run "$SRC/experiments/smoke.json" -o "$out" > "$out/table" 2> "$out/err" &
pid=$!
rc=0
wait $pid || rc=$?
check_status 0 "punchlab run smoke.json" "$rc" "$out/err"
check "the table has the three cells and the failure reason" table_as_expected
check "the results validate against the schema, with the expected outcomes and crossing SYNs" one_results_file

# the run's labs are named r<pid>-<worker>-<cell>: namespaces pl-LAB-NODE, state LAB/
ns_left="^pl-r$((pid % 100000))-" state_left="^r$((pid % 100000))-"
check_absent "no namespace of the run is left" "$ns_left" ls /run/netns
check_absent "no state of the run is left" "$state_left" ls /run/punchlab
# the same checks see a leftover: a fake /run/netns and /run/punchlab
mkdir -p "$out/fake/netns" "$out/fake/punchlab/r$((pid % 100000))-0-1"
touch "$out/fake/netns/pl-r$((pid % 100000))-0-1-nat-a"
check_rc 1 "the namespace check sees a namespace left (in a fake /run/netns)" \
	absent "$ns_left" ls "$out/fake/netns"
check_rc 1 "the state check sees a state left (in a fake /run/punchlab)" \
	absent "$state_left" ls "$out/fake/punchlab"
