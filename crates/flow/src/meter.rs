//! The flow table proper: lookup, creation with Tranalyzer2's direction rule, timeouts, eviction.
//!
//! Records live in a slab (`Vec<FlowRecord>` plus a free list) indexed by a hash map from
//! [`FlowKey`] to slot. Expiry uses one LRU list per timeout class (idle, and the five TCP states):
//! within a class every record has the same timeout, so the list's tail is always the next to
//! expire and checking for timeouts costs a few comparisons per packet instead of a scan. (A
//! record moved to a class by its peer's packet, whose last packet falls inside the list, waits
//! in the class's sorted set beside it: the next to expire is the older of the two heads.)

use std::collections::BTreeMap;

use hashbrown::HashMap;
use netanom_wire::{flowstat, PacketInfo, L3};

use crate::key::{FlowKey, FragKey};
use crate::record::{pair_mut, FlowRecord, NIL};
use crate::tcp_state::{ConnState, ACK, SYN};

/// `prev` and `next` of a record in its class's sorted set rather than in the list.
const ASIDE: u32 = NIL - 1;

const NS: u64 = 1_000_000_000;
const CLASSES: usize = 6;

/// Why and when a conversation left the table. The fields after `reason` order conversations
/// that end at the same moment: a timed-out conversation ends when its second direction times
/// out (or at the first one, when the other has timed out by then too), and directions time out in
/// order of their last packet (`link_seq`), which is what lets flow tables built in shards be
/// merged into exactly the single-threaded order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ending {
    pub reason: EndReason,
    /// When the direction that ended the pair was due (its last packet + its timeout).
    pub deadline_ns: u64,
    /// Its timeout class (0 idle, then the TCP states).
    pub class: u8,
    /// Sequence number of its last packet (its place in the LRU order).
    pub link_seq: u64,
    /// Sequence number of the packet during whose accounting the conversation ended (`u64::MAX`
    /// when flushed at the end of input): the same with one table or with shards, so that a later
    /// stage can look at exactly the packets a single table had seen by then.
    pub end_seq: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum EndReason {
    /// The idle or a TCP-state timeout (flowStat bit 40 in Tranalyzer2's terms).
    Timeout,
    /// `active_timeout_ns` after its first packet.
    ActiveTimeout,
    /// The table was full (flowStat bit 42).
    Evicted,
    /// End of input.
    Flushed,
}

/// Receives ended flows: the A row's record first, then the B row's when both directions were seen.
pub trait FlowSink {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>);

    /// Like [`FlowSink::flow`], with why the conversation ended; the meter calls this one.
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, _how: &Ending) {
        self.flow(first, second)
    }

    /// What the meter calls: like [`FlowSink::flow_ended`], with the records mutable so that a
    /// stage between the meter and the output (connStat, labels) can fill in its columns.
    fn flow_ended_mut(&mut self, first: &mut FlowRecord, second: Option<&mut FlowRecord>, how: &Ending) {
        self.flow_ended(first, second.map(|s| &*s), how)
    }

    /// A record (either direction) entered the table, after the flows that ended before its
    /// packet were reported.
    fn flow_created(&mut self, _rec: &FlowRecord) {}

    /// True once the sink cannot take more flows (its output failed, e.g. a closed pipe); whoever
    /// feeds the meter may then stop reading early.
    fn is_closed(&self) -> bool {
        false
    }
}

impl<F: FnMut(&FlowRecord, Option<&FlowRecord>)> FlowSink for F {
    fn flow(&mut self, first: &FlowRecord, second: Option<&FlowRecord>) {
        self(first, second)
    }
}

/// Flow table parameters. Defaults are Tranalyzer2's.
#[derive(Debug, Clone)]
pub struct MeterConfig {
    /// Idle timeout after a direction's last packet (default 182 s).
    pub idle_timeout_ns: u64,
    /// End a conversation this long after its first packet even if it is still active (default: none).
    pub active_timeout_ns: Option<u64>,
    /// Most flow records (directions) held at once; when full the least recently active
    /// conversation is ended with flowStat bit 42 (default 2,097,152).
    pub max_flows: usize,
    /// TCP state timeouts: new, established, closing, closed, reset (default 120, 610, 120, 10, 0.1 s).
    pub tcp_timeouts_ns: [u64; 5],
}

