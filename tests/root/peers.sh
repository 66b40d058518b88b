#!/bin/sh
# SPDX-License-Identifier: MIT
# Third-party programs as peers (as root): socat through a simultaneous open
# (experiments/socat-peers.json, two trials a cell; two cells with the
# runner's rendezvous), then commands that go
# wrong: `true` (exits 0, connects nothing: not connected), a command that
# hangs (its whole group killed at the deadline, no process of it left), and
# one that writes more than the 4 KiB kept. Checked from the results files.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
# (a command the runner failed to kill dies with its lab's namespaces); the
# results stay for a look when a check of them failed
at_exit 'if [ -e "$out/failed" ]; then echo "peers.sh: results kept in $out" >&2; else rm -rf "$out"; fi'

# validated RESULTS of DIR, then PYTHON with res (the run) and cells (by
# "METHOD/NAT": (cell, its trials)); a failure keeps $out
results() { # DIR PYTHON
	set -- "$1"/*.json "$2"
	rc=0
	python3 - "$1" "$SRC/docs/results.schema.json" "$SRC/tests" "$2" <<'PY' || rc=$?
import sys
sys.path.insert(0, sys.argv[3])
from plresults import validate
res = validate(sys.argv[1], sys.argv[2])
trials = {}
for t in res["trials"]:
    trials.setdefault(t["cell"], []).append(t)
cells = {}
for c in res["cells"]:
    f = c["fields"]
    cells[f.get("method", "predict") + "/" + f.get("nat", "")] = (c, trials[c["id"]])
exec(sys.argv[4])
PY
	[ "$rc" = 0 ] || { : > "$out/failed"; return 1; }
}

socat_connects() {
	results "$out/socat" '
for key in ("reuse/rfc5382", "predict/rfc5382"):
    c, ts = cells[key]
    for t in ts:
        assert t["connected"] and t["capture"]["syns_crossed"], (key, t)
    assert c["successes"] == 2, (key, c)
    for t in ts:
        for side, other in (("a", "b"), ("b", "a")):
            assert t[side]["exit"] == 0 and "got: hello from " + other in t[side]["stdout"], t[side]
'
}
# the runner's rendezvous: its outcome in the record, and the command used it
runner_rendezvous() {
	results "$out/socat" '
for key in ("reuse/full-cone", "predict/rfc5382"):
  for t in cells[key][1]:
    for side in "ab":
        r = t[side]["rendezvous"]
        want = "local :%s remote %s got: " % (r["LOCAL_PORT"], r["REMOTE"])
        assert t[side]["stdout"].startswith(want), (want, t[side]["stdout"])
        assert int(r["LOCAL_PORT"]) > 0 and float(r["GO_AT"]) > 1.7e9, r
assert cells["reuse/full-cone"][0]["successes"] == 2, cells["reuse/full-cone"][0]
assert all("rendezvous" not in t[s] for t in cells["reuse/rfc5382"][1] for s in "ab")
'
}
socat_fails_symmetric() {
	results "$out/socat" '
c, ts = cells["reuse/symmetric-random"]
assert c["successes"] == 0 and c["failures"] == {"command-failed": 2}, c
for t in ts:
    assert not t["capture"]["syns_crossed"], t["capture"]
    assert "Connection refused" in t["a"]["stderr"] + t["b"]["stderr"], (t["a"], t["b"])
'
}

# the hanging command: a ignores SIGTERM and leaves a child in the
# background, b is a plain sleep; in trial 1, a first says which process of
# trial 0 is still alive. The lab's teardown kills whatever is left in its
# namespaces, so only a look from inside the lab, between trials, sees what
# the group kill did.
cat > "$out/hang.sh" <<'SH'
#!/bin/sh
out=${0%/*} t=$PUNCHLAB_TRIAL
if [ "$PUNCHLAB_ROLE" = a ] && [ "$t" = 1 ]; then
	n=0
	for f in "$out/pid.a.0" "$out/child.a.0" "$out/pid.b.0"; do
		n=$((n + 1))
		st=$(ps -o stat= -p "$(cat "$f")" || true)
		case $st in '' | Z*) ;; *) echo "left: $f $(cat "$f") $st" ;; esac
	done
	echo "checked $n"
fi
echo $$ > "$out/pid.$PUNCHLAB_ROLE.$t"
[ "$PUNCHLAB_ROLE" = b ] && exec sleep 1000
trap '' TERM
sleep 1000 &
echo $! > "$out/child.a.$t"
wait
SH
chmod +x "$out/hang.sh"

# the bad commands: one cell each, told apart by their "nat"
cat > "$out/bad.json" <<JSON
{
  "description": "commands that go wrong",
  "topology": "$SRC/topologies/two-nats.json",
  "defaults": {"method": "reuse", "command_timeout_ms": 1500},
  "matrix": {},
  "include": [
    {"nat": "rfc5382", "peer_a_command": ["true"], "peer_b_command": ["true"]},
    {"nat": "full-cone", "peer_a_command": ["$out/hang.sh"], "peer_b_command": ["$out/hang.sh"]},
    {"nat": "home-2009", "peer_a_command": ["sh", "-c", "yes x | head -c 100000; echo oops >&2"],
     "peer_b_command": ["true"]}
  ],
  "trials": 2,
  "rounds": 1
}
JSON

true_not_connected() {
	results "$out/bad" '
c, (t, _) = cells["reuse/rfc5382"]
assert not t["connected"] and t["reason"] == "no-crossing", t
assert t["a"]["exit"] == 0 and t["b"]["exit"] == 0 and not t["a"]["killed"], t
assert "no SYNs crossing" in t["a"]["error"], t["a"]
'
}
hang_killed() {
	results "$out/bad" '
c, ts = cells["reuse/full-cone"]
for t in ts:
    assert not t["connected"] and t["reason"] == "command-timeout", t
    for side in "ab":
        assert t[side]["killed"] and t[side]["exit"] is None, t[side]
        # b may start a little after a (a fork of the runner each), and the
        # deadline counts from the first start
        assert 1000 <= t[side]["ms"] < 1500 + 500 + 1000, (side, t[side]["ms"])
    # b died of the SIGTERM; a ignored it, SIGKILL ended it
    assert t["b"]["signal"] == "TERM" and t["a"]["signal"] == "KILL", (t["a"]["signal"], t["b"]["signal"])
'
}
# trial 1 looked, inside the lab, for trial 0's processes: none was left
group_gone_between_trials() {
	results "$out/bad" '
c, ts = cells["reuse/full-cone"]
assert ts[1]["a"]["stdout"] == "checked 3\n", ts[1]["a"]["stdout"]
'
}
# after the run too, for both trials: their pids, their groups, and the
# child a left in the background (it ignored SIGTERM too); a zombie (Z) is
# dead, waiting for init to reap it, as a killed orphan is a moment
nothing_left() {
	for f in "$out"/pid.a.0 "$out"/pid.b.0 "$out"/child.a.0 "$out"/pid.a.1 "$out"/pid.b.1 "$out"/child.a.1; do
		[ -s "$f" ] || { echo "$f: no pid written"; return 1; }
		st=$(ps -o stat= -p "$(cat "$f")" || true)
		case $st in
		'' | Z*) ;;
		*) echo "$f: process $(cat "$f") is alive ($st)"; return 1 ;;
		esac
	done
	for f in "$out"/pid.a.? "$out"/pid.b.?; do
		left=$(ps -e -o pid=,pgid=,stat=,args= | awk -v g="$(cat "$f")" '$2 == g && $3 !~ /^Z/')
		[ -z "$left" ] || { echo "group of $f: $left"; return 1; }
	done
}
output_bounded() {
	results "$out/bad" '
c, (t, _) = cells["reuse/home-2009"]
a = t["a"]
assert len(a["stdout"]) == 4096 and a["stdout"] == "x\n" * 2048 and a["stdout_truncated"], (len(a["stdout"]), a["stdout_truncated"])
assert a["stderr"] == "oops\n" and not a["stderr_truncated"], a
assert not t["connected"] and t["reason"] == "no-crossing", t
'
}

plan 11
"$PL" run "$SRC/experiments/socat-peers.json" --trials 2 -o "$out/socat" > "$out/socat.table" 2> "$out/socat.err" &
pid=$!
rc=0
wait $pid || rc=$?
check_status 0 "punchlab run socat-peers.json --trials 2" "$rc" "$out/socat.table" "$out/socat.err"
check "socat connects by reuse and by prediction behind rfc5382, the SYNs crossing, a line each way" socat_connects
check "with the runner's rendezvous, socat connects from the port and to the endpoint in its environment (full-cone; and prediction)" runner_rendezvous
check "socat never connects by reuse behind symmetric-random: the other NAT refuses the SYN" socat_fails_symmetric
check_absent "no namespace of the run is left" "^pl-r$((pid % 100000))-" ls /run/netns

rc=0
"$PL" run "$out/bad.json" -o "$out/bad" > "$out/bad.table" 2> "$out/bad.err" || rc=$?
check_status 0 "punchlab run with true, a hanging and a chatty command" "$rc" "$out/bad.table" "$out/bad.err"
check "true on both sides exits 0 and is not connected: no-crossing" true_not_connected
check "a hanging command is killed at its deadline, SIGTERM then SIGKILL, with its group" hang_killed
check "trial 1 saw no process of trial 0's hanging commands left in the lab" group_gone_between_trials
check "no process of the hanging commands is left after the run (pid, group, background child)" nothing_left
check "stdout beyond 4 KiB is cut and marked; stderr kept whole" output_bounded
