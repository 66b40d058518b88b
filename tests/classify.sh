#!/bin/sh
# SPDX-License-Identifier: MIT
# classify and classify-server on loopback, no lab and no root: the server on
# 127.0.0.1:P1 --alt 127.0.0.2:P2 (both local on Linux loopback). With no NAT
# in the way, classify must find what a perfect full-cone NAT would give:
# mapping and filtering endpoint-independent, ports preserved, an unsolicited
# SYN answered by RST (the host's own stack), hairpin true. Then hostile
# clients (garbage, an overlong line, a slow partial line, a flood of connect
# requests, many idle connections, one client too many) while a good classify
# still completes with the same verdicts, and the server survives to exit 0
# on SIGTERM. Then wrong and hostile servers (python, on loopback): classify
# ends within its deadlines with every field "unknown", never a guess.
#   tests/classify.sh PUNCHLAB SRCDIR
set -eu
PL=$1
SRC=$2
. "$SRC/tests/tap.sh"
command -v python3 > /dev/null || skip_all "python3 is needed for the hostile clients"
tmp=$(mktemp -d)
SPID=""
at_exit "rm -rf '$tmp'"
# shellcheck disable=SC2016 # expanded at exit
at_exit '[ -z "$SPID" ] || kill "$SPID" 2> /dev/null || true'

# start_server [OPTIONS]: classify-server on a free pair of ports and a sink
# on P1+2, retried on other ports when taken; sets P1, P2 and SPID, or skips
# the whole test
start_server() {
	for try in 1 2 3 4 5; do
		P1=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 39000))
		P2=$((P1 + 1))
		"$PL" classify-server --listen "127.0.0.1:$P1" --alt "127.0.0.2:$P2" \
			--sink-port $((P1 + 2)) "$@" \
			2> "$tmp/server.log" &
		SPID=$!
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			grep -q '"event":"listen"' "$tmp/server.log" 2> /dev/null && return 0
			kill -0 "$SPID" 2> /dev/null || break
			sleep 0.1
		done
		kill "$SPID" 2> /dev/null || true
		wait "$SPID" || true
		note "ports $P1/$P2 not usable (try $try): $(head -c 200 "$tmp/server.log")"
	done
	skip_all "no free pair of ports on 127.0.0.1/127.0.0.2 in 5 tries"
}

# field FILE KEY: a top-level value of classify --json's output
field() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print(json.dumps(v) if not isinstance(v,str) else v)' "$1" "$2"
}

# verdicts_ok FILE: the loopback verdicts, exactly
verdicts_ok() {
	[ "$(field "$1" mapping)" = endpoint-independent ]
	[ "$(field "$1" filtering)" = endpoint-independent ]
	[ "$(field "$1" port_assignment)" = preserve ]
	[ "$(field "$1" unsolicited_syn)" = rst ]
	[ "$(field "$1" hairpin)" = true ]
	[ "$(field "$1" delta)" = null ]
}

# classify_json OUT: one classify against the server, its JSON in OUT
classify_json() {
	timeout 30 "$PL" classify --server "127.0.0.1:$P1" --json > "$1"
}

# hostile WHAT: a misbehaving client (python, below); prints what it saw
hostile() {
	timeout 20 python3 - "$P1" "$@" << 'EOF'
import socket, sys, time
port, what = int(sys.argv[1]), sys.argv[2]
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=8)
    return s
def reply(s):
    data = b""
    try:
        while True:
            b = s.recv(4096)
            if not b:
                return data.decode(errors="replace") + "<closed>"
            data += b
    except socket.timeout:
        return data.decode(errors="replace") + "<open>"
    except ConnectionResetError: # closed with our bytes unread: a RST after its reply
        return data.decode(errors="replace") + "<closed>"
if what == "garbage":
    s = conn(); s.sendall(b"\x00\xff garbage {{{\n"); print(reply(s))
elif what == "overlong":
    s = conn(); s.sendall(b"{" + b"x" * 5000); print(reply(s))
elif what == "partial":
    t = time.time(); s = conn(); s.sendall(b'{"v":1,"type":"hel')
    r = reply(s); print(r, "after %.1f s" % (time.time() - t))
elif what == "flood":
    s = conn(); s.sendall(b'{"v":1,"type":"hello"}\n')
    s.sendall(b"".join(b'{"v":1,"type":"connect","id":%d,"from":1,"port":9,"wait_ms":100}\n' % i
                       for i in range(200)))
    time.sleep(2); s.settimeout(1); r = reply(s)
    print("outcomes", r.count('"outcome"'), "busy", r.count("EBUSY"))
elif what == "idle":
    socks = [conn() for _ in range(int(sys.argv[3]))]
    time.sleep(float(sys.argv[4])); print("held", len(socks))
