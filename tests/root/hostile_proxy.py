#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bad SOCKS clients against `punchlab proxy` at 127.0.0.1:PORT (run in the
proxy's namespace): garbage, SOCKS4, unsupported commands and address types,
idle and half-open clients, a refused and an unreachable target. Then one
good CONNECT through it to ECHO (ADDR:PORT, a listener that answers "pong").
Prints a JSON line of the SOCKS reply codes seen; exits 1 if the proxy
stopped serving."""
import json, socket, struct, sys

port = int(sys.argv[1])
echo_host, echo_port = sys.argv[2].rsplit(":", 1)
codes = {}


def client(greeting, request=None, timeout=5.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(greeting)
        if request is None:
            return s.recv(16)
        rep = s.recv(2)
        if rep != b"\x05\x00":
            return rep
        s.sendall(request)
        return s.recv(10)
    finally:
        s.close()


def req(cmd, atyp, addr, port_):
    return struct.pack("!BBBB", 5, cmd, 0, atyp) + addr + struct.pack("!H", port_)


def v4(a):
    return socket.inet_aton(a)


idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
half = socket.create_connection(("127.0.0.1", port)); half.sendall(b"\x05\x01")
codes["garbage"] = client(b"GET / HTTP/1.0\r\n\r\n").hex()
codes["socks4"] = client(b"\x04\x01\x00\x50" + v4("198.18.0.1") + b"\x00").hex()
codes["no_acceptable_auth"] = client(b"\x05\x01\x02").hex()
codes["bind"] = client(b"\x05\x01\x00", req(2, 1, v4("198.18.0.1"), 80))[1]
codes["domain"] = client(b"\x05\x01\x00", req(1, 3, b"\x07example", 80))[1]
codes["ipv6"] = client(b"\x05\x01\x00", req(1, 4, b"\x00" * 16, 80))[1]
codes["refused"] = client(b"\x05\x01\x00", req(1, 1, v4(echo_host), 9))[1]
codes["unreachable"] = client(b"\x05\x01\x00", req(1, 1, v4("198.18.0.99"), 80), timeout=15)[1]
for s in idle + [half]:
    s.close()

s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(req(1, 1, v4(echo_host), int(echo_port)))
rep = s.recv(10)
s.sendall(b"ping\n")
codes["good"] = rep[1]
codes["echo"] = s.recv(16).decode().strip()
s.close()
print(json.dumps(codes))
ok = (codes["bind"] == 7 and codes["domain"] == 8 and codes["ipv6"] == 8 and codes["refused"] == 5
      and codes["unreachable"] in (3, 4) and codes["good"] == 0 and codes["echo"] == "pong"
      and codes["no_acceptable_auth"] == "05ff")
sys.exit(0 if ok else 1)
