#!/bin/sh
# SPDX-License-Identifier: MIT
# External heuristics (docs/heuristics.md), on loopback only. The Python and
# awk examples score exactly as the built-in delta on the shipped corpus;
# a server with an external heuristic predicts as delta does; heuristics
# that hang, crash on their third prediction, print garbage or print 10 MB
# without a newline each fail their predictions with heuristic-error (in the
# peers' result lines and in S's log, with why) while S goes on serving
# sessions; one that dies too often is given up, and S says why.
set -eu
PL=$1 SRC=$2
. "$SRC/tests/tap.sh"
tmp=$(mktemp -d)
bad=$SRC/tests/data/heuristics/bad.py
corpus=$SRC/experiments/traces/os-by-nat.txt
# shellcheck disable=SC2016 # expanded at exit
at_exit 'for f in "$tmp"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2> /dev/null; done; rm -rf "$tmp"'

# same_scores SPEC: predict with the external SPEC prints what the built-in
# delta prints, its name aside
same_scores() {
	"$PL" predict --heuristic delta "$corpus" > "$tmp/builtin.txt"
	"$PL" predict --heuristic "$1" "$corpus" > "$tmp/exec.txt"
	sed "s|^$1 *|NAME |; s|^heuristic  *|heuristic |" "$tmp/exec.txt" > "$tmp/a"
	sed "s|^delta  *|NAME |; s|^heuristic  *|heuristic |" "$tmp/builtin.txt" > "$tmp/b"
	diff -u "$tmp/b" "$tmp/a"
}