elif what == "sink":
    import json
    s = conn(); s.sendall(b'{"v":1,"type":"hello"}\n')
    w = json.loads(s.makefile().readline()); host, p = w["sink"].split(":")
    k = socket.socket(); k.settimeout(1.5)
    try:
        k.connect((host, int(p))); print("the sink answered")
    except socket.timeout:
        print("sink", w["sink"], "silent")
elif what == "second":
    a = conn(); a.sendall(b'{"v":1,"type":"hello"}\n'); time.sleep(0.3)
    b = conn(); b.sendall(b'{"v":1,"type":"hello"}\n'); print(reply(b))
EOF
}

# says FILE TEXT: FILE holds TEXT
says() {
	grep -qF -- "$2" "$1"
}

start_server
note "classify-server on 127.0.0.1:$P1 and 127.0.0.2:$P2"
check "classify --json on loopback completes" classify_json "$tmp/a.json"
check "loopback: endpoint-independent mapping and filtering, preserve, rst, hairpin true" \
	verdicts_ok "$tmp/a.json"
note "one classify took $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["observations"]["elapsed_ms"])' "$tmp/a.json" 2> /dev/null) ms"
check "the human summary names every field and the nat object" sh -c \
	"timeout 30 '$PL' classify --server 127.0.0.1:$P1 > '$tmp/h.txt' &&
	 grep -q '^mapping  *endpoint-independent' '$tmp/h.txt' &&
	 grep -q '^hairpin  *true' '$tmp/h.txt' &&
	 grep -qx 'as a topology nat object (unknowns left out): {\"filtering\":\"endpoint-independent\",\"hairpin\":true,\"mapping\":\"endpoint-independent\",\"port_assignment\":\"preserve\",\"unsolicited_syn\":\"rst\"}' '$tmp/h.txt'"

hostile sink > "$tmp/sink.out"
check "the welcome offers the sink, and a SYN to it goes unanswered" says "$tmp/sink.out" \
	"sink 127.0.0.1:$((P1 + 2)) silent"
hostile garbage > "$tmp/garbage.out"
check "garbage: bad-message, then closed" says "$tmp/garbage.out" '"code":"bad-message"'
check "garbage: the connection is closed" says "$tmp/garbage.out" '<closed>'
hostile overlong > "$tmp/overlong.out"
check "an overlong line: line-too-long, then closed" says "$tmp/overlong.out" \
	'"code":"line-too-long"'
hostile flood > "$tmp/flood.out"
note "flood: $(cat "$tmp/flood.out")"
check "200 connect requests: at most 64 tried, the rest refused (EBUSY)" \
	python3 -c 'import sys; w=open(sys.argv[1]).read().split(); n,b=int(w[1]),int(w[3]); assert n-b<=64 and b>=100, w' \
	"$tmp/flood.out"

# the slow and the idle ones stay while a good client runs beside them
hostile partial > "$tmp/partial.out" &
PPID1=$!
hostile idle 200 6 > "$tmp/idle.out" &
IPID=$!
sleep 0.5
check "a classify completes beside 200 idle connections and a slow partial line" \
	classify_json "$tmp/b.json"
check "... with the same verdicts" verdicts_ok "$tmp/b.json"
wait "$PPID1" || true
wait "$IPID" || true
check "the partial line is cut off after the first-line deadline (5 s)" \
	python3 -c 'import sys; t=open(sys.argv[1]).read(); assert "<closed>" in t and 4 <= float(t.split()[-2]) <= 8, t' \
	"$tmp/partial.out"
check "the server is still running" kill -0 "$SPID"
kill "$SPID"
rc=0
wait "$SPID" || rc=$?
check_status 0 "classify-server exits 0 on SIGTERM (ASan: no leak)" "$rc" "$tmp/server.log"

start_server --max-clients 1
hostile second > "$tmp/second.out"
check "--max-clients 1: a second client is told busy" says "$tmp/second.out" '"code":"busy"'
kill "$SPID"
wait "$SPID" || true

start_server --max-per-addr 20
hostile idle 30 1 > /dev/null &
IPID=$!
sleep 0.5
check_refused 1 "--max-per-addr 20: a 31st connection from the address is told busy" \
	"server error busy" \
	timeout 20 "$PL" classify --server "127.0.0.1:$P1" --timeout 1000
wait "$IPID" || true
kill "$SPID"
wait "$SPID" || true

