#!/bin/sh
# SPDX-License-Identifier: MIT
# `punchlab run --dry-run` refuses, or lists, exactly what the run would do:
# the cells of --shard K/N with --trials applied, the shards' cells the whole
# suite once, a strict K/N, a topology without the roles a run needs refused
# (run_check, which run_suite calls too), and nothing created. No lab is built.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$tmp"'
smoke=$SRC/experiments/smoke.json
data=$SRC/tests/data/dry-run

# ids DRYRUN-ARGS...: the ids of the cells the dry run lists, one a line
ids() {
	"$PL" run "$@" --dry-run | awk 'length($1) == 12 && $1 ~ /^[0-9a-f]+$/ { print $1 }'
}
# the shard's cells are those of index i with i % N == K - 1, as in the runner
shard_1_of_2() {
	ids "$smoke" > "$tmp/all"
	ids "$smoke" --shard 1/2 > "$tmp/s1"
	awk 'NR % 2 == 1' "$tmp/all" | diff -u - "$tmp/s1"
}
# three shards list every cell of the suite once
shards_partition() {
	for k in 1 2 3; do ids "$SRC/experiments/paper-table1.json" --shard "$k/3"; done |
		sort > "$tmp/shards"
	ids "$SRC/experiments/paper-table1.json" | sort > "$tmp/whole"
	[ -s "$tmp/whole" ]
	diff -u "$tmp/whole" "$tmp/shards"
}
header_says() { # TEXT ARGS...
	want=$1
	shift
	"$PL" run "$@" --dry-run | head -1 | grep -F -e "$want"
}
pcap_not_made() {
	"$PL" run "$smoke" --dry-run --pcap "$tmp/pcap" > /dev/null
	[ ! -e "$tmp/pcap" ]
}

# escaped TEXT CMD...: CMD succeeds, prints TEXT, and its output holds no
# control character but newlines (nor the C1 CSI, 0xc2 0x9b)
escaped() {
	want=$1
	shift
	"$@" > "$tmp/out"
	grep -F -e "$want" "$tmp/out" > /dev/null
	LC_ALL=C tr -d '\000-\011\013-\037\177\302' < "$tmp/out" | cmp -s - "$tmp/out"
}

# no_output_dir DIR: the refused run made nothing
no_output_dir() {
	"$PL" run "$data/missing-command.json" -o "$1" 2> "$tmp/run.err" && return 1
	[ ! -e "$1" ]
}

plan 16
check "--shard 1/2 lists the cells of shard 1 only" shard_1_of_2
check "--shard K/3 for K = 1, 2, 3 lists every cell once" shards_partition
check "--trials 5 and the shard are in the header" \
	header_says "2 cells (shard 1/2 of 3) x 5 trials = 10 trials" "$smoke" --shard 1/2 --trials 5
check_refused 2 "--shard 1/2x is refused" '--shard wants K/N' \
	"$PL" run "$smoke" --dry-run --shard 1/2x
check_refused 2 "--shard 1/ is refused" '--shard wants K/N' \
	"$PL" run "$smoke" --dry-run --shard 1/
check_refused 1 "a topology without peer-a is refused, as the run refuses it" \
	'no-peer-a-topology.json: a runnable topology needs nodes with the roles server, peer-a and peer-b' \
	"$PL" run "$data/no-peer-a.json" --dry-run
check "a shard whose cells all have a runnable topology passes" \
	"$PL" run "$data/no-peer-a.json" --dry-run --shard 1/2
check "--dry-run --pcap DIR creates nothing" pcap_not_made
check_refused 1 "a stunt1 TTL that reaches no NAT is refused, naming the hop and the least TTL" \
	"stunt_ttl 1 reaches no NAT: the SYN expires at hop 1 (nat-a), and peer A's NAT nat-a, hop 1, maps only what it forwards: the TTL must be at least 2" \
	"$PL" run "$data/stunt1-ttl1.json" --dry-run
check_refused 1 "stunt1 where peer A is behind no NAT is refused" \
	"stunt1: peer A's way to peer B passes no NAT" "$PL" run "$data/stunt1-no-nat.json" --dry-run
check_refused 2 "--dry-run does not take --resume" 'does not take --resume' \
	"$PL" run "$smoke" --dry-run --resume "$tmp/none.json"
check "run --dry-run prints the suite's description with control characters as \\xNN" \
	escaped 'A suite whose \x1b]0;title\x07 description' \
	"$PL" run "$data/escapes.json" --dry-run
check "topo check prints the description with control characters as \\xNN" \
	escaped 'A \x1b[31mred\x1b[0m description with a bell\x07 and a C1 CSI \xc2\x9b2J' \
	"$PL" topo check "$data/escapes-topology.json"
check_refused 1 "a peer command that does not exist is refused by the dry run, naming it at file:line:col" \
	'missing-command.json:4:35: defaults: "peer_a_command": command "./no-such-peer.sh" not found' \
	"$PL" run "$data/missing-command.json" --dry-run
check_refused 1 "... and by the run itself, before anything starts" \
	'"peer_a_command": command "./no-such-peer.sh" not found' \
	"$PL" run "$data/missing-command.json" -o "$tmp/runs"
check "... which creates no output directory" no_output_dir "$tmp/runs2"
