//! `--threads N`: the flow table split into N shards by a hash of each packet's address pair,
//! with output identical to the single-threaded table.
//!
//! One thread reads and dissects, and hands each shard its packets in batches together with the
//! timestamps of *every* packet of the batch, so that each shard's clock (which drives the
//! timeouts) follows the whole input and its flows end at exactly the packet where they would
//! end in one table. A merging thread puts the shards' ended conversations back into the
//! single-threaded order (by the packet at which they ended, then by [`Ending`]) and renumbers
//! them in creation order, then hands them to the sink.
//!
//! Shards hash the address pair, not the ports, so that an IP fragment (which has no ports)
//! meets its first fragment. Two things differ from one table, by design: a full table evicts
//! the oldest flow of its own shard (each shard holds `max_flows / N`), and the peak table size in
//! the report is the sum of the shards' peaks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use netanom_flow::features::conn_stat::{packet_source, ConnKey, ConnStat, IpKey};
use netanom_flow::features::tcp_flags::ws::WsState;
use netanom_flow::{EndReason, Ending, FlowMeter, FlowRecord, FlowSink, MeterConfig, MeterCounters};
use netanom_wire::{PacketInfo, L3};

/// Packets per batch: large enough that channel traffic is negligible, small enough that the
/// shards and the merger work concurrently.
const BATCH: usize = 1024;
/// Batches in flight per shard (bounds memory; a slow merger slows the reader down).
const IN_FLIGHT: usize = 8;

/// What the reader sends a shard.
pub(crate) struct Batch {
    first_seq: u64,
    /// Timestamps of all packets of the batch, whichever shard they belong to.
    ts: Vec<u64>,
    /// This shard's packets: index in the batch, dissected packet.
    mine: Vec<(u32, PacketInfo)>,
}

impl Batch {
    fn new() -> Batch {
        Batch { first_seq: 0, ts: Vec::with_capacity(BATCH), mine: Vec::with_capacity(BATCH) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    /// Ended by the clock reaching the packet's time (before the packet is accounted).
    Expire,
    /// Ended while the packet itself was accounted (active timeout, eviction).
    Packet,
}

struct Ended {
    seq: u64,
    phase: Phase,
    how: Ending,
    a: FlowRecord,
    b: Option<FlowRecord>,
}

impl Ended {
    /// Position in the single-threaded output.
    fn order(&self) -> (u64, Phase, u64, u8, u64, u64) {
        match (self.phase, self.how.reason) {
            (_, EndReason::Flushed) => (u64::MAX, Phase::Expire, self.how.link_seq, 0, 0, 0),
            // Timed-out flows end in order of their last packet (one packet per sequence number).
            (Phase::Expire, _) => (self.seq, self.phase, self.how.link_seq, 0, 0, 0),
            // Only the shard that owns the packet ends flows in this phase: keep its order.
            (Phase::Packet, _) => (self.seq, self.phase, 0, 0, 0, 0),
        }
    }
}

/// What the connStat stage needs to see in input order besides the ends: record creations and
/// packets, each at the sequence number of its packet (a creation goes before its packet).
#[derive(Debug, Clone, Copy)]
enum ConnEvent {
    Created(ConnKey),
    Packet(IpKey, u32),
}

/// What a shard sends back for one batch (or, last, for the end of input).
struct ShardResult {
    /// Provisional numbers of the conversations created, in order.
    created: Vec<u64>,
    ended: Vec<Ended>,
    /// In order of sequence number.
    events: Vec<(u64, ConnEvent)>,
    /// Only in the last result.
    counters: Option<MeterCounters>,
}

struct ShardSink {
    seq: u64,
    phase: Phase,
    ended: Vec<Ended>,
    events: Vec<(u64, ConnEvent)>,
}

impl FlowSink for ShardSink {
    fn flow(&mut self, _first: &FlowRecord, _second: Option<&FlowRecord>) {
        unreachable!("the meter reports ends through flow_ended")
    }
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.ended.push(Ended { seq: self.seq, phase: self.phase, how: *how, a: first.clone(), b: second.cloned() });
    }
    fn flow_created(&mut self, rec: &FlowRecord) {
        if let Some(k) = ConnKey::of(rec) {
            self.events.push((self.seq, ConnEvent::Created(k)));
        }
    }
}

/// Which shard a packet belongs to: a hash of its (unordered) address pair, so both directions
/// and all fragments of a datagram land in the same shard.
pub(crate) fn shard_of(p: &PacketInfo, shards: usize) -> usize {
    let (a, b): (&[u8], &[u8]) = match p.l3 {
        L3::None => (&p.src_mac, &p.dst_mac),
        _ => (&p.src_ip, &p.dst_ip),
    };
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in lo.iter().chain(hi) {
        h = (h ^ x as u64).wrapping_mul(0x0000_0100_0000_01b3);
    }
    ((h ^ (h >> 29)) % shards as u64) as usize
}

/// The reader's side: fills batches and sends them; `push` is the per-packet call.
pub(crate) struct Dispatcher {
    to_shards: Vec<SyncSender<Batch>>,
    spare: Receiver<Batch>,
    open: Vec<Batch>,
    next_seq: u64,
    in_batch: usize,
}

impl Dispatcher {
    /// Accounts one packet: its timestamp goes to every shard, the packet to its own.
    #[inline]
    pub(crate) fn push(&mut self, ts_ns: u64, p: &PacketInfo) {
        let shard = shard_of(p, self.open.len());
        let idx = self.in_batch as u32;
        for b in &mut self.open {
            b.ts.push(ts_ns);
        }
        self.open[shard].mine.push((idx, p.clone()));
        self.in_batch += 1;
        if self.in_batch == BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.in_batch == 0 {
            return;
        }
        for (i, tx) in self.to_shards.iter().enumerate() {
            let fresh = self.spare.try_recv().unwrap_or_else(|_| Batch::new());
            let mut b = std::mem::replace(&mut self.open[i], fresh);
            b.first_seq = self.next_seq;
            // A shard that went away has failed; the merger reports it.
            let _ = tx.send(b);
        }
        self.next_seq += self.in_batch as u64;
        self.in_batch = 0;
    }

