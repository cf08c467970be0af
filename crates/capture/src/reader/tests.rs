use std::io::Read;

use crate::testutil::*;
use crate::{CaptureError, CaptureReader, Compression, DamageKind, FileFormat, ReadEvent};

fn pcap_file(n: u8) -> Vec<u8> {
    let mut f = pcap_header(LE, 0xa1b2_c3d4, 65535, 1);
    for i in 0..n {
        f.extend(pcap_record(LE, 1_600_000_000 + i as u32, 0, &[i; 100], 100, false));
    }
    f
}

fn pcapng_file(n: u8) -> Vec<u8> {
    let mut f = shb(BE);
    f.extend(idb(BE, 1, 0, &[]));
    for i in 0..n {
        f.extend(epb(BE, 0, i as u64, &[i; 100]));
    }
    f
}

fn not_a_capture(bytes: &[u8]) -> String {
    match open_bytes(bytes) {
        Err(e @ CaptureError::NotACapture { .. }) => e.to_string(),
        Err(e) => panic!("unexpected error {e}"),
        Ok(r) => panic!("opened as {}", r.format_description()),
    }
}

#[test]
fn gzip_and_zstd_of_both_formats() {
    for plain in [pcap_file(50), pcapng_file(50)] {
        let expect = summary(&read_bytes(&plain));
        assert_eq!(expect.len(), 50);
        for (packed, c) in [(gzip(&plain), Compression::Gzip), (zstd(&plain), Compression::Zstd)] {
            let mut r = open_bytes(&packed).unwrap();
            assert_eq!(r.compression(), c);
            assert_eq!(summary(&collect(&mut r)), expect);
            let s = r.stats();
            assert_eq!(s.bytes, plain.len() as u64);
            assert_eq!(s.input_bytes, packed.len() as u64);
        }
    }
}

#[test]
fn concatenated_gzip_members_are_one_stream() {
    let f = pcap_file(4);
    let mut packed = gzip(&f[..100]);
    packed.extend(gzip(&f[100..]));
    assert_eq!(read_bytes(&packed).len(), 4);
}

#[test]
fn truncated_compressed_streams_keep_the_packets_before_the_cut() {
    // zstd emits whole blocks of up to 128 KiB, so the data must be large and incompressible
    // for a cut to leave complete blocks before it
    let mut plain = pcap_header(LE, 0xa1b2_c3d4, 65535, 1);
    let mut x = 1u32;
    for i in 0..2000 {
        let data: Vec<u8> = (0..200)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        plain.extend(pcap_record(LE, 1_600_000_000 + i, 0, &data, 200, false));
    }
    for packed in [gzip(&plain), zstd(&plain)] {
        let cut = &packed[..packed.len() * 2 / 3];
        let evs = read_bytes(cut);
        let (last, packets) = evs.split_last().unwrap();
        assert!(packets.len() > 10, "{}", packets.len());
        assert!(packets.iter().all(|e| e.damage().is_none()));
        assert_eq!(last.damage(), Some(DamageKind::TruncatedFile), "{last:?}");
    }
}

#[test]
fn corrupt_compressed_stream_mid_way() {
    let plain = pcapng_file(200);
    let mut packed = gzip(&plain);
    let n = packed.len();
    for b in &mut packed[n / 2..n / 2 + 64] {
        *b ^= 0x5a;
    }
    let evs = read_bytes(&packed);
    assert!(evs.iter().filter(|e| e.damage().is_none()).count() > 10);
    assert!(evs.iter().any(|e| e.damage().is_some()));
}

#[test]
fn not_captures_say_what_they_look_like() {
    assert!(not_a_capture(b"").contains("empty file"));
    assert!(not_a_capture(b"hello world\n").contains("text beginning \"hello world\""));
    let g = not_a_capture(&gzip(b"just some text\n"));
    assert!(g.contains("gzip data containing text"), "{g}");
    let z = not_a_capture(&zstd(b""));
    assert!(z.contains("zstd data containing an empty file"), "{z}");
    assert!(not_a_capture(b"snoop\0\0\0\0\0\0\x02\0\0\0\x04").contains("Solaris snoop"));
    let g = not_a_capture(&[0x1f, 0x8b, 0, 1, 2, 3, 4, 5, 6, 7]);
    assert!(g.contains("gzip data that cannot be decompressed"), "{g}");
    // pcapng magic but the byte-order magic is wrong
    let mut f = shb(LE);
    f[8] = 0;
    assert!(not_a_capture(&f).contains("invalid byte-order magic"));
    let msg = not_a_capture(&[6, 0, 0, 0, 0xa0, 0, 0, 0, 0, 0]);
    assert!(
        msg.starts_with("mem: not a packet capture: looks like unrecognised binary data (first bytes 06 00"),
        "{msg}"
    );
}

