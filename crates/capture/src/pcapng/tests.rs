use crate::testutil::*;
use crate::{linktype, DamageKind, FileFormat};

const T_US: u64 = 1_700_000_000_000_000;

fn basic(e: crate::endian::Endian) -> Vec<u8> {
    let mut f = shb(e);
    f.extend(idb(e, 1, 65535, &[]));
    f.extend(epb(e, 0, T_US, &[1; 61]));
    f.extend(spb(e, &[2; 40], 40));
    f.extend(pb(e, 0, T_US + 1, &[3; 3]));
    f
}

#[test]
fn basic_blocks_both_byte_orders() {
    for e in [LE, BE] {
        let mut r = open_bytes(&basic(e)).unwrap();
        assert_eq!(r.format(), FileFormat::PcapNg);
        let evs = collect(&mut r);
        assert_eq!(summary(&evs), vec![Ok(vec![1; 61]), Ok(vec![2; 40]), Ok(vec![3; 3])]);
        let Ev::Packet { ts_ns, linktype, orig_len, .. } = &evs[0] else { panic!() };
        assert_eq!((*ts_ns, *linktype, *orig_len), (T_US * 1000, 1, 61));
        // SPB: no timestamp of its own, so the previous one
        let Ev::Packet { ts_ns, .. } = &evs[1] else { panic!() };
        assert_eq!(*ts_ns, T_US * 1000);
        let Ev::Packet { ts_ns, .. } = &evs[2] else { panic!() };
        assert_eq!(*ts_ns, (T_US + 1) * 1000);
        assert_eq!(r.stats().packets, 3);
        assert_eq!(r.stats().bytes, basic(e).len() as u64);
    }
}

#[test]
fn multi_interface_with_own_resolution_offset_linktype() {
    let e = LE;
    let mut f = shb(e);
    f.extend(idb(e, linktype::ETHERNET as u16, 65535, &[]));
    f.extend(idb(e, linktype::RAW as u16, 128, &[(9, &[9])])); // ns
    f.extend(idb(e, linktype::LINUX_SLL as u16, 0, &[(9, &[0x80 | 20]), (14, &100i64.to_le_bytes())]));
    f.extend(epb(e, 2, 3 << 20, &[3]));
    f.extend(epb(e, 1, 1_234_567_890_123, &[2]));
    f.extend(epb(e, 0, 5_000_001, &[1]));
    let evs = read_bytes(&f);
    let got: Vec<_> = evs
        .iter()
        .map(|ev| match ev {
            Ev::Packet { ts_ns, linktype, interface, .. } => (*ts_ns, *linktype, *interface),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (103_000_000_000, linktype::LINUX_SLL, 2),
            (1_234_567_890_123, linktype::RAW, 1),
            (5_000_001_000, linktype::ETHERNET, 0),
        ]
    );
}

#[test]
fn several_sections_reset_interfaces_and_may_switch_byte_order() {
    let mut f = shb(LE);
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(epb(LE, 1, 1, &[1]));
    f.extend(shb(BE));
    f.extend(idb(BE, 101, 0, &[(9, &[3])]));
    f.extend(epb(BE, 0, 2, &[2]));
    f.extend(epb(BE, 1, 3, &[3])); // interface 1 belonged to the first section
    f.extend(epb(BE, 0, 4, &[4]));
    let evs = read_bytes(&f);
    assert_eq!(summary(&evs), vec![Ok(vec![1]), Ok(vec![2]), Err(DamageKind::UnknownInterface), Ok(vec![4])]);
    let Ev::Packet { ts_ns, linktype, .. } = &evs[1] else { panic!() };
    assert_eq!((*ts_ns, *linktype), (2_000_000, 101));
}

#[test]
fn spb_respects_snaplen_and_needs_an_interface() {
    let mut f = shb(LE);
    f.extend(spb(LE, &[5; 8], 8));
    f.extend(idb(LE, 1, 4, &[]));
    f.extend(spb(LE, &[6; 8], 1500));
    let evs = read_bytes(&f);
    assert_eq!(summary(&evs), vec![Err(DamageKind::UnknownInterface), Ok(vec![6; 4])]);
    let Ev::Packet { orig_len, .. } = &evs[1] else { panic!() };
    assert_eq!(*orig_len, 1500);
}

