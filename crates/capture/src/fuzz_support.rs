//! The check the fuzzer runs on every input, shared with the deterministic mutation test so that
//! both hold the reader to the same invariants. Not part of the supported API.

use std::io::Cursor;

use crate::{CaptureReader, Compression, ReadEvent, MAX_RECORD_LEN};

/// Reads `data` as a capture to the end, panicking if any invariant the rest of netanom relies on
/// is broken. Returns the number of packets (0 for input that is not a capture).
pub fn read_checked(data: &[u8]) -> u64 {
    let Ok(mut reader) = CaptureReader::from_reader("fuzz-input", Cursor::new(data.to_vec())) else {
        return 0;
    };
    let (mut packets, mut damaged, mut last_offset) = (0u64, 0u64, None);
    loop {
        match reader.next_event() {
            Ok(Some(ReadEvent::Packet(p))) => {
                packets += 1;
                assert!(p.orig_len as usize >= p.data.len(), "orig_len below captured length");
                assert!(p.data.len() <= MAX_RECORD_LEN);
                // records come in stream order, each after the last
                assert!(last_offset.map_or(true, |o| p.offset > o), "offset went backwards");
                last_offset = Some(p.offset);
            }
            Ok(Some(ReadEvent::Damaged(d))) => {
                damaged += 1;
                assert!(!d.reason.is_empty());
            }
            Ok(None) => break,
            Err(e) => panic!("in-memory input gave an I/O error: {e}"),
        }
    }
    assert!(matches!(reader.next_event(), Ok(None)), "the end is not sticky");
    let stats = reader.stats();
    assert_eq!((stats.packets, stats.damaged.total()), (packets, damaged));
    if reader.compression() == Compression::None {
        // uncompressed input is always read to its end, whatever the damage
        assert_eq!(stats.input_bytes, data.len() as u64);
        assert_eq!(stats.bytes, data.len() as u64);
    } else {
        assert!(stats.input_bytes <= data.len() as u64);
    }
    // every event consumes input, so there cannot be more events than bytes
    assert!(packets + damaged <= stats.bytes + 1, "{packets} packets + {damaged} damage from {} bytes", stats.bytes);
    packets
}