#[test]
fn open_errors_name_the_file() {
    let e = CaptureReader::open("/nonexistent/x.pcap".as_ref()).unwrap_err();
    assert!(matches!(e, CaptureError::Open { .. }));
    assert!(e.to_string().starts_with("/nonexistent/x.pcap: cannot open"));
}

#[test]
fn reads_a_file_from_disk() {
    let dir = std::env::temp_dir().join(format!("netanom-capture-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.pcapng.gz");
    std::fs::write(&path, gzip(&pcapng_file(3))).unwrap();
    let mut r = CaptureReader::open(&path).unwrap();
    assert_eq!((r.format(), r.compression()), (FileFormat::PcapNg, Compression::Gzip));
    assert_eq!(r.format_description(), "pcapng (big-endian), gzip-compressed");
    assert_eq!(collect(&mut r).len(), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn packets_of_a_mapped_file_are_places_in_its_mapping() {
    let dir = std::env::temp_dir().join(format!("netanom-capture-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Large enough to be mapped, with distinct records.
    let mut f = pcap_header(LE, 0xa1b2_c3d4, 65535, 1);
    for i in 0..12_000u32 {
        f.extend(pcap_record(LE, 1_600_000_000 + i, 0, &[(i % 251) as u8; 100], 100, false));
    }
    let (path, small) = (dir.join("big.pcap"), dir.join("small.pcap"));
    std::fs::write(&path, &f).unwrap();
    std::fs::write(&small, pcap_file(3)).unwrap();
    let mut r = CaptureReader::open(&path).unwrap();
    let map = r.mapped_input().expect("a large plain file is mapped");
    assert_eq!(&map[..], &f[..]);
    let mut n = 0u32;
    while let Some(ev) = r.next_event().unwrap() {
        let ReadEvent::Packet(p) = ev else { panic!("damage in a clean file") };
        let at = map.offset_of(p.data).expect("a packet of a mapped file lies in the map");
        assert_eq!((at, &map[at..at + 100]), (24 + 16 * (n as usize + 1) + 100 * n as usize, p.data));
        n += 1;
    }
    assert_eq!(n, 12_000);
    // Bytes from elsewhere are not in the map.
    assert_eq!(map.offset_of(&f[24..124]), None);
    assert!(map.same(&r.mapped_input().unwrap()));
    // Released pages are mapped again when read; ranges past the end or empty are ignored.
    map.release_pages(100..map.len() / 2);
    map.release_pages(map.len() - 10..map.len() + 4096);
    map.release_pages(500..400);
    assert_eq!(&map[..], &f[..]);
    assert!(CaptureReader::open_with(&path, false).unwrap().mapped_input().is_none());
    assert!(CaptureReader::open(&small).unwrap().mapped_input().is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A source that fails after some bytes, like a disk error.
struct FailAfter(Vec<u8>, usize);
impl Read for FailAfter {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.1 >= self.0.len() {
            return Err(std::io::Error::other("disk on fire"));
        }
        let k = out.len().min(self.0.len() - self.1).min(1000);
        out[..k].copy_from_slice(&self.0[self.1..self.1 + k]);
        self.1 += k;
        Ok(k)
    }
}

#[test]
fn io_errors_end_the_stream_with_an_error() {
    let mut r = CaptureReader::from_reader("src", FailAfter(pcap_file(50), 0)).unwrap();
    let mut packets = 0;
    let err = loop {
        match r.next_event() {
            Ok(Some(ReadEvent::Packet(_))) => packets += 1,
            Ok(other) => panic!("{other:?}"),
            Err(e) => break e,
        }
    };
    assert!(packets > 0);
    assert!(matches!(err, CaptureError::Io { .. }), "{err}");
    assert!(r.next_event().unwrap().is_none());
}

#[test]
fn large_packets_beyond_the_initial_buffer() {
    let big = vec![0xab; 3 << 20];
    let mut f = shb(LE);
    f.extend(idb(LE, 1, 0, &[]));
    f.extend(epb(LE, 0, 1, &[1; 10]));
    f.extend(epb(LE, 0, 2, &big));
    f.extend(epb(LE, 0, 3, &[3; 10]));
    let evs = read_bytes(&f);
    assert_eq!(evs.len(), 3);
    assert_eq!(evs[1].data().len(), big.len());
    let mut p = pcap_header(LE, 0xa1b2_c3d4, 0, 1);
    p.extend(pcap_record(LE, 1, 0, &[1; 10], 10, false));
    p.extend(pcap_record(LE, 1, 0, &vec![2; 200_000], 200_000, false));
    assert_eq!(read_bytes(&p).len(), 2);
}

#[test]
fn reader_is_send() {
    fn send<T: Send>() {}
    send::<CaptureReader>();
}
