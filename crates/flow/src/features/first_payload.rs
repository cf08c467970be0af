//! firstPayload (netanom's own column, after the Tranalyzer2 ones): what the first payload bytes of
//! a flow direction look like, recognised from the bytes alone and never from the port, so that a
//! rule can compare it with the port (TCP 443 that does not start with a TLS record, 53 that is not
//! DNS, 80 that is not HTTP, 22 without an SSH banner).

use netanom_wire::PacketInfo;

use crate::record::FlowRecord;
use crate::schema::{Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[Column::new(
    "firstPayload",
    "SC",
    Kind::ShortStr,
    "netanom: protocol recognised in the first payload bytes of this direction (tls, http, ssh, dns, other; \
     mid: TCP flow joined mid-stream; -: no payload)",
)];

/// The class of a direction's first TCP/UDP payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum PayloadClass {
    /// No payload seen (yet).
    #[default]
    None,
    Tls,
    Http,
    Ssh,
    Dns,
    /// Payload that is none of the above.
    Other,
    /// A TCP direction whose first packet was not a SYN: the first payload seen need not be the
    /// first the application sent, so it is not classified.
    Mid,
}

impl PayloadClass {
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadClass::None => "-",
            PayloadClass::Tls => "tls",
            PayloadClass::Http => "http",
            PayloadClass::Ssh => "ssh",
            PayloadClass::Dns => "dns",
            PayloadClass::Other => "other",
            PayloadClass::Mid => "mid",
        }
    }
}

/// Per-direction state: decided once, by the first packet with payload.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstPayload {
    class: PayloadClass,
    /// Whether any packet has been seen: the first decides whether a TCP stream starts here.
    seen: bool,
    mid: bool,
}

impl FirstPayload {
    #[inline]
    pub fn update(&mut self, p: &PacketInfo) {
        if !self.seen {
            self.seen = true;
            // A TCP direction that starts with a SYN (or SYN-ACK) has its whole stream in view.
            self.mid = p.l4_proto == 6 && p.l4_present && p.tcp_flags & 0x02 == 0;
        }
        if self.class == PayloadClass::None && p.payload_head_len > 0 {
            self.class = if self.mid { PayloadClass::Mid } else { classify(p.l4_proto, p.payload_head()) };
        }
    }

    pub fn class(&self) -> PayloadClass {
        self.class
    }
}

const HTTP_METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"PATCH ",
    b"TRACE ",
    b"PRI * HTTP/2",
];

/// Recognises the protocol from a payload's first bytes (`head`, up to 16).
pub fn classify(l4_proto: u8, head: &[u8]) -> PayloadClass {
    if head.is_empty() {
        return PayloadClass::None;
    }
    if is_tls_record(head) {
        return PayloadClass::Tls;
    }
    if head.starts_with(b"HTTP/1.") || HTTP_METHODS.iter().any(|m| starts_with_prefix(head, m)) {
        return PayloadClass::Http;
    }
    if head.starts_with(b"SSH-") {
        return PayloadClass::Ssh;
    }
    let dns = match l4_proto {
        17 => is_dns_header(head),
        // DNS over TCP: a two-byte length, then the message.
        6 => head.len() >= 2 && u16::from_be_bytes([head[0], head[1]]) >= 12 && is_dns_header(&head[2..]),
        _ => false,
    };
    if dns {
        PayloadClass::Dns
    } else {
        PayloadClass::Other
    }
}

/// `head` starts with `m`, or with as much of `m` as fits (a method cut by the 16-byte head).
fn starts_with_prefix(head: &[u8], m: &[u8]) -> bool {
    let n = m.len().min(head.len());
    n >= 4 && head[..n] == m[..n]
}

/// A TLS (or SSLv3) record header: content type 20–24, version 3.0–3.4.
fn is_tls_record(h: &[u8]) -> bool {
    h.len() >= 3 && (20..=24).contains(&h[0]) && h[1] == 3 && h[2] <= 4
}

