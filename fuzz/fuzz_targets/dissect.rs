//! One frame through the dissector, `netanom_wire::dissect`.
//!
//! Input layout: `[linktype selector] [orig_len selector] frame...`
//! * byte 0 below `KNOWN.len()` picks a link type the dissector knows, any other value is used
//!   as the link type itself (15..=255: some known, most not);
//! * byte 1 derives `orig_len` from the frame length: the top two bits pick the mode, the low six
//!   bits `k` the amount: 0 = unsnapped (`len`), 1 = snapped (`len + 32k`), 2 = hugely snapped
//!   (`len + k·2^26`, saturating: up to about `u32::MAX`), 3 = shorter than the captured bytes
//!   (`k·len/64`; the reader never produces that, but `dissect` is public and must cope).
//!
//! Besides "no panic, no hang", it checks what `PacketInfo` (crates/wire/src/info.rs) and
//! `dissect` document; see `check` below.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netanom_wire::hdrdesc::MAX_HDRS;
use netanom_wire::{dissect, flowstat, linktype as lt, PacketInfo, SkipReason, L3};

/// Every link type `dissect` decodes (crates/wire/src/dissect/mod.rs).
const KNOWN: [u32; 15] = [
    lt::ETHERNET,
    lt::RAW,
    lt::DLT_RAW_12,
    lt::DLT_RAW_14,
    lt::IPV4,
    lt::IPV6,
    lt::NULL,
    lt::LOOP,
    lt::LINUX_SLL,
    lt::LINUX_SLL2,
    lt::PPP,
    lt::IEEE802_11,
    lt::IEEE802_11_RADIOTAP,
    lt::PPI,
    lt::C_HDLC,
];
// PPP_HDLC (50) is reached as an "arbitrary" selector value (byte 0 = 50).

fn linktype(sel: u8) -> u32 {
    KNOWN.get(sel as usize).copied().unwrap_or(sel as u32)
}

fn orig_len(sel: u8, len: usize) -> u32 {
    let len = len as u32;
    let k = (sel & 0x3f) as u32;
    match sel >> 6 {
        0 => len,
        1 => len + 32 * k,
        2 => len.saturating_add(k << 26),
        _ => (k as u64 * len as u64 / 64) as u32,
    }
}

fn is_known(linktype: u32) -> bool {
    KNOWN.contains(&linktype) || linktype == lt::PPP_HDLC
}

fn check(linktype: u32, frame: &[u8], orig_len: u32, r: Result<(), SkipReason>, i: &PacketInfo) {
    let len = frame.len();
    match r {
        Err(SkipReason::UnsupportedLinkType) => {
            assert!(!is_known(linktype), "known link type {linktype} refused as unsupported");
            return;
        }
        Err(SkipReason::TooShortForLinkLayer) => {
            assert!(is_known(linktype), "unknown link type {linktype} not refused as unsupported");
            return;
        }
        Ok(()) => assert!(is_known(linktype), "unknown link type {linktype} dissected"),
    }
    // sizes: "bytes on the wire (orig_len)", "bytes captured"
    assert_eq!(i.wire_len, orig_len);
    assert_eq!(i.cap_len as usize, len);
    // the header description is bounded and says when it overflowed
    assert!(i.hdr.depth() <= MAX_HDRS);
    assert_eq!(i.hdr.overrun(), i.flow_stat & flowstat::HDR_DESC_OVERRUN != 0);
    assert!(i.n_vlans as usize <= i.vlans.len());
    // exactly one of the flow-kind bits, the one matching the flow's network layer
    let kind = i.flow_stat & (flowstat::PURE_L2 | flowstat::IPV4_FLOW | flowstat::IPV6_FLOW);
    let want = match i.l3 {
        L3::None => flowstat::PURE_L2,
        L3::Ipv4 => flowstat::IPV4_FLOW,
        L3::Ipv6 => flowstat::IPV6_FLOW,
    };
    assert_eq!(kind, want, "flow kind bits {kind:#x} for {:?}", i.l3);
    // the flow's IP header was read from the frame: its fixed part lies inside it; "IPv4
    // addresses occupy the first 4 bytes, the rest zero"
    match i.l3 {
        L3::Ipv4 => {
            assert!(i.l3_offset as usize + 20 <= len, "IPv4 header at {} in {len} bytes", i.l3_offset);
            assert!(i.src_ip[4..].iter().chain(&i.dst_ip[4..]).all(|&b| b == 0));
        }
        L3::Ipv6 => assert!(i.l3_offset as usize + 40 <= len, "IPv6 header at {} in {len} bytes", i.l3_offset),
        L3::None => {}
    }
    // "true when the transport header is present and complete in the captured bytes"
    if i.l4_present {
        let end = i.l4_offset as usize + i.l4_hdr_len as usize;
        assert!(end <= len, "transport header [{}, {end}) present in {len} bytes", i.l4_offset);
    }
    // "offset and length (of IPv4 / TCP options) in the frame"
    if i.ip_opt_len > 0 {
        let end = i.ip_opt_offset as usize + i.ip_opt_len as usize;
        assert!(end <= len, "IPv4 options [{}, {end}) in {len} bytes", i.ip_opt_offset);
    }
    if i.tcp_opt_len > 0 {
        let end = i.tcp_opt_offset as usize + i.tcp_opt_len as usize;
        assert!(end <= len, "TCP options [{}, {end}) in {len} bytes", i.tcp_opt_offset);
    }
    // padding is part of the packet
    assert!(i.pad_len as usize <= len.max(orig_len as usize), "padding {} in a {len}/{orig_len}-byte frame", i.pad_len);
    // "is_fragment: true for any fragment, first or later"
    if i.more_fragments || i.frag_offset > 0 {
        assert!(i.is_fragment);
    }
    assert!(i.payload(frame).len() <= i.l7_len as usize);
    let _ = i.hdr.to_string();
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (sel, frame) = data.split_at(2);
    let linktype = linktype(sel[0]);
    let orig_len = orig_len(sel[1], frame.len());

    let mut fresh = PacketInfo::default();
    let r = dissect(linktype, frame, orig_len, &mut fresh);
    check(linktype, frame, orig_len, r, &fresh);

    // "Reset by clear (called by dissect) and refilled in place": a record reused from another
    // packet must come out exactly as a fresh one.
    if r.is_ok() {
        let mut reused = PacketInfo::default();
        let _ = dissect(lt::ETHERNET, &DIRTY, 1 << 20, &mut reused);
        let r2 = dissect(linktype, frame, orig_len, &mut reused);
        assert_eq!(r, r2);
        assert_eq!(format!("{fresh:?}"), format!("{reused:?}"), "state carried over from a previous packet");
    }
});

/// A frame that sets many fields: Ethernet, two VLAN tags, IPv4 with options, fragment, TCP with
/// options and payload.
const DIRTY: [u8; 86] = [
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x81, 0x00, 0x20, 0x05, 0x81, 0x00, 0x00,
    0x07, 0x08, 0x00, // eth + 2 vlans
    0x46, 0xb8, 0x00, 0x40, 0x12, 0x34, 0x20, 0x00, 0x40, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00,
    0x02, 0x01, 0x01, 0x01, 0x00, // ipv4, ihl 6, MF, options
    0x04, 0xd2, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x70, 0x1b, 0x10, 0x00, 0x00, 0x00, 0x00,
    0x07, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, // tcp, 28-byte header
    b'h', b'e', b'l', b'l', b'o', b' ', b'w', b'o', b'r', b'l', b'd', b'!', // payload
];
