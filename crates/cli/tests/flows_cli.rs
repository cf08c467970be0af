//! `netanom flows` end to end on captures the tests build themselves: the flow model
//! (A/B rows, direction rule, timeouts, eviction, fragments, land attack, layer-2 flows), the
//! output formats, and the handling of damaged and wrong input.

mod common;

use common::*;

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];
const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x18;
const FIN: u8 = 0x01;

/// A TCP connection: handshake, a request, a response, and both FINs acknowledged.
fn tcp_conversation(t0: u64) -> Vec<(u64, Vec<u8>)> {
    let c = (CLIENT, 40000);
    let s = (SERVER, 80);
    vec![
        (t0, tcp(c, s, SYN, b"")),
        (t0 + 1_000, tcp(s, c, SYN | ACK, b"")),
        (t0 + 2_000, tcp(c, s, ACK, b"")),
        (t0 + 3_000, tcp(c, s, PSH | ACK, b"GET / HTTP/1.1\r\n\r\n")),
        (t0 + 4_000, tcp(s, c, PSH | ACK, &[b'x'; 100])),
        (t0 + 5_000, tcp(c, s, FIN | ACK, b"")),
        (t0 + 6_000, tcp(s, c, FIN | ACK, b"")),
        (t0 + 7_000, tcp(c, s, ACK, b"")),
    ]
}

fn flows(dir: &std::path::Path, frames: &[(u64, Vec<u8>)], extra: &[&str]) -> (Table, serde_json::Value) {
    let cap = write(dir, "in.pcap", &pcap(frames));
    let out = dir.join("out_flows.txt");
    let rep = dir.join("report.json");
    let mut args =
        vec!["flows", cap.to_str().unwrap(), "-o", out.to_str().unwrap(), "--report-json", rep.to_str().unwrap(), "-q"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "netanom failed: {}", String::from_utf8_lossy(&o.stderr));
    let report = serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).expect("report JSON");
    (Table::read(&out), report)
}

#[test]
fn tcp_conversation_gives_an_a_and_a_b_row() {
    let dir = scratch("tcp");
    let (t, report) = flows(&dir, &tcp_conversation(1_000_000_000), &[]);
    assert_eq!(t.header[0], "dir");
    assert_eq!(t.rows.len(), 2);
    let (a, b) = (&t.rows[0], &t.rows[1]);
    assert_eq!((t.get(a, "dir"), t.get(b, "dir")), ("A", "B"));
    assert_eq!(t.get(a, "flowInd"), t.get(b, "flowInd"));
    assert_eq!((t.get(a, "srcIP"), t.get(a, "srcPort"), t.get(a, "dstPort")), ("10.0.0.1", "40000", "80"));
    assert_eq!((t.get(a, "pktsSnt"), t.get(a, "pktsRcvd")), ("5", "3"));
    assert_eq!((t.get(a, "l7BytesSnt"), t.get(b, "l7BytesSnt")), ("18", "100"));
    assert_eq!(hex(t.get(a, "flowStat")), 0x0400_0000_0000_4000, "IPv4 packet + IPv4 flow");
    assert_eq!(hex(t.get(b, "flowStat")) & 1, 1, "the B row did not initiate");
    assert_eq!((t.get(a, "dstPortClassN"), t.get(b, "dstPortClassN")), ("80", "80"));
    assert_eq!(t.get(a, "timeFirst"), "1000.000000000");
    assert_eq!(t.get(a, "duration"), "0.007000000");
    assert_eq!(t.get(a, "hdrDesc"), "eth:ipv4:tcp");
    assert_eq!(report["packets"], 8);
    assert_eq!(report["rows"], 2);
}

