#!/bin/sh
# SPDX-License-Identifier: MIT
# Valgrind memcheck (as root) on a small suite run, and on the rendezvous
# server while the hostile script attacks it and real peers run a session:
# no invalid access, nothing definitely lost.
set -eu
# memcheck and AddressSanitizer do not mix: under the sanitized build,
# scripts/run-tests hands a plain build in PUNCHLAB_PLAIN
PL=${PUNCHLAB_PLAIN:-$1} SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
if ldd "$PL" | grep -q libasan; then
	skip_all "$PL is built with AddressSanitizer; set PUNCHLAB_PLAIN"
fi
command -v valgrind >/dev/null || skip_all "valgrind is not installed"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'
VG="valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --suppressions=$SRC/tests/valgrind.supp"

# memcheck's log: empty when it found nothing
clean() { # LOG
	if [ -s "$1" ]; then
		cat "$1"
		return 1
	fi
}

plan 3
# shellcheck disable=SC2086
check "memcheck on a suite run: clean" $VG "$PL" run "$SRC/experiments/smoke.json" --trials 1 -o "$out" --quiet

lab=$("$PL" topo up "$SRC/tests/data/hostile.json" --name "v$(( $$ % 100000 ))")
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$PL" topo down "$lab" >/dev/null 2>&1 || true'
# shellcheck disable=SC2086
"$PL" topo exec "$lab" server -- $VG --log-file="$out/server.vg" "$PL" server \
	--listen 198.18.0.1:7777 --max-per-addr 32 --idle-ms 2000 --quiet &
srv=$!
sleep 2
"$PL" topo exec "$lab" attacker -- python3 "$SRC/tests/root/hostile.py" 198.18.0.1:7777 4 > /dev/null &
attacker=$!
tok=$("$PL" topo exec "$lab" peer-a -- "$PL" session --server 198.18.0.1:7777)
"$PL" topo exec "$lab" peer-a -- "$PL" peer --server 198.18.0.1:7777 --session "$tok" --role a \
	--os windows-xp > /dev/null 2>&1 &
"$PL" topo exec "$lab" peer-b -- "$PL" peer --server 198.18.0.1:7777 --session "$tok" --role b \
	--os windows-xp > /dev/null 2>&1 || true
wait $attacker || true
kill -TERM $srv
rc=0
wait $srv || rc=$?
check_status 0 "the server under memcheck stops cleanly on SIGTERM after the attack" "$rc"
check "memcheck on the server under attack: clean" clean "$out/server.vg"
