#!/usr/bin/env python3
"""Scores netanom's anomaly labels on the attack captures in ../shared/data (standard library only).

    python3 lab/score-shared.py --netanom target/release/netanom --shared ../shared

* esnet-curated-pcaps: nmap and masscan scans and the TCP flag-combination captures. Every
  conversation there is scan traffic, so the share of conversations labelled is the recall.
* ndpi-tests: 542 captures with nDPI's per-flow risk tags (result/*.out). Flows are joined by
  protocol and their two endpoints; for each nDPI risk, how many of its flows netanom labels, and
  how many of the flows nDPI finds no risk in (a rough false-positive rate: nDPI's risks are not a
  ground truth of attacks, and some of our rules look at things nDPI does not).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

PROTO = {"TCP": "6", "UDP": "17", "ICMP": "1", "ICMPV6": "58", "SCTP": "132"}
LINE = re.compile(r"^\s*\d+\s+(\S+)\s+(\S+):(\d+)\s+(?:<->|->)\s+(\S+):(\d+)\s")
RISK = re.compile(r"\[Risk: \*\* (.*?) \*\*\]\[Risk Score")


def flows(netanom, pcap, tmp):
    out = os.path.join(tmp, "f.txt")
    r = subprocess.run([netanom, "flows", "-q", "--no-headers-file", "-o", out, pcap], capture_output=True)
    if r.returncode not in (0, 1) or not os.path.exists(out):
        return []
    with open(out) as f:
        header = f.readline().rstrip("\n").lstrip("%").split("\t")
        return [dict(zip(header, l.rstrip("\n").split("\t"))) for l in f]


def conversations(rows):
    convs = defaultdict(lambda: {"rules": set(), "row": None})
    for r in rows:
        c = convs[r["flowInd"]]
        if r["dir"] == "A" or c["row"] is None:
            c["row"] = r
        if r.get("anomalyRules", "-") not in ("-", ""):
            c["rules"].update(r["anomalyRules"].split(";"))
    return convs


def esnet(netanom, root, tmp):
    print("esnet-curated-pcaps (every conversation is scan traffic):")
    print(f"  {'capture':<58} {'convs':>6} {'labelled':>8}  top rules")
    tot = lab = 0
    for dirpath, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if not name.endswith(".pcap"):
                continue
            convs = conversations(flows(netanom, os.path.join(dirpath, name), tmp))
            n, k = len(convs), sum(1 for c in convs.values() if c["rules"])
            tot, lab = tot + n, lab + k
            top = Counter(r for c in convs.values() for r in c["rules"]).most_common(3)
            rel = os.path.relpath(os.path.join(dirpath, name), root)
            print(f"  {rel:<58} {n:>6} {k:>8}  " + ", ".join(f"{r} {m}" for r, m in top))
    print(f"  total: {lab}/{tot} conversations labelled ({lab / max(tot, 1):.4f})")


def endpoint_key(proto, a, ap, b, bp):
    a, b = a.strip("[]"), b.strip("[]")
    return (proto, frozenset([(a, ap), (b, bp)]))


def ndpi(netanom, root, tmp):
    risk_total, risk_hit = Counter(), Counter()
    clean = clean_hit = joined = unjoined = 0
    rule_on_clean = Counter()
    pcaps = sorted(os.listdir(os.path.join(root, "pcap")))
    for name in pcaps:
        res = os.path.join(root, "result", name + ".out")
        if not os.path.exists(res):
            continue
        ours = {}
        for c in conversations(flows(netanom, os.path.join(root, "pcap", name), tmp)).values():
            r = c["row"]
            k = endpoint_key(r.get("l4Proto"), r.get("srcIP", ""), r.get("srcPort"), r.get("dstIP", ""), r.get("dstPort"))
            ours.setdefault(k, set()).update(c["rules"])
        with open(res, errors="replace") as f:
            for line in f:
                m = LINE.match(line)
                if not m or m.group(1).upper() not in PROTO:
                    continue
                proto, a, ap, b, bp = m.groups()
                r = RISK.search(line)
                risks = r.group(1) if r else None
                k = endpoint_key(PROTO[proto.upper()], a, ap, b, bp)
                if k not in ours:
                    unjoined += 1
                    continue
                joined += 1
                fired = ours[k]
                if risks:
                    for risk in risks.split(" **** "):
                        risk_total[risk] += 1
                        risk_hit[risk] += bool(fired)
                else:
                    clean += 1
                    clean_hit += bool(fired)
                    rule_on_clean.update(fired)
    print(f"ndpi-tests ({len(pcaps)} captures; {joined} nDPI flows joined to ours, {unjoined} not):")
    print(f"  {'nDPI risk':<44} {'flows':>6} {'labelled':>8}")
    for risk, n in risk_total.most_common():
        print(f"  {risk:<44} {n:>6} {risk_hit[risk]:>8}  ({risk_hit[risk] / n:.2f})")
    print(f"  flows without any nDPI risk: {clean}, labelled by netanom: {clean_hit} ({clean_hit / max(clean, 1):.4f})")
    print("  rules on those: " + ", ".join(f"{r} {n}" for r, n in rule_on_clean.most_common(12)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--netanom", default="target/release/netanom")
    ap.add_argument("--shared", default="../shared")
    a = ap.parse_args()
    data = os.path.join(a.shared, "data")
    if not os.path.isdir(data):
        sys.exit(f"score-shared: {data} not found")
    with tempfile.TemporaryDirectory() as tmp:
        esnet(a.netanom, os.path.join(data, "esnet-curated-pcaps"), tmp)
        print()
        ndpi(a.netanom, os.path.join(data, "ndpi-tests"), tmp)


if __name__ == "__main__":
    main()
