#!/bin/sh
# SPDX-License-Identifier: MIT
# NAT presets against `punchlab classify` (as root; issue 10 item 4). For each
# preset in PRESETS: a lab with a client behind a NAT of that preset and a
# server with two addresses (198.18.0.0/15 only), classify-server on the
# server, classify on the client, both through `punchlab topo exec`; every
# measured field must equal what `punchlab topo show LAB --json` says the
# lab's NAT does. The declared-versus-measured table goes to stdout as "# "
# lines, and to $CONFORMANCE_TABLE when set.
#   tests/root/conformance.sh PUNCHLAB SRCDIR
#   PRESETS="full-cone symmetric-random" tests/root/conformance.sh ...   (a few)
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || [ -n "${PUNCHLAB_RUNTIME_DIR:-}" ] || skip_all "needs root (or, rootless, PUNCHLAB_RUNTIME_DIR)"
command -v python3 > /dev/null || skip_all "python3 is needed to compare the JSON"
PRESETS=${PRESETS:-"full-cone restricted-cone port-restricted symmetric-sequential symmetric-random rfc5382 home-2009 linux-masquerade cgnat"}
# the server's addresses: A1 is its address on the segment, A2 one more on
# the same interface (a segment takes a node once)
A1=198.18.0.1 A2=198.18.0.3 P1=3478 P2=3479
out=$(mktemp -d)
LAB="" SPID="" nlab=0
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'
# shellcheck disable=SC2016
at_exit '[ -z "$SPID" ] || kill "$SPID" 2> /dev/null || true; [ -z "$LAB" ] || "$PL" topo down "$LAB" > /dev/null 2>&1 || true'

# topology PRESET FILE: client -- NAT(PRESET) -- server
topology() {
	cat > "$2" << EOF
{
  "description": "classify conformance: a client behind one $1 NAT, a server with two addresses",
  "nodes": [
    {"name": "server", "role": "server"},
    {"name": "nat", "nat": {"profile": "$1", "outside": "internet"}},
    {"name": "client", "role": "peer-a", "gateway": "198.19.1.1"}
  ],
  "segments": [
    {"name": "internet", "subnet": "198.18.0.0/24", "members": [
      {"node": "server", "address": "$A1"},
      {"node": "nat", "address": "198.18.0.2"}
    ]},
    {"name": "lan", "subnet": "198.19.1.0/24", "members": [
      {"node": "nat", "address": "198.19.1.1"},
      {"node": "client", "address": "198.19.1.2"}
    ]}
  ]
}
EOF
}

# up PRESET: the lab (named cfPID-N: a lab name has at most 24 characters, and
# conf-symmetric-sequential has 25), the server's second address,
# classify-server on it
up() {
	topology "$1" "$out/$1.json"
	nlab=$((nlab + 1))
	"$PL" topo up "$out/$1.json" --name "cf$$-$nlab" > /dev/null
	LAB=cf$$-$nlab
	"$PL" topo exec "$LAB" server -- ip addr add "$A2/24" dev internet
	"$PL" topo exec "$LAB" server -- "$PL" classify-server --listen "$A1:$P1" \
		--alt "$A2:$P2" 2> "$out/$1.server.log" &
	SPID=$!
	for _ in $(seq 50); do
		grep -q '"event":"listen"' "$out/$1.server.log" && return 0
		kill -0 "$SPID" || break
		sleep 0.1
	done
	cat "$out/$1.server.log"
	return 1
}

down() {
	[ -z "$SPID" ] || kill "$SPID" 2> /dev/null || true
	[ -z "$SPID" ] || wait "$SPID" || true
	SPID=""
	[ -z "$LAB" ] || "$PL" topo down "$LAB" > /dev/null || true
	LAB=""
}

# compare PRESET: declared (topo show --json) against measured (classify
# --json); one table row per field appended to $out/table; fails on a
# difference or a field the lab does not declare
compare() {
	python3 - "$1" "$out/$1.show.json" "$out/$1.classify.json" "$out/table" << 'PY'
import json, sys
preset, show, got, table = sys.argv[1:]
nat = [n for n in json.load(open(show))["nodes"] if "nat_profile" in n][0]["nat_profile"]
res = json.load(open(got))
fields = ["mapping", "filtering", "port_assignment", "unsolicited_syn", "hairpin"]
if nat.get("port_assignment") == "sequential" or "delta" in res:
    fields.append("delta")
bad = []
with open(table, "a") as t:
    for f in fields:
        d, m = nat.get(f, "(not shown)"), res.get(f, "(absent)")
        ok = d == m # a field the lab does not show differs: nothing is assumed
        why = res["observations"].get(f if f != "delta" else "port_assignment", {}).get("why", "")
        t.write("%-22s %-16s %-28s %-28s %s  %s\n" % (preset, f, json.dumps(d), json.dumps(m),
                "ok" if ok else "DIFFERS", why))
        if not ok:
            bad.append("%s: declared %s, measured %s (%s)" % (f, d, m, why))
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY
}

# one PRESET: up, classify, show, down; the comparison's check
one() {
	p=$1
	if ! up "$p" > "$out/$p.up.log" 2>&1; then
		check "$p: the lab and classify-server come up" sh -c "cat '$out/$p.up.log'; false"
		down
		return 0
	fi
	rc=0
	"$PL" topo exec "$LAB" client -- "$PL" classify --server "$A1:$P1" --json \
		> "$out/$p.classify.json" 2> "$out/$p.classify.err" || rc=$?
	"$PL" topo show "$LAB" --json > "$out/$p.show.json"
	down
	check_status 0 "$p: classify ran" "$rc" "$out/$p.classify.err"
	check "$p: every measured field is the declared one" compare "$p"
}

printf '%-22s %-16s %-28s %-28s %s\n' preset field declared measured "" > "$out/table"
for p in $PRESETS; do
	one "$p"
done
sed 's/^/# /' "$out/table"
[ -z "${CONFORMANCE_TABLE:-}" ] || cp "$out/table" "$CONFORMANCE_TABLE"