impl Default for MeterConfig {
    fn default() -> Self {
        MeterConfig {
            idle_timeout_ns: 182 * NS,
            active_timeout_ns: None,
            max_flows: 1 << 21,
            tcp_timeouts_ns: [120 * NS, 610 * NS, 120 * NS, 10 * NS, NS / 10],
        }
    }
}

/// What the table did, for the end report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct MeterCounters {
    pub packets: u64,
    /// Records created, by printed direction.
    pub flows_a: u64,
    pub flows_b: u64,
    /// Conversations ended by the idle or TCP-state timeouts.
    pub ended_by_timeout: u64,
    /// Conversations ended because the table was full (flowStat bit 42).
    pub evicted: u64,
    /// Conversations cut by the active timeout.
    pub ended_by_active_timeout: u64,
    /// Conversations still open at the end of input and flushed.
    pub flushed_at_end: u64,
    /// Later IP fragments whose first fragment was never seen (flowStat bit 38).
    pub orphan_fragments: u64,
    /// Largest number of records held at once.
    pub peak_flows: u64,
}

/// The bidirectional flow table.
pub struct FlowMeter {
    cfg: MeterConfig,
    timeouts: [u64; CLASSES],
    index: HashMap<FlowKey, u32>,
    frags: HashMap<FragKey, (u32, u64)>,
    recs: Vec<FlowRecord>,
    free: Vec<u32>,
    heads: [u32; CLASSES],
    tails: [u32; CLASSES],
    /// Per class, records relinked by [`FlowMeter::link_sorted`] whose place is inside the
    /// list, by `link_seq`: a class's oldest record is its list's tail or the first of these.
    aside: [BTreeMap<u64, u32>; CLASSES],
    live: usize,
    /// No flow can expire before this time (a lower bound on the earliest deadline), so most
    /// packets skip the scan of the expiry lists.
    next_deadline: u64,
    next_ind: u64,
    /// Sequence number of the packet being accounted (its index in the input).
    seq: u64,
    /// Sequence number of the packet being accounted (see [`Ending::end_seq`]).
    now_seq: u64,
    /// The table's clock: the latest packet time seen. Timeouts run on it rather than on each
    /// flow's own packet times, so that a capture whose timestamps jump backwards does not end
    /// the flows after the jump early (nothing expires until time passes the latest point seen
    /// again, as with Tranalyzer2's LRU list), and so that the expiry order is a function of
    /// each flow and the clock alone.
    clock: u64,
    /// New conversations are numbered by the sequence number of their first packet (plus one)
    /// instead of consecutively: a shard of a larger table numbers them so that the merged
    /// table can renumber them in creation order.
    number_by_seq: bool,
    /// The end-of-input flush under way (see [`FlowMeter::finish_some`]): the pairs left to end,
    /// in order, and how many have been.
    flushing: Option<(Vec<(u64, u32)>, usize)>,
    counters: MeterCounters,
}

fn class_of(state: ConnState) -> usize {
    match state {
        ConnState::None => 0,
        ConnState::New => 1,
        ConnState::Established => 2,
        ConnState::Closing => 3,
        ConnState::Closed => 4,
        ConnState::Reset => 5,
    }
}

/// Tranalyzer2's direction rule for a packet that opens a flow with no reverse flow in the table:
/// it did not initiate the conversation when it comes from a well-known port towards a higher
/// one, from 8080/8081/8088/8089, or is a TCP SYN-ACK; an ICMP message that is not an echo
/// request answers or reports on something else (what Tranalyzer2's output shows).
fn initiated_by_peer(key: &FlowKey, p: &PacketInfo) -> bool {
    match key.l4_proto {
        1 | 58 if p.l4_present => {
            let echo_request = if key.l4_proto == 1 { 8 } else { 128 };
            p.icmp_type != echo_request
        }
        _ => {
            let syn_ack = key.l4_proto == 6 && p.l4_present && p.tcp_flags & (SYN | ACK) == (SYN | ACK);
            (key.src_port < 1024 && key.src_port < key.dst_port) || (key.src_port & 0xfff6) == 8080 || syn_ack
        }
    }
}

