//! `netanom watch --replay` end to end (default build, no libpcap): alerts name the lab's attacker,
//! the flows written equal `netanom flows`' rows, a quiet stretch ends flows by the wall clock, and
//! SIGINT flushes every live flow and exits 0.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn lab() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/lab.pcap")
}

fn lines(p: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect()
}

fn flow_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    v.sort();
    v
}

fn rows(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p).unwrap().lines().filter(|l| !l.starts_with('%')).map(String::from).collect()
}

/// Sends SIGINT and waits (bounded) for the exit.
fn interrupt(child: &mut Child) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    let ok = Command::new("kill").args(["-INT", &pid]).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "kill -INT {pid} failed");
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("netanom watch did not stop within 20 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn replay_alerts_name_the_attacker_and_rows_equal_offline_flows() {
    let dir = scratch("watch_replay_lab");
    let alerts = dir.join("alerts.jsonl");
    let flows = dir.join("flows");
    let a = alerts.to_str().unwrap();
    let out = run(&[
        "watch",
        "--replay",
        lab().to_str().unwrap(),
        "--speed",
        "1000",
        "--alerts",
        a,
        "--flows-out",
        flows.to_str().unwrap(),
        "--status",
        "0",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("at the end of the replayed file"), "{err}");
    let al = lines(&alerts);
    let scan: Vec<_> = al
        .iter()
        .filter(|v| v["kind"] == "flow" && v["src"] == "10.77.0.66")
        .filter(|v| v["rules"].as_array().unwrap().iter().any(|r| r == "port-scan-vertical"))
        .collect();
    assert!(scan.len() > 100, "{} scan alerts from 10.77.0.66", scan.len());
    let s = scan[0];
    assert_eq!(s["dst"], "10.77.0.10");
    assert_eq!(s["dir"], "A");
    assert_eq!(s["severity"], "high");
    assert!(s["time"].as_str().unwrap().ends_with('Z'));
    // The same conversations as offline: the replay clock never passes the next packet, so a flow
    // that ends on the clock would have ended at that packet too.
    let off = dir.join("off.txt");
    let o = run(&["flows", lab().to_str().unwrap(), "-o", off.to_str().unwrap(), "-q"]);
    assert!(o.status.success());
    let off_rows = rows(&off);
    let files = flow_files(&flows);
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(rows(&files[0]).len(), off_rows.len());
    // As fast as it reads, the rows are byte-identical to `netanom flows`, in the same order, and
    // every flagged row is one alert. (In real time, flows that time out between two packets end at
    // the clock's check rather than at the next packet: the same rows, possibly in another order,
    // which connStat's live counts reflect.)
    let flows0 = dir.join("flows0");
    let alerts0 = dir.join("alerts0.jsonl");
    let out = run(&[
        "watch",
        "--replay",
        lab().to_str().unwrap(),
        "--speed",
        "0",
        "--status",
        "0",
        "-q",
        "--alerts",
        alerts0.to_str().unwrap(),
        "--flows-out",
        flows0.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let flagged = off_rows.iter().filter(|r| !r.ends_with("\t-")).count();
    assert_eq!(lines(&alerts0).iter().filter(|v| v["kind"] == "flow").count(), flagged);
    let files = flow_files(&flows0);
    assert!(rows(&files[0]) == off_rows, "watch rows differ from `netanom flows`");
}

#[test]
fn sigint_during_a_replay_flushes_every_live_flow_and_exits_0() {
    let dir = scratch("watch_replay_sigint");
    let flows = dir.join("flows");
    let mut child = Command::new(bin())
        .args(["watch", "--replay", lab().to_str().unwrap(), "--speed", "4", "--status", "1"])
        .args(["--alerts", dir.join("alerts.jsonl").to_str().unwrap(), "--flows-out", flows.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let st = interrupt(&mut child);
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(st.success(), "exit {st:?}: {err}");
    assert!(err.contains("stopped           by a signal"), "{err}");
    assert!(err.contains("netanom watch: "), "no status line: {err}");
    // The end report counts every row; the file holds them all, flushed ones included.
    let line = err.lines().find(|l| l.trim_start().starts_with("flows ")).unwrap();
    let reported: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let flushed = err.lines().find(|l| l.contains("flushed at end")).unwrap();
    assert!(!flushed.contains("flushed at end 0,"), "nothing was live at the stop? {err}");
    let files = flow_files(&flows);
    let written: usize = files.iter().map(|f| rows(f).len()).sum();
    assert!(reported > 0 && written == reported, "{written} rows written, {reported} reported: {err}");
}

#[test]
fn flows_end_by_the_wall_clock_when_no_packet_arrives() {
    // A probe answered by RST (ends 0.1 s later), then nothing for ten minutes of capture time.
    let t0 = 1_700_000_000_000_000u64;
    let attacker = ([10, 0, 0, 66], 40000);
    let server = ([10, 0, 0, 2], 8443);
    let cap = pcap(&[
        (t0, tcp(attacker, server, 0x02, b"")),
        (t0 + 500, tcp(server, attacker, 0x14, b"")),
        (t0 + 600_000_000, udp(([10, 0, 0, 5], 5000), ([10, 0, 0, 6], 53), b"x")),
    ]);
    let dir = scratch("watch_replay_wallclock");
    let f = write(&dir, "quiet.pcap", &cap);
    let alerts = dir.join("alerts.jsonl");
    let mut child = Command::new(bin())
        .args(["watch", "--replay", f.to_str().unwrap(), "--speed", "1", "--status", "0"])
        .args(["--alerts", alerts.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < until && seen.is_empty() {
        std::thread::sleep(Duration::from_millis(100));
        seen = lines(&alerts);
    }
    let st = interrupt(&mut child);
    assert!(st.success());
    assert!(!seen.is_empty(), "no alert within 10 s: the probe's flow did not end on the wall clock");
    assert_eq!(seen[0]["src"], "10.0.0.66");
    assert_eq!(seen[0]["dst_port"], 8443);
}

#[cfg(not(feature = "live"))]
#[test]
fn live_capture_without_the_feature_says_how_to_get_it() {
    let out = run(&["watch", "-i", "eth0"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--features live") && err.contains("--replay"), "{err}");
}

#[test]
fn a_missing_replay_file_is_a_clear_error() {
    let out = run(&["watch", "--replay", "/nonexistent/cap.pcap"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/cap.pcap"));
}

#[test]
fn a_saved_model_scores_every_flagged_row() {
    let dir = scratch("watch_replay_model");
    let table = dir.join("lab.csv");
    let model = dir.join("km.model");
    let o = run(&["flows", lab().to_str().unwrap(), "-f", "csv", "-o", table.to_str().unwrap(), "-q"]);
    assert!(o.status.success());
    let o = run(&[
        "kmeans",
        "--data",
        table.to_str().unwrap(),
        "--label",
        "anomaly",
        "--exclude",
        "anomalyRules",
        "-q",
        "--save-model",
        model.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let alerts = dir.join("alerts.jsonl");
    let out = run(&[
        "watch",
        "--replay",
        lab().to_str().unwrap(),
        "--speed",
        "0",
        "--status",
        "0",
        "-q",
        "--model",
        model.to_str().unwrap(),
        "--alerts",
        alerts.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let al = lines(&alerts);
    assert!(!al.is_empty());
    for v in al.iter().filter(|v| v["kind"] == "flow") {
        let m = &v["model"];
        assert!(m["prediction"].is_string() && m["score"].as_f64().is_some_and(|s| s >= 0.0), "{v}");
        assert!(m["anomalous"].is_boolean(), "{v}");
    }
    // A model whose features are not flow columns is refused at start, naming the column.
    std::fs::write(dir.join("t.csv"), "a,b,label\n1,2,x\n3,4,y\n5,6,x\n").unwrap();
    let bad = dir.join("bad.model");
    let t = dir.join("t.csv");
    let o = run(&[
        "kmeans",
        "--data",
        t.to_str().unwrap(),
        "--label",
        "label",
        "-q",
        "--save-model",
        bad.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = run(&["watch", "--replay", lab().to_str().unwrap(), "--model", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("column 'a'"), "{}", String::from_utf8_lossy(&out.stderr));
}
