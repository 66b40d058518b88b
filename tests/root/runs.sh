#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs as root: a SIGINT during `punchlab run` and --resume completing it with
# no trial twice; --shard 1/2 + --shard 2/2 + merge equal to the whole; bad
# results files refused with FILE:LINE:COL.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'
suite=$SRC/experiments/smoke.json

# The results format is read here only.
interrupted_so_far() { # RESULTS
	python3 - "$1" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
a = load(sys.argv[1])
assert a["metadata"]["interrupted"] and 0 < len(a["trials"]) < 18, (a["metadata"]["interrupted"], len(a["trials"]))
PY
}
resumed_whole() { # FIRST RESUMED
	python3 - "$1" "$2" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from plresults import load
a, b = (load(p) for p in sys.argv[1:3])
assert not b["metadata"]["interrupted"]
keys = [(t["cell"], t["trial"]) for t in b["trials"]]
assert len(keys) == 18 and len(set(keys)) == 18, (len(keys), len(set(keys)))
old = {(t["cell"], t["trial"]): t for t in a["trials"]}
assert all(b_t == old[k] for k, b_t in zip(keys, b["trials"]) if k in old), "the first run's trials changed"
PY
}
merged_equals_whole() { # MERGED WHOLE SCHEMA
	python3 - "$1" "$2" "$3" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[4])
from plresults import load, validate
m, w = validate(sys.argv[1], sys.argv[3]), load(sys.argv[2])
summ = lambda r: sorted((c["id"], c["trials"], c["successes"], sorted(c["failures"].items())) for c in r["cells"])
assert summ(m) == summ(w), (summ(m), summ(w))
assert sorted((t["cell"], t["trial"]) for t in m["trials"]) == sorted((t["cell"], t["trial"]) for t in w["trials"])
PY
}

# RESUMED holds every trial of the killed run's trials file KILLED, unchanged
resumed_from_killed() { # KILLED RESUMED
	python3 - "$1" "$2" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from plresults import load, read_trials
_, killed = read_trials(sys.argv[1])
b = load(sys.argv[2])
keys = [(t["cell"], t["trial"]) for t in b["trials"]]
assert 0 < len(killed) < 18, len(killed)
assert len(keys) == 18 and len(set(keys)) == 18, (len(keys), len(set(keys)))
assert b["trials"][:len(killed)] == killed, "the killed run's trials changed"
PY
}