impl FlowMeter {
    pub fn new(cfg: MeterConfig) -> FlowMeter {
        let t = cfg.tcp_timeouts_ns;
        FlowMeter {
            timeouts: [cfg.idle_timeout_ns, t[0], t[1], t[2], t[3], t[4]],
            cfg,
            index: HashMap::new(),
            frags: HashMap::new(),
            recs: Vec::new(),
            free: Vec::new(),
            heads: [NIL; CLASSES],
            tails: [NIL; CLASSES],
            aside: Default::default(),
            live: 0,
            next_deadline: u64::MAX,
            next_ind: 0,
            seq: 0,
            now_seq: 0,
            clock: 0,
            number_by_seq: false,
            flushing: None,
            counters: MeterCounters::default(),
        }
    }

    /// A table that holds one shard of a larger one: packets come with their sequence number in
    /// the whole input ([`FlowMeter::packet_seq`]), and conversations are numbered by it.
    pub fn new_shard(cfg: MeterConfig) -> FlowMeter {
        FlowMeter { number_by_seq: true, ..FlowMeter::new(cfg) }
    }

    pub fn counters(&self) -> &MeterCounters {
        &self.counters
    }

    /// Records currently in the table.
    pub fn live_flows(&self) -> usize {
        self.live
    }

    /// Accounts one dissected packet captured at `ts_ns`, first ending whatever has timed out by then.
    pub fn packet(&mut self, ts_ns: u64, p: &PacketInfo, sink: &mut dyn FlowSink) {
        let seq = self.seq + (self.counters.packets > 0) as u64;
        self.packet_seq(seq, ts_ns, p, sink);
    }

    /// [`FlowMeter::packet`] for the packet with sequence number `seq` (increasing); returns
    /// whether it started a new conversation.
    pub fn packet_seq(&mut self, seq: u64, ts_ns: u64, p: &PacketInfo, sink: &mut dyn FlowSink) -> bool {
        self.now_seq = seq;
        self.expire(ts_ns, sink);
        self.seq = seq;
        self.counters.packets += 1;
        let before = self.next_ind;

        let later_fragment = p.is_fragment && p.frag_offset > 0 && p.l3 != L3::None;
        // A later fragment joined to its datagram's flow is no activity for the LRU list:
        // Tranalyzer2 leaves the flow where its first fragment put it (and with that deadline),
        // so a fragmented datagram's flow times out before a later single-packet one
        // (dnscrypt-v1-and-resolver-pings.pcap).
        let mut joined_fragment = false;
        let mut key = FlowKey::from_packet(p);
        let mut extra_stat = 0;
        if later_fragment && p.l3 == L3::Ipv6 {
            // Tranalyzer2 0.9.3 follows only IPv4 fragments to their first fragment's flow; a later
            // IPv6 fragment makes a flow of its own, without ports, flagged as first-fragment
            // missing and pending (nDPI counts it apart as well). Kept for comparability.
            extra_stat |= flowstat::IPV4_FRAG_FIRST_MISSING | flowstat::FRAG_PENDING;
        } else if later_fragment {
            let fk = FragKey::from_packet(p);
            match self.frags.get(&fk) {
                Some(&(slot, ind)) if self.is_live(slot, ind) => {
                    key = self.recs[slot as usize].key;
                    joined_fragment = !self.recs[slot as usize].timed_out;
                }
                _ => {
                    // Without its first fragment the datagram's ports are unknown.
                    key.src_port = 0;
                    key.dst_port = 0;
                    extra_stat |= flowstat::IPV4_FRAG_FIRST_MISSING;
                    self.counters.orphan_fragments += 1;
                }
            }
        }

        let slot = match self.index.get(&key) {
            Some(&s) => {
                let r = &self.recs[s as usize];
                match self.cfg.active_timeout_ns {
                    Some(a) if ts_ns.saturating_sub(r.first_ns) >= a => {
                        self.recs[s as usize].stat |= flowstat::DURATION_LIMIT;
                        self.counters.ended_by_active_timeout += 1;
                        self.end_pair(s, self.ending(EndReason::ActiveTimeout, s), sink);
                        self.create(key, ts_ns, p, sink)
                    }
                    _ => s,
                }
            }
            None => self.create(key, ts_ns, p, sink),
        };

        let opposite = self.recs[slot as usize].opposite;
        let (r, opp) = pair_mut(&mut self.recs, slot, opposite);
        r.stat |= extra_stat;
        r.update(ts_ns, p, opp);
        if !joined_fragment {
            r.clock_ns = self.clock;
        }
        if p.l3 == L3::Ipv4 && !later_fragment {
            // Tranalyzer2 starts comparing IP IDs with the second packet of a direction, so a
            // duplicate of the very first packet goes unflagged, and ID 0 (what many stacks send
            // with DF set) never counts; ours does the same, to stay comparable.
            let id = p.ip_id as u16;
            if id != 0 && r.last_ip_id == Some(id) {
                r.stat |= flowstat::DUP_IPID;
            }
            if r.stats.pkts >= 2 {
                r.last_ip_id = Some(id);
            }
        }
        if p.is_fragment && p.l3 == L3::Ipv4 {
            if p.frag_offset == 0 {
                self.frags.insert(FragKey::from_packet(p), (slot, r.flow_ind));
            }
            r.frag_pending = p.more_fragments;
        }

        let mut changed = false;
        if p.l4_proto == 6 && p.l4_present {
            let side = r.inverted as usize;
            r.tcp_af |= crate::features::tcp_states::on_packet(&r.tcp, p.tcp_flags);
            changed = r.tcp.on_segment(side, p.tcp_flags, p.l7_len, p.tcp_seq, p.tcp_ack);
        }
        let state = r.tcp.state;
        if r.timed_out {
            r.timed_out = false;
            self.link_head(slot, class_of(state));
        } else if !joined_fragment {
            self.unlink(slot);
            self.link_head(slot, class_of(state));
        }
        let opp = self.recs[slot as usize].opposite;
        if changed && opp != NIL {
            let tcp = self.recs[slot as usize].tcp;
            let moved = self.recs[opp as usize].tcp.state != tcp.state;
            self.recs[opp as usize].tcp = tcp;
            if moved && !self.recs[opp as usize].timed_out {
                self.unlink(opp);
                self.link_sorted(opp, class_of(state));
            }
        }
        if self.frags.len() > 2 * self.live + 4096 {
            self.purge_frags();
        }
        self.next_ind != before
    }

