//! connStat: how many connections a flow's hosts had open when it ended (reference §2.9).
//!
//! The counts are live: every record (A and B) adds itself when it is created and removes itself
//! when it ends, after reading the counts. The values therefore depend on the global order of
//! creations, packets and terminations, which a shard of a sharded table does not see; so this is
//! not a per-record feature but a stage, [`ConnStat`], fed that order by whoever knows it (the
//! single-threaded run loop, or the merger of the sharded one). It fills [`ConnCounts`] into each
//! ended record before the record goes on to the output (and to later stages, e.g. labels).

use hashbrown::HashMap;
use netanom_wire::{PacketInfo, L3};

use crate::key::shown_ports;
use crate::meter::{Ending, FlowSink};
use crate::record::FlowRecord;
use crate::schema::{Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[
    Column::new("connSip", "U32", Kind::UInt, "Number of unique source IPs"),
    Column::new("connDip", "U32", Kind::UInt, "Number of unique destination IPs"),
    Column::new("connSipDip", "U32", Kind::UInt, "Number of connections between source and destination IP"),
    Column::new("connSipDprt", "U32", Kind::UInt, "Number of connections between source IP and destination port"),
    Column::new("connF", "F", Kind::Float, "The 'f' number: connSipDprt / connSip [EXPERIMENTAL]"),
    Column::new("connG", "F", Kind::Float, "The 'g' number: connSipDprt / connSipDip [EXPERIMENTAL]"),
    Column::new("connNumPCnt", "U64", Kind::UInt, "Number of unique IP's source packet count"),
    Column::new("connNumBCnt", "U64", Kind::UInt, "Number of unique IP's source byte count"),
];

/// The values read when the record ended (all zero for flows without IP).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnCounts {
    pub sip: u32,
    pub dip: u32,
    pub sip_dip: u32,
    pub sip_dprt: u32,
    pub pkts: u64,
    pub bytes: u64,
}

/// An IP address with its family, as a table key.
pub type IpKey = (bool, [u8; 16]);

/// What connStat needs to know about a record: its addresses and service port, oriented from
/// the initiator to the responder (a record of the inverted direction is swapped back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnKey {
    pub v6: bool,
    pub initiator: [u8; 16],
    pub responder: [u8; 16],
    pub service_port: u16,
}

impl ConnKey {
    /// None for flows without IP, which connStat leaves out.
    pub fn of(rec: &FlowRecord) -> Option<ConnKey> {
        let k = &rec.key;
        let v6 = match k.l3 {
            L3::None => return None,
            L3::Ipv4 => false,
            L3::Ipv6 => true,
        };
        let (sport, dport) = shown_ports(k);
        Some(if rec.inverted {
            ConnKey { v6, initiator: k.dst, responder: k.src, service_port: sport }
        } else {
            ConnKey { v6, initiator: k.src, responder: k.dst, service_port: dport }
        })
    }

    fn pair(&self) -> (bool, [u8; 16], [u8; 16]) {
        (self.v6, self.initiator, self.responder)
    }

    fn port(&self) -> (bool, [u8; 16], u16) {
        (self.v6, self.initiator, self.service_port)
    }
}

/// The source of a packet, for the per-host packet and byte totals (None without IP).
#[inline]
pub fn packet_source(p: &PacketInfo) -> Option<IpKey> {
    match p.l3 {
        L3::None => None,
        l3 => Some((l3 == L3::Ipv6, p.src_ip)),
    }
}

/// Most hosts whose packet and byte totals are kept; packets of further hosts are not counted
/// (and counted in [`ConnStat::untracked_packets`]), so that a capture of random sources cannot
/// exhaust memory. The live tables need no bound: their entries are removed with the flows, and
/// the flow table is bounded.
pub const MAX_HOSTS: usize = 1 << 22;

/// The connStat stage: live counts of connections per host, host pair and (host, service port),
/// and running packet and byte totals per source host.
#[derive(Default)]
pub struct ConnStat {
    /// Live records per (initiator, responder).
    pairs: HashMap<(bool, [u8; 16], [u8; 16]), u32>,
    /// Live records per (initiator, responder port).
    ports: HashMap<(bool, [u8; 16], u16), u32>,
    /// Distinct responders per initiator, distinct initiators per responder (counting pairs).
    fan_out: HashMap<IpKey, u32>,
    fan_in: HashMap<IpKey, u32>,
    /// (packets, bytes) sent per host since the start; never decreases.
    sent: HashMap<IpKey, (u64, u64)>,
    /// Packets not counted because `sent` was full.
    pub untracked_packets: u64,
}

fn inc<K: std::hash::Hash + Eq>(m: &mut HashMap<K, u32>, k: K) -> bool {
    let v = m.entry(k).or_insert(0);
    *v += 1;
    *v == 1
}

/// Decrements; true when the entry went away.
fn dec<K: std::hash::Hash + Eq>(m: &mut HashMap<K, u32>, k: &K) -> bool {
    match m.get_mut(k) {
        Some(v) if *v > 1 => {
            *v -= 1;
            false
        }
        Some(_) => {
            m.remove(k);
            true
        }
        None => false,
    }
}

impl ConnStat {
    pub fn new() -> ConnStat {
        ConnStat::default()
    }

    /// A packet was accounted (after the flows that ended before it and the record it created).
    #[inline]
    pub fn packet(&mut self, src: IpKey, l7_len: u32) {
        let n = self.sent.len();
        let e = match self.sent.get_mut(&src) {
            Some(e) => e,
            None if n < MAX_HOSTS => self.sent.entry(src).or_default(),
            None => {
                self.untracked_packets += 1;
                return;
            }
        };
        e.0 += 1;
        e.1 += l7_len as u64;
    }