/// A plausible DNS message header. Clients ask exactly one question per query (RFC 9619 makes
/// that the rule); answers echo it or, when refused early, may carry none. Opcodes are QUERY,
/// NOTIFY and UPDATE; the Z bit must be clear. Random bytes pass this with a probability of
/// about 2^-30, a status request or an empty query does not.
fn is_dns_header(h: &[u8]) -> bool {
    if h.len() < 12 {
        return false;
    }
    let flags = u16::from_be_bytes([h[2], h[3]]);
    let qd = u16::from_be_bytes([h[4], h[5]]);
    let an = u16::from_be_bytes([h[6], h[7]]);
    let ns = u16::from_be_bytes([h[8], h[9]]);
    let response = flags & 0x8000 != 0;
    let opcode = (flags >> 11) & 0xf;
    let z = flags & 0x0040 != 0;
    let rcode = flags & 0xf;
    if z || !matches!(opcode, 0 | 4 | 5) || rcode > 10 {
        return false;
    }
    if response {
        qd <= 1
    } else {
        // A query carries no answers (NOTIFY and UPDATE may, but keep them small).
        qd == 1 && (opcode != 0 || (an == 0 && ns <= 1)) && an <= 16
    }
}

pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    w.short_str(rec.first_payload.class().as_str());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_protocols_from_their_bytes() {
        let c = |l4, b: &[u8]| classify(l4, &b[..b.len().min(16)]);
        assert_eq!(c(6, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), PayloadClass::Tls);
        assert_eq!(c(6, b"GET / HTTP/1.1\r\nHost: x\r\n"), PayloadClass::Http);
        assert_eq!(c(6, b"OPTIONS * HTTP/1.1"), PayloadClass::Http);
        assert_eq!(c(6, b"HTTP/1.1 400 Bad Request"), PayloadClass::Http);
        assert_eq!(c(6, b"SSH-2.0-OpenSSH_9.2p1\r\n"), PayloadClass::Ssh);
        // dig's query for www.lab.internal A
        let q = b"\x4a\x1b\x01\x20\x00\x01\x00\x00\x00\x00\x00\x01\x03www";
        assert_eq!(c(17, q), PayloadClass::Dns);
        let mut tcp = vec![0u8, 40];
        tcp.extend_from_slice(q);
        assert_eq!(classify(6, &tcp[..16]), PayloadClass::Dns);
        // a server status request has no question
        assert_eq!(c(17, b"\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00"), PayloadClass::Other);
        assert_eq!(c(17, b"GET / HTTP/1.0\r\n\r\n"), PayloadClass::Http);
        assert_eq!(c(17, b"\x9e\x01\xd3\x7a\x55\x10\xfe\x00\x31\x42\x00\x07\x99"), PayloadClass::Other);
        assert_eq!(c(6, b"x"), PayloadClass::Other);
        assert_eq!(c(6, b""), PayloadClass::None);
    }

    #[test]
    fn a_stream_joined_mid_way_is_not_classified() {
        let mut p = PacketInfo { l4_proto: 6, l4_present: true, tcp_flags: 0x18, l7_len: 5, ..PacketInfo::default() };
        p.payload_head[..5].copy_from_slice(b"hello");
        p.payload_head_len = 5;
        let mut f = FirstPayload::default();
        let rst = PacketInfo { l4_proto: 6, l4_present: true, tcp_flags: 0x14, ..PacketInfo::default() };
        f.update(&rst);
        assert_eq!(f.class(), PayloadClass::None);
        f.update(&p);
        assert_eq!(f.class(), PayloadClass::Mid);

        let syn = PacketInfo { l4_proto: 6, l4_present: true, tcp_flags: 0x02, ..PacketInfo::default() };
        let mut f = FirstPayload::default();
        f.update(&syn);
        assert_eq!(f.class(), PayloadClass::None);
        f.update(&p);
        assert_eq!(f.class(), PayloadClass::Other);
        p.payload_head[..5].copy_from_slice(b"SSH-2");
        f.update(&p);
        assert_eq!(f.class(), PayloadClass::Other, "decided by the first payload only");
    }
}