    fn ending(&self, reason: EndReason, slot: u32) -> Ending {
        let r = &self.recs[slot as usize];
        let class = r.list;
        let end_seq = if reason == EndReason::Flushed { u64::MAX } else { self.now_seq };
        Ending {
            reason,
            deadline_ns: r.clock_ns.saturating_add(self.timeouts[class as usize]),
            class,
            link_seq: r.link_seq,
            end_seq,
        }
    }

    /// Ends every flow still in the table (end of input), and empties it.
    pub fn finish(&mut self, sink: &mut dyn FlowSink) {
        while !self.finish_some(usize::MAX, sink) {}
    }

    /// [`FlowMeter::finish`] a part at a time: ends up to `max` more pairs; true once the table
    /// is empty. A shard hands each part on before making the next, so that a table of a million
    /// flows is not all copied out at once. No packet may come between the calls: the order of
    /// the pairs is fixed by the first.
    pub fn finish_some(&mut self, max: usize, sink: &mut dyn FlowSink) -> bool {
        // Like a timeout of everything: pairs end in the LRU order of their least recently
        // active direction. Sort keys held inline: sorting slots by fields of their records
        // would chase a cache miss per comparison on a big table.
        let (order, done) = self.flushing.get_or_insert_with(|| {
            let recs = &self.recs;
            let mut order: Vec<(u64, u32)> = self
                .index
                .values()
                .filter_map(|&s| {
                    let r = &recs[s as usize];
                    let older = r.opposite != NIL && recs[r.opposite as usize].link_seq < r.link_seq;
                    (!older).then_some((r.link_seq, s))
                })
                .collect();
            order.sort_unstable();
            (order, 0)
        });
        let (order, mut at) = (std::mem::take(order), *done);
        let end = order.len().min(at.saturating_add(max));
        while at < end {
            let s = order[at].1;
            at += 1;
            self.counters.flushed_at_end += 1;
            let how = self.ending(EndReason::Flushed, s);
            self.report_pair(s, how, sink);
        }
        if at < order.len() {
            self.flushing = Some((order, at));
            return false;
        }
        self.flushing = None;
        // Everything ended at once: drop the table wholesale instead of record by record.
        self.index.clear();
        self.frags.clear();
        self.recs.clear();
        self.free.clear();
        self.heads = [NIL; CLASSES];
        self.tails = [NIL; CLASSES];
        self.aside = Default::default();
        self.live = 0;
        self.next_deadline = u64::MAX;
        true
    }

