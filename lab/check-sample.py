#!/usr/bin/env python3
"""check-sample.py - verify a capture written by lab/make-sample.sh against its
ground-truth file and print its flow composition.

    python3 lab/check-sample.py [PCAP [TRUTH]] [--max-bytes N]     (default samples/lab.pcap)

Needs only the Python standard library (reads classic pcap itself). Checks:
  * classic pcap, Ethernet link type, size below --max-bytes (default 3 MiB)
  * the truth file is consistent with the capture (packet counts, addresses,
    per-phase attacker frame counts recomputed from the capture)
  * every attack phase left its signature in its time window (SYN scan ports,
    NULL/FIN/Xmas flags, spoofed SYN sources, land packets, IP fragments, ARP
    poisoning replies, gratuitous ARP, non-TLS on 443, non-DNS on 53, ...)
  * normal flows outnumber attack flows
A flow is a bidirectional 5-tuple (ICMP echo: the identifier stands in for the
ports; IP fragments without a transport header join their first fragment's
flow; ARP and other non-IP frames: the MAC pair). A flow is attack traffic when
any of its frames has the attacker MAC as Ethernet source or destination (the
truth file's labelling rule); it counts for the phase in whose window
[start, end + 1 s] its first such frame falls. Exit status 1 when a check fails.
"""
import argparse
import collections
import ipaddress
import json
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser(description="verify a lab/make-sample.sh capture against its truth file")
ap.add_argument("pcap", nargs="?", default=os.path.normpath(os.path.join(here, "..", "samples", "lab.pcap")))
ap.add_argument("truth", nargs="?", help="default: PCAP with .truth.json for .pcap")
ap.add_argument("--max-bytes", type=int, default=3 * 1024 * 1024, help="size limit (default 3 MiB; 0 = none)")
ap.add_argument("--lenient", action="store_true",
                help="size limit and normal-flow majority only warn (for non-default scale/rounds)")
opt = ap.parse_args()
pcap_path = opt.pcap
truth_path = opt.truth or os.path.splitext(pcap_path)[0] + ".truth.json"
max_bytes = opt.max_bytes

failures = []


def check(ok, what, soft=False):
    print(("ok   " if ok else "WARN " if soft else "FAIL ") + what)
    if not ok and not soft:
        failures.append(what)


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def ip4(b):
    return str(ipaddress.IPv4Address(b))


# ------------------------------------------------------------------ read pcap --
with open(pcap_path, "rb") as f:
    data = f.read()
