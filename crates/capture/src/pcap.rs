//! Classic pcap framing: a 24-byte file header, then records of a 16-byte header (24 bytes in
//! the "modified" variant) and the captured bytes.
//!
//! A record header carries no magic or checksum, so damage shows only as a length that cannot be
//! right. The length check on the normal path is deliberately as lenient as libpcap's (caplen up
//! to 256 KiB whatever the snaplen says), so that every file libpcap reads gives the same
//! packets here. Only once the stream is known to be out of step does the stricter test of
//! [`PcapReader::plausible`] pick the place to resume.

use std::io;

use crate::buffer::InputBuffer;
use crate::endian::Endian;
use crate::reader::{PacketMeta, Step};
use crate::ts::pcap_ns;
use crate::{DamageKind, MAX_RECORD_LEN, MAX_RESYNC_SCAN};

pub(crate) const FILE_HEADER_LEN: usize = 24;

/// libpcap's MAXIMUM_SNAPLEN: it accepts records up to this size whatever the file's snaplen.
const LIBPCAP_MAX_SNAPLEN: u32 = 262_144;

/// When resynchronising, a candidate record must be this close in time to the last good one.
const RESYNC_MAX_TS_GAP_S: u32 = 7 * 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Micros,
    Nanos,
    /// Alexey Kuznetsov's patched libpcap: µs, and 8 more bytes per record header (ifindex,
    /// protocol, packet type, padding).
    Modified,
}

/// Recognises the magic number in a file's first 4 bytes; the byte order is whichever makes it
/// read right.
pub(crate) fn magic(head: &[u8]) -> Option<(Endian, Flavor)> {
    let flavor = |m: u32| match m {
        0xa1b2_c3d4 => Some(Flavor::Micros),
        0xa1b2_3c4d => Some(Flavor::Nanos),
        0xa1b2_cd34 => Some(Flavor::Modified),
        _ => None,
    };
    let le = Endian::Little.u32(head, 0);
    if head.len() < 4 {
        return None;
    }
    if let Some(f) = flavor(le) {
        return Some((Endian::Little, f));
    }
    flavor(le.swap_bytes()).map(|f| (Endian::Big, f))
}

/// Before format version 2.3, libpcap wrote the original length where the captured length
/// belongs and vice versa; 2.3 files may be either way. Undone exactly as libpcap does, so that
/// such files give the same packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lengths {
    Normal,
    Swapped,
    MaybeSwapped,
}

struct RecordHeader {
    ts_sec: u32,
    frac: u32,
    caplen: u32,
    orig_len: u32,
}

pub(crate) struct PcapReader {
    endian: Endian,
    flavor: Flavor,
    linktype: u32,
    snaplen: u32,
    /// Largest caplen accepted without suspicion.
    limit: u32,
    /// The snaplen to hold candidates to while resynchronising.
    strict_snaplen: u32,
    rec_len: usize,
    lengths: Lengths,
    last_ts_sec: Option<u32>,
    done: bool,
}

impl PcapReader {
    /// From the 24-byte file header; `None` if the magic is not a pcap one.
    pub(crate) fn from_header(h: &[u8]) -> Option<PcapReader> {
        if h.len() < FILE_HEADER_LEN {
            return None;
        }
        let (endian, flavor) = magic(h)?;
        let snaplen = endian.u32(h, 16);
        // the upper bits hold FCS-length flags, not the link type
        let linktype = endian.u32(h, 20) & 0xffff;
        let version = (endian.u16(h, 4), endian.u16(h, 6));
        let lengths = match version {
            (major, _) if major < 2 => Lengths::Swapped,
            (2, minor) if minor < 3 => Lengths::Swapped,
            (2, 3) => Lengths::MaybeSwapped,
            _ => Lengths::Normal,
        };
        let cap = MAX_RECORD_LEN as u32;
        let strict_snaplen = if snaplen == 0 || snaplen > cap { LIBPCAP_MAX_SNAPLEN } else { snaplen };
        Some(PcapReader {
            endian,
            flavor,
            linktype,
            snaplen,
            limit: snaplen.max(LIBPCAP_MAX_SNAPLEN).min(cap),
            strict_snaplen,
            rec_len: if flavor == Flavor::Modified { 24 } else { 16 },
            lengths,
            last_ts_sec: None,
            done: false,
        })
    }

    pub(crate) fn describe(&self) -> String {
        let flavor = match self.flavor {
            Flavor::Micros => "µs",
            Flavor::Nanos => "ns",
            Flavor::Modified => "modified, µs",
        };
        format!("pcap ({}, {flavor}, linktype {}, snaplen {})", self.endian.as_str(), self.linktype, self.snaplen)
    }

