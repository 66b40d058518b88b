#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every NAT behaviour, checked with plain sockets from outside (TAP).

For each case (a preset, or a nat object of its own) the lab of
tests/data/nat/behaviour.json is built with that NAT: an inside host behind
it, and out1 (198.18.0.1) and out2 (198.18.0.3) outside. natprobe.py workers
in the three hosts then measure, and each measured field must equal what the
lab's state says its NAT does (what `punchlab topo show` prints):

  mapping          one inside port to out1:7000, out1:7001 and out2:7000
  filtering        out1 from another port and out2 dial an inside endpoint's
                   mapping (it contacted out1:7000 only) where it listens
  port_assignment  four inside ports in turn: the same ports, one step apart
                   (its delta), or neither
  unsolicited_syn  out2 dials a port nothing maps: RST, ICMP, nothing; and
                   REQ-4's "nothing for 6 s, then ICMP port unreachable"
  hairpin          the inside host dials its own mapping
  REQ-4 early SYN  (rfc5382 with preserved ports) out1's SYN reaches the NAT 1 s before the
                   inside host's SYN for the same connection: it is held and
                   dropped, and the simultaneous open connects

usage: natbehaviour.py PUNCHLAB SRC [CASE...]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

PL, SRC = sys.argv[1], sys.argv[2]
ONLY = sys.argv[3:]
NAT, OUT1, OUT2 = "198.18.0.2", "198.18.0.1", "198.18.0.3"

# name -> the nat object (outside is added)
CASES = {
    "home-2009": {"profile": "home-2009"},
    "rfc5382": {"profile": "rfc5382"},
    "full-cone": {"profile": "full-cone"},
    "restricted-cone": {"profile": "restricted-cone"},
    "port-restricted": {"profile": "port-restricted"},
    "symmetric-sequential": {"profile": "symmetric-sequential"},
    "symmetric-random": {"profile": "symmetric-random"},
    "cgnat": {"profile": "cgnat"},
    "linux-masquerade": {"profile": "linux-masquerade"},
    "adm-seq3-drop": {"profile": "port-restricted", "mapping": "address-dependent",
                      "port_assignment": "sequential", "delta": 3, "range": [50000, 50999],
                      "unsolicited_syn": "drop"},
    "eim-random-adf-icmp": {"profile": "restricted-cone", "port_assignment": "random",
                            "unsolicited_syn": "icmp", "hairpin": True},
}

n = 0
failed = 0


def tap(ok, what, detail=""):
    global n, failed
    n += 1
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
    if detail and not ok:
        for line in str(detail).splitlines():
            print(f"#   {line}")
    sys.stdout.flush()