    /// Whether [`FlowMeter::expire`] at `now_ns` would end anything: a shard asks this for each
    /// packet another shard accounts, most of which only move the clock (see
    /// [`FlowMeter::advance_clock`]).
    #[inline]
    pub fn would_expire(&self, now_ns: u64) -> bool {
        self.clock.max(now_ns) > self.next_deadline
    }

    /// Moves the clock to `now_ns` (if later) when [`FlowMeter::would_expire`] says nothing ends.
    #[inline]
    pub fn advance_clock(&mut self, now_ns: u64) {
        self.clock = self.clock.max(now_ns);
    }

    /// [`FlowMeter::expire`] at the packet with sequence number `seq`, for a shard that sees the
    /// times of the packets other shards account.
    pub fn expire_seq(&mut self, seq: u64, now_ns: u64, sink: &mut dyn FlowSink) {
        self.now_seq = seq;
        self.expire(now_ns, sink);
    }

    /// Ends, as timed out, every flow whose deadline is before `now_ns` (the live-capture clock
    /// calls this with wall time when no packets arrive).
    pub fn expire(&mut self, now_ns: u64, sink: &mut dyn FlowSink) {
        self.clock = self.clock.max(now_ns);
        let now_ns = self.clock;
        if now_ns <= self.next_deadline {
            return;
        }
        loop {
            // Tranalyzer2 walks its LRU list from the least recently active flow and ends every
            // one that has timed out: among the timed-out class tails, the one whose last packet
            // is oldest goes first (each class list is in order of recency).
            let mut best: Option<(u64, u32)> = None;
            for c in 0..CLASSES {
                let Some(t) = self.oldest_in(c) else { continue };
                let r = &self.recs[t as usize];
                let deadline = r.clock_ns.saturating_add(self.timeouts[c]);
                if deadline < now_ns && best.is_none_or(|(s, _)| r.link_seq < s) {
                    best = Some((r.link_seq, t));
                }
            }
            let Some((_, slot)) = best else { break };
            self.time_out(slot, sink);
        }
        self.next_deadline = (0..CLASSES)
            .filter_map(|c| Some(self.recs[self.oldest_in(c)? as usize].clock_ns.saturating_add(self.timeouts[c])))
            .min()
            .unwrap_or(u64::MAX);
    }

    fn time_out(&mut self, slot: u32, sink: &mut dyn FlowSink) {
        let how = self.ending(EndReason::Timeout, slot);
        self.unlink(slot);
        self.recs[slot as usize].timed_out = true;
        let opp = self.recs[slot as usize].opposite;
        // Tranalyzer2 walks its LRU list from the oldest flow and, on reaching a direction that
        // has timed out, removes the pair at once if the other direction has timed out by now
        // as well (rather than when the walk reaches it): that decides the order of the rows
        // (and connStat's live counts) when many flows time out at one packet.
        if opp == NIL || self.recs[opp as usize].timed_out || self.deadline_of(opp) < self.clock {
            self.counters.ended_by_timeout += 1;
            self.end_pair(slot, how, sink);
        }
    }

    fn deadline_of(&self, slot: u32) -> u64 {
        let r = &self.recs[slot as usize];
        r.clock_ns.saturating_add(self.timeouts[r.list as usize])
    }

