//! Packet counts against Tranalyzer2 0.9.3 (which reads through libpcap 1.10.3), from
//! `shared/golden/t2-0.9.3/INDEX.tsv`, for every set it covers (ndpi-tests, zeek-traces,
//! pcapplusplus-examples, esnet-curated-pcaps).
//!
//! libpcap refuses pcapng files whose interfaces differ in link type or snaplen and stops at
//! that point; those rows carry a "libpcap read errors" note, and reading more packets from
//! them than libpcap did is the expected, legitimate difference.

mod common;

use common::{read, shared_dir, Outcome};

#[test]
fn packet_counts_match_tranalyzer() {
    let Some(shared) = shared_dir("packet_counts_match_tranalyzer") else { return };
    let index = shared.join("golden/t2-0.9.3/INDEX.tsv");
    let Ok(text) = std::fs::read_to_string(&index) else {
        println!("SKIP packet_counts_match_tranalyzer: {} missing", index.display());
        return;
    };
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
    let (c_set, c_capture, c_status, c_packets, c_note) =
        (col("set"), col("capture"), col("status"), col("packets"), col("note"));
    let (mut compared, mut agreed, mut legit) = (0, 0, Vec::new());
    let mut mismatches = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |c: usize| f.get(c).copied().unwrap_or("");
        let root = match get(c_set) {
            "ndpi-tests" => "data/ndpi-tests/pcap",
            "zeek-traces" => "data/zeek-traces/Traces",
            "pcapplusplus-examples" => "data/pcapplusplus-examples",
            "esnet-curated-pcaps" => "data/esnet-curated-pcaps",
            _ => continue,
        };
        // a failed run (unsupported link type) reports no packet count
        if get(c_status) != "ok" {
            continue;
        }
        let expected: u64 = get(c_packets).parse().unwrap_or(0);
        let path = shared.join(root).join(get(c_capture));
        let got = match read(&path) {
            Outcome::Read(s) => s.packets,
            other => {
                mismatches.push(format!("{}: T2 read {expected} packets, we: {other:?}", path.display()));
                continue;
            }
        };
        compared += 1;
        if got == expected {
            agreed += 1;
        } else if get(c_note).contains("libpcap read errors") {
            legit.push(format!("{}/{}: T2 {expected}, we {got} ({})", get(c_set), get(c_capture), get(c_note)));
        } else {
            mismatches.push(format!("{}/{}: T2 {expected}, we {got}", get(c_set), get(c_capture)));
        }
    }
    println!("compared {compared} captures: {agreed} agree, {} legitimate differences:", legit.len());
    for l in &legit {
        println!("  {l}");
    }
    assert!(compared > 1000, "only {compared} captures compared");
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
