//! The dissector: link layer → tunnels → innermost IP → transport header.
//!
//! Split by layer: [`link`] (link types, Ethernet, VLAN, MPLS, PPPoE, PPP, LLC), [`ip`] (IPv4,
//! IPv6 and its extension headers), [`transport`] (TCP, UDP, ICMP, SCTP… and what rides on UDP),
//! [`tunnel`] (GRE, VXLAN, GENEVE, GTP, Teredo, AYIYA, CAPWAP, DTLS).
//!
//! Behaviour follows what Tranalyzer2 0.9.3 prints (`hdrDesc`, `flowStat`, `l7BytesSnt`,
//! `padBytesSnt`), learnt from its outputs in `shared/golden`.

mod ip;
mod link;
mod transport;
mod tunnel;

use crate::hdrdesc::Proto;
use crate::info::{flowstat, PacketInfo, SkipReason, L3, PAYLOAD_HEAD};

/// Upper bound on the headers one packet may walk through (VLAN tags, MPLS labels, extension
/// headers and tunnels all count): beyond it dissection stops, so no input can loop.
const MAX_STEPS: u32 = 48;

/// Link-layer type values (tcpdump.org LINKTYPE_* plus the DLT aliases found in old files).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    pub const PPP: u32 = 9;
    /// DLT_RAW as written by most BSDs/Linux in old files.
    pub const DLT_RAW_12: u32 = 12;
    /// DLT_RAW on OpenBSD.
    pub const DLT_RAW_14: u32 = 14;
    pub const PPP_HDLC: u32 = 50;
    pub const RAW: u32 = 101;
    pub const C_HDLC: u32 = 104;
    pub const IEEE802_11: u32 = 105;
    pub const LOOP: u32 = 108;
    pub const LINUX_SLL: u32 = 113;
    pub const IEEE802_11_RADIOTAP: u32 = 127;
    pub const PPI: u32 = 192;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// Dissects one frame of link type `linktype` (LINKTYPE_* value) into `info`.
///
/// Returns `Err(reason)` when the packet cannot become part of any flow (unsupported link type,
/// too short for its link layer). Damaged packets that still identify a flow return `Ok` with the
/// damage in `info.flow_stat` (snapped bits, bogus IP…). Never panics, whatever the bytes.
pub fn dissect(linktype: u32, frame: &[u8], orig_len: u32, info: &mut PacketInfo) -> Result<(), SkipReason> {
    info.clear();
    info.wire_len = orig_len;
    info.cap_len = frame.len() as u32;
    let mut d = Dissector { f: frame, i: info, steps: 0, outer_ip_done: false };
    d.link(linktype)?;
    d.finish();
    Ok(())
}

pub(crate) struct Dissector<'a, 'b> {
    /// The captured bytes.
    pub f: &'a [u8],
    pub i: &'b mut PacketInfo,
    /// Headers walked so far (bounded by [`MAX_STEPS`]).
    pub steps: u32,
    /// Whether the outermost IP header has been seen (padding is measured against it).
    pub outer_ip_done: bool,
}

impl<'a> Dissector<'a, '_> {
    /// The captured bytes from `off` on (empty past the end).
    #[inline(always)]
    pub fn at(&self, off: usize) -> &'a [u8] {
        self.f.get(off..).unwrap_or(&[])
    }

    /// Bytes captured from `off` on.
    #[inline(always)]
    pub fn avail(&self, off: usize) -> usize {
        self.f.len().saturating_sub(off)
    }

    /// Wire bytes from `off` on (what the packet had before any snapping).
    #[inline(always)]
    pub fn wire_avail(&self, off: usize) -> usize {
        (self.i.wire_len as usize).max(self.f.len()).saturating_sub(off)
    }

    #[inline(always)]
    pub fn push(&mut self, p: Proto) {
        self.i.hdr.push(p);
    }

    #[inline(always)]
    pub fn push_arg(&mut self, p: Proto, arg: u16) {
        self.i.hdr.push_arg(p, arg);
    }

    #[inline(always)]
    pub fn stat(&mut self, bits: u64) {
        self.i.flow_stat |= bits;
    }

    /// Counts one more header; false (and "stop dissecting") once the budget is spent.
    #[inline(always)]
    pub fn step(&mut self) -> bool {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            self.stat(flowstat::STOP_DISSECTING);
            false
        } else {
            true
        }
    }

    /// The flow's ethertype, from a link-layer header. Inside a tunnel (an IP header already seen)
    /// the flow is the tunnel's and keeps its ethertype, as in Tranalyzer2.
    #[inline(always)]
    pub fn set_eth_type(&mut self, t: u16) {
        if !self.outer_ip_done {
            self.i.eth_type = t;
        }
    }

    /// Ethernet padding counts for the outermost frame only.
    #[inline(always)]
    pub fn set_pad(&mut self, pad: u32) {
        if !self.outer_ip_done {
            self.i.pad_len = pad;
        }
    }

    /// Makes the packet a layer-2 flow (no IP identity) with the given ethertype.
    pub fn l2_flow(&mut self, eth_type: u16) {
        self.i.l3 = L3::None;
        self.i.eth_type = eth_type;
        self.i.src_ip = [0; 16];
        self.i.dst_ip = [0; 16];
        self.i.src_port = 0;
        self.i.dst_port = 0;
        self.i.l4_proto = 0;
    }

    fn finish(&mut self) {
        let i = &mut *self.i;
        match i.l3 {
            L3::None => i.flow_stat |= flowstat::PURE_L2,
            L3::Ipv4 => i.flow_stat |= flowstat::IPV4_FLOW,
            L3::Ipv6 => i.flow_stat |= flowstat::IPV6_FLOW,
        }
        if i.hdr.overrun() {
            i.flow_stat |= flowstat::HDR_DESC_OVERRUN;
        }
        // Only the transport's own payload: a later fragment has no header to start from.
        if matches!(i.l4_proto, 6 | 17) && i.l4_present && i.l7_len > 0 && !(i.is_fragment && i.frag_offset > 0) {
            let start = (i.l7_offset as usize).min(self.f.len());
            let n = (i.l7_len as usize).min(PAYLOAD_HEAD).min(self.f.len() - start);
            if let (Some(src), Some(dst)) = (self.f.get(start..start + n), i.payload_head.get_mut(..n)) {
                dst.copy_from_slice(src);
                i.payload_head_len = n as u8;
            }
        }
    }
}

#[cfg(test)]
mod tests;
