//! `netanom baseline` end to end: a capture built here with ten minutes of steady traffic, then a
//! SYN flood on the server; the flood's interval must alert for the server, and nothing before it.

mod common;

use common::*;

const SERVER: [u8; 4] = [10, 0, 0, 2];
const DNS: [u8; 4] = [10, 0, 0, 53];
const ATTACKER: [u8; 4] = [10, 0, 0, 66];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x18;
const FIN: u8 = 0x01;
/// Aligned on the 10 s intervals.
const T0: u64 = 1_700_000_000 * 1_000_000;
const FLOOD_AT: u64 = 400;

fn conversation(t: u64, client: [u8; 4], port: u16) -> Vec<(u64, Vec<u8>)> {
    let c = (client, port);
    let s = (SERVER, 80);
    vec![
        (t, tcp(c, s, SYN, b"")),
        (t + 1_000, tcp(s, c, SYN | ACK, b"")),
        (t + 2_000, tcp(c, s, ACK, b"")),
        (t + 3_000, tcp(c, s, PSH | ACK, b"GET / HTTP/1.1\r\n\r\n")),
        (t + 4_000, tcp(s, c, PSH | ACK, &[b'x'; 300])),
        (t + 5_000, tcp(c, s, FIN | ACK, b"")),
        (t + 6_000, tcp(s, c, FIN | ACK, b"")),
        (t + 7_000, tcp(c, s, ACK, b"")),
    ]
}

fn capture() -> Vec<u8> {
    let mut frames = Vec::new();
    for i in 0..60u64 {
        let t = T0 + i * 10_000_000;
        for c in 0..3u8 {
            let client = [10, 0, 0, 10 + c];
            let port = 40000 + (i as u16) * 4 + c as u16;
            frames.extend(conversation(t + 1_000_000 + c as u64 * 2_000_000, client, port));
            frames.push((t + 7_000_000 + c as u64 * 1000, udp((client, port), (DNS, 53), b"query")));
        }
        if i * 10 == FLOOD_AT {
            for k in 0..400u64 {
                frames.push((t + 500_000 + k * 3_000, tcp((ATTACKER, 1024 + k as u16), (SERVER, 80), SYN, b"")));
            }
        }
    }
    frames.sort_by_key(|f| f.0);
    pcap(&frames)
}

#[test]
fn the_flood_interval_alerts_for_the_target_host() {
    let dir = scratch("baseline-flood");
    let cap = write(&dir, "flood.pcap", &capture());
    let alerts = dir.join("baseline.jsonl");
    let report = dir.join("report.json");
    let out = run(&[
        "baseline",
        cap.to_str().unwrap(),
        "--interval",
        "10s",
        "--alerts",
        alerts.to_str().unwrap(),
        "--report-json",
        report.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&alerts).unwrap();
    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let flood_interval = (T0 / 1_000_000 + FLOOD_AT) as f64;
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["interval"].as_f64(), Some(flood_interval), "alert outside the flood: {r}");
    }
    let target = rows.iter().find(|r| r["key"] == "dst_host 10.0.0.2" && r["measure"] == "flows");
    let target = target.unwrap_or_else(|| panic!("no flow alert for the server: {text}"));
    assert_eq!(target["observed"].as_f64(), Some(403.0));
    assert!(target["ratio"].as_f64().unwrap() > 4.0);
    for key in ["dst_port 10.0.0.2 tcp/80", "network"] {
        assert!(rows.iter().any(|r| r["key"] == key && r["measure"] == "flows"), "{key}: {text}");
    }
    // The half-open SYNs are what the stand-in labeller calls anomalous.
    assert!(rows.iter().any(|r| r["key"] == "dst_host 10.0.0.2" && r["measure"] == "anomalous"), "{text}");
    // The attacker was never seen before: no history, no alert as a source.
    assert!(!rows.iter().any(|r| r["kind"] == "src_host"), "{text}");

    let rep: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(rep["alerts"].as_u64(), Some(rows.len() as u64));
    assert_eq!(rep["late_flows"].as_u64(), Some(0));
    assert_eq!(rep["intervals"].as_u64(), Some(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("dst_host 10.0.0.2"), "{stderr}");
}

#[test]
fn a_higher_threshold_silences_the_flood() {
    let dir = scratch("baseline-threshold");
    let cap = write(&dir, "flood.pcap", &capture());
    let out = run(&["baseline", cap.to_str().unwrap(), "--interval", "10s", "--threshold", "1000", "-q"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn bad_arguments_are_refused() {
    let out = run(&["baseline", "--interval", "0s"]);
    assert!(!out.status.success());
    let out = run(&["baseline", "--threshold", "-1"]);
    assert_eq!(out.status.code(), Some(2));
}