class Worker:
    def __init__(self, lab, node):
        self.p = subprocess.Popen([PL, "topo", "exec", lab, node, "--", "python3",
                                   os.path.join(SRC, "tests/root/natprobe.py"), "worker"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __call__(self, op, **kw):
        kw["op"] = op
        self.p.stdin.write(json.dumps(kw) + "\n")
        self.p.stdin.flush()
        r = json.loads(self.p.stdout.readline())
        if "error" in r:
            raise RuntimeError(f"{op}: {r['error']}")
        return r

    def close(self):
        self.p.kill()
        self.p.wait()


def port_of(ep):
    return int(ep.rsplit(":", 1)[1])


def measure(w, declared):
    inside, out1, out2 = w["inside"], w["out1"], w["out2"]
    out1("serve", ports=[7000, 7001])
    out2("serve", ports=[7000])
    m = {}
    p = [port_of(inside("connect", src=40001, dst=[a, pt])["seen"])
         for a, pt in ((OUT1, 7000), (OUT1, 7001), (OUT2, 7000))]
    m["mapping"] = ("endpoint-independent" if p[0] == p[1] == p[2] else
                    "address-dependent" if p[0] == p[1] else "address-and-port-dependent")
    m["mapping_ports"] = p

    ext = port_of(inside("connect", src=40002, dst=[OUT1, 7000])["seen"])
    inside("listen", port=40002)
    out1("dial", src=7001, dst=[NAT, ext], timeout=2, **{"async": True})
    out2("dial", src=7000, dst=[NAT, ext], timeout=2, **{"async": True})
    r1, r2 = out1("result"), out2("result")
    got = inside("accepted", port=40002, wait=0.5)["accepted"]
    port_ok = r1["outcome"] == "connected" and any(a.startswith(OUT1) for a in got)
    addr_ok = r2["outcome"] == "connected" and any(a.startswith(OUT2) for a in got)
    m["filtering"] = ("endpoint-independent" if port_ok and addr_ok else
                      "address-dependent" if port_ok else
                      "address-and-port-dependent" if not addr_ok else "inconsistent")
    m["filtering_seen"] = [r1, r2, got]

    q = [port_of(inside("connect", src=40010 + i, dst=[OUT1, 7000])["seen"]) for i in range(4)]
    steps = {b - a for a, b in zip(q, q[1:])}
    m["port_assignment"] = ("preserve" if q == [40010 + i for i in range(4)] else
                            "sequential" if len(steps) == 1 else "random")
    if m["port_assignment"] == "sequential":
        m["delta"] = steps.pop()
    m["ports"] = q

    slow = declared["unsolicited_syn"] == "rfc5382"
    r = out2("dial", src=7002, dst=[NAT, 40999], timeout=9 if slow else 2)
    m["unsolicited_syn"] = {"rst": "rst", "timeout": "drop"}.get(r["outcome"], r["outcome"])
    if r["outcome"] == "icmp":
        m["unsolicited_syn"] = "rfc5382" if r["ms"] >= 5500 else "icmp"
    m["unsolicited_seen"] = r

    e4 = inside("connect", src=40004, dst=[OUT1, 7000])["seen"]
    inside("listen", port=40004)
    h = inside("dial", src=40005, dst=[NAT, port_of(e4)], timeout=2)
    got = inside("accepted", port=40004, wait=0.3)["accepted"]
    m["hairpin"] = h["outcome"] == "connected" and bool(got)
    m["hairpin_seen"] = [h, got]

    if slow and declared["port_assignment"] == "preserve":
        # (only where out1 knows the port: a preserved one)
        # the early SYN, then the inside host's own SYN for that connection 1 s later
        out1("dial", src=7003, dst=[NAT, 40003], timeout=9, **{"async": True})
        time.sleep(1)
        mine = inside("dial", src=40003, dst=[OUT1, 7003], timeout=5)
        theirs = out1("result")
        m["req4_early_syn"] = [theirs, mine]
    return m


def run_case(name, nat, tmp):
    topo = json.load(open(os.path.join(SRC, "tests/data/nat/behaviour.json")))
    topo["nodes"][0]["nat"] = dict(nat, outside="internet")
    path = os.path.join(tmp, f"{name}.json")
    json.dump(topo, open(path, "w"))
    lab = f"nb{os.getpid() % 100000}-{list(CASES).index(name)}"
    up = subprocess.run([PL, "topo", "up", path, "--name", lab], capture_output=True, text=True)
    if up.returncode:
        tap(False, f"{name}: the lab is built", up.stderr)
        return
    w = {}
    try:
        state = json.load(open(f"/run/punchlab/{lab}/state.json"))
        declared = state["nodes"][0]["nat_profile"]
        w = {k: Worker(lab, k) for k in ("inside", "out1", "out2")}
        m = measure(w, declared)
        for f in ("mapping", "filtering", "port_assignment", "unsolicited_syn", "hairpin"):
            tap(m[f] == declared[f], f"{name}: {f} measured {m[f]}, declared {declared[f]}",
                json.dumps(m))
        if "delta" in nat:
            tap(m.get("delta") == nat["delta"], f"{name}: delta measured {m.get('delta')}",
                json.dumps(m))
        if "req4_early_syn" in m:
            theirs, mine = m["req4_early_syn"]
            tap(theirs["outcome"] == "connected" and mine["outcome"] == "connected",
                f"{name}: an unsolicited SYN followed by the inside's own is held and dropped "
                f"(REQ-4): the simultaneous open connects", json.dumps(m["req4_early_syn"]))
        print(f"# {name}: {json.dumps({k: v for k, v in m.items() if not k.endswith('seen')})}")
    except Exception as e:  # a broken probe fails the case, the others go on
        tap(False, f"{name}: measured", repr(e))
    finally:
        for x in w.values():
            x.close()
        subprocess.run([PL, "topo", "down", "--force", lab], capture_output=True)


def main():
    if os.geteuid() != 0:
        print("1..0 # SKIP needs root")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, nat in CASES.items():
            if not ONLY or name in ONLY:
                run_case(name, nat, tmp)
    print(f"1..{n}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
