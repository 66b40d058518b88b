#!/bin/sh
# SPDX-License-Identifier: MIT
# Valgrind memcheck (as root) on a small suite run, and on the rendezvous
# server while the hostile script attacks it and real peers run a session:
# no invalid access, nothing definitely lost.
set -eu
# memcheck and AddressSanitizer do not mix: under the sanitized build,
# scripts/run-tests hands a plain build in PUNCHLAB_PLAIN
PL=${PUNCHLAB_PLAIN:-$1} SRC=$2
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
if ldd "$PL" | grep -q libasan; then
	echo "1..0 # SKIP $PL is built with AddressSanitizer; set PUNCHLAB_PLAIN"
	exit 0
fi
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind is not installed"; exit 0; }
out=$(mktemp -d)
lab=""
trap '[ -z "$lab" ] || "$PL" topo down "$lab" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
VG="valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --suppressions=$SRC/tests/valgrind.supp"
echo "1..2"
# shellcheck disable=SC2086
$VG "$PL" run "$SRC/experiments/smoke.json" --trials 1 -o "$out" --quiet 2> "$out/run.vg" \
	|| { echo "not ok 1 - memcheck on a suite run"; cat "$out/run.vg"; exit 1; }
echo "ok 1 - memcheck on a suite run: clean"

lab=$("$PL" topo up "$SRC/tests/data/hostile.json" --name "v$(( $$ % 100000 ))")
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
if [ "$rc" != 0 ] || [ -s "$out/server.vg" ]; then
	echo "not ok 2 - memcheck on the server under attack (exit $rc)"
	cat "$out/server.vg"
	exit 1
fi
echo "ok 2 - memcheck on the server under attack: clean"
