//! pcapng framing: blocks of `type, length, body, length`, grouped into sections that each start
//! with a Section Header Block (which fixes the byte order) and declare their own interfaces.
//!
//! Unlike classic pcap, every block repeats its length at the end, which makes a block whose two
//! lengths agree a strong resynchronisation point.

use std::io;

use crate::buffer::InputBuffer;
use crate::endian::Endian;
use crate::reader::{PacketMeta, Step};
use crate::ts::TsScale;
use crate::{DamageKind, MAX_RECORD_LEN, MAX_RESYNC_SCAN};

pub(crate) const SHB: u32 = 0x0a0d_0d0a;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
/// Block types defined by the pcapng drafts; resynchronisation only trusts these.
const KNOWN_TYPES: &[u32] = &[SHB, IDB, PB, SPB, 4, 5, EPB, 7, 8, 9, 10, 0x0bad, 0x4000_0bad];
/// Bytes before the packet data in an EPB / PB body.
const PACKET_FIXED: usize = 20;
/// Far more than any real capture declares; bounds memory for files made of nothing but IDBs.
const MAX_INTERFACES: usize = 1 << 16;

/// The byte order of a section from its SHB (`head` starts at the block); `None` if the
/// byte-order magic is wrong.
pub(crate) fn section_endian(head: &[u8]) -> Option<Endian> {
    if head.len() < 12 || Endian::Little.u32(head, 0) != SHB {
        return None;
    }
    match Endian::Little.u32(head, 8) {
        BYTE_ORDER_MAGIC => Some(Endian::Little),
        m if m.swap_bytes() == BYTE_ORDER_MAGIC => Some(Endian::Big),
        _ => None,
    }
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    snaplen: u32,
    scale: TsScale,
    offset_s: i64,
}

pub(crate) struct PcapNgReader {
    endian: Endian,
    first_endian: Endian,
    interfaces: Vec<Interface>,
    sections: u32,
    /// SPBs carry no timestamp; they get the last one seen, so that flow timeouts do not see a
    /// jump back to 1970.
    last_ts_ns: u64,
    done: bool,
}

impl PcapNgReader {
    pub(crate) fn new(endian: Endian) -> PcapNgReader {
        PcapNgReader { endian, first_endian: endian, interfaces: Vec::new(), sections: 0, last_ts_ns: 0, done: false }
    }

    pub(crate) fn describe(&self) -> String {
        format!("pcapng ({})", self.first_endian.as_str())
    }

    pub(crate) fn next(&mut self, buf: &mut InputBuffer) -> io::Result<Step> {
        loop {
            if self.done {
                return Ok(Step::End);
            }
            let offset = buf.offset();
            let have = buf.fill(12)?;
            if have == 0 {
                self.done = true;
                return Ok(Step::End);
            }
            if have < 12 {
                buf.consume(have);
                self.done = true;
                let why = format!("file ends {have} bytes into a block header");
                return Ok(Step::damaged(offset, DamageKind::TruncatedFile, why));
            }
            let head = buf.avail();
            let btype = self.endian.u32(head, 0);
            let endian = if btype == SHB {
                match section_endian(head) {
                    Some(e) => e,
                    None => {
                        let why = "section header with an invalid byte-order magic".to_string();
                        return self.resync(buf, offset, why, DamageKind::BadBlock, DamageKind::BadBlock);
                    }
                }
            } else {
                self.endian
            };
            let blen = endian.u32(head, 4);
            if blen < 12 || blen % 4 != 0 || blen as usize > MAX_RECORD_LEN {
                let why = format!("block of type {btype:#x} claims a length of {blen}");
                return self.resync(buf, offset, why, DamageKind::BadLength, DamageKind::BadLength);
            }
            let blen = blen as usize;
            let have = buf.fill(blen)?;
            if have < blen {
                let why = format!("block of type {btype:#x} claims {blen} bytes, the file ends after {have}");
                return self.resync(buf, offset, why, DamageKind::BadLength, DamageKind::TruncatedFile);
            }
            let trailer = endian.u32(buf.avail(), blen - 4);
            if trailer as usize != blen {
                let why = format!("block of type {btype:#x} starts with length {blen} but ends with {trailer}");
                return self.resync(buf, offset, why, DamageKind::BadLength, DamageKind::BadLength);
            }
            if let Some(step) = self.block(buf, offset, btype, endian, blen) {
                return Ok(step);
            }
        }
    }

