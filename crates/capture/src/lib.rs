//! Reading packet captures.
//!
//! The format is detected from the first bytes, never from the file name: classic pcap (both byte
//! orders, µs or ns timestamps, Kuznetsov's "modified" variant), pcapng (any number of sections
//! and interfaces, both byte orders), each possibly gzip- or zstd-compressed; `-` reads stdin.
//! A reader hands out one [`RawPacket`] at a time, borrowing its bytes from an internal buffer (a
//! lending iterator), so the per-packet path allocates nothing.
//!
//! # Recovery strategy
//!
//! Real captures are often damaged: cut off when a capture was stopped or copied, overwritten in
//! places, or written by buggy tools. The aim is to lose as few good packets as possible without
//! ever emitting garbage as packets, crashing, hanging or allocating without bound:
//!
//! * Every length field is checked before it is trusted. Nothing larger than
//!   [`MAX_RECORD_LEN`] (256 MiB) is ever buffered, so memory is bounded whatever a file claims.
//! * The record framing is written by hand rather than with `pcap-parser`: its streaming API
//!   reports a bad record as an error after which the stream position is lost, and its pcapng
//!   parser collects options into a `Vec` for every packet. Hand-written framing lets us
//!   resynchronise and keeps the per-packet path allocation-free.
//! * A damaged part is reported once as [`ReadEvent::Damaged`] and reading goes on:
//!   - a file that ends inside a record gives one [`DamageKind::TruncatedFile`], then the end;
//!   - a pcapng block with a sane frame but a bad body (packet longer than its block, unknown
//!     interface) is skipped by its own length;
//!   - a length that cannot be right (pcap: larger than the snap length allows; pcapng: under 12,
//!     not a multiple of 4, over the limit, or disagreeing with the block's trailing copy) makes
//!     the reader scan forward byte by byte for the next *plausible* record or block, validated
//!     by what follows it (pcap: the next record header must also look right and its timestamp
//!     be within days of the last good one; pcapng: a known block type whose trailing length
//!     matches). The scan is bounded ([`MAX_RESYNC_SCAN`]); when it finds nothing, the rest of
//!     the file is reported as damaged and reading ends;
//!   - a record that claims to run past the end of the file is, likewise, first checked for a
//!     plausible record inside the remaining bytes (then it was a bad length in the middle), and
//!     only otherwise reported as the file being cut short.
//! * A compressed stream that breaks off (truncated or corrupt gzip/zstd) is treated like a file
//!   cut at that point: the packets decoded so far are kept and one `TruncatedFile` is reported.
//! * Input that is not a capture at all fails at [`CaptureReader::open`] with
//!   [`CaptureError::NotACapture`], which says what the data looks like instead.
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
//! eprintln!("{:?}", r.stats());
//! ```

mod buffer;
mod compress;
mod detect;
mod endian;
mod error;
#[doc(hidden)]
pub mod fuzz_support;
mod pcap;
mod pcapng;
mod reader;
mod stats;
#[cfg(test)]
mod testutil;
mod ts;

pub use detect::Compression;
pub use error::CaptureError;
pub use reader::{CaptureReader, FileFormat, MappedInput, RELEASE_STEP};
pub use stats::{DamageCounts, ReaderStats};

/// Largest record or block the reader will buffer; anything claiming more is damage.
pub const MAX_RECORD_LEN: usize = 256 << 20;

/// How far the reader scans past damage for the next plausible record before giving up.
pub const MAX_RESYNC_SCAN: u64 = 64 << 20;

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
    /// Every kind, in the order counters are reported.
    pub const ALL: [DamageKind; 4] =
        [DamageKind::TruncatedFile, DamageKind::BadLength, DamageKind::BadBlock, DamageKind::UnknownInterface];

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

impl std::fmt::Display for DamageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "offset {}: {}: {}", self.offset, self.kind, self.reason)
    }
}