    fn create(&mut self, key: FlowKey, ts_ns: u64, p: &PacketInfo, sink: &mut dyn FlowSink) -> u32 {
        if self.live >= self.cfg.max_flows.max(2) {
            self.evict_oldest(sink);
        }
        let mut rec = FlowRecord::new(key, 0, ts_ns, p);
        rec.clock_ns = self.clock;
        let rev = key.reversed();
        let partner = if rev != key { self.index.get(&rev).copied() } else { None };
        if let Some(o) = partner {
            let other = &mut self.recs[o as usize];
            rec.flow_ind = other.flow_ind;
            rec.inverted = !other.inverted;
            rec.opposite = o;
            rec.tcp = other.tcp;
            // With both directions seen, the inverted one is printed as B.
            rec.is_b = rec.inverted;
            other.is_b = other.inverted;
        } else {
            self.next_ind += 1;
            rec.flow_ind = if self.number_by_seq { self.seq + 1 } else { self.next_ind };
            rec.inverted = initiated_by_peer(&key, p);
        }
        if rec.inverted {
            rec.stat |= flowstat::INVERTED;
        }
        if key.l4_proto == 6 && key.is_self_reverse() {
            rec.stat |= flowstat::LAND_ATTACK;
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.recs[s as usize] = rec;
                s
            }
            None => {
                self.recs.push(rec);
                (self.recs.len() - 1) as u32
            }
        };
        if let Some(o) = partner {
            self.recs[o as usize].opposite = slot;
        }
        self.index.insert(key, slot);
        sink.flow_created(&self.recs[slot as usize]);
        self.live += 1;
        self.counters.peak_flows = self.counters.peak_flows.max(self.live as u64);
        // Every record starts in the idle class; the caller relinks it after the packet's update.
        self.link_head(slot, 0);
        slot
    }

    fn evict_oldest(&mut self, sink: &mut dyn FlowSink) {
        let mut oldest: Option<(u64, u32)> = None;
        for c in 0..CLASSES {
            if let Some(t) = self.oldest_in(c) {
                let last = self.recs[t as usize].clock_ns;
                if oldest.is_none_or(|(l, _)| last < l) {
                    oldest = Some((last, t));
                }
            }
        }
        if let Some((_, slot)) = oldest {
            self.recs[slot as usize].stat |= flowstat::AUTOPILOT;
            let opp = self.recs[slot as usize].opposite;
            if opp != NIL {
                self.recs[opp as usize].stat |= flowstat::AUTOPILOT;
            }
            self.counters.evicted += 1;
            self.end_pair(slot, self.ending(EndReason::Evicted, slot), sink);
        }
    }

    /// Hands the conversation of `slot` to the sink (A row first) and frees both records.
    /// Hands the conversation of `slot` to the sink (A row first) and counts it; the records stay.
    fn report_pair(&mut self, slot: u32, how: Ending, sink: &mut dyn FlowSink) -> (u32, u32) {
        let opp = self.recs[slot as usize].opposite;
        let (first, second) = if opp != NIL && self.recs[slot as usize].is_b { (opp, slot) } else { (slot, opp) };
        for s in [first, second] {
            if s != NIL {
                let r = &mut self.recs[s as usize];
                if r.frag_pending {
                    r.stat |= flowstat::FRAG_PENDING;
                }
                if r.is_b {
                    self.counters.flows_b += 1;
                } else {
                    self.counters.flows_a += 1;
                }
            }
        }
        if second == NIL {
            sink.flow_ended_mut(&mut self.recs[first as usize], None, &how);
        } else if let Ok([a, b]) = self.recs.get_disjoint_mut([first as usize, second as usize]) {
            sink.flow_ended_mut(a, Some(b), &how);
        }
        (first, second)
    }

    /// Hands the conversation of `slot` to the sink and frees both records.
    fn end_pair(&mut self, slot: u32, how: Ending, sink: &mut dyn FlowSink) {
        let (first, second) = self.report_pair(slot, how, sink);
        for s in [first, second] {
            if s != NIL {
                if !self.recs[s as usize].timed_out {
                    self.unlink(s);
                }
                let key = self.recs[s as usize].key;
                self.index.remove(&key);
                let r = &mut self.recs[s as usize];
                r.flow_ind = 0;
                r.opposite = NIL;
                r.timed_out = false;
                // Release the spilled vectors now rather than when the slot is reused.
                r.hdrs = Default::default();
                r.macs = Default::default();
                r.arp = None;
                self.free.push(s);
                self.live -= 1;
            }
        }
    }

    fn is_live(&self, slot: u32, flow_ind: u64) -> bool {
        (slot as usize) < self.recs.len() && self.recs[slot as usize].flow_ind == flow_ind
    }

    fn purge_frags(&mut self) {
        let recs = &self.recs;
        self.frags.retain(|_, (s, ind)| (*s as usize) < recs.len() && recs[*s as usize].flow_ind == *ind);
    }

    /// Puts the record that just received a packet at the head of its class's list: the lists
    /// are in order of recency, as Tranalyzer2's LRU list is, which is also the order of the
    /// clock at their last packets.
    fn link_head(&mut self, slot: u32, class: usize) {
        self.recs[slot as usize].link_seq = self.seq;
        self.link_first(slot, class);
    }

    /// Links at the head of `class`'s list, keeping `link_seq`.
    fn link_first(&mut self, slot: u32, class: usize) {
        let head = self.heads[class];
        let deadline = self.recs[slot as usize].clock_ns.saturating_add(self.timeouts[class]);
        self.next_deadline = self.next_deadline.min(deadline);
        {
            let r = &mut self.recs[slot as usize];
            r.list = class as u8;
            r.prev = NIL;
            r.next = head;
        }
        if head != NIL {
            self.recs[head as usize].prev = slot;
        } else {
            self.tails[class] = slot;
        }
        self.heads[class] = slot;
    }

    /// Puts a record that did not receive the packet (a direction moved to a new TCP state by
    /// its peer's packet) into `class` at the place of its last packet, so that each class stays
    /// ordered by last packet and expiry follows deadlines exactly: that is what makes the
    /// expiry order a function of each flow alone, which sharded tables rely on.
    ///
    /// The place is that of its last packet's sequence number: at either end of the list, or
    /// else in the class's sorted set beside it. (Walking the list to it by the clock at the
    /// last packets, as before, put a record ahead of more recent ones with the same clock
    /// while a capture went back in time: the clock stands still then, until a second file
    /// that starts earlier than the first ended catches up. A walk by sequence number can be
    /// as long as the list, and a bounded one misplaced records, differently in a shard.)
    fn link_sorted(&mut self, slot: u32, class: usize) {
        let (last, seq) = {
            let r = &self.recs[slot as usize];
            (r.clock_ns, r.link_seq)
        };
        let (head, tail) = (self.heads[class], self.tails[class]);
        if head == NIL || self.recs[head as usize].link_seq < seq {
            self.link_first(slot, class);
            return;
        }
        let deadline = last.saturating_add(self.timeouts[class]);
        self.next_deadline = self.next_deadline.min(deadline);
        let at_tail = self.recs[tail as usize].link_seq > seq;
        let r = &mut self.recs[slot as usize];
        r.list = class as u8;
        if at_tail {
            r.prev = tail;
            r.next = NIL;
            self.recs[tail as usize].next = slot;
            self.tails[class] = slot;
        } else {
            r.prev = ASIDE;
            r.next = ASIDE;
            self.aside[class].insert(seq, slot);
        }
    }

    /// The record of `class` whose last packet is oldest.
    fn oldest_in(&self, class: usize) -> Option<u32> {
        let tail = self.tails[class];
        match self.aside[class].first_key_value() {
            Some((&seq, &a)) if tail == NIL || seq < self.recs[tail as usize].link_seq => Some(a),
            _ => (tail != NIL).then_some(tail),
        }
    }

    fn unlink(&mut self, slot: u32) {
        let (prev, next, class) = {
            let r = &self.recs[slot as usize];
            (r.prev, r.next, r.list as usize)
        };
        if prev == ASIDE {
            let seq = self.recs[slot as usize].link_seq;
            self.aside[class].remove(&seq);
            let r = &mut self.recs[slot as usize];
            r.prev = NIL;
            r.next = NIL;
            return;
        }
        if prev != NIL {
            self.recs[prev as usize].next = next;
        } else if self.heads[class] == slot {
            self.heads[class] = next;
        }
        if next != NIL {
            self.recs[next as usize].prev = prev;
        } else if self.tails[class] == slot {
            self.tails[class] = prev;
        }
        let r = &mut self.recs[slot as usize];
        r.prev = NIL;
        r.next = NIL;
    }
}

#[cfg(test)]
#[path = "meter_tests.rs"]
mod tests;
