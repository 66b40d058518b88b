#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The attacker of the hostile-network test, bounded in count and time.

Run inside the attacker's namespace against S at ADDR:PORT for SECONDS. It
holds many idle connections, sends lines longer than the limit, invalid
JSON, wrong tokens, half messages, and floods connections. It prints one
JSON line: what it did, and whether any reply ever held an endpoint (an
"addr" or "ports" field); the test fails on that.
"""
import json, socket, sys, time

host, port = sys.argv[1].rsplit(":", 1)
port, seconds = int(port), float(sys.argv[2])
end = time.time() + seconds
stats = {"idle_held": 0, "refused_or_closed": 0, "replies": 0, "leaked_endpoint": False,
         "long_lines": 0, "bad_json": 0, "wrong_tokens": 0, "half_messages": 0, "flood": 0}


def connect(timeout=2.0):
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.connect((host, port))
        return s
    except OSError:
        stats["refused_or_closed"] += 1
        s.close()
        return None


def exchange(payload):
    s = connect()
    if not s:
        return
    try:
        s.sendall(payload)
        data = s.recv(4096)
        if data:
            stats["replies"] += 1
            for line in data.decode("utf-8", "replace").splitlines():
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if isinstance(msg, dict) and ("addr" in msg or "ports" in msg):
                    stats["leaked_endpoint"] = True
    except OSError:
        stats["refused_or_closed"] += 1
    finally:
        s.close()


idle = []
for _ in range(200):  # far more than --max-per-addr allows
    s = connect(0.5)
    if s:
        idle.append(s)
stats["idle_held"] = len(idle)

tok = "00112233445566778899aabbccddeeff"
while time.time() < end:
    exchange(b"{" + b"x" * 5000 + b"}\n"); stats["long_lines"] += 1
    exchange(b"{\"v\":1,\"type\":\n"); stats["bad_json"] += 1
    exchange(b"\xff\xfe\x00garbage\n"); stats["bad_json"] += 1
    exchange(('{"v":1,"type":"hello","session":"%s","role":"a","probes":3}\n' % tok).encode()); stats["wrong_tokens"] += 1
    exchange(('{"v":1,"type":"probe","token":"%s","seq":0}\n' % tok).encode()); stats["wrong_tokens"] += 1
    s = connect(0.5)
    if s:
        try:
            s.sendall(b'{"v":1,"type":"hel')  # and never the rest
            idle.append(s)
        except OSError:
            s.close()
        stats["half_messages"] += 1
    for _ in range(20):
        s = connect(0.5)
        if s:
            s.close()
        stats["flood"] += 1
for s in idle:
    s.close()
print(json.dumps(stats))
