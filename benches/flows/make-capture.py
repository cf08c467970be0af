#!/usr/bin/env python3
"""Build the flow-meter benchmark captures (Python standard library only).

Two modes, both writing a classic pcap (little-endian, Ethernet link type, microseconds)
into a scratch directory, never into the repository:

  make-capture.py [--packets 2000000] [-o /tmp/netanom-bench/bench-2m.pcap]
      A "realistic mix": every Ethernet capture of the shared data (ndpi-tests/pcap,
      zeek-traces, pcapplusplus-examples; classic pcap of either byte order, µs or ns,
      the "modified" variant, pcapng with Ethernet interfaces, gzip-compressed ones) is read
      once. One *repetition* places every file at a deterministic start offset inside a
      window (so flows of different files overlap in time, as on a busy link) and merges
      them by time. Repetitions follow one another with no overlap, so time is monotonic.
      Inside a file, time is made monotonic, idle gaps over 60 s are cut to 60 s and a file
      still longer than 600 s is compressed linearly to 600 s (a repetition lasts ~12 min).
      At most --max-flow-packets (1000) packets of one flow of a file are kept (trims the
      handful of 14k-packet single-flow test traces).
      In every IPv4/IPv6 source and destination address (outer header, behind
      Ethernet/VLAN/QinQ/MPLS/PPPoE) the next-to-last byte is increased by a per-file salt
      and the last byte by the repetition number r (mod 256); the IPv4 header checksum and
      the TCP/UDP/ICMPv6 checksums are fixed incrementally. So flows of different files
      and of different repetitions don't merge (a +r shift of both ends cannot map {a,b}
      onto {b,a} for 0 < r < 128, and at most 127 repetitions are made). The output stops at
      exactly --packets packets.

  make-capture.py --syn-flood N [-o /tmp/netanom-bench/syn-flood-N.pcap]
      N spoofed-source TCP SYNs to one server (203.0.113.10:80), one per source, each
      source address and port distinct, evenly spread over --duration seconds (100):
      N concurrent one-packet flows, for the flow-table memory test.

Output is deterministic: same data, same arguments -> byte-identical file.
"""

import argparse
import gzip
import hashlib
import heapq
import os
import struct
import sys
import time

DATA = os.environ.get("NETANOM_SHARED_DATA", "/work/shared/data")
SOURCES = ["ndpi-tests/pcap", "zeek-traces", "pcapplusplus-examples"]
BENCH_DIR = os.environ.get("BENCH_DIR", "/tmp/netanom-bench")

LINKTYPE_ETHERNET = 1
MAX_CAPLEN = 262144
# Inside one file, an idle gap longer than this is shortened to it: a few captures span
# days or years, which would otherwise stretch a repetition (and make every flow time out).
MAX_GAP_US = 60 * 1_000_000
# A file still longer than this is time-compressed linearly to it (46 slow captures of
# ndpi/zeek, ~8% of the packets), so that one repetition lasts about 12 minutes.
MAX_FILE_SPAN_US = 600 * 1_000_000
WINDOW_US = 120 * 1_000_000  # files of one repetition start within this window
REP_GAP_US = 1_000_000  # idle time between repetitions


# --------------------------------------------------------------------------- readers

def open_bytes(path):
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except Exception:
            return b""
    return raw