#[test]
fn direction_rule_marks_replies_and_fragments_join_their_flow() {
    let dir = scratch("rule");
    let (f1, f2) = udp_fragments((CLIENT, 5000), (SERVER, 7000), &[7u8; 40]);
    let frames = vec![
        // a DNS answer seen without its query: from a well-known port to a higher one
        (1_000_000, udp((SERVER, 53), (CLIENT, 33000), b"answer")),
        (2_000_000, f1),
        (2_000_100, f2),
        (3_000_000, arp_request(CLIENT, SERVER)),
    ];
    let (t, report) = flows(&dir, &frames, &[]);
    let dns = &t.rows_where("srcPort", "53")[0];
    assert_eq!(t.get(dns, "dir"), "A", "a lone reply is still printed as A");
    assert_eq!(hex(t.get(dns, "flowStat")) & 1, 1, "but flagged as not initiating");
    assert_eq!(t.get(dns, "pktAsm"), "-1");
    let frag = &t.rows_where("dstPort", "7000")[0];
    assert_eq!(t.get(frag, "pktsSnt"), "2", "the later fragment belongs to the first one's flow");
    assert_ne!(hex(t.get(frag, "flowStat")) & (1 << 36), 0, "fragmentation flagged");
    let arp = &t.rows_where("ethType", "0x0806")[0];
    assert_eq!((t.get(arp, "srcIP"), t.get(arp, "l4Proto")), ("-", "0"));
    assert_eq!(hex(t.get(arp, "flowStat")), 0x44, "pure L2 + ARP");
    assert_eq!(report["flows"]["orphan_fragments"], 0);
}

#[test]
fn idle_timeout_splits_flows_and_is_configurable() {
    let dir = scratch("idle");
    let frames =
        vec![(0, udp((CLIENT, 4000), (SERVER, 9999), b"a")), (200_000_000, udp((CLIENT, 4000), (SERVER, 9999), b"b"))];
    let (t, r) = flows(&dir, &frames, &[]);
    assert_eq!(t.rows.len(), 2, "200 s of silence is more than the 182 s idle timeout");
    assert_ne!(t.get(&t.rows[0], "flowInd"), t.get(&t.rows[1], "flowInd"));
    assert_eq!(r["flows"]["ended_by_timeout"], 1);
    let (t, _) = flows(&dir, &frames, &["--idle-timeout", "300"]);
    assert_eq!(t.rows.len(), 1);
    let (t, r) = flows(&dir, &frames, &["--active-timeout", "100", "--idle-timeout", "300"]);
    assert_eq!(t.rows.len(), 2, "the active timeout cuts the flow");
    assert_eq!(r["flows"]["ended_by_active_timeout"], 1);
}

#[test]
fn a_full_table_evicts_the_oldest_and_says_so() {
    let dir = scratch("evict");
    let frames: Vec<_> = (0..6u16).map(|i| (i as u64 * 1000, udp((CLIENT, 5000 + i), (SERVER, 9000), b"x"))).collect();
    let (t, r) = flows(&dir, &frames, &["--max-flows", "2"]);
    assert_eq!(t.rows.len(), 6, "no flow is lost");
    assert_eq!(r["flows"]["evicted"], 4);
    let evicted = t.rows.iter().filter(|row| hex(t.get(row, "flowStat")) & (1 << 42) != 0).count();
    assert_eq!(evicted, 4, "evicted flows carry flowStat bit 42");
}

#[test]
fn land_attack_is_flagged() {
    let dir = scratch("land");
    let (t, _) = flows(&dir, &[(0, tcp((SERVER, 80), (SERVER, 80), SYN, b""))], &[]);
    assert_ne!(hex(t.get(&t.rows[0], "flowStat")) & (1 << 50), 0);
}