# fake_server MODE PORT: a wrong or hostile classify-server on 127.0.0.1:PORT
# for one client (python, below), in the background
fake_server() {
	timeout 40 python3 - "$@" << 'EOF' &
import socket, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port)); ls.listen(64)
tok = "ab" * 16
eps = '["127.0.0.1:%d","127.0.0.1:%d","127.0.0.2:%d","127.0.0.2:%d"]' % (port, port + 1, port, port + 1)
def serve(c):
    try:
        line = c.makefile("rb").readline()
        if mode == "garbage":
            c.sendall(b"\x01garbage\n")
        elif mode == "endless":
            c.sendall(b"{" * 100000)
        elif mode == "silent":
            time.sleep(5)
        elif mode == "wrong-a1":
            c.sendall(('{"v":1,"type":"welcome","token":"%s","you":"127.0.0.1:1","endpoints":["127.0.0.9:1","127.0.0.1:2","127.0.0.2:1","127.0.0.2:2"]}\n' % tok).encode())
        elif b'"hello"' in line: # liar: a good welcome, then nothing true
            c.sendall(('{"v":1,"type":"welcome","token":"%s","you":"127.0.0.1:1","endpoints":%s}\n' % (tok, eps)).encode())
            time.sleep(15)
        else:
            c.sendall(b'{"v":1,"type":"seen","seq":0,"you":"1.2.3.4:5","at":"9.9.9.9:9"}\n')
    except OSError:
        pass
    c.close()
end = time.time() + 30
ls.settimeout(1)
while time.time() < end:
    try:
        c, _ = ls.accept()
    except socket.timeout:
        continue
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
	FPID=$!
	sleep 0.5
}

# against MODE TEXT: classify against fake_server MODE exits 1 within 10 s,
# TEXT on stderr, every field "unknown"
against() {
	fake_server "$1" "$FP"
	rc=0
	start=$(date +%s)
	timeout 20 "$PL" classify --server "127.0.0.1:$FP" --timeout 1000 --json \
		> "$tmp/f.json" 2> "$tmp/f.err" || rc=$?
	kill "$FPID" 2> /dev/null || true
	wait "$FPID" 2> /dev/null || true
	cat "$tmp/f.err"
	[ "$rc" = 1 ] && grep -qF -- "$2" "$tmp/f.err" && [ $(($(date +%s) - start)) -le 10 ]
	for f in mapping filtering port_assignment unsolicited_syn hairpin; do
		[ "$(field "$tmp/f.json" "$f")" = unknown ]
	done
}

# liar: a server that welcomes, then lies about every probe and reports no
# attempt: classify completes (exit 0) with every field unknown and a reason
liar() {
	fake_server liar "$FP"
	rc=0
	timeout 30 "$PL" classify --server "127.0.0.1:$FP" --timeout 500 --json \
		> "$tmp/l.json" 2> "$tmp/l.err" || rc=$?
	kill "$FPID" 2> /dev/null || true
	wait "$FPID" 2> /dev/null || true
	[ "$rc" = 0 ]
	for f in mapping filtering port_assignment unsolicited_syn hairpin; do
		[ "$(field "$tmp/l.json" "$f")" = unknown ]
	done
	python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["observations"]; print(o["mapping"]["why"]); assert "another endpoint" in o["mapping"]["why"], o["mapping"]' "$tmp/l.json"
}

FP=$((P1 + 3))
check "a server that answers hello with garbage: exit 1, every field unknown" \
	against garbage "bad reply: not JSON"
check "a server that sends an endless line: exit 1, every field unknown" \
	against endless "bad reply"
check "a silent server: exit 1 after --timeout, every field unknown" \
	against silent "no reply: ETIMEDOUT"
check "a welcome naming another A1:P1: exit 1, every field unknown" \
	against wrong-a1 "not the one connected to"
check "a server that lies about what it saw: every field unknown, the reason given" liar

# --long on loopback: no NAT, so every binding outlives the one 15 s hold
# that a 50 s budget allows, in both states (the sink for SYN_SENT)
long_ok() {
	timeout 60 "$PL" classify --server "127.0.0.1:$P1" --json --long --long-budget 50 \
		> "$tmp/long.json"
	python3 - "$tmp/long.json" << 'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
t, o = r["timeouts"], r["observations"]["timeouts"]
assert t == {"syn_sent": "unknown", "established": "unknown"}, t
for k in ("syn_sent", "established"):
    assert o[k]["holds"] == [{"idle_s": 15, "alive": True}], o[k]
    assert o[k]["why"] == "longer than 15 s, the longest hold tried", o[k]
EOF
}
start_server --idle-ms 5000
check "--long: both lifetimes measured (one hold each), the control connection kept past its idle deadline" long_ok
kill "$SPID"
wait "$SPID" || true

check_refused 1 "classify without a server: exit 1, the reason on stderr" \
	"cannot connect to the server" \
	timeout 20 "$PL" classify --server "127.0.0.1:$P1" --timeout 1000
check_refused 2 "classify-server with one address twice is refused" \
	"two different addresses" \
	"$PL" classify-server --listen 127.0.0.1:1 --alt 127.0.0.1:2
