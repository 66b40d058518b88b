#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The attacker of the relay (method relay), bounded in count and time.

Run inside the attacker's namespace against the relay at ADDR:PORT for
SECONDS: it holds idle connections (more than one address may), sends
lines without an end, malformed lines, a role twice for one key, and a
pair of its own whose one side writes without end while the other never
reads. It prints one JSON line of what it did; the relay must stay up and
serve the real peers meanwhile (tests/root/hostile.sh).
"""
import json, os, socket, sys, time

host, port = sys.argv[1].rsplit(":", 1)
port, seconds = int(port), float(sys.argv[2])
end = time.time() + seconds
stats = {"idle": 0, "closed_at_once": 0, "unended": 0, "malformed": 0, "role_twice_closed": False,
         "flood_bytes": 0}


def connect():
    s = socket.socket()
    s.settimeout(2.0)
    try:
        s.connect((host, port))
        return s
    except OSError:
        s.close()
        return None


def closed(s):
    """Whether the relay closed S within a second."""
    s.settimeout(1.0)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except OSError:
        return True


held = []
for _ in range(40):  # the per-address bound closes the ones beyond it
    s = connect()
    if s:
        held.append(s)
        stats["idle"] += 1
stats["closed_at_once"] = sum(1 for s in held[20:] if closed(s))
for s in held:
    s.close()
time.sleep(0.2)
for _ in range(5):
    s = connect()
    if s:
        s.sendall(b"RELAY " + b"f" * 100)  # no end: longer than a line may be
        stats["unended"] += closed(s)
        s.close()
for line in (b"RELAY xyz a\n", b"HELLO\n", b"RELAY " + b"0" * 32 + b" c\n", b"\x00" * 41 + b"\n"):
    s = connect()
    if s:
        s.sendall(line)
        stats["malformed"] += closed(s)
        s.close()
key = os.urandom(16).hex().encode()
a1, a2 = connect(), connect()
a1.sendall(b"RELAY " + key + b" a\n")
time.sleep(0.1)
a2.sendall(b"RELAY " + key + b" a\n")
stats["role_twice_closed"] = closed(a2)
a2.close()
b = connect()
b.sendall(b"RELAY " + key + b" b\n")  # paired with a1; b never reads
a1.setblocking(False)
chunk = b"x" * 65536
while time.time() < end:
    try:
        stats["flood_bytes"] += a1.send(chunk)
    except BlockingIOError:
        time.sleep(0.05)
    except OSError:
        break
print(json.dumps(stats))