def read_pcap(buf):
    """Yield (linktype, ts_us, orig_len, data) from a classic pcap; stops at damage."""
    magic = buf[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\x34\xcd\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d", b"\xa1\xb2\xcd\x34"):
        e = ">"
    else:
        return
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    modified = magic in (b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34")
    linktype = struct.unpack_from(e + "I", buf, 20)[0] & 0xFFFF
    rec = struct.Struct(e + "IIII")
    hdr_len = 24 if modified else 16
    off, n = 24, len(buf)
    while off + hdr_len <= n:
        sec, frac, caplen, origlen = rec.unpack_from(buf, off)
        off += hdr_len
        if caplen > MAX_CAPLEN or off + caplen > n:
            return
        if frac >= (1_000_000_000 if nano else 1_000_000):
            return
        ts = sec * 1_000_000 + (frac // 1000 if nano else frac)
        yield linktype, ts, max(origlen, caplen), buf[off:off + caplen]
        off += caplen


def read_pcapng(buf):
    """Yield (linktype, ts_us, orig_len, data) from a pcapng (EPB, SPB, obsolete PB)."""
    off, n = 0, len(buf)
    e = "<"
    ifaces = []  # (linktype, units per second)
    while off + 12 <= n:
        btype = struct.unpack_from(e + "I", buf, off)[0]
        if btype == 0x0A0D0D0A:
            bom = buf[off + 8:off + 12]
            if bom == b"\x4d\x3c\x2b\x1a":
                e = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                e = ">"
            else:
                return
            ifaces = []
        blen = struct.unpack_from(e + "I", buf, off + 4)[0]
        if blen < 12 or blen % 4 or off + blen > n:
            return
        body = buf[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:  # interface description
            linktype = struct.unpack_from(e + "H", body, 0)[0]
            units = 1_000_000
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack_from(e + "HH", body, o)
                if code == 0:
                    break
                if code == 9 and olen >= 1:  # if_tsresol
                    r = body[o + 4]
                    units = 2 ** (r & 0x7F) if r & 0x80 else 10 ** r
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((linktype, units))
        elif btype in (6, 2) and len(body) >= 20:  # enhanced / obsolete packet
            if btype == 6:
                iface, hi, lo, caplen, origlen = struct.unpack_from(e + "IIIII", body, 0)
            else:
                iface, _drops, hi, lo, caplen, origlen = struct.unpack_from(e + "HHIIII", body, 0)
            if iface < len(ifaces) and 20 + caplen <= len(body) and caplen <= MAX_CAPLEN:
                lt, units = ifaces[iface]
                ts = ((hi << 32) | lo) * 1_000_000 // units
                yield lt, ts, max(origlen, caplen), body[20:20 + caplen]
        elif btype == 3 and len(body) >= 4 and ifaces:  # simple packet
            origlen = struct.unpack_from(e + "I", body, 0)[0]
            data = body[4:4 + min(origlen, len(body) - 4)]
            yield ifaces[0][0], None, origlen, data
        off += blen


def read_any(path):
    buf = open_bytes(path)
    if buf[:4] == b"\x0a\x0d\x0d\x0a":
        return read_pcapng(buf)
    return read_pcap(buf)


# --------------------------------------------------------------------------- rewriting

def l3_offset(data):
    """(ip_version, offset of the IP header) behind Ethernet/VLAN/MPLS/PPPoE, or None."""
    if len(data) < 14:
        return None
    etype = (data[12] << 8) | data[13]
    off = 14
    for _ in range(8):
        if etype in (0x8100, 0x88A8, 0x9100):
            if len(data) < off + 4:
                return None
            etype = (data[off + 2] << 8) | data[off + 3]
            off += 4
        elif etype == 0x8847:  # MPLS unicast: pop to bottom of stack
            while True:
                if len(data) < off + 4:
                    return None
                bottom = data[off + 2] & 1
                off += 4
                if bottom:
                    break
            if len(data) <= off:
                return None
            v = data[off] >> 4
            etype = 0x0800 if v == 4 else 0x86DD if v == 6 else 0
        elif etype == 0x8864:  # PPPoE session
            if len(data) < off + 8:
                return None
            proto = (data[off + 6] << 8) | data[off + 7]
            off += 8
            etype = 0x0800 if proto == 0x0021 else 0x86DD if proto == 0x0057 else 0
        else:
            break
    if etype == 0x0800 and len(data) >= off + 20 and data[off] >> 4 == 4:
        return 4, off
    if etype == 0x86DD and len(data) >= off + 40 and data[off] >> 4 == 6:
        return 6, off
    return None


def plan(data):
    """What to patch in this packet: ((src, dst last-word offsets), checksum offsets, flow key).

    The flow key is (proto, sorted (address, port) pairs): direction-less 5-tuple."""
    r = l3_offset(data)
    if r is None:
        return None
    v, off = r
    csums = []
    if v == 4:
        ihl = (data[off] & 0x0F) * 4
        if ihl < 20 or len(data) < off + ihl:
            return None
        addrs = (off + 14, off + 18)
        csums.append((off + 10, False))
        frag = ((data[off + 6] & 0x1F) << 8) | data[off + 7]
        proto, l4 = data[off + 9], off + ihl
    else:
        addrs = (off + 22, off + 38)
        frag, proto, l4 = 0, data[off + 6], off + 40
    if frag == 0:  # L4 header present (first or only fragment)
        if proto == 6 and len(data) >= l4 + 18:
            csums.append((l4 + 16, False))
        elif proto == 17 and len(data) >= l4 + 8:
            csums.append((l4 + 6, True))  # UDP: 0 means "no checksum"
        elif proto == 58 and v == 6 and len(data) >= l4 + 4:
            csums.append((l4 + 2, False))
    ports = (0, 0)
    if frag == 0 and proto in (6, 17, 132) and len(data) >= l4 + 4:
        ports = ((data[l4] << 8) | data[l4 + 1], (data[l4 + 2] << 8) | data[l4 + 3])
    alen = 4 if v == 4 else 16
    a = (data[addrs[0] - alen + 2:addrs[0] + 2], ports[0])
    b = (data[addrs[1] - alen + 2:addrs[1] + 2], ports[1])
    key = (proto,) + ((a, b) if a <= b else (b, a))
    return addrs, tuple(csums), key


def rewrite(data, pl, salt, rep):
    """Copy of data with, in both addresses, the next-to-last byte + salt and the last byte
    + rep (mod 256), the checksums fixed incrementally (RFC 1624)."""
    b = bytearray(data)
    addrs, csums, _ = pl
    # The last two bytes of an address are one 16-bit word of every checksum covering it
    # (IPv4 header; TCP/UDP/ICMPv6 pseudo-header).
    delta = 0
    for a in addrs:
        old = (b[a] << 8) | b[a + 1]
        b[a] = (b[a] + salt) & 0xFF
        b[a + 1] = (b[a + 1] + rep) & 0xFF
        delta += (~old & 0xFFFF) + ((b[a] << 8) | b[a + 1])  # ~m + m'
    for c, udp in csums:
        hc = (b[c] << 8) | b[c + 1]
        if udp and hc == 0:
            continue
        s = (~hc & 0xFFFF) + delta
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        hc = ~s & 0xFFFF
        if udp and hc == 0:
            hc = 0xFFFF
        b[c] = hc >> 8
        b[c + 1] = hc & 0xFF
    return bytes(b)


# --------------------------------------------------------------------------- writers

def pcap_header():
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, MAX_CAPLEN, LINKTYPE_ETHERNET)


def inet_csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def syn_flood(args):
    n = args.syn_flood
    out = args.output or os.path.join(BENCH_DIR, "syn-flood-%d.pcap" % n)
    if not 0 < n <= 1 << 24:
        sys.exit("make-capture: --syn-flood N: 1 <= N <= 16777216 (one 10.0.0.0/8 source each)")
    t0 = 1_700_000_000 * 1_000_000
    dur = int(args.duration * 1_000_000)
    dst = bytes([203, 0, 113, 10])
    eth = bytes.fromhex("020000000001" "020000000002" "0800")
    rec = struct.Struct("<IIII")
    # Distinct sources: 10.0.0.0/8, the index scrambled by a fixed odd multiplier (a bijection
    # mod 2^24) so that consecutive SYNs come from unrelated-looking addresses.
    with open(out + ".tmp", "wb") as fh:
        fh.write(pcap_header())
        chunk = []
        for i in range(n):
            src = ((10 << 24) | (((i + 1) * 2654435761) & 0xFFFFFF)).to_bytes(4, "big")
            sport = 1024 + (i * 40503) % 64512
            seq = (i * 2246822519 + 12345) & 0xFFFFFFFF
            ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, src, dst))
            ip[10:12] = struct.pack("!H", inet_csum(bytes(ip)))
            tcp = bytearray(struct.pack("!HHIIBBHHH", sport, 80, seq, 0, 5 << 4, 0x02, 64240, 0, 0))
            pseudo = src + dst + struct.pack("!BBH", 0, 6, 20)
            tcp[16:18] = struct.pack("!H", inet_csum(pseudo + bytes(tcp)))
            frame = eth + ip + tcp
            ts = t0 + (i * dur) // n
            chunk.append(rec.pack(ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)) + frame)
            if len(chunk) >= 65536:
                fh.write(b"".join(chunk))
                chunk = []
        fh.write(b"".join(chunk))
    os.replace(out + ".tmp", out)
    print("make-capture: %s: %d packets, %d flows (SYN flood over %.0f s), %.1f MiB"
          % (out, n, n, args.duration, os.path.getsize(out) / 2**20), file=sys.stderr)


