//! Builders for small captures in memory, and a reader that collects owned events.

use std::io::Cursor;

use crate::endian::Endian;
use crate::{CaptureError, CaptureReader, Damage, DamageKind, ReadEvent};

pub(crate) const LE: Endian = Endian::Little;
pub(crate) const BE: Endian = Endian::Big;

fn put16(out: &mut Vec<u8>, e: Endian, v: u16) {
    out.extend_from_slice(&if e == LE { v.to_le_bytes() } else { v.to_be_bytes() });
}

fn put32(out: &mut Vec<u8>, e: Endian, v: u32) {
    out.extend_from_slice(&if e == LE { v.to_le_bytes() } else { v.to_be_bytes() });
}

pub(crate) fn pcap_header(e: Endian, magic: u32, snaplen: u32, linktype: u32) -> Vec<u8> {
    let mut out = Vec::new();
    put32(&mut out, e, magic);
    put16(&mut out, e, 2);
    put16(&mut out, e, 4);
    put32(&mut out, e, 0);
    put32(&mut out, e, 0);
    put32(&mut out, e, snaplen);
    put32(&mut out, e, linktype);
    out
}

/// A classic record; `modified` adds the 8 extra header bytes of the modified format.
pub(crate) fn pcap_record(e: Endian, sec: u32, frac: u32, data: &[u8], orig_len: u32, modified: bool) -> Vec<u8> {
    let mut out = Vec::new();
    put32(&mut out, e, sec);
    put32(&mut out, e, frac);
    put32(&mut out, e, data.len() as u32);
    put32(&mut out, e, orig_len);
    if modified {
        put32(&mut out, e, 3); // ifindex
        put16(&mut out, e, 0x0800); // protocol
        out.extend_from_slice(&[0, 0]); // packet type, padding
    }
    out.extend_from_slice(data);
    out
}

pub(crate) fn block(e: Endian, btype: u32, body: &[u8]) -> Vec<u8> {
    let padded = body.len().next_multiple_of(4);
    let total = (12 + padded) as u32;
    let mut out = Vec::new();
    put32(&mut out, e, btype);
    put32(&mut out, e, total);
    out.extend_from_slice(body);
    out.resize(8 + padded, 0);
    put32(&mut out, e, total);
    out
}

pub(crate) fn shb(e: Endian) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, e, 0x1a2b_3c4d);
    put16(&mut body, e, 1);
    put16(&mut body, e, 0);
    body.extend_from_slice(&[0xff; 8]); // section length unknown
    block(e, 0x0a0d_0d0a, &body)
}

pub(crate) fn idb(e: Endian, linktype: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    put16(&mut body, e, linktype);
    put16(&mut body, e, 0);
    put32(&mut body, e, snaplen);
    for (code, value) in opts {
        put16(&mut body, e, *code);
        put16(&mut body, e, value.len() as u16);
        body.extend_from_slice(value);
        body.resize(body.len().next_multiple_of(4), 0);
    }
    if !opts.is_empty() {
        body.extend_from_slice(&[0; 4]);
    }
    block(e, 1, &body)
}

fn packet_body(e: Endian, first: &[u8], units: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = first.to_vec();
    put32(&mut body, e, (units >> 32) as u32);
    put32(&mut body, e, units as u32);
    put32(&mut body, e, data.len() as u32);
    put32(&mut body, e, orig_len);
    body.extend_from_slice(data);
    body
}

pub(crate) fn epb(e: Endian, iface: u32, units: u64, data: &[u8]) -> Vec<u8> {
    let mut id = Vec::new();
    put32(&mut id, e, iface);
    block(e, 6, &packet_body(e, &id, units, data, data.len() as u32))
}

/// Obsolete Packet Block.
pub(crate) fn pb(e: Endian, iface: u16, units: u64, data: &[u8]) -> Vec<u8> {
    let mut id = Vec::new();
    put16(&mut id, e, iface);
    put16(&mut id, e, 0);
    block(e, 2, &packet_body(e, &id, units, data, data.len() as u32))
}

pub(crate) fn spb(e: Endian, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    put32(&mut body, e, orig_len);
    body.extend_from_slice(data);
    block(e, 3, &body)
}

/// An event with the packet bytes copied out, so a whole file can be collected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ev {
    Packet { ts_ns: u64, linktype: u32, orig_len: u32, data: Vec<u8>, interface: u32, offset: u64 },
    Damaged(Damage),
}

impl Ev {
    pub(crate) fn data(&self) -> &[u8] {
        match self {
            Ev::Packet { data, .. } => data,
            Ev::Damaged(_) => &[],
        }
    }

    pub(crate) fn damage(&self) -> Option<DamageKind> {
        match self {
            Ev::Damaged(d) => Some(d.kind),
            Ev::Packet { .. } => None,
        }
    }
}

pub(crate) fn open_bytes(bytes: &[u8]) -> Result<CaptureReader, CaptureError> {
    CaptureReader::from_reader("mem", Cursor::new(bytes.to_vec()))
}

pub(crate) fn collect(r: &mut CaptureReader) -> Vec<Ev> {
    let mut out = Vec::new();
    while let Some(ev) = r.next_event().expect("in-memory read cannot fail") {
        out.push(match ev {
            ReadEvent::Packet(p) => Ev::Packet {
                ts_ns: p.ts_ns,
                linktype: p.linktype,
                orig_len: p.orig_len,
                data: p.data.to_vec(),
                interface: p.interface,
                offset: p.offset,
            },
            ReadEvent::Damaged(d) => Ev::Damaged(d),
        });
        assert!(out.len() < 1_000_000, "runaway reader");
    }
    // the end is sticky
    assert!(r.next_event().expect("after end").is_none());
    out
}

pub(crate) fn read_bytes(bytes: &[u8]) -> Vec<Ev> {
    let mut r = open_bytes(bytes).expect("test capture must open");
    collect(&mut r)
}

/// Just the packet payloads, and the damage kinds, in order.
pub(crate) fn summary(evs: &[Ev]) -> Vec<Result<Vec<u8>, DamageKind>> {
    evs.iter()
        .map(|e| match e {
            Ev::Packet { data, .. } => Ok(data.clone()),
            Ev::Damaged(d) => Err(d.kind),
        })
        .collect()
}

pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("in-memory gzip");
    enc.finish().expect("in-memory gzip")
}

pub(crate) fn zstd(bytes: &[u8]) -> Vec<u8> {
    zstd::encode_all(bytes, 3).expect("in-memory zstd")
}
