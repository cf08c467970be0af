#!/usr/bin/env python3
"""Seeds the `dissect` and `pipeline` corpora with real traffic from captures (read-only).

    python3 extract_seeds.py DATA_DIR [DUMP_TSV]

* dissect: a few hundred single frames, chosen for diversity: one per (link type, protocol stack,
  damage bits) as the repo's own dissector sees them (`dissect_dump` example; pass its output
  as DUMP_TSV, or the script runs it through cargo), each prefixed with the two selector bytes
  of fuzz_targets/dissect.rs (link type, orig_len mode).
* pipeline: a handful of small whole captures (< 20 KB), also chosen for distinct link types and
  protocol stacks, copied as they are.

Frames are read with a small pcap/pcapng parser here, counted the way `dissect_dump` counts them
so that its lines can be matched to them (link type and captured length are checked too).
"""
import hashlib
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# Must match KNOWN in fuzz_targets/dissect.rs.
KNOWN = [1, 101, 12, 14, 228, 229, 0, 108, 113, 276, 9, 105, 127, 192, 104]
MAX_DISSECT = 400
MAX_PIPELINE = 12
PIPELINE_MAX_BYTES = 20_000
# flowStat bits that make a frame interesting beyond its protocol stack: snapped layers, IPv4
# fragments, bogus IP, header length mismatches, header description overrun, stop-dissecting.
INTERESTING_BITS = (1 << 16) | (0xF << 33) | (0x3 << 36) | (1 << 43) | (0x7 << 45) | (1 << 48)


def read_capture(path):
    """Yields (linktype, data, orig_len) in dissect_dump's order; stops quietly at damage."""
    with open(path, "rb") as f:
        b = f.read()
    if len(b) < 24:
        return
    magic = b[:4]
    for order, m in (("<", 0xA1B2C3D4), ("<", 0xA1B23C4D), (">", 0xA1B2C3D4), (">", 0xA1B23C4D)):
        if struct.unpack(order + "I", magic)[0] == m:
            lt = struct.unpack(order + "I", b[20:24])[0] & 0xFFFF
            off = 24
            while off + 16 <= len(b):
                _, _, cap, orig = struct.unpack(order + "IIII", b[off:off + 16])
                if off + 16 + cap > len(b):
                    return
                yield lt, b[off + 16:off + 16 + cap], orig
                off += 16 + cap
            return
    if magic != b"\x0a\x0d\x0d\x0a":
        return
    order, ifaces, off = "<", [], 0
    while off + 12 <= len(b):
        if b[off:off + 4] == b"\x0a\x0d\x0d\x0a":
            order = "<" if b[off + 8:off + 12] == b"\x4d\x3c\x2b\x1a" else ">"
            ifaces = []
        btype, blen = struct.unpack(order + "II", b[off:off + 8])
        if blen < 12 or off + blen > len(b):
            return
        body = b[off + 8:off + blen - 4]
        if btype == 1 and len(body) >= 8:
            ifaces.append(struct.unpack(order + "H", body[:2])[0])
        elif btype == 6 and len(body) >= 20:
            iface, _, _, cap, orig = struct.unpack(order + "IIIII", body[:20])
            if iface < len(ifaces):
                yield ifaces[iface], body[20:20 + cap], orig
        elif btype == 3 and len(body) >= 4 and ifaces:
            orig = struct.unpack(order + "I", body[:4])[0]
            yield ifaces[0], body[4:4 + orig], orig
        off += blen


def selector(lt, cap, orig):
    if lt in KNOWN:
        s0 = KNOWN.index(lt)
    elif len(KNOWN) <= lt < 256:
        s0 = lt
    else:
        return None
    if orig <= cap:
        s1 = 0x00
    else:
        s1 = 0x40 | min(63, -(-(orig - cap) // 32))  # snapped, by about as much as it was
    return bytes([s0, s1])


def dump_lines(data_dir, files, dump_tsv):
    if dump_tsv is None:
        cmd = ["cargo", "run", "-q", "--release", "-p", "netanom-wire", "--example", "dissect_dump", "--"] + files
        out = subprocess.run(cmd, cwd=os.path.join(HERE, ".."), capture_output=True, text=True).stdout
    else:
        with open(dump_tsv) as f:
            out = f.read()
    for line in out.splitlines():
        f = line.split("\t")
        if len(f) < 7:
            continue
        yield f


def main():
    data_dir = os.path.abspath(sys.argv[1])
    dump_tsv = sys.argv[2] if len(sys.argv) > 2 else None
    files = []
    for root, _, names in os.walk(data_dir):
        for n in sorted(names):
            if n.endswith((".pcap", ".pcapng", ".cap")):
                p = os.path.join(root, n)
                if os.path.getsize(p) < 50 << 20:
                    files.append(os.path.relpath(p, data_dir))
    files.sort()
    os.chdir(data_dir)

    # (file, index) -> group key, from the dissector's own view of every packet
    groups = {}
    per_file = {}
    for f in dump_lines(data_dir, files, dump_tsv):
        path, idx, lt, cap = f[0], int(f[1]), int(f[3]) & 0xFFFF, int(f[4])
        if f[6] == "ok":
            key = (lt, f[7], int(f[19], 16) & INTERESTING_BITS)
        else:
            key = (lt, f[6])
        groups.setdefault(key, []).append((path, idx, cap))
        per_file.setdefault(path, set()).add(key[:2])

    # dissect: one frame per group, the shortest one (small seeds mutate faster)
    wanted = {}
    for key, members in sorted(groups.items(), key=lambda kv: (len(kv[1]), str(kv[0]))):
        path, idx, cap = min(members, key=lambda m: (m[2], m[0], m[1]))
        wanted.setdefault(path, {})[idx] = (key, cap)
        if sum(len(v) for v in wanted.values()) >= MAX_DISSECT:
            break
    out_dir = os.path.join(HERE, "corpus", "dissect")
    os.makedirs(out_dir, exist_ok=True)
    written = 0
    for path, idxs in sorted(wanted.items()):
        for i, (lt, data, orig) in enumerate(read_capture(path), start=1):
            if i in idxs:
                key, cap = idxs[i]
                sel = selector(lt, len(data), orig)
                if sel is None or lt != key[0] or len(data) != cap:
                    continue
                seed = sel + data
                name = hashlib.sha1(seed).hexdigest()
                with open(os.path.join(out_dir, name), "wb") as o:
                    o.write(seed)
                written += 1
    print(f"dissect: {written} frames from {len(wanted)} files into {out_dir}")

    # pipeline: small whole captures that add the most new (link type, stack) pairs
    small = [p for p in per_file if os.path.getsize(p) <= PIPELINE_MAX_BYTES]
    seen, chosen = set(), []
    while len(chosen) < MAX_PIPELINE:
        best = max(small, key=lambda p: (len(per_file[p] - seen), -os.path.getsize(p), p), default=None)
        if best is None or not per_file[best] - seen:
            break
        chosen.append(best)
        seen |= per_file[best]
        small.remove(best)
    out_dir = os.path.join(HERE, "corpus", "pipeline")
    os.makedirs(out_dir, exist_ok=True)
    for p in chosen:
        with open(p, "rb") as f:
            data = f.read()
        with open(os.path.join(out_dir, hashlib.sha1(data).hexdigest()), "wb") as o:
            o.write(data)
        print(f"pipeline: {p} ({len(data)} bytes)")


if __name__ == "__main__":
    main()
