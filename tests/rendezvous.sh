#!/bin/sh
# SPDX-License-Identifier: MIT
# punchlab rendezvous against a punchlab server on loopback (no namespace,
# no lab): the two sides' variables, read back by sh's eval, agree with each
# other and with what S logged; the local port can be bound at once (reuse:
# the kept probe connection ended with no TIME_WAIT of ours); predict names
# the emulated allocator's next port, or none; a wrong session, no server
# and bad options fail with a clear message and nothing on stdout, so that
# an eval of it sets nothing.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
tmp=$(mktemp -d)
# shellcheck disable=SC2016 # expanded at exit
at_exit '[ -e "$tmp/srv.pid" ] && kill "$(cat "$tmp/srv.pid")" 2> /dev/null; rm -rf "$tmp"'

: > "$tmp/srv.log"
timeout -k 5 60 "$PL" server --listen 127.0.0.1:0 --method reuse 2> "$tmp/srv.log" > /dev/null &
echo $! > "$tmp/srv.pid"
for _ in $(seq 100); do
	grep -q '"event":"listen"' "$tmp/srv.log" && break
	sleep 0.1
done
port=$(sed -n 's/.*"addr":"[0-9.]*:\([0-9]*\)".*/\1/p' "$tmp/srv.log")
[ -n "$port" ] || bail "no server: $(cat "$tmp/srv.log")"
srv=127.0.0.1:$port

tok=$("$PL" session --server "$srv")
"$PL" rendezvous --server "$srv" --session "$tok" --role a --method reuse > "$tmp/a.vars" 2> "$tmp/a.err" &
apid=$!
"$PL" rendezvous --server "$srv" --session "$tok" --role b --method reuse > "$tmp/b.vars" 2> "$tmp/b.err"
wait $apid

# VAR FILE: the value of PUNCHLAB_VAR once FILE is eval'd by sh
val() { sh -c '. "$1" && eval "echo \"\$PUNCHLAB_$2\""' sh "$2" "$1"; }
# each side connects to the other's local port: a's REMOTE is b's local one
cross_agree() {
	[ "$(val REMOTE_PORT "$tmp/a.vars")" = "$(val LOCAL_PORT "$tmp/b.vars")" ] &&
		[ "$(val REMOTE_PORT "$tmp/b.vars")" = "$(val LOCAL_PORT "$tmp/a.vars")" ] &&
		[ "$(val REMOTE "$tmp/a.vars")" = "127.0.0.1:$(val LOCAL_PORT "$tmp/b.vars")" ]
}
# S logged each side's probe from the port that side now names as local
logged_ports() {
	for r in a b; do
		grep '"event":"probe"' "$tmp/srv.log" |
			grep -q "\"from\":\"127.0.0.1:$(val LOCAL_PORT "$tmp/$r.vars")\"" || return 1
	done
}
go_agrees() {
	ga=$(val GO_AT "$tmp/a.vars") gb=$(val GO_AT "$tmp/b.vars") now=$(date +%s.%N)
	awk -v a="$ga" -v b="$gb" -v n="$now" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 0.05 && a > n - 10 && a < n + 10) }'
}
# both local ports bound again at once, no SO_REUSEADDR: nothing holds them
bindable() {
	python3 - "$(val LOCAL_PORT "$tmp/a.vars")" "$(val LOCAL_PORT "$tmp/b.vars")" <<'PY'
import socket, sys
for p in sys.argv[1:]:
    s = socket.socket()
    s.bind(("127.0.0.1", int(p)))
    s.close()
PY
}
# predict: with --os windows-xp the allocator's next port (its 1025-5000),
# without a profile 0 (the kernel picks at connect())
predict_ports() {
	tok2=$("$PL" session --server "$srv")
	"$PL" rendezvous --server "$srv" --session "$tok2" --role a --os windows-xp > "$tmp/pa.vars" &
	pa=$!
	"$PL" rendezvous --server "$srv" --session "$tok2" --role b > "$tmp/pb.vars"
	wait $pa
	lp=$(val LOCAL_PORT "$tmp/pa.vars")
	echo "a: $lp, b: $(val LOCAL_PORT "$tmp/pb.vars")"
	[ "$lp" -ge 1025 ] && [ "$lp" -le 5000 ] && [ "$(val LOCAL_PORT "$tmp/pb.vars")" = 0 ] &&
		[ "$(val METHOD "$tmp/pb.vars")" = predict ]
}

# quiet_fail STATUS TEXT CMD...: CMD exits STATUS, says TEXT on stderr, prints nothing on stdout
quiet_fail() {
	want=$1 text=$2
	shift 2
	rc=0
	"$@" > "$tmp/q.out" 2> "$tmp/q.err" || rc=$?
	cat "$tmp/q.err" "$tmp/q.out"
	[ "$rc" = "$want" ] && grep -q -F -e "$text" "$tmp/q.err" && [ ! -s "$tmp/q.out" ]
}

plan 10
check "both sides print their variables and exit 0" test -s "$tmp/a.vars" -a -s "$tmp/b.vars"
check "the variables eval in sh: role, method, an export of every one" \
	test "$(val ROLE "$tmp/a.vars") $(val METHOD "$tmp/b.vars") $(grep -c '^export ' "$tmp/a.vars")" = "a reuse 1"
check "each side's REMOTE is the other's local port (loopback: S saw it as it is)" cross_agree
check "the local ports are the ones S saw the probes come from" logged_ports
check "both go at the same wall-clock moment, within 50 ms, about now" go_agrees
check "both local ports can be bound at once, without SO_REUSEADDR" bindable
check "predict: the windows-xp allocator's next port, or 0 without a profile" predict_ports
check "a session S does not know: a clear error, nothing on stdout" quiet_fail 1 "punchlab rendezvous: " \
	"$PL" rendezvous --server "$srv" --session 00000000000000000000000000000000 --role a --wait-ms 500
check "no server: cannot reach it, nothing on stdout" quiet_fail 1 "cannot reach the server" \
	"$PL" rendezvous --server 127.0.0.1:1 --session "$tok" --role a
check "--method stunt9: refused, naming the methods" quiet_fail 2 "--method wants predict or reuse" \
	"$PL" rendezvous --server "$srv" --session "$tok" --role a --method stunt9
