#!/usr/bin/env python3
"""Scores netanom's anomaly labels against a lab capture's ground truth (standard library only).

A conversation is one flowInd (its A row and, if seen, its B row). It is an attack conversation
when it involves the attacker named in the truth file: one of its rows has the attacker's MAC
among its source or destination MACs (the truth file's labelling rule: spoofed-source frames still
carry the attacker MAC) or the attacker's IP as source or destination. Every other conversation
is normal. A conversation is flagged when any of its rows has anomaly = 1, counting only the rules
selected (by default every rule except the seed's).

    python3 lab/score-labels.py --netanom target/release/netanom samples/lab.pcap samples/lab.truth.json

prints recall on attack conversations and false-positive rate on normal ones for the default rule
set and for the seed's rule `tcpAnomaly > 4` (enabled for the run through a rule file), per-rule
hits, and the missed and falsely flagged conversations. `--json` prints the figures as JSON;
`--min-recall` / `--max-fpr` make the exit status 1 when a target is missed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

SEED_RULE = "seed-tcpanomaly-gt4"
SEED_ON = f'[[rule]]\nname = "{SEED_RULE}"\nwhen = "tcpAnomaly > 4"\nenabled = true\n'


def run_netanom(netanom, pcap, rules_file, extra_rules):
    """Runs netanom on the capture and returns (header, rows) of its T2 table."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "flows.txt")
        cmd = [netanom, "flows", "-q", "--no-headers-file", "-f", "t2", "-o", out, pcap]
        files = []
        if rules_file:
            files.append(open(rules_file).read())
        if extra_rules:
            files.append(extra_rules)
        if files:
            path = os.path.join(tmp, "rules.toml")
            with open(path, "w") as f:
                f.write("\n".join(files))
            cmd += ["--rules", path]
        subprocess.run(cmd, check=True)
        return read_table(out)


def read_table(path):
    with open(path) as f:
        header = f.readline().rstrip("\n").lstrip("%").split("\t")
        rows = [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f]
    return header, rows


def conversations(rows, attacker_ip, attacker_mac):
    """flowInd -> {'attack': bool, 'rules': set, 'rows': [...]}"""
    convs = defaultdict(lambda: {"attack": False, "rules": set(), "rows": []})
    for r in rows:
        c = convs[r["flowInd"]]
        c["rows"].append(r)
        macs = (r.get("srcMac", "") + ";" + r.get("dstMac", "")).lower().split(";")
        if attacker_mac in macs or attacker_ip in (r.get("srcIP"), r.get("dstIP")):
            c["attack"] = True
        fired = r.get("anomalyRules", "-")
        if fired not in ("", "-"):
            c["rules"].update(fired.split(";"))
    return convs


def score(convs, selected):
    """Recall, FPR and counts, where a conversation counts as flagged if a selected rule fired."""
    tp = fn = fp = tn = 0
    for c in convs.values():
        flagged = bool(c["rules"] & selected) if selected is not None else bool(c["rules"])
        if c["attack"]:
            tp += flagged
            fn += not flagged
        else:
            fp += flagged
            tn += not flagged
    attack, normal = tp + fn, fp + tn
    return {
        "attack_conversations": attack,
        "normal_conversations": normal,
        "true_positives": tp,
        "false_negatives": fn,
        "false_positives": fp,
        "recall": tp / attack if attack else None,
        "false_positive_rate": fp / normal if normal else None,
    }


def describe(c):
    r = c["rows"][0]
    return "{} {} {}:{} -> {}:{} proto {} pkts {}/{} rules {}".format(
        r.get("flowInd"), r.get("dir"), r.get("srcIP"), r.get("srcPort"), r.get("dstIP"), r.get("dstPort"),
        r.get("l4Proto"), r.get("pktsSnt"), r.get("pktsRcvd"), ";".join(sorted(c["rules"])) or "-")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pcap")
    ap.add_argument("truth")
    ap.add_argument("--netanom", default="target/release/netanom")
    ap.add_argument("--rules", help="rule file passed on to netanom (merged over the defaults)")
    ap.add_argument("--flows", help="score this existing T2 flow table instead of running netanom")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--show", type=int, default=15, help="missed / false positive conversations to list")
    ap.add_argument("--min-recall", type=float)
    ap.add_argument("--max-fpr", type=float)
    a = ap.parse_args()

    truth = json.load(open(a.truth))
    attacker_ip = truth["attacker"]["ipv4"]
    attacker_mac = truth["attacker"]["mac"].lower()

    if a.flows:
        header, rows = read_table(a.flows)
    else:
        header, rows = run_netanom(a.netanom, a.pcap, a.rules, SEED_ON if "tcpAnomaly" in _columns(a.netanom) else None)
    if "anomalyRules" not in header:
        sys.exit("score-labels: the flow table has no anomalyRules column (run without --no-labels)")
    convs = conversations(rows, attacker_ip, attacker_mac)
    all_rules = set().union(*(c["rules"] for c in convs.values())) if convs else set()
    default = all_rules - {SEED_RULE}
    result = {
        "capture": a.pcap,
        "default_rules": score(convs, default),
        "seed_rule": score(convs, {SEED_RULE}) if "tcpAnomaly" in header else None,
        "per_rule": {},
    }
    for name in sorted(all_rules):
        s = score(convs, {name})
        result["per_rule"][name] = {"attack": s["true_positives"], "normal": s["false_positives"]}

    if a.json:
        print(json.dumps(result, indent=2))
    else:
        d = result["default_rules"]
        print(f"{a.pcap}: {d['attack_conversations']} attack conversations, {d['normal_conversations']} normal")
        for label, s in (("default rules", d), ("seed rule (tcpAnomaly > 4)", result["seed_rule"])):
            if s:
                print(f"  {label:<28} recall {s['recall']:.4f} ({s['true_positives']}/{s['attack_conversations']})"
                      f"   FPR {s['false_positive_rate']:.4f} ({s['false_positives']}/{s['normal_conversations']})")
        print("  per rule (conversations flagged: attack / normal):")
        for name, s in result["per_rule"].items():
            print(f"    {name:<28} {s['attack']:>6} / {s['normal']}")
        missed = [c for c in convs.values() if c["attack"] and not (c["rules"] & default)]
        false = [c for c in convs.values() if not c["attack"] and (c["rules"] & default)]
        for title, lst in (("missed attack conversations", missed), ("flagged normal conversations", false)):
            if lst:
                print(f"  {title} ({len(lst)}, first {min(len(lst), a.show)}):")
                for c in lst[: a.show]:
                    print("    " + describe(c))
    d = result["default_rules"]
    ok = True
    if a.min_recall is not None and (d["recall"] or 0) < a.min_recall:
        ok = False
    if a.max_fpr is not None and (d["false_positive_rate"] or 0) > a.max_fpr:
        ok = False
    sys.exit(0 if ok else 1)


def _columns(netanom):
    """Column names this netanom writes (to know whether the seed's rule can be enabled)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "f.txt")
        empty = os.path.join(tmp, "empty.pcap")
        with open(empty, "wb") as f:
            f.write(bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000"))
        subprocess.run([netanom, "flows", "-q", "--no-labels", "--no-headers-file", "-o", out, empty], check=True)
        with open(out) as f:
            return f.readline().lstrip("%").rstrip("\n").split("\t")


if __name__ == "__main__":
    main()