# the one results file in DIR
only() {
	set -- "$1"/smoke-*.json
	if [ $# != 1 ] || [ ! -f "$1" ]; then
		echo "not one results file: $*" >&2
		return 1
	fi
	echo "$1"
}

resume() {
	"$PL" run "$suite" --trials 6 -o "$out/int" --resume "$first" --quiet
	# the resumed run writes a second file beside the first
	set -- "$out"/int/smoke-*.json
	[ $# = 2 ] || { echo "results files: $*"; return 1; }
}

# SIGKILL leaves a trials file and no RUN.json; --resume takes the trials file
kill_then_resume() {
	mkdir "$out/kill"
	"$PL" run "$suite" --trials 6 -o "$out/kill" --quiet 2>/dev/null &
	kpid=$!
	sleep 2.5
	kill -KILL $kpid
	wait $kpid || true
	for l in $(entries /run/punchlab | grep "^r$((kpid % 100000))-" || true); do
		"$PL" cleanup "$l" >/dev/null
	done
	set -- "$out"/kill/smoke-*.json
	[ ! -e "$1" ] || { echo "a killed run wrote $*"; return 1; }
	set -- "$out"/kill/smoke-*.trials.ndjson
	[ $# = 1 ] && [ -f "$1" ] || { echo "trials files: $*"; return 1; }
	killed=$1
	"$PL" run "$suite" --trials 6 -o "$out/kill" --resume "$killed" --quiet
	resumed_from_killed "$killed" "$(only "$out/kill")"
}

# -j 9 on smoke's 3 cells: each cut into three slices of 25 trials, each in
# a lab of its own; killed midway, the trials done have gaps in each cell;
# --resume (again -j 9) runs exactly the missing ones: 225, each once
split_resume_whole() {
	mkdir "$out/split"
	"$PL" run "$suite" --trials 75 -j 9 -o "$out/split" --quiet 2>/dev/null &
	kpid=$!
	i=0
	until [ "$(cat "$out"/split/smoke-*.trials.ndjson 2>/dev/null | wc -l)" -ge 12 ] ||
		[ $i -ge 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -KILL $kpid
	wait $kpid || true
	for l in $(entries /run/punchlab | grep "^r$((kpid % 100000))-" || true); do
		"$PL" cleanup "$l" >/dev/null
	done
	set -- "$out"/split/smoke-*.trials.ndjson
	killed=$1
	"$PL" run "$suite" --trials 75 -j 9 -o "$out/split" --resume "$killed" --quiet
	python3 - "$killed" "$(only "$out/split")" "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from plresults import load, read_trials
_, killed = read_trials(sys.argv[1])
b = load(sys.argv[2])
keys = [(t["cell"], t["trial"]) for t in b["trials"]]
assert len(keys) == 225 and len(set(keys)) == 225, (len(keys), len(set(keys)))
late = [k for k in ((t["cell"], t["trial"]) for t in killed) if k[1] >= 25]
assert late, "no slice but the first of a cell ran: %s" % sorted((t["cell"], t["trial"]) for t in killed)
assert b["trials"][:len(killed)] == killed, "the killed run's trials changed"
assert all(c["trials"] == 75 for c in b["cells"]), [c["trials"] for c in b["cells"]]
PY
}

shards_merge_whole() {
	"$PL" run "$suite" --shard 1/2 -o "$out/shard" --quiet
	"$PL" run "$suite" --shard 2/2 -o "$out/shard" --quiet
	"$PL" merge -o "$out/merged" "$out"/shard/smoke-*.json
	"$PL" run "$suite" -o "$out/whole" --quiet
}

# conntrack's sysctls are per namespace: the rfc5382 NATs' own (syn_sent 240)
# are recorded per cell, not the host's
nat_sysctls_own() {
	cat > "$out/sys.json" <<EOF
{"topology": "$SRC/topologies/two-nats.json", "trials": 1, "rounds": 1,
 "matrix": {"nat": ["rfc5382"], "os_a": ["linux-2.6"], "os_b": ["linux-2.6"]}}
EOF
	mkdir -p "$out/sys"
	"$PL" run "$out/sys.json" -o "$out/sys" --quiet > /dev/null
	python3 - "$out"/sys/sys-*.json "$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_syn_sent)" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
key = "net.netfilter.nf_conntrack_tcp_timeout_syn_sent"
for node in ("nat-a", "nat-b"):
    got = r["cells"][0]["nat_sysctls"][node][key]
    assert got == "240", (node, got)
assert r["metadata"]["sysctls"][key] == "240", r["metadata"]["sysctls"]
assert sys.argv[2] != "240", "the host has 240 too: the check could not tell"
PY
}

# a hairpinned simultaneous open never reaches the outside: the capture on
# the NAT's inside interface sees its SYNs cross
hairpin_crossed() {
	cat > "$out/hp.json" <<EOF
{"topology": "$SRC/topologies/same-nat.json", "trials": 3,
 "matrix": {"os_a": ["windows-xp"], "os_b": ["windows-xp"], "hairpin": [true]}}
EOF
	mkdir -p "$out/hp"
	"$PL" run "$out/hp.json" -o "$out/hp" --quiet > /dev/null
	python3 - "$out"/hp/hp-*.json "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
r = load(sys.argv[1])
ok = [t for t in r["trials"] if t["connected"]]
assert ok, "no trial connected"
for t in ok:
    c = t["capture"]
    assert c["syns_crossed"], c
    assert any(e["at"] == "nat/lan" for e in c["timeline"]), "no inside capture point"
PY
}

# Cells that need the same lab share it, and the next cell inherits none
# of the last one's host rules: two windows-xp-sp1 (the SYN_SENT RST rule on
# both hosts) never connect, two windows-xp behind the same NATs after them
# do. One lab for the two cells of each NAT; a lab each with --fresh-labs.
labs_shared() {
	cat > "$out/ls.json" <<EOF
{"topology": "$SRC/topologies/two-nats.json", "trials": 4, "rounds": 1, "seed": 5,
 "defaults": {"nat": "home-2009"},
 "include": [{"os_a": "windows-xp-sp1", "os_b": "windows-xp-sp1"},
             {"os_a": "windows-xp", "os_b": "windows-xp"},
             {"os_a": "windows-xp-sp1", "os_b": "windows-xp-sp1", "nat": "rfc5382"},
             {"os_a": "windows-xp", "os_b": "windows-xp", "nat": "rfc5382"}]}
EOF
	mkdir -p "$out/ls1" "$out/ls2"
	"$PL" run "$out/ls.json" -o "$out/ls1" --quiet > /dev/null
	"$PL" run "$out/ls.json" -o "$out/ls2" --quiet --fresh-labs > /dev/null
	python3 - "$out"/ls1/ls-*.json "$out"/ls2/ls-*.json "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from plresults import load
shared, fresh = load(sys.argv[1]), load(sys.argv[2])
assert shared["metadata"]["labs"] == 2, shared["metadata"]["labs"]
assert fresh["metadata"]["labs"] == 4, fresh["metadata"]["labs"]
for r in (shared, fresh):
    got = [c["successes"] for c in r["cells"]]
    assert got[0] == got[2] == 0, got
    assert min(got[1], got[3]) >= 3, got
    assert all(c["nat_sysctls"] for c in r["cells"]), "a cell without its NATs' sysctls"
PY
}

# libnftables select()s on its socket: one at 1024 or above ended the
# process (glibc: "bit out of range 0 - FD_SETSIZE on fd_set", seen at
# -j 64). With every descriptor below 1024 taken, a run says so and leaves
# no lab; it is never killed by the abort.
fds_full() {
	mkdir -p "$out/fd"
	rc=0
	bash -c 'for i in $(seq 3 1015); do eval "exec $i</dev/null"; done
		exec "$1" run "$2" -o "$3" --quiet' sh "$PL" "$suite" "$out/fd" \
		> "$out/fd.out" 2> "$out/fd.err" || rc=$?
	cat "$out/fd.err"
	lab=$(sed -n 's/.*: lab \(r[0-9-]*\): .*/\1/p' "$out/fd.err" | head -n 1)
	[ "$rc" = 1 ] && grep -q "no descriptor below 1024 left" "$out/fd.err" && [ -n "$lab" ] &&
		[ -z "$(ls "$out/fd")" ] && ! "$PL" topo ls | grep -q "^$lab "
}

# skew_jitter_ms: each trial draws its own skew, recorded with it, the same
# draws on a second run of the same suite
skews_drawn() {
	cat > "$out/sk.json" <<EOF
{"topology": "$SRC/topologies/public.json", "trials": 6, "rounds": 1, "seed": 3,
 "matrix": {"os_a": ["windows-xp"], "os_b": ["windows-xp"], "skew_ms": [5], "skew_jitter_ms": [5]}}
EOF
	mkdir -p "$out/sk1" "$out/sk2"
	"$PL" run "$out/sk.json" -o "$out/sk1" --quiet > /dev/null
	"$PL" run "$out/sk.json" -o "$out/sk2" --quiet > /dev/null
	python3 - "$out"/sk1/sk-*.json "$out"/sk2/sk-*.json "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[3])
from plresults import load
runs = [{t["trial"]: t["skew_ms"] for t in load(f)["trials"]} for f in sys.argv[1:3]]
s = list(runs[0].values())
assert len(s) == 6 and all(0 <= x <= 10 for x in s) and len(set(s)) == 6, s
assert runs[0] == runs[1], runs
PY
}

# the two methods are complementary: port reuse connects behind an
# endpoint-independent NAT with random ports (cgnat) where prediction cannot,
# and prediction behind a sequential symmetric NAT where reuse cannot
methods_complement() {
	cat > "$out/m.json" <<EOF
{"topology": "$SRC/topologies/two-nats.json", "trials": 3, "rounds": 1,
 "matrix": {"method": ["predict", "reuse"], "nat": ["cgnat", "symmetric-sequential"],
            "os_a": ["linux-2.6"], "os_b": ["windows-xp"]}}
EOF
	mkdir -p "$out/m"
	"$PL" run "$out/m.json" -j 4 -o "$out/m" --quiet > /dev/null
	python3 - "$out"/m/m-*.json <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
got = {(c["fields"]["method"], c["fields"]["nat"]): c["successes"] for c in r["cells"]}
want = {("predict", "cgnat"): 0, ("reuse", "cgnat"): 3,
        ("predict", "symmetric-sequential"): 3, ("reuse", "symmetric-sequential"): 0}
assert got == want, got
PY
}

# stack quirks: windows-xp-sp1 answers the other side's SYN in SYN_SENT with
# a RST (so two of them never connect), windows-xp-sp2 has at most 10
# connections half-open (its first burst of 16 guesses is 10 SYNs)
quirks() {
	cat > "$out/q.json" <<EOF
{"topology": "$SRC/topologies/two-nats.json", "trials": 3, "rounds": 1, "matrix": {},
 "include": [{"os_a": "windows-xp", "os_b": "windows-xp"},
             {"os_a": "windows-xp-sp1", "os_b": "windows-xp-sp1"},
             {"os_a": "windows-xp-sp2", "os_b": "windows-xp", "guesses": 16},
             {"os_a": "windows-xp", "os_b": "windows-xp", "guesses": 16}]}
EOF
	mkdir -p "$out/q"
	"$PL" run "$out/q.json" -j 4 -o "$out/q" --quiet > /dev/null
	python3 - "$out"/q/q-*.json "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
r = load(sys.argv[1])
key = lambda f: (f["os_a"], f["os_b"], f.get("guesses", 1))
cells = {c["id"]: key(c["fields"]) for c in r["cells"]}
ok = {key(c["fields"]): c["successes"] for c in r["cells"]}
assert ok[("windows-xp", "windows-xp", 1)] == 3, ok
assert ok[("windows-xp-sp1", "windows-xp-sp1", 1)] == 0, ok
burst = {}
for t in r["trials"]:
    k = cells[t["cell"]]
    if k[2] != 16:
        continue
    # peer A's punch SYNs leaving nat-a for nat-b's address: the first burst
    syns = [e["ms"] for e in t["capture"]["timeline"]
            if e["at"] == "nat-a" and e["flags"] == "S" and e["src"].startswith("198.18.0.2:")
            and e["dst"].startswith("198.18.0.3:")]
    # the first 5 ms: the queued ones wait for a RST, 10 ms at least away
    burst.setdefault(k[0], []).append(sum(1 for x in syns if x - min(syns) < 5))
assert all(b == 10 for b in burst["windows-xp-sp2"]), burst
assert all(b > 10 for b in burst["windows-xp"]), burst
PY
}

# runtime flash: the policy fetch from the other peer's host at the punch
# takes the port S predicted, so the first round misses; Flash keeps the
# policy, so the second round connects
flash_round_two() {
	cat > "$out/fl.json" <<EOF
{"topology": "$SRC/topologies/two-nats.json", "trials": 3, "rounds": 2, "matrix": {},
 "include": [{"os_a": "windows-xp", "os_b": "windows-xp", "runtime": "flash"}]}
EOF
	mkdir -p "$out/fl"
	"$PL" run "$out/fl.json" -o "$out/fl" --quiet > /dev/null
	python3 - "$out"/fl/fl-*.json "$SRC/tests" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import load
for t in load(sys.argv[1])["trials"]:
    a = t["a"]
    assert t["connected"] and t["rounds"] == 2, (t["connected"], t["rounds"])
    assert a["runtime"] == "flash" and a["policy_fetches"] == 2, a
    ports = [e for e in t["capture"]["timeline"] if e["dst"].endswith(":843")]
    assert len(ports) >= 3, ports  # S's twice (each peer), the other peer's host
PY
}

plan 22
check "runtime flash: the policy fetch takes the predicted port, round two connects" flash_round_two
check "stack quirks: two windows-xp-sp1 never connect; windows-xp-sp2 sends 10 of 16 guesses at once" quirks
check "method reuse connects behind cgnat, predict behind symmetric-sequential, not the reverse" methods_complement
check "skew_jitter_ms: a skew drawn per trial in skew_ms +- jitter, recorded, the same on a rerun" skews_drawn
check "hairpinned opens: the NAT's inside capture sees the SYNs cross" hairpin_crossed
check "each cell records its NATs' sysctls, read in their namespaces" nat_sysctls_own
check "cells that need the same lab share it, without the last cell's host rules" labs_shared
check "no descriptor below 1024 for nftables: a clear error, no abort, no lab left" fds_full
mkdir "$out/int"
"$PL" run "$suite" --trials 6 -o "$out/int" --quiet 2> "$out/int.err" &
pid=$!
sleep 2.5
kill -INT $pid
rc=0
wait $pid || rc=$?
check_status 130 "SIGINT: punchlab run exits 130" "$rc" "$out/int.err"
first=$(only "$out/int")
check "SIGINT writes the results so far, marked interrupted" interrupted_so_far "$first"
check "--resume runs the rest into a new file" resume
second=""
for f in "$out"/int/smoke-*.json; do
	[ "$f" = "$first" ] || second=$f
done
check "--resume completes them, no trial twice, the first run's trials unchanged" \
	resumed_whole "$first" "$second"

check "SIGKILL, then --resume from the trials file: 18 trials, the killed run's unchanged" \
	kill_then_resume
mkdir "$out/other"
check_refused 1 "--resume refuses another suite's trials, before making anything" \
	"a run of another suite" \
	"$PL" run "$SRC/experiments/paper-table1.json" -o "$out/other" --quiet \
	--resume "$(ls "$out"/kill/*.trials.ndjson | head -n 1)"
check_absent "the refused --resume made no file" . entries "$out/other"
check "-j 9 on 3 cells: slices side by side; killed, --resume runs exactly the missing trials" \
	split_resume_whole
check "shard 1/2, shard 2/2, merge and the whole run" shards_merge_whole
check "shard 1/2 + shard 2/2 + merge equal the whole" \
	merged_equals_whole "$(only "$out/merged")" "$(only "$out/whole")" "$SRC/docs/results.schema.json"

check_refused 1 "merge refuses a trial present twice" "is in two of the files" \
	"$PL" merge -o "$out/x" "$out"/shard/smoke-*.json "$out"/shard/smoke-*.json
check_refused 1 "merge refuses a newer results version with FILE:LINE:COL" \
	"newer.json:1:43: results format version 3 is newer than this punchlab reads (2)" \
	"$PL" merge -o "$out/x" "$SRC/tests/data/results/newer.json"
check_refused 1 "merge refuses a malformed results file with FILE:LINE:COL" \
	"malformed.json:4:2: expected ',' or '}' in object" \
	"$PL" merge -o "$out/x" "$SRC/tests/data/results/malformed.json"
check_refused 1 "merge refuses a foreign JSON file with FILE:LINE:COL" \
	"other.json:1:12: not a punchlab results file" \
	"$PL" merge -o "$out/x" "$SRC/tests/data/results/other.json"
