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
    /// The record is the responder's direction (its source is the responder).
    pub inverted: bool,
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
            ConnKey { v6, initiator: k.dst, responder: k.src, service_port: sport, inverted: true }
        } else {
            ConnKey { v6, initiator: k.src, responder: k.dst, service_port: dport, inverted: false }
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
/// exhaust memory (responders keep their slot for good, see [`ConnStat`]). The live tables need
/// no bound: their entries are removed with the flows, and the flow table is bounded.
pub const MAX_HOSTS: usize = 1 << 22;

/// What Tranalyzer2 prints as the totals of a host it does not find in its table (a host whose
/// slot was given back while one of its records was still live): the packet count reads 0 and
/// the byte count this constant, in every golden capture where it happens.
pub const MISSING_HOST_TOTALS: (u64, u64) = (0, 4_198_402);

/// The connStat stage: live counts of connections per host, host pair and (host, service port),
/// and running packet and byte totals per source host.
///
/// The totals imitate Tranalyzer2's storage, inferred from its output (`srvloc.pcap`,
/// `teamspeak3.pcap`, `1kxun.pcap`, `amqp.pcap`): they live in slots that are never cleared. A
/// host takes a slot when it is first the source of a record or a packet: as initiator, the slot
/// given back last (or a new one), as responder always a new one. It gives it back when it is
/// no longer the initiator of any live pair, even if it still answers in others; reading a host
/// without a slot gives [`MISSING_HOST_TOTALS`]. So a new initiator continues the totals of the
/// one that left last, and a host that returns after a pause usually gets its own slot back.
#[derive(Default)]
pub struct ConnStat {
    /// Live records per (initiator, responder).
    pairs: HashMap<(bool, [u8; 16], [u8; 16]), u32>,
    /// Live records per (initiator, responder port).
    ports: HashMap<(bool, [u8; 16], u16), u32>,
    /// Distinct responders per initiator, distinct initiators per responder (counting pairs).
    fan_out: HashMap<IpKey, u32>,
    fan_in: HashMap<IpKey, u32>,
    /// The slot of each host that has one.
    host_slot: HashMap<IpKey, u32>,
    /// (packets, bytes) per slot, never cleared.
    slots: Vec<(u64, u64)>,
    /// Slots given back, the last one on top.
    free: Vec<u32>,
    /// Packets not counted because the host table was full.
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
        let slot = match self.host_slot.get(&src) {
            Some(&i) => Some(i),
            None => self.take_slot(src, true),
        };
        match slot.and_then(|i| self.slots.get_mut(i as usize)) {
            Some(e) => {
                e.0 += 1;
                e.1 += l7_len as u64;
            }
            None => self.untracked_packets += 1,
        }
    }

    /// Gives `host` a slot if it has none: the last one given back when `reuse`, else a new one.
    fn take_slot(&mut self, host: IpKey, reuse: bool) -> Option<u32> {
        if let Some(&i) = self.host_slot.get(&host) {
            return Some(i);
        }
        if self.host_slot.len() >= MAX_HOSTS {
            return None;
        }
        let i = match if reuse { self.free.pop() } else { None } {
            Some(i) => i,
            None => {
                self.slots.push((0, 0));
                (self.slots.len() - 1) as u32
            }
        };
        self.host_slot.insert(host, i);
        Some(i)
    }

    /// A record (either direction) was created.
    pub fn created(&mut self, k: &ConnKey) {
        if inc(&mut self.pairs, k.pair()) {
            inc(&mut self.fan_out, (k.v6, k.initiator));
            inc(&mut self.fan_in, (k.v6, k.responder));
        }
        inc(&mut self.ports, k.port());
        if k.inverted {
            self.take_slot((k.v6, k.responder), false);
        } else {
            self.take_slot((k.v6, k.initiator), true);
        }
    }

    /// A record ended: reads its counts into it, then removes it from the live counts. Call for
    /// the A record of a pair first, as Tranalyzer2 terminates them in that order.
    pub fn ended(&mut self, rec: &mut FlowRecord) {
        let Some(k) = ConnKey::of(rec) else {
            rec.conn = ConnCounts::default();
            return;
        };
        let src = (k.v6, rec.key.src);
        let slot = self.host_slot.get(&src).and_then(|&i| self.slots.get(i as usize));
        let (pkts, bytes) = slot.copied().unwrap_or(MISSING_HOST_TOTALS);
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
            if dec(&mut self.fan_out, &(k.v6, k.initiator)) {
                if let Some(i) = self.host_slot.remove(&(k.v6, k.initiator)) {
                    self.free.push(i);
                }
            }
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

    #[test]
    fn totals_follow_slots_not_hosts() {
        let mut cs = ConnStat::new();
        // Host 1 sends 3 packets to 9 and leaves; host 2, the next new initiator, continues its
        // totals; host 1 returning gets a slot of its own (a new one: the only freed one is 2's).
        let mut a = rec(1, 9, 427, false);
        cs.created(&ConnKey::of(&a).unwrap());
        for _ in 0..3 {
            cs.packet((false, a.key.src), 10);
        }
        cs.ended(&mut a);
        assert_eq!((a.conn.pkts, a.conn.bytes), (3, 30));
        let mut b = rec(2, 9, 427, false);
        cs.created(&ConnKey::of(&b).unwrap());
        cs.packet((false, b.key.src), 5);
        cs.ended(&mut b);
        assert_eq!((b.conn.pkts, b.conn.bytes), (4, 35), "inherits the freed slot");
        // Two initiators at once: the second gets a new slot, and after both left the last
        // freed one (the second's) is reused first.
        let mut c = rec(3, 9, 427, false);
        let mut d = rec(4, 9, 427, false);
        cs.created(&ConnKey::of(&c).unwrap());
        cs.packet((false, c.key.src), 1);
        cs.created(&ConnKey::of(&d).unwrap());
        cs.packet((false, d.key.src), 1);
        cs.ended(&mut c);
        cs.ended(&mut d);
        assert_eq!((c.conn.pkts, d.conn.pkts), (5, 1));
        let mut e = rec(5, 9, 427, false);
        cs.created(&ConnKey::of(&e).unwrap());
        cs.ended(&mut e);
        assert_eq!(e.conn.pkts, 1, "last freed, first reused");
    }

    #[test]
    fn responders_take_new_slots_and_keep_them() {
        let mut cs = ConnStat::new();
        let mut a = rec(1, 9, 53, false);
        cs.created(&ConnKey::of(&a).unwrap());
        cs.packet((false, a.key.src), 7);
        cs.ended(&mut a);
        // 9 answers 1 in a new conversation: the slot 1 gave back goes to the next initiator,
        // never to a responder.
        let mut q = rec(2, 9, 53, false);
        let mut r = FlowRecord { key: q.key.reversed(), inverted: true, ..FlowRecord::default() };
        cs.created(&ConnKey::of(&q).unwrap());
        cs.created(&ConnKey::of(&r).unwrap());
        cs.packet((false, r.key.src), 100);
        cs.ended(&mut q);
        cs.ended(&mut r);
        assert_eq!((q.conn.pkts, q.conn.bytes), (1, 7));
        assert_eq!((r.conn.pkts, r.conn.bytes), (1, 100));
        assert!(cs.host_slot.contains_key(&(false, r.key.src)), "a responder keeps its slot");
    }

    #[test]
    fn host_without_slot_reads_the_missing_constant() {
        let mut cs = ConnStat::new();
        // 1 -> 2 and 2 -> 1 as two conversations; when 2's own conversation ends, 2 gives its
        // slot back although it still answers in 1's.
        let mut a = rec(1, 2, 80, false);
        let mut ab = FlowRecord { key: a.key.reversed(), inverted: true, ..FlowRecord::default() };
        let mut c = rec(2, 1, 90, false);
        for r in [&a, &ab, &c] {
            cs.created(&ConnKey::of(r).unwrap());
        }
        cs.ended(&mut c);
        cs.ended(&mut a);
        cs.ended(&mut ab);
        assert_eq!((ab.conn.pkts, ab.conn.bytes), MISSING_HOST_TOTALS);
    }
}
