#!/bin/sh
# SPDX-License-Identifier: MIT
# punchlab trace behind a NAT, in a lab (as root): peer-a of one-nat.json
# traces against two servers on the server node, through nat-a with the
# home-2009 preset (which preserves ports) and with the random preset (which
# does not). The recorded sequence must be the external ports the servers
# saw (their logs: what arrived after the NAT), connection by connection;
# behind home-2009 they are the sockets' local ports, behind random they
# are not. Written with the trace command; first run by whoever has the
# lab machine (it was not run where it was written).
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
tmp=$(mktemp -d)
lab=""
# shellcheck disable=SC2016 # expanded at exit
at_exit '[ -n "$lab" ] && "$PL" topo down --force "$lab" > /dev/null 2>&1; rm -rf "$tmp"'

ports() { sed -n 's/^[^#].*: \([0-9 ]*\)$/\1/p' "$1"; }
locals() { sed -n 's/^# local ports: //p' "$1"; }
logged() { sed -n 's/.*"event":"probe".*"from":"[0-9.]*:\([0-9]*\)".*/\1/p' "$1" | tr '\n' ' ' | sed 's/ $//'; }
odd() { echo "$1" | tr ' ' '\n' | awk 'NR % 2' | tr '\n' ' ' | sed 's/ $//'; }
even() { echo "$1" | tr ' ' '\n' | awk 'NR % 2 == 0' | tr '\n' ' ' | sed 's/ $//'; }

# trace_behind PRESET: a lab with nat-a set to PRESET, two servers, a trace
# of 16 connections in turn; PRESET.txt, PRESET-7777.log, PRESET-7778.log
trace_behind() {
	sed "s/\"profile\": \"home-2009\"/\"profile\": \"$1\"/" "$SRC/topologies/one-nat.json" > "$tmp/$1.json"
	lab=$("$PL" topo up "$tmp/$1.json" --name "trace-$1")
	pids=""
	for port in 7777 7778; do
		"$PL" topo exec "$lab" server -- "$PL" server --listen "198.18.0.1:$port" \
			2> "$tmp/$1-$port.log" > /dev/null &
		pids="$pids $!"
	done
	sleep 1
	"$PL" topo exec "$lab" peer-a -- "$PL" trace --server 198.18.0.1:7777 --to 198.18.0.1:7778 \
		--count 16 --os native --nat "$1" --host lab > "$tmp/$1.txt"
	"$PL" topo down --force "$lab" > /dev/null
	lab=""
	# the servers end with their namespace
	for p in $pids; do wait "$p" || true; done
}

plan 6
for preset in home-2009 random; do
	trace_behind $preset
	check "$preset: the odd connections' ports are the ones the server on 7777 saw" \
		test "$(odd "$(ports "$tmp/$preset.txt")")" = "$(logged "$tmp/$preset-7777.log")"
	check "$preset: the even ones the server on 7778 saw" \
		test "$(even "$(ports "$tmp/$preset.txt")")" = "$(logged "$tmp/$preset-7778.log")"
done
check "home-2009 preserves ports: the recorded ports are the local ones" \
	test "$(ports "$tmp/home-2009.txt")" = "$(locals "$tmp/home-2009.txt")"
check "random does not: the recorded ports are not the local ones" \
	test "$(ports "$tmp/random.txt")" != "$(locals "$tmp/random.txt")"