    /// Sends what is left and closes the shards' inputs.
    pub(crate) fn finish(mut self) {
        self.flush();
        self.to_shards.clear();
    }
}

fn shard_main(cfg: MeterConfig, input: Receiver<Batch>, output: SyncSender<ShardResult>, spare: SyncSender<Batch>) {
    let mut meter = FlowMeter::new_shard(cfg);
    let mut sink = ShardSink { seq: 0, phase: Phase::Expire, ended: Vec::new(), events: Vec::new() };
    for mut batch in input {
        let mut created = Vec::new();
        let mut mine = batch.mine.iter().peekable();
        for (j, &ts) in batch.ts.iter().enumerate() {
            let seq = batch.first_seq + j as u64;
            sink.seq = seq;
            sink.phase = Phase::Expire;
            meter.expire_seq(seq, ts, &mut sink);
            if let Some((_, p)) = mine.next_if(|(i, _)| *i as usize == j) {
                sink.phase = Phase::Packet;
                if meter.packet_seq(seq, ts, p, &mut sink) {
                    created.push(seq + 1);
                }
                if let Some(src) = packet_source(p) {
                    sink.events.push((seq, ConnEvent::Packet(src, p.l7_len)));
                }
            }
        }
        batch.ts.clear();
        batch.mine.clear();
        let result = ShardResult {
            created,
            ended: std::mem::take(&mut sink.ended),
            events: std::mem::take(&mut sink.events),
            counters: None,
        };
        if output.send(result).is_err() {
            return;
        }
        let _ = spare.try_send(batch);
    }
    sink.seq = u64::MAX;
    meter.finish(&mut sink);
    let last = ShardResult {
        created: Vec::new(),
        ended: std::mem::take(&mut sink.ended),
        events: Vec::new(),
        counters: Some(meter.counters().clone()),
    };
    let _ = output.send(last);
}

/// Puts the shards' results back in single-threaded order; returns the shards' counters added up.
fn merge_main(
    results: Vec<Receiver<ShardResult>>,
    sink: &mut (dyn FlowSink + Send),
    closed: &AtomicBool,
) -> MeterCounters {
    let mut dense: HashMap<u64, u64> = HashMap::new();
    let mut next_ind = 0u64;
    let mut total = MeterCounters::default();
    let mut done = vec![false; results.len()];
    let mut created = Vec::new();
    let mut ended = Vec::new();
    let mut events: Vec<(u64, ConnEvent)> = Vec::new();
    // The stages that need the global order of creations, packets and ends run here (connStat,
    // tcpWS).
    let mut conn = ConnStat::new();
    let mut ws = WsState::default();
    while done.iter().any(|d| !d) {
        created.clear();
        ended.clear();
        events.clear();
        for (i, rx) in results.iter().enumerate() {
            if done[i] {
                continue;
            }
            // Every shard sends one result per batch, in batch order, then its last one.
            let Ok(r) = rx.recv() else {
                done[i] = true;
                continue;
            };
            created.extend_from_slice(&r.created);
            ended.extend(r.ended);
            events.extend_from_slice(&r.events);
            if let Some(c) = r.counters {
                add(&mut total, &c);
                done[i] = true;
            }
        }
        created.sort_unstable();
        for &prov in &created {
            next_ind += 1;
            dense.insert(prov, next_ind);
        }
        ended.sort_by_key(Ended::order);
        // A packet belongs to one shard, so sequence numbers do not tie across shards.
        events.sort_by_key(|&(seq, _)| seq);
        let mut next_event = events.iter().peekable();
        let mut apply = |conn: &mut ConnStat, before: u64| {
            while let Some((_, ev)) = next_event.next_if(|(seq, _)| *seq < before) {
                match ev {
                    ConnEvent::Created(k) => conn.created(k),
                    ConnEvent::Packet(src, len) => conn.packet(*src, *len),
                }
            }
        };
        for mut e in ended.drain(..) {
            // Flows that end at a packet end before it is accounted.
            apply(&mut conn, e.seq);
            conn.ended(&mut e.a);
            if let Some(b) = e.b.as_mut() {
                conn.ended(b);
            }
            ws.ended(&mut e.a, e.b.as_mut());
            let ind = dense.remove(&e.a.flow_ind).unwrap_or(e.a.flow_ind);
            e.a.flow_ind = ind;
            if let Some(b) = e.b.as_mut() {
                b.flow_ind = ind;
            }
            if !closed.load(Ordering::Relaxed) {
                sink.flow_ended_mut(&mut e.a, e.b.as_mut(), &e.how);
                if sink.is_closed() {
                    closed.store(true, Ordering::Relaxed);
                }
            }
        }
        apply(&mut conn, u64::MAX);
    }
    total
}

fn add(t: &mut MeterCounters, c: &MeterCounters) {
    t.packets += c.packets;
    t.flows_a += c.flows_a;
    t.flows_b += c.flows_b;
    t.ended_by_timeout += c.ended_by_timeout;
    t.evicted += c.evicted;
    t.ended_by_active_timeout += c.ended_by_active_timeout;
    t.flushed_at_end += c.flushed_at_end;
    t.orphan_fragments += c.orphan_fragments;
    t.peak_flows += c.peak_flows;
}

/// Runs `read` (which feeds the dispatcher) with `shards` flow-table threads and a merging thread
/// that feeds `sink`; returns what `read` returned and the added-up counters.
pub(crate) fn with_shards<R>(
    cfg: &MeterConfig,
    shards: usize,
    sink: &mut (dyn FlowSink + Send),
    read: impl FnOnce(&mut Dispatcher, &AtomicBool) -> R,
) -> (R, MeterCounters) {
    let closed = AtomicBool::new(false);
    let shard_cfg = MeterConfig { max_flows: (cfg.max_flows / shards).max(2), ..cfg.clone() };
    std::thread::scope(|s| {
        let (spare_tx, spare_rx) = sync_channel(shards * IN_FLIGHT);
        let mut to_shards = Vec::new();
        let mut results = Vec::new();
        for _ in 0..shards {
            let (tx, rx) = sync_channel::<Batch>(IN_FLIGHT);
            let (rtx, rrx) = sync_channel::<ShardResult>(IN_FLIGHT);
            let (cfg, spare) = (shard_cfg.clone(), spare_tx.clone());
            s.spawn(move || shard_main(cfg, rx, rtx, spare));
            to_shards.push(tx);
            results.push(rrx);
        }
        drop(spare_tx);
        let closed_ref = &closed;
        let merger = s.spawn(move || merge_main(results, sink, closed_ref));
        let mut d = Dispatcher {
            open: (0..shards).map(|_| Batch::new()).collect(),
            to_shards,
            spare: spare_rx,
            next_seq: 0,
            in_batch: 0,
        };
        let r = read(&mut d, &closed);
        d.finish();
        let counters = match merger.join() {
            Ok(c) => c,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        (r, counters)
    })
}