def load_sources(root, max_flow_packets):
    """All Ethernet packets of every capture under the source folders, per file, sorted;
    at most max_flow_packets packets of one flow (direction-less 5-tuple) of a file."""
    files = []
    for sub in SOURCES:
        base = os.path.join(root, sub)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for f in sorted(filenames):
                files.append(os.path.join(dirpath, f))
    loaded, skipped = [], {"not a capture": 0, "no Ethernet packets": 0}
    for path in files:
        pkts = []
        last = None
        rel = 0
        per_flow = {}
        trimmed = 0
        try:
            for lt, ts, origlen, data in read_any(path):
                if lt != LINKTYPE_ETHERNET or len(data) < 14:
                    continue
                if ts is None:  # simple packet block: no time; 1 ms after the previous
                    ts = (last + 1000) if last is not None else 0
                if last is None:
                    rel, last = 0, ts
                elif ts > last:  # monotonic inside the file, idle gaps capped
                    rel += min(ts - last, MAX_GAP_US)
                    last = ts
                pl = plan(data)
                if pl is not None:
                    c = per_flow.get(pl[2], 0) + 1
                    per_flow[pl[2]] = c
                    if c > max_flow_packets:
                        trimmed += 1
                        continue
                pkts.append((rel, origlen, data, pl))
        except Exception as exc:  # damaged file: keep what was read
            print("make-capture: %s: %s (kept %d packets)" % (path, exc, len(pkts)), file=sys.stderr)
        if pkts and pkts[-1][0] > MAX_FILE_SPAN_US:
            span = pkts[-1][0]
            pkts = [(rel * MAX_FILE_SPAN_US // span,) + p[1:] for p in pkts for rel in (p[0],)]
        if pkts:
            loaded.append((os.path.relpath(path, root), pkts, len(per_flow), trimmed))
        else:
            skipped["no Ethernet packets" if buf_is_capture(path) else "not a capture"] += 1
    return loaded, skipped


def buf_is_capture(path):
    head = open_bytes(path)[:4]
    return head in (b"\x0a\x0d\x0d\x0a", b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                    b"\xa1\xb2\x3c\x4d", b"\x34\xcd\xb2\xa1", b"\xa1\xb2\xcd\x34")


def realistic(args):
    out = args.output or os.path.join(BENCH_DIR, "bench-2m.pcap")
    t_start = time.time()
    loaded, skipped = load_sources(args.data, args.max_flow_packets)
    total = sum(len(p) for _, p, _, _ in loaded)
    flows = sum(f for _, _, f, _ in loaded)
    trimmed = sum(t for _, _, _, t in loaded)
    if total == 0:
        sys.exit("make-capture: no Ethernet packets found under %s" % args.data)
    # One repetition: each file starts at a deterministic offset in the window.
    events = []
    span = 0
    for name, pkts, _, _ in loaded:
        h = hashlib.sha256(name.encode()).digest()
        start = int.from_bytes(h[:8], "big") % WINDOW_US
        salt = h[8]  # per-file shift of the next-to-last address byte: files don't merge
        events.append((start, salt, pkts))
        span = max(span, start + pkts[-1][0])
    rep_len = span + REP_GAP_US
    print("make-capture: %d files with Ethernet packets: per repetition %d packets, ~%d flows "
          "(%d packets past --max-flow-packets %d left out), %.0f s; skipped files: %s"
          % (len(loaded), total, flows, trimmed, args.max_flow_packets, rep_len / 1e6, skipped),
          file=sys.stderr)

    # Merge the files of one repetition by time once; stable on (time, file order, index).
    def timeline(fi, start, pkts):
        for k, p in enumerate(pkts):
            yield start + p[0], fi, k

    merged = list(heapq.merge(*(timeline(fi, start, pkts) for fi, (start, _, pkts) in enumerate(events))))

    base = 1_600_000_000 * 1_000_000
    rec = struct.Struct("<IIII")
    want = args.packets
    written = 0
    rep = 0
    with open(out + ".tmp", "wb") as fh:
        fh.write(pcap_header())
        while written < want:
            if rep >= 128:
                sys.exit("make-capture: more than 128 repetitions needed; lower --packets")
            off = base + rep * rep_len
            chunk = []
            for t, fi, k in merged:
                if written >= want:
                    break
                _, origlen, data, pl = events[fi][2][k]
                if pl is not None:
                    data = rewrite(data, pl, events[fi][1], rep)
                ts = off + t
                chunk.append(rec.pack(ts // 1_000_000, ts % 1_000_000, len(data), origlen))
                chunk.append(data)
                written += 1
                if len(chunk) >= 131072:
                    fh.write(b"".join(chunk))
                    chunk = []
            fh.write(b"".join(chunk))
            rep += 1
    os.replace(out + ".tmp", out)
    print("make-capture: %s: %d packets in %d repetition(s) (~%d flows), %.1f MiB, %.1f s to build"
          % (out, written, rep, flows * written / total, os.path.getsize(out) / 2**20,
             time.time() - t_start), file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--output", help="output pcap (default in $BENCH_DIR=/tmp/netanom-bench)")
    ap.add_argument("--packets", type=int, default=2_000_000, help="packets in the mix (default 2M)")
    ap.add_argument("--max-flow-packets", type=int, default=1000, metavar="N",
                    help="keep at most N packets of one flow of one file (default 1000: trims "
                         "the few single-flow 14k-packet test traces)")
    ap.add_argument("--data", default=DATA, help="shared data folder (default %(default)s)")
    ap.add_argument("--syn-flood", type=int, metavar="N", help="make an N-source SYN flood instead")
    ap.add_argument("--duration", type=float, default=100.0, help="SYN flood duration, s (default 100)")
    args = ap.parse_args()
    out = args.output or BENCH_DIR
    os.makedirs(os.path.dirname(os.path.abspath(out)) if args.output else BENCH_DIR, exist_ok=True)
    if args.syn_flood is not None:
        syn_flood(args)
    else:
        realistic(args)


if __name__ == "__main__":
    main()
