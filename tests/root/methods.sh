#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs as root: each traversal method (src/punch/method/) in a lab where it
# must connect and in one where it must fail for its documented reason, the
# capture confirming which: predict, reuse, stunt1 (with a NAT that keeps
# its mapping after the ICMP time-exceeded, one that drops it, and a TTL
# that reaches the other NAT), relay (through the relay beside S, and with
# no relay there). (tests/dryrun.sh: a stunt1 TTL that reaches no NAT.)
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'

# the labs of a run or a lab of ours, if the test stops early
cleanup_tag() { # TAG
	for l in $(entries /run/punchlab | grep "^$1" || true); do
		"$PL" cleanup "$l" > /dev/null 2>&1 || true
	done
}
pid="" tags="" lab=""
# shellcheck disable=SC2016 # expanded at exit
at_exit '[ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true; for t in $tags; do cleanup_tag "$t"; done; [ -z "$lab" ] || "$PL" topo down --force "$lab" > /dev/null 2>&1 || true'

# peer A's NAT drops the mapping an ICMP time-exceeded names
python3 - "$SRC/topologies/two-nats-router.json" "$out/router-drop.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
for n in t["nodes"]:
    if n["name"] == "nat-a":
        n["nat"]["icmp_time_exceeded"] = "drop"
t["description"] = "two-nats-router, nat-a dropping a mapping on ICMP time-exceeded"
json.dump(t, open(sys.argv[2], "w"))
PY
two=$SRC/topologies/two-nats.json router=$SRC/topologies/two-nats-router.json
cat > "$out/m.json" <<EOF
{"description": "each method where it connects and where it cannot", "topology": "$two",
 "trials": 3, "rounds": 1, "matrix": {},
 "include": [
  {"method": "predict", "nat": "home-2009", "os_a": "windows-xp", "os_b": "windows-xp"},
  {"method": "predict", "nat": "home-2009", "os_a": "linux-2.6", "os_b": "windows-xp"},
  {"method": "reuse", "nat": "cgnat", "os_a": "linux-2.6", "os_b": "windows-xp"},
  {"method": "reuse", "nat": "symmetric-sequential", "os_a": "linux-2.6", "os_b": "windows-xp"},
  {"method": "stunt1", "topology": "$router", "os_a": "native", "os_b": "native"},
  {"method": "stunt1", "topology": "$out/router-drop.json", "os_a": "native", "os_b": "native"},
  {"method": "stunt1", "topology": "$router", "stunt_ttl": 3, "os_a": "native", "os_b": "native"},
  {"method": "relay", "nat": "symmetric-random", "os_a": "linux-2.6", "os_b": "windows-xp"}
 ]}
EOF

run_all() {
	mkdir -p "$out/m"
	"$PL" run "$out/m.json" -j 4 -o "$out/m" --quiet > /dev/null &
	pid=$!
	tags="$tags r$((pid % 100000))-"
	wait "$pid"
	pid=""
}

