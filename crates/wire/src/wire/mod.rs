//! Typed zero-copy views over protocol headers, one protocol per file.
//!
//! Every view follows smoltcp's `wire` pattern: `View::new_checked(buffer)` verifies with
//! `check_len()` that the buffer holds at least the fixed part of the header, after which the
//! fixed-offset accessors cannot fail. Variable-length parts (options, extension headers, payloads)
//! are returned as slices clipped to the buffer, so no accessor can panic whatever the bytes.

pub mod arp;
pub mod ayiya;
pub mod capwap;
pub mod dtls;
pub mod erspan;
pub mod ethernet;
pub mod geneve;
pub mod gre;
pub mod gtp;
pub mod icmp;
pub mod ipsec;
pub mod ipv4;
pub mod ipv6;
pub mod l2tp;
pub mod llc;
pub mod mpls;
pub mod null;
pub mod ppp;
pub mod pppoe;
pub mod sctp;
pub mod sll;
pub mod tcp;
pub mod teredo;
pub mod udp;
pub mod vlan;
pub mod vxlan;
pub mod wlan;

pub use arp::ArpPacket;
pub use ethernet::EthernetFrame;
pub use gre::GrePacket;
pub use icmp::IcmpPacket;
pub use ipv4::Ipv4Packet;
pub use ipv6::{Ipv6ExtHeader, Ipv6FragHeader, Ipv6Packet};
pub use llc::LlcHeader;
pub use mpls::MplsLabel;
pub use pppoe::PppoeHeader;
pub use sctp::SctpPacket;
pub use sll::{Sll2Header, SllHeader};
pub use tcp::TcpPacket;
pub use udp::UdpPacket;
pub use vlan::VlanTag;
pub use vxlan::VxlanHeader;

/// The buffer is shorter than the header it should hold (or than a length field inside it says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncated;

impl core::fmt::Display for Truncated {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("buffer too short for the header")
    }
}

impl std::error::Error for Truncated {}

pub type Result<T> = core::result::Result<T, Truncated>;

#[inline(always)]
pub(crate) fn be16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

#[inline(always)]
pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

#[inline(always)]
pub(crate) fn mac(b: &[u8], off: usize) -> [u8; 6] {
    [b[off], b[off + 1], b[off + 2], b[off + 3], b[off + 4], b[off + 5]]
}

/// Six bytes at `off` as a MAC address, zero-filled where the buffer ends.
pub fn mac_at(b: &[u8], off: usize) -> [u8; 6] {
    let mut m = [0u8; 6];
    let src = clip(b, off, off + 6);
    m[..src.len()].copy_from_slice(src);
    m
}

/// `b[from..to]` clipped to the buffer (empty when `from` is beyond the end).
#[inline(always)]
pub(crate) fn clip(b: &[u8], from: usize, to: usize) -> &[u8] {
    let end = to.min(b.len());
    if from >= end {
        &[]
    } else {
        &b[from..end]
    }
}

/// Implements `new_checked`, `check_len`, `into_inner` and `as_bytes` for a view whose fixed part is
/// `$min` bytes (plus whatever `extra_len` adds, if given).
macro_rules! view {
    ($name:ident, $min:expr) => {
        impl<T: AsRef<[u8]>> $name<T> {
            /// Length of the fixed part of the header.
            pub const MIN_LEN: usize = $min;

            /// Wraps `buffer` after checking it holds the fixed part of the header.
            #[inline]
            pub fn new_checked(buffer: T) -> $crate::wire::Result<Self> {
                let v = $name { buffer };
                v.check_len()?;
                Ok(v)
            }

            /// Checks the buffer holds at least the fixed part of the header.
            #[inline]
            pub fn check_len(&self) -> $crate::wire::Result<()> {
                if self.buffer.as_ref().len() < Self::MIN_LEN {
                    Err($crate::wire::Truncated)
                } else {
                    Ok(())
                }
            }

            /// Gives the buffer back.
            #[inline]
            pub fn into_inner(self) -> T {
                self.buffer
            }

            /// The whole buffer the view was built on.
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                self.buffer.as_ref()
            }
        }
    };
}
pub(crate) use view;
