use crate::testutil::*;
use crate::{linktype, DamageKind, FileFormat};

const US: u32 = 0xa1b2_c3d4;
const NS: u32 = 0xa1b2_3c4d;
const MODIFIED: u32 = 0xa1b2_cd34;
const T0: u32 = 1_700_000_000;

fn capture(e: crate::endian::Endian, magic: u32, n: u32) -> Vec<u8> {
    let modified = magic == MODIFIED;
    let mut f = pcap_header(e, magic, 65535, linktype::ETHERNET);
    for i in 0..n {
        f.extend(pcap_record(e, T0 + i, 250_000, &[i as u8; 60], 60 + i, modified));
    }
    f
}

#[test]
fn both_byte_orders_micro_and_nano_and_modified() {
    for e in [LE, BE] {
        for magic in [US, NS, MODIFIED] {
            let mut r = open_bytes(&capture(e, magic, 3)).unwrap();
            assert_eq!(r.format(), FileFormat::Pcap);
            let evs = collect(&mut r);
            assert_eq!(evs.len(), 3, "{e:?} {magic:#x}");
            let frac_ns = if magic == NS { 250_000 } else { 250_000_000 };
            for (i, ev) in evs.iter().enumerate() {
                let Ev::Packet { ts_ns, linktype, orig_len, data, interface, .. } = ev else { panic!("{ev:?}") };
                assert_eq!(*ts_ns, (T0 as u64 + i as u64) * 1_000_000_000 + frac_ns);
                assert_eq!(*linktype, crate::linktype::ETHERNET);
                assert_eq!(*orig_len, 60 + i as u32);
                assert_eq!(data, &vec![i as u8; 60]);
                assert_eq!(*interface, 0);
            }
            let s = r.stats();
            assert_eq!(s.packets, 3);
            assert_eq!(s.bytes, capture(e, magic, 3).len() as u64);
            assert_eq!(s.input_bytes, s.bytes);
            assert_eq!(s.damaged.total(), 0);
        }
    }
}

#[test]
fn header_only_is_empty_capture() {
    assert!(read_bytes(&pcap_header(LE, US, 65535, 1)).is_empty());
}

#[test]
fn header_cut_short() {
    let h = pcap_header(LE, US, 65535, 1);
    let evs = read_bytes(&h[..10]);
    assert_eq!(summary(&evs), vec![Err(DamageKind::TruncatedFile)]);
}

#[test]
fn linktype_fcs_bits_are_masked() {
    let mut f = pcap_header(LE, US, 65535, 0x1000_0000 | 101);
    f.extend(pcap_record(LE, T0, 0, &[0x45; 20], 20, false));
    let Ev::Packet { linktype, .. } = &read_bytes(&f)[0] else { panic!() };
    assert_eq!(*linktype, 101);
}

#[test]
fn truncated_mid_packet() {
    let f = capture(LE, US, 3);
    for cut in [f.len() - 1, f.len() - 30, f.len() - 60 - 16 + 5, f.len() - 60] {
        let evs = read_bytes(&f[..cut]);
        assert_eq!(
            summary(&evs),
            vec![Ok(vec![0; 60]), Ok(vec![1; 60]), Err(DamageKind::TruncatedFile)],
            "cut at {cut}"
        );
    }
}

#[test]
fn caplen_above_orig_len_is_kept() {
    let mut f = pcap_header(BE, US, 65535, 1);
    f.extend(pcap_record(BE, T0, 0, &[7; 100], 40, false));
    let evs = read_bytes(&f);
    let Ev::Packet { orig_len, data, .. } = &evs[0] else { panic!() };
    assert_eq!((*orig_len, data.len()), (100, 100));
}

#[test]
fn caplen_above_small_snaplen_is_tolerated_like_libpcap() {
    let mut f = pcap_header(LE, US, 68, 1);
    f.extend(pcap_record(LE, T0, 0, &[7; 1500], 1500, false));
    assert_eq!(summary(&read_bytes(&f)), vec![Ok(vec![7; 1500])]);
}

