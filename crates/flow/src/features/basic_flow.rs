//! basicFlow: identity of the flow (direction, index, status, times, headers, addresses, ports).

use netanom_wire::{HdrDesc, L3};

use crate::features::mac_recorder::{MacPair, MacPairs};
use crate::key::shown_ports;
use crate::labels::geo;
use crate::record::FlowRecord;
use crate::schema::{write_mac, Column, IpText, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[
    Column::new("dir", "C", Kind::Char, "Flow direction"),
    Column::new("flowInd", "U64", Kind::UInt, "Flow index"),
    Column::new("flowStat", "H64", Kind::Hex(16), "Flow status and warnings"),
    Column::new("timeFirst", "U64.U32", Kind::Timestamp, "Date time of first packet"),
    Column::new("timeLast", "U64.U32", Kind::Timestamp, "Date time of last packet"),
    Column::new("duration", "U64.U32", Kind::Duration, "Flow duration"),
    Column::new("numHdrDesc", "U8", Kind::UInt, "Number of different headers descriptions"),
    Column::new("numHdrs", "U16:R", Kind::Text, "Number of headers (depth) in hdrDesc"),
    Column::new("hdrDesc", "SC:R", Kind::Text, "Headers description"),
    Column::new("srcMac", "MAC:R", Kind::Text, "Mac source"),
    Column::new("dstMac", "MAC:R", Kind::Text, "Mac destination"),
    Column::new("ethType", "H16", Kind::Hex(4), "Ethernet type"),
    Column::new("vlanID", "U16:R", Kind::Text, "VLAN IDs"),
    Column::new("srcIP", "IPX", Kind::Ip, "Source IP address"),
    Column::new("srcIPCC", "SC", Kind::ShortStr, "Source IP country"),
    Column::new("srcIPOrg", "S", Kind::Str, "Source IP organization"),
    Column::new("srcPort", "U16", Kind::UInt, "Source port"),
    Column::new("dstIP", "IPX", Kind::Ip, "Destination IP address"),
    Column::new("dstIPCC", "SC", Kind::ShortStr, "Destination IP country"),
    Column::new("dstIPOrg", "S", Kind::Str, "Destination IP organization"),
    Column::new("dstPort", "U16", Kind::UInt, "Destination port"),
    Column::new("l4Proto", "U8", Kind::UInt, "Layer 4 protocol"),
];

/// Most distinct header descriptions kept per flow; more are counted but not listed.
pub const MAX_HDR_DESC: usize = 8;

/// The distinct header descriptions of a flow in order of appearance. The first is inline because
/// almost every flow has exactly one.
#[derive(Debug, Clone, Default)]
pub struct HdrDescs {
    first: HdrDesc,
    more: Vec<HdrDesc>,
    count: u8,
}

impl HdrDescs {
    #[inline]
    pub fn record(&mut self, h: &HdrDesc) {
        if self.count == 0 {
            self.first = *h;
            self.count = 1;
        } else if self.first != *h && !self.more.contains(h) {
            if self.more.len() + 1 < MAX_HDR_DESC {
                self.more.push(*h);
            }
            self.count = self.count.saturating_add(1);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &HdrDesc> {
        std::iter::once(&self.first).take(self.count.min(1) as usize).chain(self.more.iter())
    }

    pub fn count(&self) -> u8 {
        self.count
    }
}

fn write_distinct(o: &mut dyn std::fmt::Write, pairs: &MacPairs, side: fn(&MacPair) -> &[u8; 6]) -> std::fmt::Result {
    for (i, p) in pairs.iter().enumerate() {
        let m = side(p);
        if pairs.iter().take(i).any(|e| side(e) == m) {
            continue;
        }
        if i > 0 {
            o.write_char(';')?;
        }
        write_mac(o, m)?;
    }
    Ok(())
}

fn ip_text(l3: L3, a: &[u8; 16]) -> IpText {
    match l3 {
        L3::Ipv4 => IpText::V4([a[0], a[1], a[2], a[3]]),
        L3::Ipv6 => IpText::V6(*a),
        L3::None => IpText::None,
    }
}

pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    let k = &rec.key;
    w.char(if rec.is_b { 'B' } else { 'A' });
    w.uint(rec.flow_ind);
    w.hex(rec.stat, 16);
    w.timestamp(rec.first_ns);
    w.timestamp(rec.last_ns);
    w.duration(rec.duration_ns());
    w.uint(rec.hdrs.count() as u64);
    w.text(&|o| {
        for (i, h) in rec.hdrs.iter().enumerate() {
            if i > 0 {
                o.write_char(';')?;
            }
            o.write_str(itoa::Buffer::new().format(h.depth()))?;
        }
        Ok(())
    });
    w.text(&|o| {
        for (i, h) in rec.hdrs.iter().enumerate() {
            if i > 0 {
                o.write_char(';')?;
            }
            write!(o, "{h}")?;
        }
        Ok(())
    });
    if rec.has_mac {
        // Every distinct address seen, in order of appearance (a flow can cross routers or be
        // captured on both sides of one).
        w.text(&|o| write_distinct(o, &rec.macs, |p| &p.src));
        w.text(&|o| write_distinct(o, &rec.macs, |p| &p.dst));
    } else {
        w.empty();
        w.empty();
    }
    w.hex(k.eth_type as u64, 4);
    if rec.n_vlans == 0 {
        w.empty();
    } else {
        w.text(&|o| {
            for (i, v) in rec.vlans[..rec.n_vlans as usize].iter().enumerate() {
                if i > 0 {
                    o.write_char(';')?;
                }
                o.write_str(itoa::Buffer::new().format(*v))?;
            }
            Ok(())
        });
    }
    let src = ip_text(k.l3, &k.src);
    let dst = ip_text(k.l3, &k.dst);
    let (scc, sorg) = geo::label(&src);
    let (dcc, dorg) = geo::label(&dst);
    w.ip(&src);
    w.short_str(scc);
    w.str(sorg);
    let (sport, dport) = shown_ports(k);
    w.uint(sport as u64);
    w.ip(&dst);
    w.short_str(dcc);
    w.str(dorg);
    w.uint(dport as u64);
    w.uint(k.l4_proto as u64);
}
