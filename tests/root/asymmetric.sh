#!/bin/sh
# SPDX-License-Identifier: MIT
# Asymmetric links, measured: b's access link is 20 ms up and 2 ms down
# (tests/data/asym/public-asym.json). Every namespace reads the same clock,
# so a UDP datagram carrying its send time gives the one-way delay each way.
# Then the jitter distributions (tests/data/asym/jitter.json): 40 datagrams
# over a 20 ms link with uniform +-5 ms spread over at most 10 ms; with a
# normal of sd 5 ms over more (4.3 sd is the expected range of 40 draws).
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
lab="as$(($$ % 100000))"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$PL" topo down --force "$lab" >/dev/null 2>&1 || true; rm -rf "$out"'
plan 6
check "the asymmetric lab is built" "$PL" topo up "$SRC/tests/data/asym/public-asym.json" --name "$lab"

# oneway FROM TO TO_ADDR [N] [STAT]: one-way delays in ms of N datagrams
# (default 10); STAT median (default) or range (max - min)
oneway() {
	"$PL" topo exec "$lab" "$2" -- python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 9000)); s.settimeout(5)
d = []
for _ in range(int(sys.argv[1])):
    data, _ = s.recvfrom(64)
    d.append((time.time() - float(data)) * 1000)
d.sort()
print(d[len(d) // 2] if sys.argv[2] == "median" else d[-1] - d[0])' "${4:-10}" "${5:-median}" > "$out/$1-$2" &
	rx=$!
	sleep 0.3
	"$PL" topo exec "$lab" "$1" -- python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(repr(time.time()).encode(), (sys.argv[1], 9000)); time.sleep(0.05)' "$3" "${4:-10}"
	wait $rx
}
within() { # FILE LOW HIGH
	v=$(cat "$1")
	python3 -c "import sys; v = float(sys.argv[1]); sys.exit(0 if $2 <= v <= $3 else 1)" "$v"
}
oneway b a 198.18.0.1
oneway a b 198.18.0.2
check "up, b to a: 20 ms (19-30)" within "$out/b-a" 19 30
check "down, a to b: 2 ms (1.5-9)" within "$out/a-b" 1.5 9
note "measured: up $(cat "$out/b-a") ms, down $(cat "$out/a-b") ms"
"$PL" topo down "$lab" > /dev/null
check "the jitter lab is built" "$PL" topo up "$SRC/tests/data/asym/jitter.json" --name "$lab"
oneway u a 198.18.0.1 40 range
oneway n a 198.18.0.1 40 range
check "uniform +-5 ms: 40 delays within 10.5 ms of each other" within "$out/u-a" 0 10.5
check "normal, sd 5 ms: 40 delays spread over more than 11 ms" within "$out/n-a" 11 80
note "ranges of 40 one-way delays: uniform $(cat "$out/u-a") ms, normal $(cat "$out/n-a") ms"
