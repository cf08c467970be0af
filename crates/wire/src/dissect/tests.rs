//! Dissector tests on hand-built frames.

use super::*;

/// An Ethernet/IPv4 frame carrying `payload` as IP protocol `proto` (checksum not needed).
fn ipv4_frame(proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    f.extend_from_slice(&[0x08, 0x00]);
    let total = (20 + payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0, 0, 64, proto, 0, 0]);
    f.extend_from_slice(&[192, 168, 1, 2, 192, 168, 1, 1]);
    f.extend_from_slice(payload);
    f
}

/// Tranalyzer2 counts what follows the IP header as payload when it cannot decode it: an
/// unknown protocol over IPv4 less an 8-byte header it assumes (never below 0), or a segment too
/// short to be a TCP header when cut before its data-offset byte (`fuzz-2006-06-26-2594.pcap`,
/// `unknown-ip-short-payload.pcap`, `fuzz-2006-09-29-28586.pcap`).
#[test]
fn undecoded_transport_bytes_are_payload() {
    let mut i = PacketInfo::default();
    let f = ipv4_frame(240, &[7; 52]);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!((i.l4_proto, i.l7_len), (240, 44));
    let f = ipv4_frame(253, &[7; 4]);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!((i.l4_proto, i.l7_len), (253, 0));
    // OSPF's 24-byte header; ESP's SPI and sequence number
    let f = ipv4_frame(89, &[0; 88]);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!(i.l7_len, 64);
    let f = ipv4_frame(50, &[0; 132]);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!(i.l7_len, 124);
    let f = ipv4_frame(6, &[0xe5, 0x21, 0xba, 0x1d, 0, 0, 0, 1, 0, 0, 0, 2]);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!((i.src_port, i.dst_port, i.l7_len), (58657, 47645, 12));
    // with the data-offset byte present but no room for the header, nothing is trusted
    let mut i = PacketInfo::default();
    let f = ipv4_frame(6, &[0xcf, 0xb0, 0, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x10, 0x20]);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!((i.src_port, i.dst_port, i.l7_len), (0, 0, 0));
}

/// An SCTP packet without room for a chunk header after the common header (within the IP
/// length; padding after it does not count) is flagged short and keeps no ports, as Tranalyzer2
/// does (`cisco-fabric-path.pcap`); one with a chunk header is read normally.
#[test]
fn sctp_without_chunk_header_has_no_ports() {
    let mut i = PacketInfo::default();
    let common = [0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 0x4e, 0x61, 0xbe, 0x7a];
    let mut f = ipv4_frame(132, &common);
    f.extend_from_slice(&[0; 14]);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!((i.src_port, i.dst_port, i.l7_len), (0, 0, 0));
    assert_ne!(i.flow_stat & crate::info::flowstat::SNAP_L4_HDR, 0);
    let mut i = PacketInfo::default();
    let mut with_chunk = common.to_vec();
    with_chunk.extend_from_slice(&[1, 0, 0, 8, 0, 0, 0, 0]);
    let f = ipv4_frame(132, &with_chunk);
    dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
    assert_eq!((i.src_port, i.dst_port, i.l7_len), (57005, 48879, 8));
    assert_eq!(i.flow_stat & crate::info::flowstat::SNAP_L4_HDR, 0);
}

/// Over IPv6 Tranalyzer2 takes no header off the protocols it does not decode (VRRP, mobility
/// header, ESP): all of the payload counts (`vrrp3.pcapng`, `mip6_*.pcap`, `ip6_esp.pcap`).
#[test]
fn undecoded_ipv6_payload_is_all_payload() {
    for proto in [112u8, 135, 50] {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 24, proto, 64]);
        f.extend_from_slice(&[0xfe; 32]);
        f.extend_from_slice(&[0; 24]);
        let mut i = PacketInfo::default();
        dissect(crate::linktype::ETHERNET, &f, f.len() as u32, &mut i).unwrap();
        assert_eq!((i.l4_proto, i.l7_len), (proto, 24), "protocol {proto}");
    }
}
