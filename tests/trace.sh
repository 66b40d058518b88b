#!/bin/sh
# SPDX-License-Identifier: MIT
# punchlab trace against punchlab servers on loopback (127.0.0.1 and
# 127.0.0.2; no namespace, no lab): there the external port is the local
# one, so the recorded ports must equal the sockets' own local ports and the
# ports the servers logged, connection by connection and destination by
# destination; the header and the source name; predict reads the file.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'for f in "$tmp"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2> /dev/null; done; rm -rf "$tmp"'

# serve NAME ADDR: punchlab server on ADDR:0, its log NAME.log, port in NAME.port
serve() {
	: > "$tmp/$1.log"
	timeout -k 5 60 "$PL" server --listen "$2:0" 2> "$tmp/$1.log" > /dev/null &
	echo $! > "$tmp/$1.pid"
	for _ in $(seq 100); do
		grep -q '"event":"listen"' "$tmp/$1.log" && break
		sleep 0.1
	done
	sed -n 's/.*"addr":"[0-9.]*:\([0-9]*\)".*/\1/p' "$tmp/$1.log" > "$tmp/$1.port"
	[ -s "$tmp/$1.port" ] || bail "no server on $2: $(cat "$tmp/$1.log")"
}
serve one 127.0.0.1
serve two 127.0.0.2
one=127.0.0.1:$(cat "$tmp/one.port") two=127.0.0.2:$(cat "$tmp/two.port")

# the trace line's ports, its "# local ports", a server's logged probe ports
ports() { sed -n 's/^[^#].*: \([0-9 ]*\)$/\1/p' "$1"; }
locals() { sed -n 's/^# local ports: //p' "$1"; }
logged() { sed -n 's/.*"event":"probe".*"from":"[0-9.]*:\([0-9]*\)".*/\1/p' "$tmp/$1.log" | tr '\n' ' ' | sed 's/ $//'; }
# every other word of a list, from the first (odd) or the second (even)
odd() { echo "$1" | tr ' ' '\n' | awk 'NR % 2' | tr '\n' ' ' | sed 's/ $//'; }
even() { echo "$1" | tr ' ' '\n' | awk 'NR % 2 == 0' | tr '\n' ' ' | sed 's/ $//'; }

plan 10
"$PL" trace --server "$one" --count 12 > "$tmp/t1.txt"
check "12 connections, 12 ports" test "$(ports "$tmp/t1.txt" | wc -w)" -eq 12
check "the recorded ports are the sockets' local ports (loopback: no NAT)" \
	test "$(ports "$tmp/t1.txt")" = "$(locals "$tmp/t1.txt")"
check "the recorded ports are the ones the server logged, in order" \
	test "$(ports "$tmp/t1.txt")" = "$(logged one)"
check "the header names the OS as uname -srm says" \
	grep -qF "# punchlab trace on $(uname -srm) (uname -srm), " "$tmp/t1.txt"
check "the source is HOST:OS/NAT, by default the host name, kernel and unknown" \
	grep -q "^$(hostname | tr ': #' '---'):$(uname -s)-$(uname -r | tr ': #' '---')/unknown: " "$tmp/t1.txt"

before=$(logged one | wc -w)
"$PL" trace --server "$one" --to "$two" --count 20 --os native --nat none --host lab > "$tmp/t2.txt"
check "two destinations in turn: the odd connections went to the server, as it logged" \
	test "$(odd "$(ports "$tmp/t2.txt")")" = "$(logged one | tr ' ' '\n' | tail -n +$((before + 1)) | tr '\n' ' ' | sed 's/ $//')"
check "two destinations in turn: the even ones to --to, as it logged" \
	test "$(even "$(ports "$tmp/t2.txt")")" = "$(logged two)"
check "--os, --nat and --host name the source" grep -q '^lab:native/none: ' "$tmp/t2.txt"
# shellcheck disable=SC2016 # the inner shell expands them
check "predict reads a trace whose source holds a colon" \
	sh -c '"$1" predict --heuristic delta "$2" | grep -q "^delta  *lab:native/none  *19 "' - "$PL" "$tmp/t2.txt"
check_refused 1 "trace says which destination it cannot reach and why" \
	"127.0.0.1:1: joining a session: cannot connect: Connection refused" \
	"$PL" trace --server 127.0.0.1:1
