#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Plain sockets for the NAT behaviour tests (tests/root/natbehaviour.sh).

`natprobe.py worker` runs inside one lab node (through `punchlab topo exec`)
and answers JSON commands, one a line on stdin, with one JSON line on stdout:

  {"op": "serve", "ports": [P...]}      listen on P; each connection is told the
                                        endpoint it came from ("A.B.C.D:PORT\\n")
  {"op": "connect", "src": P, "dst": [A, P]}
                                        connect from local port P and return the
                                        endpoint the far side saw; the socket
                                        stays open (the mapping stays alive)
  {"op": "listen", "port": P}           a listener beside such sockets
  {"op": "accepted", "port": P, "wait": S}
                                        the peers P's listener accepted within S
  {"op": "dial", "src": P, "dst": [A, P], "timeout": S, "async": bool}
                                        open a connection from local port P:
                                        "connected", "rst", "icmp" (an ICMP
                                        error for it arrived) or "timeout",
                                        with the milliseconds it took; async
                                        returns at once, "result" collects it
  {"op": "result"}

Every socket sets SO_REUSEADDR and SO_REUSEPORT, so a port may serve, dial
and listen at once (the P2PNAT way). Nothing here decides what a NAT is: the
shell test compares what was seen with what the preset declares.
"""
import json
import select
import socket
import struct
import sys
import threading
import time

keep = []  # sockets kept open
listeners = {}
pending = []


def sock(port=0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", port))
    return s


def serve_one(l):
    while True:
        c, peer = l.accept()
        try:
            c.sendall(f"{peer[0]}:{peer[1]}\n".encode())
        finally:
            c.close()


def op_serve(m):
    for p in m["ports"]:
        l = sock(p)
        l.listen(64)
        threading.Thread(target=serve_one, args=(l,), daemon=True).start()
    return {}


def op_connect(m):
    s = sock(m["src"])
    s.settimeout(5)
    s.connect(tuple(m["dst"]))
    seen = s.makefile().readline().strip()
    keep.append(s)
    return {"seen": seen}


def op_listen(m):
    l = sock(m["port"])
    l.listen(16)
    l.setblocking(False)
    listeners[m["port"]] = l
    return {}


def op_accepted(m):
    l, got, end = listeners[m["port"]], [], time.time() + m["wait"]
    while time.time() < end:
        r, _, _ = select.select([l], [], [], max(0.0, end - time.time()))
        if r:
            c, peer = l.accept()
            got.append(f"{peer[0]}:{peer[1]}")
            keep.append(c)
    return {"accepted": got}


def icmp_for(raw, dst, sport, deadline):
    """an ICMP destination-unreachable quoting our SYN to DST from SPORT"""
    while time.time() < deadline:
        r, _, _ = select.select([raw], [], [], max(0.0, deadline - time.time()))
        if not r:
            return False
        pkt = raw.recv(2048)
        ihl = (pkt[0] & 15) * 4
        if pkt[ihl] != 3 or len(pkt) < ihl + 8 + 20 + 4:
            continue
        inner = pkt[ihl + 8:]
        iihl = (inner[0] & 15) * 4
        qs, qd = struct.unpack("!HH", inner[iihl:iihl + 4])
        if socket.inet_ntoa(inner[16:20]) == dst[0] and qd == dst[1] and qs == sport:
            return True
    return False


def dial(m):
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    s = sock(m["src"])
    t0 = time.time()
    s.settimeout(m["timeout"])
    try:
        s.connect(tuple(m["dst"]))
        out = "connected"
        keep.append(s)
    except ConnectionRefusedError:
        out = "icmp" if icmp_for(raw, m["dst"], m["src"], time.time() + 0.2) else "rst"
    except (socket.timeout, TimeoutError):
        out = "timeout"
    except OSError as e:  # host/net unreachable: an ICMP too
        out = "icmp" if icmp_for(raw, m["dst"], m["src"], time.time() + 0.2) else str(e)
    raw.close()
    return {"outcome": out, "ms": round((time.time() - t0) * 1000)}


def op_dial(m):
    if not m.get("async"):
        return dial(m)
    box = {}
    t = threading.Thread(target=lambda: box.update(dial(m)), daemon=True)
    t.start()
    pending.append((t, box))
    return {}


def op_result(m):
    t, box = pending.pop(0)
    t.join()
    return box


OPS = {"serve": op_serve, "connect": op_connect, "listen": op_listen, "accepted": op_accepted,
       "dial": op_dial, "result": op_result}

if __name__ == "__main__":
    for line in sys.stdin:
        m = json.loads(line)
        try:
            r = OPS[m["op"]](m)
        except Exception as e:  # reported, and the next command goes on
            r = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(r), flush=True)
