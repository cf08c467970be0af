//! Anomaly labels end to end: the quality targets on the bundled lab capture (recall on attack
//! conversations ≥ 0.99, false-positive rate on normal ones ≤ 0.005, as `lab/score-labels.py`
//! counts them), the label columns in every format, `--rules` and `--no-labels`.

mod common;

use std::collections::HashMap;
use std::path::PathBuf;

use common::*;

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (attack conversations, flagged of them, normal conversations, flagged of them)
fn score(t: &Table, attacker_ip: &str, attacker_mac: &str) -> (usize, usize, usize, usize) {
    let mut convs: HashMap<&str, (bool, bool)> = HashMap::new();
    for r in &t.rows {
        let e = convs.entry(t.get(r, "flowInd")).or_default();
        let macs = format!("{};{}", t.get(r, "srcMac"), t.get(r, "dstMac"));
        if macs.split(';').any(|m| m == attacker_mac) || [t.get(r, "srcIP"), t.get(r, "dstIP")].contains(&attacker_ip) {
            e.0 = true;
        }
        e.1 |= t.get(r, "anomaly") == "1";
    }
    let attack = convs.values().filter(|c| c.0).count();
    let tp = convs.values().filter(|c| c.0 && c.1).count();
    let normal = convs.len() - attack;
    let fp = convs.values().filter(|c| !c.0 && c.1).count();
    (attack, tp, normal, fp)
}

#[test]
fn default_rules_meet_the_targets_on_the_lab_capture() {
    let pcap = repo().join("samples/lab.pcap");
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("samples/lab.truth.json")).unwrap()).unwrap();
    let ip = truth["attacker"]["ipv4"].as_str().unwrap();
    let mac = truth["attacker"]["mac"].as_str().unwrap().to_lowercase();
    let dir = scratch("labels-lab");
    let out = dir.join("lab_flows.txt");
    let o = run(&["flows", "-q", pcap.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = Table::read(&out);
    let (attack, tp, normal, fp) = score(&t, ip, &mac);
    let (recall, fpr) = (tp as f64 / attack as f64, fp as f64 / normal as f64);
    eprintln!("lab: recall {recall:.4} ({tp}/{attack}), false-positive rate {fpr:.4} ({fp}/{normal})");
    assert!(attack > 500 && normal > 1000, "the sample has both kinds of traffic");
    assert!(recall >= 0.99, "recall {recall:.4} below 0.99");
    assert!(fpr <= 0.005, "false-positive rate {fpr:.4} above 0.005");
}

/// A NULL-flag probe and an ordinary connection.
fn probe_and_normal() -> Vec<(u64, Vec<u8>)> {
    vec![
        (1_000_000, tcp((CLIENT, 40000), (SERVER, 80), 0x02, b"")),
        (1_001_000, tcp((SERVER, 80), (CLIENT, 40000), 0x12, b"")),
        (1_002_000, tcp((CLIENT, 40000), (SERVER, 80), 0x10, b"")),
        (1_003_000, tcp((CLIENT, 40000), (SERVER, 80), 0x18, b"GET / HTTP/1.1\r\n\r\n")),
        (1_004_000, tcp((SERVER, 80), (CLIENT, 40000), 0x18, b"HTTP/1.1 200 OK\r\n\r\n")),
        (2_000_000, tcp((CLIENT, 40001), (SERVER, 81), 0x00, b"")),
    ]
}

#[test]
fn label_columns_in_every_format_and_the_options() {
    let dir = scratch("labels-formats");
    let cap = write(&dir, "in.pcap", &pcap(&probe_and_normal()));
    let c = cap.to_str().unwrap();

    let out = dir.join("t2.txt");
    assert!(run(&["flows", "-q", c, "-o", out.to_str().unwrap()]).status.success());
    let t = Table::read(&out);
    let n = t.header.len();
    assert_eq!(&t.header[n - 2..], ["anomaly", "anomalyRules"]);
    let get = |port: &str, col: &str| {
        let r = t.rows.iter().find(|r| t.get(r, "dir") == "A" && t.get(r, "dstPort") == port).unwrap();
        t.get(r, col).to_string()
    };
    // (the hand-built frames carry no checksums, so bad-checksum may fire on both)
    assert!(!get("80", "anomalyRules").contains("scan"), "{}", get("80", "anomalyRules"));
    assert_eq!(get("80", "firstPayload"), "http");
    assert_eq!(get("81", "anomaly"), "1");
    assert!(get("81", "anomalyRules").split(';').any(|r| r == "tcp-null-scan"), "{}", get("81", "anomalyRules"));

    let csv = dir.join("f.csv");
    assert!(run(&["flows", "-q", c, "-f", "csv", "-o", csv.to_str().unwrap()]).status.success());
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",anomaly,anomalyRules"));

    let jsonl = dir.join("f.jsonl");
    assert!(run(&["flows", "-q", c, "-f", "jsonl", "-o", jsonl.to_str().unwrap()]).status.success());
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(&jsonl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(rows.iter().any(|r| r["anomaly"] == 1 && r["anomalyRules"].as_str().unwrap().contains("tcp-null-scan")));

    let pq = dir.join("f.parquet");
    assert!(run(&["flows", "-q", c, "-f", "parquet", "-o", pq.to_str().unwrap()]).status.success());
    let bytes = std::fs::read(&pq).unwrap();
    assert!(bytes.windows(12).any(|w| w == b"anomalyRules"), "the Parquet schema names the label column");

    // --no-labels: no label columns
    let plain = dir.join("plain.txt");
    assert!(run(&["flows", "-q", "--no-labels", c, "-o", plain.to_str().unwrap()]).status.success());
    let p = Table::read(&plain);
    assert!(!p.header.iter().any(|h| h == "anomaly" || h == "anomalyRules"));

    // --rules: switch a default off, add a rule
    let rules = write(
        &dir,
        "r.toml",
        b"[[rule]]\nname = \"tcp-null-scan\"\nwhen = \"tcpFlags & 0x0800\"\nenabled = false\n\n\
          [[rule]]\nname = \"to-port-80\"\nwhen = \"dir == 'A' and dstPort == 80\"\n",
    );
    let custom = dir.join("custom.txt");
    let rep = dir.join("rep.json");
    let o = run(&[
        "flows",
        "-q",
        c,
        "--rules",
        rules.to_str().unwrap(),
        "-o",
        custom.to_str().unwrap(),
        "--report-json",
        rep.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = Table::read(&custom);
    let fired: Vec<&str> = t.rows.iter().map(|r| t.get(r, "anomalyRules")).collect();
    assert_eq!(fired.iter().filter(|f| f.split(';').any(|r| r == "to-port-80")).count(), 1, "{fired:?}");
    assert!(!fired.iter().any(|f| f.contains("tcp-null-scan")));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
    let counts = report["labels"]["rules"].as_array().unwrap();
    assert!(counts.iter().any(|r| r["name"] == "to-port-80" && r["rows"] == 1));

    // A bad rule file is an error with file, line and column.
    let bad = write(&dir, "bad.toml", b"[[rule]]\nname = \"x\"\nwhen = \"tcpFlag & 1\"\n");
    let o = run(&["flows", "-q", c, "--rules", bad.to_str().unwrap(), "-o", "-"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.toml:3:9") && err.contains("tcpFlags"), "{err}");
}
