//! Reading packet captures.
//!
//! The format is detected from the first bytes, never from the file name. A reader hands out one
//! [`RawPacket`] at a time, borrowing its bytes from an internal buffer (a lending iterator), so the
//! per-packet path allocates nothing.
//!
//! Damage inside a capture (a truncated record, an impossible length, a garbage block) is reported
//! as [`ReadEvent::Damaged`] and reading goes on wherever the format allows re-synchronisation; only
//! conditions that make the rest of the file unreadable end the stream.
//!
//! ```no_run
//! use netanom_capture::{CaptureReader, ReadEvent};
//! let mut r = CaptureReader::open("capture.pcapng".as_ref()).unwrap();
//! while let Some(ev) = r.next_event().unwrap() {
//!     match ev {
//!         ReadEvent::Packet(p) => println!("{} bytes at {} ns", p.data.len(), p.ts_ns),
//!         ReadEvent::Damaged(d) => eprintln!("damaged at offset {}: {}", d.offset, d.reason),
//!     }
//! }
//! ```

mod error;
mod reader;

pub use error::CaptureError;
pub use reader::{CaptureReader, FileFormat};

/// Link-layer header types (LINKTYPE_* values of the tcpdump.org registry) the dissector knows.
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const PPP: u32 = 9;
    pub const RAW: u32 = 101;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// One captured packet, borrowed from the reader's buffer until the next call.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Capture timestamp in nanoseconds since the Unix epoch (saturating; negative times clamp to 0).
    pub ts_ns: u64,
    /// Link-layer type of the interface the packet was captured on (LINKTYPE_* value).
    pub linktype: u32,
    /// Length of the packet on the wire (may exceed `data.len()` when the capture was snapped).
    pub orig_len: u32,
    /// Captured bytes.
    pub data: &'a [u8],
    /// Index of the interface within the pcapng section (0 for pcap).
    pub interface: u32,
    /// Byte offset of the record in the (decompressed) input, for error messages.
    pub offset: u64,
}

/// What went wrong with one part of a capture that the reader skipped over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset in the (decompressed) input where the damaged part starts.
    pub offset: u64,
    pub kind: DamageKind,
    /// Human-readable detail, e.g. "record claims 4294967295 bytes, snaplen is 65535".
    pub reason: String,
}

/// Why part of a capture was skipped; counted by kind in the end report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DamageKind {
    /// The file ends in the middle of a record or block.
    TruncatedFile,
    /// A record or block length is impossible (larger than the snap length or the file, or too small).
    BadLength,
    /// A block that could not be parsed (bad type, bad magic in a section header, garbage).
    BadBlock,
    /// A packet refers to an interface that was never described.
    UnknownInterface,
}

impl DamageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DamageKind::TruncatedFile => "truncated file",
            DamageKind::BadLength => "impossible record length",
            DamageKind::BadBlock => "unparseable block",
            DamageKind::UnknownInterface => "packet for an undeclared interface",
        }
    }
}

/// One step of reading a capture.
#[derive(Debug)]
pub enum ReadEvent<'a> {
    Packet(RawPacket<'a>),
    Damaged(Damage),
}
