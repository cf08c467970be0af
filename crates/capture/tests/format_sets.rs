//! The format-focused sets of `shared/data`: the pcapng test suite, pcap-parser's assets, scapy's
//! and PcapPlusPlus's captures. Each check names the file and what it exercises.

mod common;

use std::path::{Path, PathBuf};

use common::{read, read_ok, shared_dir, walk, Outcome};
use netanom_capture::{CaptureReader, DamageKind, ReadEvent};

fn data(test: &str) -> Option<PathBuf> {
    shared_dir(test).map(|s| s.join("data"))
}

/// Packet blocks listed in a pcapng-test-suite description ("Block counts:" then "\tEPB: 3" ...).
fn described_packets(txt: &Path) -> u64 {
    let text = std::fs::read_to_string(txt).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().split_once(": "))
        .filter(|(k, _)| matches!(*k, "EPB" | "SPB" | "PB"))
        .filter_map(|(_, v)| v.trim().parse::<u64>().ok())
        .sum()
}

#[test]
fn pcapng_test_suite_every_block_type_both_byte_orders() {
    let Some(data) = data("pcapng_test_suite") else { return };
    let suite = data.join("pcapng-test-suite");
    let mut checked = 0;
    for le in walk(&suite.join("output_le")).into_iter().filter(|p| p.extension().is_some_and(|e| e == "pcapng")) {
        let rel = le.strip_prefix(suite.join("output_le")).unwrap_or(&le);
        let be = suite.join("output_be").join(rel);
        let want = described_packets(&le.with_extension("txt"));
        let (l, b) = (read_ok(&le), read_ok(&be));
        assert_eq!((l.packets, l.damaged()), (want, 0), "{}: {:?}", le.display(), l.first_damage);
        assert_eq!((b.packets, b.damaged()), (want, 0), "{}: {:?}", be.display(), b.first_damage);
        assert_eq!(l.digest, b.digest, "{}: byte orders disagree", rel.display());
        checked += 1;
    }
    assert_eq!(checked, 24);
}

#[test]
fn pcap_parser_assets() {
    let Some(data) = data("pcap_parser_assets") else { return };
    let a = data.join("pcap-parser-assets/assets");
    let m = read_ok(&a.join("modified-format.pcap"));
    assert!(m.format.contains("modified"), "{}", m.format);
    assert_eq!((m.packets, m.damaged()), (1, 0));
    let w = read_ok(&a.join("wireshark_samples-test.pcapng"));
    assert_eq!((w.packets, w.damaged()), (5898, 0));
    // pcap-parser's own reader trips over its buffer size here; a streaming reader should not
    let s = read_ok(&a.join("err-buffertoosmall.pcapng"));
    assert_eq!((s.packets, s.damaged()), (27, 0));
    // a bare Enhanced Packet Block, no section header: not a capture
    assert!(matches!(read(&a.join("err-eof.bin")), Outcome::NotACapture(_)));
    for (le, be) in [("test001-le", "test001-be"), ("test016-le", "test016-be")] {
        let (l, b) = (read_ok(&a.join(format!("{le}.pcapng"))), read_ok(&a.join(format!("{be}.pcapng"))));
        assert_eq!((l.packets, l.digest), (b.packets, b.digest), "{le}");
    }
}

#[test]
fn scapy_compressed_copies_match_and_truncation_is_reported() {
    let Some(data) = data("scapy") else { return };
    let dir = data.join("scapy-test-pcaps/pcaps");
    let mut pairs = 0;
    for gz in walk(&dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "gz")) {
        let plain = gz.with_extension("");
        if !plain.exists() {
            continue;
        }
        let (z, p) = (read_ok(&gz), read_ok(&plain));
        assert!(z.format.ends_with("gzip-compressed"), "{}", z.format);
        assert_eq!((z.packets, z.digest, z.damaged()), (p.packets, p.digest, 0), "{}", gz.display());
        pairs += 1;
    }
    assert!(pairs >= 20, "{pairs}");
    // the one capture cut short: its packet is kept, then exactly one truncation
    let t = read_ok(&dir.join("bad_rsn_parsing_overrides_ssid.pcap"));
    assert_eq!(t.packets, 1);
    assert_eq!(t.damage.get(&DamageKind::TruncatedFile), Some(&1));
    assert_eq!(t.damaged(), 1);
}

#[test]
fn pcapplusplus_formats() {
    let Some(data) = data("pcapplusplus") else { return };
    let d = data.join("pcapplusplus-examples/Pcap++Test/PcapExamples");
    let be = read_ok(&d.join("microsecs_big_endian.pcap"));
    assert!(be.format.starts_with("pcap (big-endian, µs"), "{}", be.format);
    assert_eq!(be.packets, 13);
    let ns = read_ok(&d.join("nanosecs_big_endian.pcap"));
    assert!(ns.format.starts_with("pcap (big-endian, ns"), "{}", ns.format);
    assert_eq!(ns.packets, 10);
    // the same two packets in µs and ns files
    let (us, ns) = (read_ok(&d.join("microsecs.pcap")), read_ok(&d.join("nanosecs.pcap")));
    assert_eq!((us.packets, ns.packets), (2, 2));
    assert!(has_sub_microsecond_time(&d.join("nanosecs.pcap")));
    // pcapng with interfaces of different link types, which libpcap gives up on
    let multi = read_ok(&d.join("many_interfaces-1.pcapng"));
    assert_eq!((multi.packets, multi.interfaces, multi.damaged()), (64, 11, 0));
    let ex = read_ok(&d.join("pcapng-example.pcapng"));
    assert_eq!((ex.packets, ex.interfaces, ex.damaged()), (159, 2, 0));
    let zst = read_ok(&d.join("file_heuristics/pcapng-example.pcapng.zst"));
    assert!(zst.format.ends_with("zstd-compressed"), "{}", zst.format);
    assert_eq!((zst.packets, zst.digest), (ex.packets, ex.digest));
    match read(&d.join("solaris.snoop")) {
        Outcome::NotACapture(msg) => assert!(msg.contains("Solaris snoop capture"), "{msg}"),
        other => panic!("snoop: {other:?}"),
    }
    match read(&d.join("file_heuristics/bogus-content.txt")) {
        Outcome::NotACapture(msg) => assert!(msg.contains("text"), "{msg}"),
        other => panic!("bogus-content.txt: {other:?}"),
    }
}

fn has_sub_microsecond_time(path: &Path) -> bool {
    let Ok(mut r) = CaptureReader::open(path) else { return false };
    let mut any = false;
    while let Ok(Some(ev)) = r.next_event() {
        if let ReadEvent::Packet(p) = ev {
            any |= p.ts_ns % 1000 != 0;
        }
    }
    any
}