# what each cell gave, and what its capture says, in one place
results_are() {
	python3 - "$out"/m/m-*.json "$SRC/tests" "$SRC/docs/results.schema.json" <<'PY'
import sys
sys.path.insert(0, sys.argv[2])
from plresults import validate
r = validate(sys.argv[1], sys.argv[3])
def key(f):
    topo = f["topology"].rsplit("/", 1)[1]
    return (f["method"], f.get("nat", topo), f["os_a"], f.get("stunt_ttl"))
cells = {c["id"]: key(c["fields"]) for c in r["cells"]}
summary = {key(c["fields"]): c for c in r["cells"]}
trials = {}
for t in r["trials"]:
    trials.setdefault(cells[t["cell"]], []).append(t)
A, B = "198.18.0.2", "198.18.0.3"      # the NATs' outside addresses in two-nats
RA = "198.18.1.2"                       # nat-a's in two-nats-router

def cell(k, successes, relayed=0, failure=None):
    c = summary[k]
    assert c["successes"] == successes and c.get("relayed", 0) == relayed, (k, c["successes"], c.get("relayed"), c["failures"])
    if failure:
        assert c["failures"] == {failure: 3}, (k, c["failures"])
    return trials[k]

def syns(t, at, src, dst):
    return [e for e in t["capture"]["timeline"] if e["at"] == at and "S" in e["flags"]
            and "A" not in e["flags"] and e["src"].startswith(src + ":") and e["dst"].startswith(dst + ":")]

# predict: the paper's pairing connects; Linux 2.6's per-destination ports are mispredicted
for t in cell(("predict", "home-2009", "windows-xp", None), 3):
    assert t["path"] == "direct" and t["capture"]["syns_crossed"], t["path"]
cell(("predict", "home-2009", "linux-2.6", None), 0, failure="mispredicted")
# reuse: S's port is the punch's behind an endpoint-independent mapping, not behind a symmetric one
for t in cell(("reuse", "cgnat", "linux-2.6", None), 3):
    assert t["path"] == "direct" and t["a"]["method"] == "reuse", t["a"]
cell(("reuse", "symmetric-sequential", "linux-2.6", None), 0)
# stunt1, keep: A's low-TTL SYN leaves nat-a and never reaches nat-b; B's reaches A's socket
for t in cell(("stunt1", "two-nats-router.json", "native", None), 3):
    assert t["a"]["stunt_ttl"] == 2 and t["path"] == "direct", t["a"]
    assert syns(t, "nat-a", RA, B) and not syns(t, "nat-b", RA, B), "A's SYN reached nat-b"
    assert syns(t, "nat-a", B, RA), "B's SYN never reached nat-a"
# stunt1, drop: B's SYN reaches nat-a, which refuses it for the dropped mapping (a RST from nat-a)
for t in cell(("stunt1", "router-drop.json", "native", None), 0, failure="rst"):
    assert syns(t, "nat-a", B, RA), "B's SYN never reached nat-a"
    rst = [e for e in t["capture"]["timeline"] if e["at"] == "nat-a" and "R" in e["flags"]
           and e["src"].startswith(RA + ":") and e["dst"].startswith(B + ":")]
    assert rst, "nat-a sent no RST to B"
    assert not syns(t, "nat-b", RA, B), "A's SYN reached nat-b"
# stunt1, TTL 3: A's SYN reaches nat-b, whose stack answers it with a RST
# (home-2009); the RST is a round trip between the NATs (20 ms) behind A's
# SYN, B's SYN STUNT1_DELAY_MS (50 ms): the RST passes nat-a first and ends
# A's attempt (must fail: the TTL reached the other NAT)
for t in cell(("stunt1", "two-nats-router.json", "native", 3), 0, failure="rst"):
    assert syns(t, "nat-b", RA, B), "A's SYN (TTL 3) did not reach nat-b"
    rst = [e for e in t["capture"]["timeline"] if e["at"] == "nat-a" and "R" in e["flags"]
           and e["src"].startswith(B + ":") and e["dst"].startswith(RA + ":")]
    assert rst, "nat-b's RST did not come back through nat-a"
# relay: connects behind symmetric-random NATs, never counted as a success; no SYN from NAT to NAT
for t in cell(("relay", "symmetric-random", "linux-2.6", None), 0, relayed=3):
    assert t["connected"] and t["path"] == "relay" and t["reason"] is None, t["path"]
    assert not t["capture"]["syns_crossed"], "SYNs crossed in a relayed trial"
    assert not syns(t, "nat-a", A, B) and not syns(t, "nat-b", B, A), "a SYN went peer to peer"
    assert t["a"]["relay_bytes"] > 2 * 64 and t["b"]["relay_bytes"] == t["a"]["relay_bytes"], t["a"]
    assert t["a"]["echo_rtt_ms"] > 0 and t["a"]["remote"].endswith(":7778"), t["a"]
PY
}

# relay where no relay runs beside S (`server` without --method relay):
# S pairs the peers, their connections to S's port + 1 are refused
relay_missing() {
	lab=m$(( $$ % 100000 ))
	"$PL" topo up "$SRC/topologies/two-nats.json" --name "$lab" > /dev/null
	"$PL" topo exec "$lab" server -- "$PL" server --listen 198.18.0.1:7777 --quiet &
	spid=$!
	sleep 0.3
	tok=$("$PL" topo exec "$lab" peer-a -- "$PL" session --server 198.18.0.1:7777)
	for r in a b; do
		"$PL" topo exec "$lab" "peer-$r" -- "$PL" peer --server 198.18.0.1:7777 \
			--session "$tok" --role "$r" --method relay --rounds 1 \
			> "$out/relay-$r.json" 2> /dev/null &
	done
	rc=0
	wait %2 || rc=$?
	wait %3 || rc=$?
	kill "$spid" 2> /dev/null || true
	wait "$spid" || true
	"$PL" topo down "$lab" > /dev/null
	lab=""
	[ "$rc" = 1 ] || { echo "peer exit status $rc, expected 1"; return 1; }
	python3 - "$out/relay-a.json" "$out/relay-b.json" <<'PY'
import json, sys
for p in sys.argv[1:]:
    r = json.load(open(p))
    assert not r["connected"] and r["reason"] == "rst" and r["method"] == "relay", r
PY
}

plan 3
check "run the methods' cells" run_all
check "each method connects where it must and fails for its reason, as the capture shows" results_are
check "relay with no relay beside S: both peers fail with rst" relay_missing
