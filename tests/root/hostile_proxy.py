#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Bad SOCKS clients against `punchlab proxy` at 127.0.0.1:PORT (run in the
proxy's namespace): garbage, SOCKS4, unsupported commands and address types,
idle and half-open clients, a refused and an unreachable target. Then one
good CONNECT through it to ECHO (ADDR:PORT, a listener that answers "pong").
Prints a JSON line of the SOCKS reply codes seen; exits 1 if the proxy
stopped serving. With PID (the proxy's), it also wants the proxy idle while
the unreachable target's connect is under way, though the client has sent
data after its request: the proxy's CPU time over that wait is printed."""
import json, os, socket, struct, sys, time

port = int(sys.argv[1])
echo_host, echo_port = sys.argv[2].rsplit(":", 1)
proxy_pid = sys.argv[3] if len(sys.argv) > 3 else None
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


def cpu_s(pid):
    """utime + stime of PID, in seconds (fields 14 and 15 of its stat)"""
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(50)]
half = socket.create_connection(("127.0.0.1", port)); half.sendall(b"\x05\x01")
codes["garbage"] = client(b"GET / HTTP/1.0\r\n\r\n").hex()
codes["socks4"] = client(b"\x04\x01\x00\x50" + v4("198.18.0.1") + b"\x00").hex()
codes["no_acceptable_auth"] = client(b"\x05\x01\x02").hex()
codes["bind"] = client(b"\x05\x01\x00", req(2, 1, v4("198.18.0.1"), 80))[1]
codes["domain"] = client(b"\x05\x01\x00", req(1, 3, b"\x07example", 80))[1]
codes["ipv6"] = client(b"\x05\x01\x00", req(1, 4, b"\x00" * 16, 80))[1]
codes["refused"] = client(b"\x05\x01\x00", req(1, 1, v4(echo_host), 9))[1]
# data right behind the request: it must wait in the socket, not spin the proxy
# (sent once the proxy has taken the request and started to connect)
s = socket.create_connection(("127.0.0.1", port), timeout=15)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(req(1, 1, v4("198.18.0.99"), 80))
time.sleep(0.3)
before = cpu_s(proxy_pid)
s.sendall(b"early data")
codes["unreachable"] = s.recv(10)[1]
codes["connecting_cpu_s"] = round(cpu_s(proxy_pid) - before, 2)
s.close()
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
      and codes["no_acceptable_auth"] == "05ff" and codes["connecting_cpu_s"] < 0.5)
sys.exit(0 if ok else 1)