    /// Handles one well-framed block and consumes it; `None` when it yields no event.
    fn block(&mut self, buf: &mut InputBuffer, offset: u64, btype: u32, endian: Endian, blen: usize) -> Option<Step> {
        let start = buf.pos() + 8;
        let body = &buf.avail()[8..blen - 4];
        let step = match btype {
            SHB => self.section(body, endian, offset),
            IDB => self.interface(body, offset),
            EPB | PB => self.packet(body, btype, start, offset),
            SPB => self.simple_packet(body, start, offset),
            _ => None,
        };
        buf.consume(blen);
        step
    }

    fn section(&mut self, body: &[u8], endian: Endian, offset: u64) -> Option<Step> {
        // BOM, version and section length: 16 bytes
        if body.len() < 16 {
            let why = format!("section header body of {} bytes, at least 16 needed", body.len());
            return Some(Step::damaged(offset, DamageKind::BadBlock, why));
        }
        self.endian = endian;
        self.interfaces.clear();
        self.sections += 1;
        None
    }

    fn interface(&mut self, body: &[u8], offset: u64) -> Option<Step> {
        if body.len() < 8 {
            let why = format!("interface description body of {} bytes, at least 8 needed", body.len());
            return Some(Step::damaged(offset, DamageKind::BadBlock, why));
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            let why = format!("more than {MAX_INTERFACES} interfaces in one section");
            return Some(Step::damaged(offset, DamageKind::BadBlock, why));
        }
        let e = self.endian;
        let mut ifc =
            Interface { linktype: e.u16(body, 0) as u32, snaplen: e.u32(body, 4), scale: TsScale::MICROS, offset_s: 0 };
        // Malformed options end the option list but keep the interface: its link type and
        // snaplen are what matter for the packets.
        let mut opts = &body[8..];
        while opts.len() >= 4 {
            let code = e.u16(opts, 0);
            let len = e.u16(opts, 2) as usize;
            if code == 0 || 4 + len > opts.len() {
                break;
            }
            let value = &opts[4..4 + len];
            match code {
                9 if len >= 1 => ifc.scale = TsScale::from_tsresol(value[0]),
                14 if len >= 8 => ifc.offset_s = e.u64(value, 0) as i64,
                _ => {}
            }
            opts = &opts[(4 + len.next_multiple_of(4)).min(opts.len())..];
        }
        self.interfaces.push(ifc);
        None
    }

    /// Enhanced Packet Block, or the obsolete Packet Block: same layout but for a 16-bit
    /// interface id followed by a drop count.
    fn packet(&mut self, body: &[u8], btype: u32, start: usize, offset: u64) -> Option<Step> {
        let e = self.endian;
        if body.len() < PACKET_FIXED {
            let why = format!("packet block body of {} bytes, at least {PACKET_FIXED} needed", body.len());
            return Some(Step::damaged(offset, DamageKind::BadBlock, why));
        }
        let iface = if btype == PB { e.u16(body, 0) as u32 } else { e.u32(body, 0) };
        let units = (e.u32(body, 4) as u64) << 32 | e.u32(body, 8) as u64;
        let caplen = e.u32(body, 12);
        let orig_len = e.u32(body, 16);
        let room = body.len() - PACKET_FIXED;
        if caplen as usize > room {
            let why = format!("packet claims {caplen} captured bytes, its block holds {room}");
            return Some(Step::damaged(offset, DamageKind::BadLength, why));
        }
        let Some(ifc) = self.interfaces.get(iface as usize) else {
            let why = format!("packet on interface {iface}, the section declares {}", self.interfaces.len());
            return Some(Step::damaged(offset, DamageKind::UnknownInterface, why));
        };
        let ts_ns = ifc.scale.to_ns(units, ifc.offset_s);
        self.last_ts_ns = ts_ns;
        let meta =
            PacketMeta { ts_ns, linktype: ifc.linktype, orig_len: orig_len.max(caplen), interface: iface, offset };
        Some(Step::Packet(meta, start + PACKET_FIXED, caplen as usize))
    }