#[test]
fn every_format_holds_the_same_rows() {
    let dir = scratch("formats");
    let cap = write(&dir, "c.pcap", &pcap(&tcp_conversation(0)));
    let c = cap.to_str().unwrap();
    for (fmt, file) in [("csv", "f.csv"), ("jsonl", "f.jsonl"), ("parquet", "f.parquet")] {
        let out = dir.join(file);
        let o = run(&["flows", c, "--format", fmt, "-o", out.to_str().unwrap(), "-q"]);
        assert!(o.status.success(), "{fmt}: {}", String::from_utf8_lossy(&o.stderr));
        let bytes = std::fs::read(&out).unwrap();
        match fmt {
            "csv" => {
                let text = String::from_utf8(bytes).unwrap();
                assert!(text.starts_with("dir,flowInd,flowStat,"));
                assert_eq!(text.lines().count(), 3);
            }
            "jsonl" => {
                let text = String::from_utf8(bytes).unwrap();
                let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
                assert_eq!(rows.len(), 2);
                assert_eq!(rows[0]["dir"], "A");
                assert_eq!(rows[0]["pktsSnt"], 5, "typed values");
                assert_eq!(rows[1]["l7BytesSnt"], 100);
            }
            _ => assert_eq!(&bytes[..4], b"PAR1"),
        }
    }
    // stdout
    let o = run(&["flows", c, "-o", "-", "-q"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
}

#[test]
fn stdin_and_compressed_input_are_detected_by_content() {
    use std::io::Write;
    let dir = scratch("stdin");
    let raw = pcap(&tcp_conversation(0));
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    // a misleading name: the format comes from the bytes
    let cap = write(&dir, "capture.txt", &gz.finish().unwrap());
    let o = std::process::Command::new(bin())
        .args(["flows", "-", "-o", "-", "-q"])
        .stdin(std::fs::File::open(&cap).unwrap())
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);
}

#[test]
fn damaged_and_wrong_input() {
    let dir = scratch("bad");
    // cut in the middle of the last record: the good packets stay, the damage is reported
    let mut cut = pcap(&tcp_conversation(0));
    cut.truncate(cut.len() - 20);
    let cap = write(&dir, "cut.pcap", &cut);
    let rep = dir.join("r.json");
    let o = run(&["flows", cap.to_str().unwrap(), "-o", "-", "--report-json", rep.to_str().unwrap()]);
    assert!(o.status.success(), "a damaged capture is still a capture");
    let r: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&rep).unwrap()).unwrap();
    assert_eq!(r["packets"], 7);
    assert_eq!(r["damaged"]["truncated file"], 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("truncated"));

    // not a capture at all: exit 1, one line naming the file and what it looks like
    let txt = write(&dir, "notes.pcap", b"GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    let o = run(&["flows", txt.to_str().unwrap(), "-o", "-", "-q"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("notes.pcap") && err.contains("not a packet capture") && err.contains("text"), "{err}");

    // a missing file among good ones: the good ones are still processed
    let good = write(&dir, "good.pcap", &pcap(&tcp_conversation(0)));
    let o = run(&["flows", "/nonexistent/x.pcap", good.to_str().unwrap(), "-o", "-", "-q"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 3);

    // a folder skips the non-captures in it without failing
    let o = run(&["flows", dir.to_str().unwrap(), "-o", "-", "-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn bundled_sample_runs_without_arguments() {
    let dir = scratch("sample");
    let o = std::process::Command::new(bin()).args(["flows", "-q"]).current_dir(&dir).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = Table::read(&dir.join("lab_flows.txt"));
    assert!(t.rows.len() > 1000, "the sample holds a LAN's worth of flows");
    assert!(!t.rows_where("srcIP", "10.77.0.66").is_empty(), "the attacker is in it");
    assert!(dir.join("lab_headers.txt").is_file(), "the _headers.txt sidecar names the T2 version");
    let headers = std::fs::read_to_string(dir.join("lab_headers.txt")).unwrap();
    assert!(headers.contains("Tranalyzer 0.9.3"));
}

#[test]
fn a_subnet_file_labels_public_addresses() {
    let dir = scratch("subnets");
    let frames = vec![(0, udp(([203, 0, 114, 9], 5000), ([198, 18, 0, 1], 7000), b"x"))];
    let (t, _) = flows(&dir, &frames, &[]);
    assert_eq!(t.get(&t.rows[0], "srcIPCC"), "-");
    assert_eq!(t.get(&t.rows[0], "dstIPOrg"), "\"Benchmark testing subnets\"");
    let file = write(&dir, "subnets.tsv", b"# test\n203.0.114.0/24\tau\tExample Pty\n");
    let (t, _) = flows(&dir, &frames, &["--subnets", file.to_str().unwrap()]);
    assert_eq!(t.get(&t.rows[0], "srcIPCC"), "au");
    assert_eq!(t.get(&t.rows[0], "srcIPOrg"), "\"Example Pty\"");
    let bad = write(&dir, "bad.tsv", b"203.0.114.0/40\tau\tX\n");
    let cap = write(&dir, "c.pcap", &pcap(&frames));
    let o = run(&["flows", cap.to_str().unwrap(), "-o", "-", "--subnets", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.tsv:1:"), "{}", String::from_utf8_lossy(&o.stderr));
}
