#!/usr/bin/env python3
"""How much faster `netanom flows --threads N` is than one thread, measured so that the virtual
machine's drift cancels out: the runs alternate (one thread, N threads, one thread, ...) and the
ratio is taken within each round, then summarised (median and quartiles).

    benches/flows/threads.py [--runs 11] [--threads 2] [--netanom target/release/netanom] [CAPTURE]

CAPTURE defaults to /tmp/netanom-bench/bench-2m.pcap (benches/flows/make-capture.py builds it).
Each run is `netanom flows CAPTURE -o /dev/null -q [--threads N]`; it also checks once that both
write the same bytes. Exit status 1 if a run fails or the outputs differ.
"""
import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd):
    before = os.times()
    start = time.perf_counter()
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = os.times()
    if done.returncode != 0:
        sys.exit(f"threads.py: {' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("capture", nargs="?", default="/tmp/netanom-bench/bench-2m.pcap")
    ap.add_argument("--runs", type=int, default=11)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--netanom", default=os.path.join(here, "..", "..", "target", "release", "netanom"))
    a = ap.parse_args()
    if not os.path.exists(a.capture):
        sys.exit(f"threads.py: no capture at {a.capture} (make one with benches/flows/make-capture.py)")

    one = [a.netanom, "flows", a.capture, "-q"]
    many = one + ["--threads", str(a.threads)]
    with tempfile.TemporaryDirectory() as tmp:
        outs = [os.path.join(tmp, "t1.txt"), os.path.join(tmp, "tn.txt")]
        for cmd, out in zip((one, many), outs):
            timed(cmd + ["-o", out])  # also warms the page cache
        if not filecmp.cmp(outs[0], outs[1], shallow=False):
            sys.exit(f"threads.py: --threads {a.threads} wrote other bytes than one thread")

    rows = []
    for _ in range(a.runs):
        w1, c1 = timed(one + ["-o", "/dev/null"])
        wn, cn = timed(many + ["-o", "/dev/null"])
        rows.append((w1, c1, wn, cn))
    ratios = [w1 / wn for w1, _, wn, _ in rows]
    q1, med, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else (ratios[0],) * 3
    m = statistics.median
    print(f"capture {a.capture}, {a.runs} rounds")
    print(f"one thread:   wall median {m(r[0] for r in rows):.3f} s, CPU median {m(r[1] for r in rows):.3f} s")
    print(f"{a.threads} threads:    wall median {m(r[2] for r in rows):.3f} s, CPU median {m(r[3] for r in rows):.3f} s")
    print(f"speed-up (one thread's wall / {a.threads} threads' wall, per round): median {med:.2f}x, quartiles {q1:.2f}x-{q3:.2f}x")


if __name__ == "__main__":
    main()
