//! The state of one flow direction while it is in the table.

use netanom_wire::PacketInfo;

use crate::features::arp_decode::{self, ArpState};
use crate::features::basic_flow::HdrDescs;
use crate::features::basic_stats::BasicStats;
use crate::features::conn_stat::ConnCounts;
use crate::features::first_payload::FirstPayload;
use crate::features::icmp_decode::IcmpState;
use crate::features::mac_recorder::MacPairs;
use crate::features::tcp_flags::TcpFlagsState;
use crate::key::FlowKey;
use crate::tcp_state::TcpState;

pub(crate) const NIL: u32 = u32::MAX;

/// One direction of a conversation. Tranalyzer2 keeps the two directions as separate records
/// sharing `flow_ind`; so do we, which is what makes A/B rows and their per-direction columns
/// natural.
#[derive(Debug, Clone, Default)]
pub struct FlowRecord {
    pub key: FlowKey,
    /// Shared by both directions; numbers conversations in creation order.
    pub flow_ind: u64,
    /// Did not initiate the conversation (flowStat bit 0).
    pub inverted: bool,
    /// Printed as the `B` row: the inverted direction of a pair whose other direction was seen.
    pub is_b: bool,
    /// flowStat, accumulated.
    pub stat: u64,
    pub first_ns: u64,
    pub last_ns: u64,

    pub has_mac: bool,
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
    pub vlans: [u16; 4],
    pub n_vlans: u8,

    pub hdrs: HdrDescs,
    pub macs: MacPairs,
    pub stats: BasicStats,
    pub tcp: TcpState,
    pub tcpf: TcpFlagsState,
    pub icmp: IcmpState,
    /// arpDecode state, for ARP flows only.
    pub arp: Option<Box<ArpState>>,
    /// tcpStates anomalies of this direction's packets.
    pub tcp_af: u8,
    /// Filled in by the connStat stage when the record ends.
    pub conn: ConnCounts,
    pub first_payload: FirstPayload,
    /// Some packet had `PacketInfo::mac_ip_conflict`.
    pub mac_ip_conflict: bool,

    /// IPv4 identification of the previous packet, for "consecutive duplicate IP ID".
    pub(crate) last_ip_id: Option<u16>,
    /// A fragmented datagram was started and its last fragment not yet seen.
    pub(crate) frag_pending: bool,

    // Table bookkeeping.
    pub(crate) opposite: u32,
    pub(crate) prev: u32,
    pub(crate) next: u32,
    pub(crate) list: u8,
    /// Sequence number of the packet that last placed it in its list.
    pub(crate) link_seq: u64,
    /// The table's clock at its last packet; its timeout runs from here.
    pub(crate) clock_ns: u64,
    pub(crate) timed_out: bool,
}

impl FlowRecord {
    pub(crate) fn new(key: FlowKey, flow_ind: u64, ts_ns: u64, p: &PacketInfo) -> FlowRecord {
        FlowRecord {
            key,
            flow_ind,
            first_ns: ts_ns,
            last_ns: ts_ns,
            has_mac: p.has_mac,
            src_mac: p.src_mac,
            dst_mac: p.dst_mac,
            vlans: p.vlans,
            n_vlans: p.n_vlans,
            opposite: NIL,
            prev: NIL,
            next: NIL,
            ..FlowRecord::default()
        }
    }

    /// Moves an ended record's contents into `spare` and takes `spare`'s old contents in their
    /// place, keeping the table's bookkeeping (key, links, timeout state) where the table reads
    /// it after reporting the end. A sink that keeps ended records (the `--threads` shards) moves
    /// them out this way instead of cloning them, and recycles its spares.
    pub fn move_out(&mut self, spare: &mut FlowRecord) {
        // Taken before the swap: read back from `spare` just after the swap wrote them, they
        // waited on store forwarding (in a build without LTO, where this function is not
        // inlined: 265 of its samples per run on bench-2m with two threads before, 108 after).
        let kept = (self.key, self.flow_ind, self.is_b, self.opposite, self.prev, self.next);
        let kept_too = (self.list, self.link_seq, self.clock_ns, self.timed_out, self.frag_pending);
        std::mem::swap(self, spare);
        (self.key, self.flow_ind, self.is_b, self.opposite, self.prev, self.next) = kept;
        (self.list, self.link_seq, self.clock_ns, self.timed_out, self.frag_pending) = kept_too;
    }

    pub fn duration_ns(&self) -> u64 {
        self.last_ns.saturating_sub(self.first_ns)
    }

    /// Feature updates for one packet of this direction.
    #[inline]
    /// `opp` is the opposite direction's record, if seen (the tcpFlags plugin reads and updates it).
    pub(crate) fn update(&mut self, ts_ns: u64, p: &PacketInfo, opp: Option<&mut FlowRecord>) {
        if ts_ns > self.last_ns {
            self.last_ns = ts_ns;
        }
        if ts_ns < self.first_ns {
            self.first_ns = ts_ns;
        }
        self.stat |= p.flow_stat;
        self.hdrs.record(&p.hdr);
        if p.has_mac {
            self.macs.record(&p.src_mac, &p.dst_mac);
        }
        self.stats.update(ts_ns, p.l7_len, p.pad_len);
        self.first_payload.update(p);
        self.mac_ip_conflict |= p.mac_ip_conflict;
        self.tcpf.update(ts_ns, p, self.stats.pkts, opp.map(|o| &mut o.tcpf));
        if p.l4_proto == 1 || p.l4_proto == 58 {
            self.icmp.update(p);
        }
        if p.l3 == netanom_wire::L3::None {
            arp_decode::update(&mut self.arp, p);
        }
    }
}

/// The record at `slot` and, unless `other` is [`NIL`], the one at `other` (a different slot),
/// both mutable.
pub(crate) fn pair_mut(recs: &mut [FlowRecord], slot: u32, other: u32) -> (&mut FlowRecord, Option<&mut FlowRecord>) {
    let (s, o) = (slot as usize, other as usize);
    if other == NIL || o == s || o >= recs.len() {
        return (&mut recs[s], None);
    }
    if s < o {
        let (lo, hi) = recs.split_at_mut(o);
        (&mut lo[s], Some(&mut hi[0]))
    } else {
        let (lo, hi) = recs.split_at_mut(s);
        (&mut hi[0], Some(&mut lo[o]))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn record_fits_the_memory_budget() {
        // The budget is 1 KiB of flow state per live flow, table overhead included
        // (slab slot + hash entry ≈ record + 48 bytes).
        let size = std::mem::size_of::<super::FlowRecord>();
        eprintln!("FlowRecord: {size} bytes");
        assert!(size + 64 <= 1024, "FlowRecord is {size} bytes");
    }
}