/// Overwrites the caplen of record `i` (all records 60 bytes) with an impossible value.
fn corrupt_caplen(f: &mut [u8], i: usize, value: u32) {
    let at = 24 + i * (16 + 60) + 8;
    f[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

#[test]
fn bad_length_resyncs_to_the_next_record() {
    let mut f = capture(LE, US, 5);
    corrupt_caplen(&mut f, 2, 0xffff_fff0);
    let evs = read_bytes(&f);
    let s = summary(&evs);
    assert_eq!(s.len(), 5, "{evs:?}");
    assert_eq!(s[..2], [Ok(vec![0; 60]), Ok(vec![1; 60])]);
    assert_eq!(s[2], Err(DamageKind::BadLength));
    assert_eq!(s[3..], [Ok(vec![3; 60]), Ok(vec![4; 60])]);
    let Ev::Damaged(d) = &evs[2] else { panic!() };
    assert_eq!(d.offset, 24 + 2 * 76);
    assert!(d.reason.contains("skipped 76 bytes"), "{}", d.reason);
}

#[test]
fn length_past_end_inside_file_is_bad_length_not_truncation() {
    // a plausible-looking caplen that runs past the end, followed by good records
    let mut f = capture(LE, US, 5);
    corrupt_caplen(&mut f, 1, 60_000);
    let s = summary(&read_bytes(&f));
    assert_eq!(s[0], Ok(vec![0; 60]));
    assert_eq!(s[1], Err(DamageKind::BadLength));
    assert_eq!(s[2..], [Ok(vec![2; 60]), Ok(vec![3; 60]), Ok(vec![4; 60])]);
}

#[test]
fn garbage_in_the_middle() {
    let mut f = capture(LE, NS, 3);
    f.extend((0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80));
    f.extend(pcap_record(LE, T0 + 5, 1, &[9; 60], 60, false));
    f.extend(pcap_record(LE, T0 + 6, 2, &[10; 60], 60, false));
    let s = summary(&read_bytes(&f));
    assert_eq!(s[..3], [Ok(vec![0; 60]), Ok(vec![1; 60]), Ok(vec![2; 60])]);
    assert_eq!(s[3], Err(DamageKind::BadLength));
    assert_eq!(s[4..], [Ok(vec![9; 60]), Ok(vec![10; 60])]);
}

#[test]
fn garbage_to_the_end_is_one_damage() {
    let mut f = capture(LE, US, 2);
    f.extend([0xff; 5000]);
    let s = summary(&read_bytes(&f));
    assert_eq!(s, vec![Ok(vec![0; 60]), Ok(vec![1; 60]), Err(DamageKind::BadLength)]);
}

#[test]
fn zero_fill_is_not_taken_for_records() {
    // a zeroed stretch (common after crashes) between records: no empty packets out of it
    let mut f = capture(LE, US, 2);
    let at = 24 + 76;
    f[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    f.splice(at + 16..at + 16, [0u8; 4000]);
    f.extend(pcap_record(LE, T0 + 2, 0, &[2; 60], 60, false));
    let s = summary(&read_bytes(&f));
    assert_eq!(s, vec![Ok(vec![0; 60]), Err(DamageKind::BadLength), Ok(vec![2; 60])]);
}

#[test]
fn huge_snaplen_header_does_not_allocate_claims() {
    let mut f = pcap_header(LE, US, u32::MAX, 1);
    f.extend(pcap_record(LE, T0, 0, &[1; 10], 10, false));
    // claims 200 MB that are not there
    f.extend(&pcap_record(LE, T0, 0, &[], 10, false)[..8]);
    f.extend(200_000_000u32.to_le_bytes());
    f.extend(200_000_000u32.to_le_bytes());
    let s = summary(&read_bytes(&f));
    assert_eq!(s, vec![Ok(vec![1; 10]), Err(DamageKind::TruncatedFile)]);
}

#[test]
fn old_versions_have_lengths_swapped_like_libpcap() {
    for (minor, caplen_field, len_field, want) in
        [(2u16, 1500u32, 60u32, 60usize), (3, 1500, 60, 60), (3, 60, 1500, 60), (4, 60, 1500, 60)]
    {
        let mut f = pcap_header(LE, US, 65535, 1);
        f[6..8].copy_from_slice(&minor.to_le_bytes());
        let mut rec = pcap_record(LE, T0, 0, &[1; 60], 0, false);
        rec[8..12].copy_from_slice(&caplen_field.to_le_bytes());
        rec[12..16].copy_from_slice(&len_field.to_le_bytes());
        f.extend(rec);
        let evs = read_bytes(&f);
        let Ev::Packet { data, orig_len, .. } = &evs[0] else { panic!("2.{minor}: {evs:?}") };
        assert_eq!((data.len(), *orig_len), (want, 1500), "2.{minor}");
    }
}
