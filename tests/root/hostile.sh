#!/bin/sh
# SPDX-License-Identifier: MIT
# The hostile network (as root): an attacker floods `punchlab server` with
# idle connections, overlong lines, invalid JSON, wrong tokens and half
# messages for a bounded time while real peers run sessions. The server
# stays up and under its memory bound, the real sessions connect, and the
# attacker never receives an endpoint. Then bad SOCKS clients against
# `punchlab proxy`, and bad relay clients against `punchlab server --method
# relay` while a relayed session connects.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
[ "$(id -u)" = 0 ] || skip_all "needs root"
out=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit 'rm -rf "$out"'
lab=$("$PL" topo up "$SRC/tests/data/hostile.json" --name "h$(( $$ % 100000 ))")
# shellcheck disable=SC2016 # expanded at exit
at_exit '"$PL" topo down "$lab" >/dev/null 2>&1 || true'

# three sessions of real peers, one after the other: both ends connected
sessions() {
	for i in 1 2 3; do
		tok=$("$PL" topo exec "$lab" peer-a -- "$PL" session --server 198.18.0.1:7777)
		"$PL" topo exec "$lab" peer-a -- "$PL" peer --server 198.18.0.1:7777 --session "$tok" \
			--role a --os windows-xp > "$out/a$i" 2> "$out/a$i.err" &
		pa=$!
		rb=0
		"$PL" topo exec "$lab" peer-b -- "$PL" peer --server 198.18.0.1:7777 --session "$tok" \
			--role b --os windows-xp > "$out/b$i" 2> "$out/b$i.err" || rb=$?
		ra=0
		wait $pa || ra=$?
		echo "session $i: peer a exit $ra: $(cat "$out/a$i" "$out/a$i.err")"
		echo "session $i: peer b exit $rb: $(cat "$out/b$i" "$out/b$i.err")"
		[ "$ra" = 0 ]
		[ "$rb" = 0 ]
		grep -q '"connected":true' "$out/a$i"
		grep -q '"connected":true' "$out/b$i"
	done
}
rss_under() { # KB
	rss=$(awk '/VmRSS/ {print $2}' "/proc/$srv/status")
	echo "server RSS $rss kB"
	[ "$rss" -lt "$1" ]
}
no_endpoint() {
	cat "$out/attack.json"
	python3 - "$out/attack.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert not s["leaked_endpoint"], s
assert s["long_lines"] > 0 and s["wrong_tokens"] > 0 and s["flood"] > 0, s
PY
}
refused_by_name() {
	grep -q '"code":"line-too-long"' "$out/server.log"
	grep -q '"code":"unknown-session"' "$out/server.log"
	grep -q '"code":"bad-message"' "$out/server.log"
}
proxy_holds() {
	"$PL" topo exec "$lab" peer-a -- python3 "$SRC/tests/root/hostile_proxy.py" 1080 198.18.0.1:7100 "$px" \
		> "$out/proxy.json" || { cat "$out/proxy.json"; return 1; }
	kill -0 $px
}

plan 11
"$PL" topo exec "$lab" server -- "$PL" server --listen 198.18.0.1:7777 --max-per-addr 32 \
	--idle-ms 2000 2> "$out/server.log" &
srv=$!
sleep 0.3
"$PL" topo exec "$lab" attacker -- python3 "$SRC/tests/root/hostile.py" 198.18.0.1:7777 6 \
	> "$out/attack.json" 2> "$out/attack.err" &
attacker=$!
sleep 1
check "three real sessions connected during the attack" sessions
rc=0
wait $attacker || rc=$?
check_status 0 "the attacker ran to its end" "$rc" "$out/attack.err"
check "the server is still up" kill -0 $srv
check "the server's RSS is under 64 MiB" rss_under 65536
note "server RSS $(awk '/VmRSS/ {print $2}' "/proc/$srv/status" 2>/dev/null || echo '?') kB"
check "the attacker got no endpoint" no_endpoint
note "attack: $(cat "$out/attack.json")"
check "the server refused the overlong, unknown and malformed lines by name" refused_by_name
kill $srv

# the proxy: bad SOCKS clients, a refused and an unreachable target, then a good one
"$PL" topo exec "$lab" peer-a -- "$PL" proxy --listen 127.0.0.1:1080 --quiet &
px=$!
"$PL" topo exec "$lab" server -- python3 -c "
import socket
l = socket.create_server(('198.18.0.1', 7100))
while True:
    c, _ = l.accept(); c.recv(16); c.sendall(b'pong\\n'); c.close()" &
echo_srv=$!
sleep 0.3
check "the proxy answered bad clients with RFC 1928 codes and stayed up" proxy_holds
note "proxy: $(cat "$out/proxy.json")"
kill $px $echo_srv 2>/dev/null || true

# the relay (method relay): idle, unended, malformed and duplicate clients and
# a pair that floods one way, bounded; real peers meet through it meanwhile
relay_session() {
	tok=$("$PL" topo exec "$lab" peer-a -- "$PL" session --server 198.18.0.1:7787)
	"$PL" topo exec "$lab" peer-a -- "$PL" peer --server 198.18.0.1:7787 --session "$tok" \
		--role a --method relay --rounds 1 > "$out/ra" 2> "$out/ra.err" &
	pa=$!
	rb=0
	"$PL" topo exec "$lab" peer-b -- "$PL" peer --server 198.18.0.1:7787 --session "$tok" \
		--role b --method relay --rounds 1 > "$out/rb" 2> "$out/rb.err" || rb=$?
	ra=0
	wait $pa || ra=$?
	echo "peer a exit $ra: $(cat "$out/ra" "$out/ra.err")"
	echo "peer b exit $rb: $(cat "$out/rb" "$out/rb.err")"
	[ "$ra" = 0 ] && [ "$rb" = 0 ]
	grep -q '"path":"relay"' "$out/ra"
	grep -q '"path":"relay"' "$out/rb"
}
relay_refused_them() {
	cat "$out/rattack.json"
	python3 - "$out/rattack.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["closed_at_once"] == 20 and s["unended"] == 5 and s["malformed"] == 4, s
assert s["role_twice_closed"] and s["flood_bytes"] > 0, s
PY
}
"$PL" topo exec "$lab" server -- "$PL" server --listen 198.18.0.1:7787 --method relay \
	2> "$out/relay.log" &
rsrv=$!
srv=$rsrv # rss_under reads it
sleep 0.3
"$PL" topo exec "$lab" attacker -- python3 "$SRC/tests/root/hostile_relay.py" 198.18.0.1:7788 4 \
	> "$out/rattack.json" 2> "$out/rattack.err" &
rattacker=$!
sleep 1.5
check "a relayed session connected during the attack on the relay" relay_session
rc=0
wait $rattacker || rc=$?
check_status 0 "the relay's attacker ran to its end" "$rc" "$out/rattack.err"
check "the relay closed the clients beyond its bounds and the bad lines" relay_refused_them
check "the server and its relay are still up, under 64 MiB" rss_under 65536
note "relay attack: $(cat "$out/rattack.json")"
kill $rsrv 2>/dev/null || true