magic = data[:4]
check(magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4"), "classic pcap (microsecond) file")
endian = "<" if magic == b"\xd4\xc3\xb2\xa1" else ">"
_, _, _, _, snaplen, linktype = struct.unpack(endian + "HHiIII", data[4:24])
check(linktype == 1, f"link type Ethernet (EN10MB), got {linktype}")
if max_bytes:
    check(len(data) < max_bytes, f"size {len(data)} bytes < {max_bytes}", soft=opt.lenient)

truth = json.load(open(truth_path))
ATK_MAC = truth["attacker"]["mac"]
ATK_IP = truth["attacker"]["ipv4"]
SUBNET = ipaddress.ip_network(truth["network"]["subnet"])
SRV = next(v for v in truth["victims"] if v["name"] == "server")
SRV_IP, SRV_MAC = SRV["ipv4"], SRV["mac"]
C1_IP = next(v for v in truth["victims"] if v["name"] == "client1")["ipv4"]
spoof = next(s for s in truth["spoofed_sources"] if s["phase"] == "syn_flood_spoofed_range")
SPOOF_NET = ipaddress.ip_network(spoof["range"])

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK, TCP_URG = 1, 2, 4, 8, 16, 32

pkts = []  # dicts
off = 24
while off + 16 <= len(data):
    ts_s, ts_u, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    p = {"t": ts_s + ts_u / 1e6, "len": orig, "src_mac": mac(frame[6:12]), "dst_mac": mac(frame[0:6])}
    et = struct.unpack("!H", frame[12:14])[0]
    pl = frame[14:]
    p["et"] = et
    if et == 0x0806 and len(pl) >= 28:
        p["arp_op"] = struct.unpack("!H", pl[6:8])[0]
        p["arp_sha"], p["arp_spa"] = mac(pl[8:14]), ip4(pl[14:18])
        p["arp_tha"], p["arp_tpa"] = mac(pl[18:24]), ip4(pl[24:28])
    elif et == 0x0800 and len(pl) >= 20:
        ihl = (pl[0] & 15) * 4
        p["src"], p["dst"] = ip4(pl[12:16]), ip4(pl[16:20])
        p["proto"] = pl[9]
        p["ipid"] = struct.unpack("!H", pl[4:6])[0]
        fo = struct.unpack("!H", pl[6:8])[0]
        p["mf"], p["frag_off"] = bool(fo & 0x2000), (fo & 0x1fff) * 8
        p["ip_total"] = struct.unpack("!H", pl[2:4])[0]
        l4 = pl[ihl:p["ip_total"]] if p["ip_total"] >= ihl else pl[ihl:]
        if p["frag_off"] == 0:
            if p["proto"] == 6 and len(l4) >= 20:
                p["sport"], p["dport"] = struct.unpack("!HH", l4[0:4])
                p["flags"] = l4[13] & 0x3f
                p["payload"] = l4[(l4[12] >> 4) * 4:]
            elif p["proto"] == 17 and len(l4) >= 8:
                p["sport"], p["dport"] = struct.unpack("!HH", l4[0:4])
                p["payload"] = l4[8:]
            elif p["proto"] == 1 and len(l4) >= 8:
                p["icmp_type"], p["icmp_code"] = l4[0], l4[1]
                if l4[0] in (0, 8):
                    p["sport"] = p["dport"] = struct.unpack("!H", l4[4:6])[0]
                else:
                    p["sport"], p["dport"] = l4[0], l4[1]
    p["atk"] = ATK_MAC in (p["src_mac"], p["dst_mac"])
    pkts.append(p)

# ------------------------------------------------------------------- flows --
flows = {}
frag_first = {}
for p in pkts:
    if "src" in p:
        fk = (p["src"], p["dst"], p["ipid"], p["proto"])
        if p["frag_off"] > 0 and fk in frag_first:
            key = frag_first[fk]
        else:
            a, b = (p["src"], p.get("sport", 0)), (p["dst"], p.get("dport", 0))
            key = ("ip", p["proto"]) + tuple(sorted([a, b]))
            if p["mf"]:
                frag_first[fk] = key
    else:
        key = ("l2", p["et"]) + tuple(sorted([p["src_mac"], p["dst_mac"]]))
    fl = flows.setdefault(key, {"first": p["t"], "first_atk": None, "pkts": 0, "bytes": 0, "atk": False})
    fl["pkts"] += 1
    fl["bytes"] += p["len"]
    if p["atk"] and not fl["atk"]:
        fl["atk"], fl["first_atk"] = True, p["t"]
    p["flow"] = key

phases = truth["phases"]


def phase_of(t):
    for ph in phases:
        if ph["start"] <= t <= ph["end"] + 1:
            return ph["name"]
    return None


def in_win(ph):
    return [p for p in pkts if ph["start"] <= p["t"] <= ph["end"] + 1]


# ------------------------------------------------------ truth consistency --
print(f"\n{pcap_path}: {len(pkts)} packets, {len(data)} bytes, "
      f"{pkts[-1]['t'] - pkts[0]['t']:.1f} s, snaplen {snaplen}")
check(truth["capture"]["packets"] == len(pkts), f"truth capture.packets == {len(pkts)}")
n_atk = sum(p["atk"] for p in pkts)
check(truth["counts"]["attacker_mac_packets"] == n_atk, f"truth counts.attacker_mac_packets == {n_atk}")
check(truth["capture"]["start"] <= pkts[0]["t"] + 1 and pkts[-1]["t"] <= truth["capture"]["end"] + 1,
      "all packets inside truth capture window")
check(any(p.get("src") == ATK_IP and p["src_mac"] == ATK_MAC for p in pkts),
      f"attacker {ATK_IP} / {ATK_MAC} seen")
for ph in phases:
    n = sum(1 for p in in_win(ph) if p["atk"])
    check(n == ph["attacker_mac_packets"], f"phase {ph['name']}: attacker_mac_packets {ph['attacker_mac_packets']} == recount {n}")

# ------------------------------------------------------- phase signatures --
print()
sigs = {}


def sig(name, ok, detail):
    sigs[name] = detail
    check(ok, f"{name}: {detail}")


def from_atk(ps):
    return [p for p in ps if p["src_mac"] == ATK_MAC]


for ph in phases:
    name, w = ph["name"], in_win(ph)
    a = from_atk(w)
    tcp = [p for p in a if p.get("proto") == 6 and "flags" in p and p["dst"] == SRV_IP]
    ports = lambda fl: {p["dport"] for p in tcp if p["flags"] == fl}
    if name == "ping_sweep_arp":
        t = {p["arp_tpa"] for p in a if p.get("arp_op") == 1}
        sig(name, len(t) >= 200, f"ARP requests from attacker for {len(t)} distinct addresses")
    elif name == "ping_sweep_icmp":
        t = {p["dst"] for p in a if p.get("icmp_type") == 8}
        r = {p["arp_tpa"] for p in a if p.get("arp_op") == 1}
        sig(name, len(t) >= 3, f"ICMP echo requests to {len(t)} live hosts, kernel ARP requests for {len(r)} addresses")
    elif name == "syn_scan":
        sig(name, len(ports(TCP_SYN)) >= 90, f"SYN to {len(ports(TCP_SYN))} distinct ports")
    elif name == "connect_scan":
        sig(name, len(ports(TCP_SYN)) >= 50, f"SYN (full connects) to {len(ports(TCP_SYN))} distinct ports")
    elif name == "null_scan":
        sig(name, len(ports(0)) >= 30, f"flagless TCP to {len(ports(0))} distinct ports")
    elif name == "fin_scan":
        sig(name, len(ports(TCP_FIN)) >= 30, f"FIN-only TCP to {len(ports(TCP_FIN))} distinct ports")
    elif name == "xmas_scan":
        x = ports(TCP_FIN | TCP_PSH | TCP_URG)
        sig(name, len(x) >= 30, f"FIN+PSH+URG TCP to {len(x)} distinct ports")
    elif name == "udp_scan":
        u = {p["dport"] for p in a if p.get("proto") == 17 and p.get("dst") == SRV_IP}
        unr = sum(1 for p in w if p.get("icmp_type") == 3 and p["dst"] == ATK_IP)
        sig(name, len(u) >= 8, f"UDP probes to {len(u)} ports, {unr} ICMP unreachables back")
    elif name == "syn_flood_random_src":
        s = [p for p in tcp if p["flags"] == TCP_SYN and ipaddress.ip_address(p["src"]) not in SUBNET]
        sig(name, len(s) >= 100, f"{len(s)} SYNs to :80 from {len({p['src'] for p in s})} distinct off-subnet (spoofed) sources")
    elif name == "syn_flood_spoofed_range":
        s = [p for p in tcp if p["flags"] == TCP_SYN and ipaddress.ip_address(p["src"]) in SPOOF_NET]
        src = {p["src"] for p in s}
        sig(name, len(s) >= 40 and src == set(spoof["hosts"]),
            f"{len(s)} SYNs to :{sorted({p['dport'] for p in s})} from {len(src)} sources in {SPOOF_NET} (= truth hosts: {src == set(spoof['hosts'])})")
    elif name == "land_attack":
        s = [p for p in tcp if p["src"] == p["dst"] and p["sport"] == p["dport"]]
        sig(name, len(s) >= 3, f"{len(s)} TCP SYNs with src == dst ({SRV_IP}:80)")
    elif name in ("oversized_icmp", "big_ping"):
        fr = [p for p in w if p.get("proto") == 1 and (p["mf"] or p["frag_off"] > 0) and ATK_IP in (p["src"], p["dst"])]
        big = max((p["frag_off"] + p["ip_total"] - 20 for p in fr), default=0)
        sig(name, len(fr) >= 6, f"{len(fr)} ICMP fragments (to+from attacker), largest datagram ~{big} bytes")
    elif name == "arp_poison":
        r = [p for p in a if p.get("arp_op") == 2 and p["arp_sha"] == ATK_MAC and p["arp_spa"] in (SRV_IP, C1_IP)]
        fwd = sum(1 for p in w if p["dst_mac"] == ATK_MAC and p.get("dst") in (SRV_IP, C1_IP) and p.get("src") in (SRV_IP, C1_IP))
        sig(name, len(r) >= 4 and fwd > 0, f"{len(r)} forged ARP replies (server/client1 IP at attacker MAC), {fwd} client1<->server frames sent to the attacker")
    elif name == "gratuitous_arp":
        g = [p for p in a if p.get("arp_op") == 2 and p["dst_mac"] == "ff:ff:ff:ff:ff:ff" and p["arp_spa"] == SRV_IP]
        sig(name, len(g) >= 3, f"{len(g)} broadcast ARP replies claiming {SRV_IP} is at {ATK_MAC}")
    elif name == "non_tls_on_443":
        s = [p for p in tcp if p["dport"] == 443 and p["payload"] and p["payload"][0] != 0x16]
        sig(name, len(s) >= 2, f"{len(s)} non-TLS payload segments to :443")
    elif name == "non_dns_on_53":
        u = [p for p in a if p.get("dport") == 53 and p.get("payload")]
        sig(name, len(u) >= 3, f"{len(u)} payload packets to :53 (udp {sum(p['proto'] == 17 for p in u)}, tcp {sum(p['proto'] == 6 for p in u)})")
    elif name == "ssh_bruteforce":
        s = [p for p in tcp if p["dport"] == 22 and p["flags"] == TCP_SYN]
        sig(name, len(s) >= 10, f"{len(s)} SSH connection attempts")
    else:
        print(f"?    {name}: no signature check")

# ------------------------------------------------------------ composition --
per = collections.defaultdict(lambda: [0, 0, 0])
normal_svc = collections.Counter()
for key, fl in flows.items():
    if fl["atk"]:
        k = phase_of(fl["first_atk"]) or "(attacker, outside phases)"
    else:
        k = "normal"
        if key[0] == "ip":
            proto = {6: "tcp", 17: "udp", 1: "icmp"}.get(key[1], str(key[1]))
            port = min(key[2][1], key[3][1]) if proto in ("tcp", "udp") else ""
            normal_svc[f"{proto}/{port}" if port != "" else proto] += 1
        else:
            normal_svc["arp" if key[1] == 0x0806 else f"ether 0x{key[1]:04x}"] += 1
    per[k][0] += 1
    per[k][1] += fl["pkts"]
    per[k][2] += fl["bytes"]

n_flows = len(flows)
n_norm = per["normal"][0]
print(f"\nflows: {n_flows} total, {n_norm} normal ({100 * n_norm / n_flows:.1f}%), {n_flows - n_norm} attack")
print(f"{'attack flows by phase':34} {'flows':>6} {'pkts':>6} {'bytes':>8}")
for k in ["normal"] + [ph["name"] for ph in phases] + ["(attacker, outside phases)"]:
    if k in per:
        print(f"  {k:32} {per[k][0]:6} {per[k][1]:6} {per[k][2]:8}")
print("normal flows by service: " + ", ".join(f"{k} {v}" for k, v in normal_svc.most_common()))
check(n_norm > n_flows - n_norm, "normal flows are the majority", soft=opt.lenient)

print(f"\n{len(failures)} failed" if failures else "\nall checks passed")
sys.exit(1 if failures else 0)
