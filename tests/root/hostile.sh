#!/bin/sh
# SPDX-License-Identifier: MIT
# The hostile network (as root): an attacker floods `punchlab server` with
# idle connections, overlong lines, invalid JSON, wrong tokens and half
# messages for a bounded time while real peers run sessions. The server
# stays up and under its memory bound, the real sessions connect, and the
# attacker never receives an endpoint.
set -eu
PL=$1 SRC=$2
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP needs root"; exit 0; }
out=$(mktemp -d)
lab=$("$PL" topo up "$SRC/tests/data/hostile.json" --name "h$(( $$ % 100000 ))")
trap '"$PL" topo down "$lab" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
echo "1..5"
"$PL" topo exec "$lab" server -- "$PL" server --listen 198.18.0.1:7777 --max-per-addr 32 \
	--idle-ms 2000 2> "$out/server.log" &
srv=$!
sleep 0.3
"$PL" topo exec "$lab" attacker -- python3 "$SRC/tests/root/hostile.py" 198.18.0.1:7777 6 > "$out/attack.json" &
attacker=$!
sleep 1
ok=0
for i in 1 2 3; do
	tok=$("$PL" topo exec "$lab" peer-a -- "$PL" session --server 198.18.0.1:7777)
	"$PL" topo exec "$lab" peer-a -- "$PL" peer --server 198.18.0.1:7777 --session "$tok" --role a \
		--os windows-xp > "$out/a$i" 2>/dev/null &
	pa=$!
	"$PL" topo exec "$lab" peer-b -- "$PL" peer --server 198.18.0.1:7777 --session "$tok" --role b \
		--os windows-xp > "$out/b$i" 2>/dev/null || true
	if wait $pa && grep -q '"connected":true' "$out/b$i"; then ok=$((ok + 1)); fi
done
[ "$ok" = 3 ] || { echo "not ok 1 - real sessions under attack: $ok of 3 connected"; exit 1; }
echo "ok 1 - three real sessions connected during the attack"
wait $attacker
kill -0 $srv
rss=$(awk '/VmRSS/ {print $2}' /proc/$srv/status)
[ "$rss" -lt 65536 ] || { echo "not ok 2 - server RSS $rss kB over 64 MiB"; exit 1; }
echo "ok 2 - the server is up, RSS $rss kB (bound 64 MiB)"
python3 - "$out/attack.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert not s["leaked_endpoint"], s
assert s["long_lines"] > 0 and s["wrong_tokens"] > 0 and s["flood"] > 0, s
PY
echo "ok 3 - the attacker got no endpoint ($(cat "$out/attack.json"))"
grep -q '"code":"line-too-long"' "$out/server.log" && grep -q '"code":"unknown-session"' "$out/server.log" \
	&& grep -q '"code":"bad-message"' "$out/server.log"
echo "ok 4 - the server refused the overlong, unknown and malformed lines by name"
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
if "$PL" topo exec "$lab" peer-a -- python3 "$SRC/tests/root/hostile_proxy.py" 1080 198.18.0.1:7100 \
	> "$out/proxy.json" && kill -0 $px; then
	echo "ok 5 - the proxy answered bad clients with RFC 1928 codes and stayed up ($(cat "$out/proxy.json"))"
else
	echo "not ok 5 - the proxy under bad clients: $(cat "$out/proxy.json")"
	exit 1
fi
kill $px $echo_srv 2>/dev/null || true
