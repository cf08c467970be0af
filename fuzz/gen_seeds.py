#!/usr/bin/env python3
"""Writes the seed corpus for the capture_reader target: small synthetic captures covering each
format, byte order and kind of damage the reader handles. Run from fuzz/; needs the zstd CLI."""
import gzip
import os
import struct
import subprocess

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "capture_reader")
T0 = 1_700_000_000


def pcap(order, magic, records, snaplen=65535, linktype=1, modified=False):
    out = struct.pack(order + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)
    for i, data in enumerate(records):
        out += struct.pack(order + "IIII", T0 + i, 1000 * i, len(data), len(data))
        if modified:
            out += struct.pack(order + "IHBB", 2, 0x0800, 0, 0)
        out += data
    return out


def block(order, btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(order + "II", btype, n) + body + struct.pack(order + "I", n)


def shb(order):
    return block(order, 0x0A0D0D0A, struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(order, linktype, snaplen, opts=()):
    body = struct.pack(order + "HHI", linktype, 0, snaplen)
    for code, value in opts:
        body += struct.pack(order + "HH", code, len(value)) + value + b"\0" * (-len(value) % 4)
    if opts:
        body += b"\0\0\0\0"
    return block(order, 1, body)


def epb(order, iface, units, data):
    return block(order, 6, struct.pack(order + "IIIII", iface, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + data)


def spb(order, data):
    return block(order, 3, struct.pack(order + "I", len(data)) + data)


def pb(order, iface, units, data):
    return block(order, 2, struct.pack(order + "HHIIII", iface, 0, units >> 32, units & 0xFFFFFFFF, len(data), len(data)) + data)


def frame(i):
    # Ethernet + IPv4 + UDP, enough for a dissector to get somewhere
    eth = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + 4, i, 0, 64, 17, 0, b"\x0a\0\0\x01", b"\x0a\0\0\x02")
    udp = struct.pack("!HHHH", 1000 + i, 53, 12, 0) + bytes([i] * 4)
    return eth + ip + udp


def ng_multi(order):
    f = shb(order)
    f += idb(order, 1, 65535)
    f += idb(order, 101, 128, [(9, b"\x09")])
    f += idb(order, 113, 0, [(9, b"\x94"), (14, struct.pack(order + "q", 3600))])
    f += epb(order, 0, T0 * 10**6, frame(1))
    f += epb(order, 1, T0 * 10**9 + 5, frame(2)[14:])
    f += epb(order, 2, T0 << 20, b"\0\x04\0\x01\0\x06" + b"\0" * 10 + frame(3)[12:])
    f += spb(order, frame(4))
    f += pb(order, 0, T0 * 10**6 + 7, frame(5))
    f += block(order, 4, b"\0" * 8)
    f += block(order, 5, b"\0" * 20)
    f += shb(order)
    f += idb(order, 1, 0)
    f += epb(order, 0, T0 * 10**6 + 9, frame(6))
    f += epb(order, 7, T0 * 10**6 + 9, frame(7))  # undeclared interface
    return f


def seeds():
    frames = [frame(i) for i in range(3)]
    yield "pcap-le-us", pcap("<", 0xA1B2C3D4, frames)
    yield "pcap-be-us", pcap(">", 0xA1B2C3D4, frames)
    yield "pcap-le-ns", pcap("<", 0xA1B23C4D, frames)
    yield "pcap-be-ns", pcap(">", 0xA1B23C4D, frames, snaplen=0)
    yield "pcap-modified", pcap("<", 0xA1B2CD34, frames, modified=True)
    yield "pcap-header-only", pcap("<", 0xA1B2C3D4, [])
    good = pcap("<", 0xA1B2C3D4, frames)
    yield "pcap-truncated", good[:-7]
    bad = bytearray(good)
    bad[24 + 8 : 24 + 12] = struct.pack("<I", 0xFFFFFFF0)
    yield "pcap-bad-length", bytes(bad) + pcap("<", 0xA1B2C3D4, frames)[24:]
    yield "pcap-garbage-middle", good[:100] + bytes(range(200, 256)) * 3 + good[100:]
    yield "pcapng-le-multi", ng_multi("<")
    yield "pcapng-be-multi", ng_multi(">")
    ng = ng_multi("<")
    yield "pcapng-truncated", ng[:-10]
    yield "pcapng-garbage-middle", ng[:200] + b"\xde\xad\xbe\xef" * 20 + ng[200:]
    yield "pcapng-mixed-endian", shb("<") + idb("<", 1, 0) + epb("<", 0, 1, frame(1)) + ng_multi(">")
    yield "pcap-gz", gzip.compress(good, mtime=0)
    yield "pcapng-gz", gzip.compress(ng, mtime=0)
    yield "pcapng-zst", subprocess.run(["zstd", "-q", "-c"], input=ng, capture_output=True, check=True).stdout
    yield "text", b"GET / HTTP/1.1\r\nHost: example\r\n\r\n"
    yield "snoop", b"snoop\0\0\0\0\0\0\x02\0\0\0\x04"


os.makedirs(OUT, exist_ok=True)
for name, data in seeds():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