# serve NAME MODE [OPTION...]: punchlab server on 127.0.0.1 with bad.py MODE;
# its log in NAME.log, its port in $port
serve() {
	name=$1 mode=$2
	shift 2
	: > "$tmp/$name.log"
	# -k: a server that does not end on the SIGTERM at exit is killed 5 s
	# later (an ASan build's leak check was seen to hang at the exit of the
	# crash3 server now and then); its stdout is not the TAP stream, so
	# meson does not wait for it
	timeout -k 5 120 "$PL" server --listen 127.0.0.1:0 \
		--heuristic "exec:python3 $bad $mode" "$@" 2> "$tmp/$name.log" > /dev/null &
	echo $! > "$tmp/$name.pid"
	for _ in $(seq 100); do
		grep -q '"event":"listen"' "$tmp/$name.log" && break
		sleep 0.1
	done
	port=$(sed -n 's/.*"addr":"127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$tmp/$name.log")
	[ -n "$port" ] || bail "the server of $name did not start: $(cat "$tmp/$name.log")"
}

# session NAME N [PEER OPTION...]: one session of two peers with S of NAME,
# their result lines in NAME-N.a and NAME-N.b
session() {
	name=$1 i=$2
	shift 2
	tok=$("$PL" session --server "127.0.0.1:$port")
	timeout 30 "$PL" peer --server "127.0.0.1:$port" --session "$tok" --role a \
		--os windows-xp "$@" > "$tmp/$name-$i.a" &
	pa=$!
	timeout 30 "$PL" peer --server "127.0.0.1:$port" --session "$tok" --role b \
		--os windows-xp "$@" > "$tmp/$name-$i.b" || true
	wait $pa || true
}

# punch_after_restart: in S's crash log, a punch follows the first restart
punch_after_restart() {
	sed -n '/"event":"heuristic-restart"/,$p' "$tmp/crash.log" | grep -q '"event":"punch"'
}

# held_briefly LOG: every heuristic-error line comes less than 200 ms after
# the line before it (the last probe, or the previous round's end)
held_briefly() {
	awk -F'"ts":' '{ split($2, t, ","); ts = t[1] + 0 }
		/"event":"heuristic-error"/ && ts - prev >= 0.2 { print "held " ts - prev " s: " $0; bad = 1 }
		{ prev = ts } END { exit bad }' "$1"
}

# reason_is FILE REASON: the peer's result line says so
reason_is() { grep -q "\"reason\":\"$2\"" "$1"; }
# logged NAME TEXT: S's log has a line with TEXT (a fixed string)
logged() { grep -F -- "$2" "$tmp/$1.log"; }
alive() { kill -0 "$(cat "$tmp/$1.pid")"; }

# S's candidates for each side are the other's last port seen + 1: delta
# on windows-xp's sequential ports
predicts_delta() {
	python3 - "$tmp/$1.a" "$tmp/$1.b" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for me, other in ((a, b), (b, a)):
    for seen, pred in zip(other["ports_seen"], me["ports_predicted"]):
        assert pred == [seen[-1] + 1], (seen, pred)
assert a["ports_predicted"], a
PY
}

# mawk (Debian's awk) reads a pipe in blocks unless -W interactive
awk_lines=""
awk -W version 2> /dev/null | grep -q mawk && awk_lines="-W interactive"
plan 28
check "predict: exec:python3 examples/heuristics/delta.py scores exactly as the built-in delta on the shipped corpus" \
	same_scores "exec:python3 $SRC/examples/heuristics/delta.py"
check "predict: exec:awk -f examples/heuristics/delta.awk scores exactly as the built-in delta" \
	same_scores "exec:awk $awk_lines -f $SRC/examples/heuristics/delta.awk"
check_refused 2 "predict refuses exec: without a program" "no program after" \
	"$PL" predict --heuristic "exec: " "$corpus"
check_refused 2 "predict refuses a program that does not start, saying why" \
	"cannot run /nonexistent/heuristic: No such file or directory" \
	"$PL" predict --heuristic "exec:/nonexistent/heuristic" "$corpus"
check_refused 1 "server refuses a program that does not answer its first request" \
	"its first answer (round 0): not JSON" \
	"$PL" server --listen 127.0.0.1:0 --heuristic "exec:yes hello"

printf '{"topology": "%s", "matrix": {"heuristic": ["delta", "exec:python3 %s good"]}}\n' \
	"$SRC/topologies/two-nats.json" "$bad" > "$tmp/suite.json"
# shellcheck disable=SC2016 # the inner shell expands them
check "a suite takes \"heuristic\": \"exec:...\" (run --dry-run lists its cell)" \
	sh -c '"$1" run --dry-run "$2" | grep -qF "\"heuristic\":\"exec:python3 $3 good\""' - "$PL" "$tmp/suite.json" "$bad"

serve good good
session good 1
check "server with an external heuristic: S's candidates are its answers (delta's here)" \
	predicts_delta good-1
check "S logs the external heuristic's name in its punch events" \
	logged good '"heuristic":"exec:python3'

serve hang hang
session hang 1 --rounds 2
check "a heuristic that hangs: the peers' reason is heuristic-error" reason_is "$tmp/hang-1.a" heuristic-error
check "a heuristic that hangs: S logs the deadline with the session" \
	logged hang '"event":"heuristic-error","session"'
check "a heuristic that hangs: the error says no answer within 50 ms" logged hang 'no answer within 50 ms'
check "a heuristic that hangs holds S up for the deadline only (the error < 200 ms after the last probe)" \
	held_briefly "$tmp/hang.log"
session hang 2 --rounds 1
check "a heuristic that hangs: S serves the next session (its verdict)" reason_is "$tmp/hang-2.b" heuristic-error
check "a heuristic that hangs: S is still up" alive hang

serve crash crash3
# each incarnation dies on its third prediction, and is not asked before it
# answered its first request (Python may take 300 ms to start): sessions a
# second apart until the restarts are spent (a session that connects in
# its first round asks for two predictions only), 12 at most
for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
	session crash $i --rounds 3
	grep -q '"event":"heuristic-gave-up"' "$tmp/crash.log" && break
	sleep 1
done
check "a heuristic that crashes on its 3rd prediction: a round without a punch ([]), heuristic-error" \
	grep -l '"ports_predicted":\[.*\[\].*"reason":"heuristic-error"' "$tmp"/crash-*.a
check "the crash is logged with the session, with the exit status" \
	logged crash '"error":"exited with status 3"'
check "the crashed heuristic is started again (logged)" logged crash '"event":"heuristic-restart","restarts":1'
check "after the restart, S punches with the new program's answers" punch_after_restart
check "a heuristic that keeps crashing is given up after 3 restarts, and S says why" \
	logged crash '"event":"heuristic-gave-up","why":"the program '
check "... that it died after 3 restarts" logged crash ', after 3 restarts: not started again"'
session crash last --rounds 1
check "after giving up, S still serves sessions: they fail with heuristic-error" \
	reason_is "$tmp/crash-last.a" heuristic-error

serve garbage garbage
session garbage 1 --rounds 1
check "a heuristic that prints garbage: heuristic-error" reason_is "$tmp/garbage-1.b" heuristic-error
check "the garbage is logged with the session, with what is wrong" \
	logged garbage '"answer":"the port after the last one, I think"'
check "the error names what is wrong with it (not JSON)" logged garbage '"error":"not JSON: '

serve flood flood
session flood 1 --rounds 2
check "a heuristic that prints 10 MB without a newline: heuristic-error" reason_is "$tmp/flood-1.a" heuristic-error
check "the overlong answer is logged as such" logged flood '"error":"an answer longer than 65536 bytes"'
session flood 2 --rounds 1
check "after the flood, S serves the next session" reason_is "$tmp/flood-2.a" heuristic-error
check "after the flood, S is still up" alive flood