    fn header(&self, b: &[u8]) -> RecordHeader {
        let e = self.endian;
        let (mut caplen, mut orig_len) = (e.u32(b, 8), e.u32(b, 12));
        let swap = match self.lengths {
            Lengths::Normal => false,
            Lengths::Swapped => true,
            Lengths::MaybeSwapped => caplen > orig_len,
        };
        if swap {
            std::mem::swap(&mut caplen, &mut orig_len);
        }
        RecordHeader { ts_sec: e.u32(b, 0), frac: e.u32(b, 4), caplen, orig_len }
    }

    /// The strict test for a resynchronisation point. Zero-filled stretches are common in
    /// damaged files, so empty records and, with no earlier time to compare with, a zero
    /// timestamp are refused.
    fn plausible(&self, h: &RecordHeader, prev_ts_sec: Option<u32>) -> bool {
        let frac_limit = if self.flavor == Flavor::Nanos { 1_000_000_000 } else { 1_000_000 };
        let ts_ok = match prev_ts_sec {
            Some(p) => p.abs_diff(h.ts_sec) <= RESYNC_MAX_TS_GAP_S,
            None => h.ts_sec != 0,
        };
        ts_ok
            && h.caplen > 0
            && h.caplen <= self.strict_snaplen
            && h.caplen <= h.orig_len
            && h.orig_len <= LIBPCAP_MAX_SNAPLEN.max(self.strict_snaplen)
            && h.frac < frac_limit
    }

    pub(crate) fn next(&mut self, buf: &mut InputBuffer) -> io::Result<Step> {
        if self.done {
            return Ok(Step::End);
        }
        let offset = buf.offset();
        let hl = self.rec_len;
        let have = buf.fill(hl)?;
        if have == 0 {
            self.done = true;
            return Ok(Step::End);
        }
        if have < hl {
            buf.consume(have);
            self.done = true;
            let why = format!("file ends {have} bytes into a {hl}-byte record header");
            return Ok(Step::damaged(offset, DamageKind::TruncatedFile, why));
        }
        let h = self.header(buf.avail());
        if h.caplen > self.limit {
            let why = format!("record claims {} captured bytes, snaplen is {}", h.caplen, self.snaplen);
            return self.resync(buf, offset, why, DamageKind::BadLength);
        }
        let total = hl + h.caplen as usize;
        let have = buf.fill(total)?;
        if have < total {
            let why = format!("record claims {} captured bytes, the file ends after {}", h.caplen, have - hl);
            return self.resync(buf, offset, why, DamageKind::TruncatedFile);
        }
        self.last_ts_sec = Some(h.ts_sec);
        let start = buf.pos() + hl;
        buf.consume(total);
        let meta = PacketMeta {
            ts_ns: pcap_ns(h.ts_sec, h.frac, self.flavor == Flavor::Nanos),
            linktype: self.linktype,
            // a few writers store caplen > len; the data is real, so the wire length was at least that
            orig_len: h.orig_len.max(h.caplen),
            interface: 0,
            offset,
        };
        Ok(Step::Packet(meta, start, h.caplen as usize))
    }

    /// Scans forward from just past the bad record at `offset` for a plausible record. If none
    /// turns up before the end, the damage is reported as `at_end` (a record running past the
    /// end of the file means the file was cut, unless a good record follows inside it).
    fn resync(&mut self, buf: &mut InputBuffer, offset: u64, why: String, at_end: DamageKind) -> io::Result<Step> {
        buf.consume(1);
        let mut skipped: u64 = 1;
        loop {
            if skipped > MAX_RESYNC_SCAN {
                buf.consume_rest()?;
                self.done = true;
                let why = format!("{why}; no plausible record in the next {skipped} bytes, rest of file skipped");
                return Ok(Step::damaged(offset, DamageKind::BadLength, why));
            }
            let have = buf.fill(self.rec_len)?;
            if have < self.rec_len {
                buf.consume(have);
                self.done = true;
                let why = if at_end == DamageKind::TruncatedFile {
                    why
                } else {
                    format!(
                        "{why}; no plausible record follows, rest of file ({} bytes) skipped",
                        skipped + have as u64
                    )
                };
                return Ok(Step::damaged(offset, at_end, why));
            }
            if self.candidate(buf)? {
                let why = format!("{why}; skipped {skipped} bytes to the next plausible record");
                return Ok(Step::damaged(offset, DamageKind::BadLength, why));
            }
            buf.consume(1);
            skipped += 1;
        }
    }

    /// Whether a record starts at the buffer's position: its header is plausible, and so is the
    /// one after it (or the stream ends there).
    fn candidate(&self, buf: &mut InputBuffer) -> io::Result<bool> {
        let h = self.header(buf.avail());
        if !self.plausible(&h, self.last_ts_sec) {
            return Ok(false);
        }
        let total = self.rec_len + h.caplen as usize;
        let have = buf.fill(total + self.rec_len)?;
        if have < total {
            return Ok(false);
        }
        if have < total + self.rec_len {
            return Ok(true);
        }
        let next = self.header(&buf.avail()[total..]);
        Ok(self.plausible(&next, Some(h.ts_sec)))
    }
}

#[cfg(test)]
mod tests;