#[test]
fn unknown_blocks_are_skipped() {
    let mut f = shb(LE);
    f.extend(block(LE, 4, &[0; 8])); // NRB
    f.extend(block(LE, 0x4000_0bad, &[1; 12])); // custom
    f.extend(block(LE, 0x1234, &[])); // unknown but well framed
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(block(LE, 5, &[0; 20])); // ISB
    f.extend(epb(LE, 0, 0, &[1]));
    assert_eq!(summary(&read_bytes(&f)), vec![Ok(vec![1])]);
}

#[test]
fn empty_sections() {
    assert!(read_bytes(&shb(BE)).is_empty());
    let mut f = shb(LE);
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(shb(LE));
    assert!(read_bytes(&f).is_empty());
}

#[test]
fn truncated_last_block() {
    let f = basic(LE);
    let full = read_bytes(&f).len();
    for cut in [f.len() - 1, f.len() - 4, f.len() - 10, f.len() - 13] {
        let evs = read_bytes(&f[..cut]);
        assert_eq!(evs.len(), full, "cut {cut}: {evs:?}");
        assert_eq!(evs.last().and_then(Ev::damage), Some(DamageKind::TruncatedFile), "cut {cut}");
    }
}

#[test]
fn garbage_block_between_good_packets() {
    let mut f = shb(LE);
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(epb(LE, 0, 1, &[1; 30]));
    f.extend((0..777u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8));
    f.extend(epb(LE, 0, 2, &[2; 30]));
    f.extend(epb(LE, 0, 3, &[3; 30]));
    let s = summary(&read_bytes(&f));
    assert_eq!(s.len(), 4, "{s:?}");
    assert_eq!(s[0], Ok(vec![1; 30]));
    assert!(matches!(s[1], Err(DamageKind::BadLength)), "{s:?}");
    assert_eq!(s[2..], [Ok(vec![2; 30]), Ok(vec![3; 30])]);
}

#[test]
fn bad_block_lengths() {
    let good = epb(LE, 0, 1, &[9; 8]);
    for (what, patch) in [("too short", 8u32), ("unaligned", 38), ("huge", 0xffff_fff0), ("past end", 1 << 20)] {
        let mut bad = epb(LE, 0, 1, &[7; 8]);
        bad[4..8].copy_from_slice(&patch.to_le_bytes());
        let mut f = shb(LE);
        f.extend(idb(LE, 1, 0, &[]));
        f.extend(bad);
        f.extend(&good);
        let s = summary(&read_bytes(&f));
        assert_eq!(s, vec![Err(DamageKind::BadLength), Ok(vec![9; 8])], "{what}");
    }
}

#[test]
fn trailer_mismatch_and_oversized_caplen() {
    let mut f = shb(LE);
    f.extend(idb(LE, 1, 0, &[]));
    let mut bad = epb(LE, 0, 1, &[7; 8]);
    let n = bad.len();
    bad[n - 4..].copy_from_slice(&12u32.to_le_bytes());
    f.extend(bad);
    let mut bad = epb(LE, 0, 1, &[7; 8]);
    bad[20..24].copy_from_slice(&9u32.to_le_bytes()); // caplen 9 in a block with room for 8
    f.extend(bad);
    f.extend(epb(LE, 0, 1, &[9; 8]));
    let s = summary(&read_bytes(&f));
    assert_eq!(s, vec![Err(DamageKind::BadLength), Err(DamageKind::BadLength), Ok(vec![9; 8])]);
}

#[test]
fn short_bodies_are_bad_blocks() {
    let mut f = shb(LE);
    f.extend(block(LE, 1, &[0; 4]));
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(block(LE, 6, &[0; 16]));
    f.extend(block(LE, 3, &[]));
    f.extend(epb(LE, 0, 1, &[1]));
    let s = summary(&read_bytes(&f));
    assert_eq!(s, vec![Err(DamageKind::BadBlock), Err(DamageKind::BadBlock), Err(DamageKind::BadBlock), Ok(vec![1])]);
}

#[test]
fn malformed_options_keep_the_interface() {
    let mut body = vec![1, 0, 0, 0, 0, 0, 1, 0];
    body.extend([9, 0, 200, 0, 6]); // if_tsresol claiming 200 bytes
    let mut f = shb(LE);
    f.extend(block(LE, 1, &body));
    f.extend(epb(LE, 0, 7, &[1]));
    let evs = read_bytes(&f);
    let Ev::Packet { ts_ns, .. } = &evs[0] else { panic!("{evs:?}") };
    assert_eq!(*ts_ns, 7000);
}