    /// A record (either direction) was created.
    pub fn created(&mut self, k: &ConnKey) {
        if inc(&mut self.pairs, k.pair()) {
            inc(&mut self.fan_out, (k.v6, k.initiator));
            inc(&mut self.fan_in, (k.v6, k.responder));
        }
        inc(&mut self.ports, k.port());
    }

    /// A record ended: reads its counts into it, then removes it from the live counts. Call for
    /// the A record of a pair first, as Tranalyzer2 terminates them in that order.
    pub fn ended(&mut self, rec: &mut FlowRecord) {
        let Some(k) = ConnKey::of(rec) else {
            rec.conn = ConnCounts::default();
            return;
        };
        let src = (k.v6, rec.key.src);
        let (pkts, bytes) = self.sent.get(&src).copied().unwrap_or((0, 0));
        let fan_out = self.fan_out.get(&(k.v6, k.initiator)).copied().unwrap_or(0);
        let fan_in = self.fan_in.get(&(k.v6, k.responder)).copied().unwrap_or(0);
        // The counts are kept from the initiator's side but read from the row's: the source of
        // a reply row is the responder, whose count is its distinct initiators.
        let (sip, dip) = if rec.inverted { (fan_in, fan_out) } else { (fan_out, fan_in) };
        rec.conn = ConnCounts {
            sip,
            dip,
            sip_dip: self.pairs.get(&k.pair()).copied().unwrap_or(0),
            sip_dprt: self.ports.get(&k.port()).copied().unwrap_or(0),
            pkts,
            bytes,
        };
        if dec(&mut self.pairs, &k.pair()) {
            dec(&mut self.fan_out, &(k.v6, k.initiator));
            dec(&mut self.fan_in, &(k.v6, k.responder));
        }
        dec(&mut self.ports, &k.port());
    }
}

/// The stage as a sink between the meter and the output, for the single-threaded table: it sees
/// creations and ends in the table's order; the caller adds each packet after the meter took it.
pub struct ConnStage<'a> {
    pub stat: ConnStat,
    pub inner: &'a mut dyn FlowSink,
}

impl<'a> ConnStage<'a> {
    pub fn new(inner: &'a mut dyn FlowSink) -> ConnStage<'a> {
        ConnStage { stat: ConnStat::new(), inner }
    }

    /// Call after [`FlowMeter::packet`](crate::FlowMeter::packet) accounted `p`.
    #[inline]
    pub fn packet(&mut self, p: &PacketInfo) {
        if let Some(src) = packet_source(p) {
            self.stat.packet(src, p.l7_len);
        }
    }
}

impl FlowSink for ConnStage<'_> {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self.inner.flow(first, second)
    }
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.inner.flow_ended(first, second, how)
    }
    fn flow_ended_mut(&mut self, first: &mut FlowRecord, mut second: Option<&mut FlowRecord>, how: &Ending) {
        self.stat.ended(first);
        if let Some(b) = second.as_deref_mut() {
            self.stat.ended(b);
        }
        self.inner.flow_ended_mut(first, second, how)
    }
    fn flow_created(&mut self, rec: &FlowRecord) {
        if let Some(k) = ConnKey::of(rec) {
            self.stat.created(&k);
        }
        self.inner.flow_created(rec)
    }
    fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }
}

pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    let c = &rec.conn;
    w.uint(c.sip as u64);
    w.uint(c.dip as u64);
    w.uint(c.sip_dip as u64);
    w.uint(c.sip_dprt as u64);
    let ratio = |a: u32, b: u32| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    w.float(ratio(c.sip_dprt, c.sip));
    w.float(ratio(c.sip_dprt, c.sip_dip));
    w.uint(c.pkts);
    w.uint(c.bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::FlowKey;

    fn rec(src: u8, dst: u8, dport: u16, inverted: bool) -> FlowRecord {
        let mut k = FlowKey { l3: L3::Ipv4, l4_proto: 17, dst_port: dport, src_port: 5000, ..FlowKey::default() };
        k.src[0] = src;
        k.dst[0] = dst;
        FlowRecord { key: k, inverted, ..FlowRecord::default() }
    }

    #[test]
    fn live_counts_read_then_removed() {
        let mut cs = ConnStat::new();
        let mut a = rec(1, 2, 53, false);
        let mut b = FlowRecord { key: a.key.reversed(), inverted: true, ..FlowRecord::default() };
        let mut c = rec(1, 3, 53, false);
        for r in [&a, &b, &c] {
            cs.created(&ConnKey::of(r).unwrap());
        }
        cs.packet((false, a.key.src), 10);
        cs.packet((false, a.key.src), 20);
        cs.ended(&mut a);
        assert_eq!(a.conn, ConnCounts { sip: 2, dip: 1, sip_dip: 2, sip_dprt: 3, pkts: 2, bytes: 30 });
        cs.ended(&mut b);
        assert_eq!((b.conn.sip, b.conn.dip, b.conn.sip_dip, b.conn.sip_dprt, b.conn.pkts), (1, 2, 1, 2, 0));
        cs.ended(&mut c);
        assert_eq!((c.conn.sip, c.conn.sip_dip, c.conn.sip_dprt), (1, 1, 1));
        assert!(cs.pairs.is_empty() && cs.ports.is_empty() && cs.fan_out.is_empty() && cs.fan_in.is_empty());
    }
}