    /// Simple Packet Block: always interface 0; the captured length is implied by the original
    /// length, the snaplen and the block size.
    fn simple_packet(&mut self, body: &[u8], start: usize, offset: u64) -> Option<Step> {
        if body.len() < 4 {
            let why = format!("simple packet body of {} bytes, at least 4 needed", body.len());
            return Some(Step::damaged(offset, DamageKind::BadBlock, why));
        }
        let Some(ifc) = self.interfaces.first() else {
            let why = "simple packet block in a section without interfaces".to_string();
            return Some(Step::damaged(offset, DamageKind::UnknownInterface, why));
        };
        let orig_len = self.endian.u32(body, 0);
        let mut caplen = (orig_len as usize).min(body.len() - 4);
        if ifc.snaplen > 0 {
            caplen = caplen.min(ifc.snaplen as usize);
        }
        let meta = PacketMeta { ts_ns: self.last_ts_ns, linktype: ifc.linktype, orig_len, interface: 0, offset };
        Some(Step::Packet(meta, start + 4, caplen))
    }

    /// Scans forward from just past the bad block at `offset` for a block whose framing is
    /// right. Reported as `kind` when one is found, as `at_end` when the stream ends first.
    fn resync(
        &mut self,
        buf: &mut InputBuffer,
        offset: u64,
        why: String,
        kind: DamageKind,
        at_end: DamageKind,
    ) -> io::Result<Step> {
        buf.consume(1);
        let mut skipped: u64 = 1;
        loop {
            if skipped > MAX_RESYNC_SCAN {
                buf.consume_rest()?;
                self.done = true;
                let why = format!("{why}; no plausible block in the next {skipped} bytes, rest of file skipped");
                return Ok(Step::damaged(offset, kind, why));
            }
            let have = buf.fill(12)?;
            if have < 12 {
                buf.consume(have);
                self.done = true;
                let why = if at_end == DamageKind::TruncatedFile {
                    why
                } else {
                    format!("{why}; no plausible block follows, rest of file ({} bytes) skipped", skipped + have as u64)
                };
                return Ok(Step::damaged(offset, at_end, why));
            }
            if self.candidate(buf)? {
                let why = format!("{why}; skipped {skipped} bytes to the next plausible block");
                return Ok(Step::damaged(offset, kind, why));
            }
            buf.consume(1);
            skipped += 1;
        }
    }

    /// Whether a block of a known type, with matching leading and trailing lengths, starts at
    /// the buffer's position.
    fn candidate(&self, buf: &mut InputBuffer) -> io::Result<bool> {
        let head = buf.avail();
        let btype = self.endian.u32(head, 0);
        let endian = if btype == SHB {
            match section_endian(head) {
                Some(e) => e,
                None => return Ok(false),
            }
        } else if KNOWN_TYPES.contains(&btype) {
            self.endian
        } else {
            return Ok(false);
        };
        let blen = endian.u32(head, 4) as usize;
        if blen < 12 || blen % 4 != 0 || blen > MAX_RECORD_LEN {
            return Ok(false);
        }
        if buf.fill(blen)? < blen {
            return Ok(false);
        }
        Ok(endian.u32(buf.avail(), blen - 4) as usize == blen)
    }
}

#[cfg(test)]
mod tests;
