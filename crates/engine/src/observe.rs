//! netanom's own per-source aggregation, for rules that need more than one flow.
//!
//! Every dissected packet is shown to an [`Observer`] before the flow table gets it. It keeps two
//! small tables, which with `--threads` live apart so that the result is the same as with one
//! thread: the address owners need every packet in input order and stay with the reading thread
//! (the `SharedObserver`); the attempts of an address pair concern only that pair's packets, so
//! each shard keeps those of its pairs (all packets of a pair go to one shard) and answers the
//! labeller's question about a row when its conversation ends there:
//!
//! * **Attempts per address pair**: for each (initiator, responder) IP pair, the distinct
//!   destination ports the initiator tried and how often it tried each: a TCP SYN without ACK is
//!   one attempt; a UDP datagram counts when its source port is above its destination port (the
//!   client side picks the larger, ephemeral one, so a server's replies do not count). Attempts
//!   are kept with their times until rows no longer need them ([`RETENTION_NS`]). The labeller
//!   reads them when a row is written, i.e. at the flow's end, counting the attempts from a
//!   minute before the flow to a minute after it (only from packets up to the one at which the
//!   conversation ended, so that the answer does not depend on how far the reading thread is
//!   ahead with `--threads`; see [`Observer::pair_until`]), so a scan's first
//!   probe sees the probes that followed it: columns `srcDstPorts` and `srcDstPortConns`.
//! * **Who owns an address on the link**: the first MAC seen sending from an IPv4 address to a
//!   peer in the same /24 (a proxy for "on the same link": routed traffic goes to the router's
//!   MAC and is not checked). Later frames that carry that address with another MAC (sent from or
//!   to it), and ARP packets claiming it for another MAC, are marked in
//!   [`PacketInfo::mac_ip_conflict`], which the flow table turns into the `macIpConflict` column:
//!   frames relayed or swallowed by an ARP-poisoning man in the middle. Learning is first come:
//!   a capture that starts after the poisoning learns the attacker's MAC (documented limitation).
//!
//! Both tables are bounded ([`MAX_PAIRS`], [`MAX_OWNERS`]); when full they stop learning.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use hashbrown::HashMap;
use netanom_flow::FlowRecord;
use netanom_wire::{PacketInfo, L3};

/// A row sees the attempts from this long before its flow's first packet to this long after its
/// last (but not after the flow was due to end, see [`Observer::pair`]).
pub const MARGIN_NS: u64 = 60_000_000_000;
/// When a row is labelled, its pair's attempts older than this before the row's due time are
/// forgotten (no later row looks that far back: rows come in end order and look back at most
/// [`MARGIN_NS`] + the longest TCP timeout before their due time, or [`LOOKBACK_NS`]).
pub const RETENTION_NS: u64 = 1_200_000_000_000;
/// A row never looks further back than this before its bound, so that rows written late (behind
/// the reading thread, with `--threads`) see what rows written early see.
pub const LOOKBACK_NS: u64 = 300_000_000_000;
/// Attempts held per pair; beyond it the oldest is dropped (only then can `--threads` change a
/// value, since the reading thread runs ahead of the rows).
pub const ATTEMPTS_PER_PAIR: usize = 4096;
pub const MAX_PAIRS: usize = 1 << 20;
/// `srcDstPorts` and `srcDstPortConns` stop counting here (rules compare them with 10).
pub const SATURATE: u32 = 256;
/// Attempts a row looks at, at most: the latest ones up to the packet at which its flow ended.
pub const MAX_WALK: usize = 512;
pub const MAX_OWNERS: usize = 1 << 16;

#[derive(Debug, Default)]
struct PairStats {
    /// (time, packet sequence number, destination port), oldest first.
    attempts: VecDeque<(u64, u64, u16)>,
}

/// What the observer knows about a conversation when its row is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PairView {
    /// Distinct destination ports the initiator tried on the responder.
    pub ports: u32,
    /// Attempts of the initiator on the responder's port of this flow.
    pub port_attempts: u32,
}

#[derive(Debug, Default)]
pub struct Observer {
    /// Sequence number given to packets recorded through [`Observer::packet`].
    next_seq: u64,
    pairs: HashMap<([u8; 16], [u8; 16]), PairStats>,
    owners: HashMap<[u8; 4], [u8; 6]>,
    /// One bit per port, set while [`Observer::pair_until`] counts distinct ports and cleared
    /// after (through the list in `seen`): a sorted insert per attempt cost a memmove each, 10% of
    /// `netanom flows` on a capture with scans.
    port_bits: Vec<u64>,
    /// With `--threads`, each shard holds `MAX_PAIRS / shards` pairs (0: [`MAX_PAIRS`]).
    pair_limit: usize,
    /// Answers computed by the shards for the rows about to be labelled, in row order.
    presets: Vec<(PresetKey, PairView)>,
    preset_next: usize,
}

/// What identifies a [`Observer::pair_until`] question: initiator, responder, port, end_seq.
type PresetKey = ([u8; 16], [u8; 16], u16, u64);

/// The observer as shared between the reading thread and the labeller.
pub type SharedObserver = Arc<Mutex<Observer>>;

/// The row of `rec` as the observer counts: initiator, responder, responder's port.
pub(crate) fn row_question(rec: &FlowRecord) -> ([u8; 16], [u8; 16], u16) {
    let k = &rec.key;
    if rec.inverted {
        (k.dst, k.src, k.src_port)
    } else {
        (k.src, k.dst, k.dst_port)
    }
}

/// The preset key of the row of `rec` ending at `end_seq`.
pub(crate) fn preset_key(rec: &FlowRecord, end_seq: u64) -> PresetKey {
    let (i, r, p) = row_question(rec);
    (i, r, p, end_seq)
}

fn same_24(a: &[u8; 16], b: &[u8; 16]) -> bool {
    a[..3] == b[..3]
}

fn unicast(mac: &[u8; 6]) -> bool {
    mac[0] & 1 == 0
}

impl Observer {
    pub fn shared() -> SharedObserver {
        Arc::new(Mutex::new(Observer::default()))
    }

    /// An observer of one shard's address pairs (attempts only), out of `shards`.
    pub(crate) fn for_shard(shards: usize) -> Observer {
        Observer { pair_limit: (MAX_PAIRS / shards.max(1)).max(1), ..Observer::default() }
    }

    /// Moves the address owners out into an observer of their own, for a reading thread that is
    /// their only user for a while (with `--threads`), so that it does not lock per packet;
    /// [`Observer::put_owners`] puts them back.
    pub(crate) fn take_owners(&mut self) -> Observer {
        Observer { owners: std::mem::take(&mut self.owners), ..Observer::default() }
    }

    pub(crate) fn put_owners(&mut self, from: Observer) {
        self.owners = from.owners;
    }

    fn max_pairs(&self) -> usize {
        if self.pair_limit == 0 {
            MAX_PAIRS
        } else {
            self.pair_limit
        }
    }

    /// Hands over the answers a shard computed for the rows of the next conversation (with
    /// `--threads` the attempts live in the shards): [`Observer::pair_until`] returns them for
    /// the questions they answer, so a labeller reading this observer sees what one thread sees.
    pub(crate) fn preset(&mut self, answers: &[(PresetKey, PairView)]) {
        self.presets.clear();
        self.presets.extend_from_slice(answers);
        self.preset_next = 0;
    }

    /// What a labeller asks about the row of `rec` (oriented initiator → responder), with the
    /// conversation's due time and end packet, answered from this observer's attempts.
    pub fn row_view(&mut self, rec: &FlowRecord, due_ns: u64, end_seq: u64, seen: &mut Vec<u16>) -> PairView {
        let (init, resp, port) = row_question(rec);
        self.pair_until(&init, &resp, port, (rec.first_ns, rec.last_ns, due_ns), end_seq, seen)
    }

    /// Whether `packet` would change or be marked by the observer (cheap, no lock needed).
    #[inline]
    pub fn wants(p: &PacketInfo) -> bool {
        match p.l3 {
            L3::None => p.arp_opcode != 0,
            _ => {
                (p.l4_proto == 6 && p.tcp_flags & 0x12 == 0x02)
                    || (p.l4_proto == 17 && p.src_port > p.dst_port)
                    || (p.l3 == L3::Ipv4 && p.has_mac && same_24(&p.src_ip, &p.dst_ip))
            }
        }
    }

    /// Records one packet, numbered after the previous one.
    pub fn packet(&mut self, ts_ns: u64, p: &mut PacketInfo) {
        self.packet_at(self.next_seq, ts_ns, p);
    }

    /// Records the packet with sequence number `seq` (its index among the packets the flow table
    /// is given, as [`Ending::end_seq`](netanom_flow::Ending) counts them) and marks it when it
    /// contradicts a learnt address owner.
    pub fn packet_at(&mut self, seq: u64, ts_ns: u64, p: &mut PacketInfo) {
        self.next_seq = seq + 1;
        self.owners_packet(p);
        self.attempts_packet(seq, ts_ns, p);
    }

    /// The address-owner half of [`Observer::packet_at`]: needs every packet in input order
    /// (with `--threads`, the reading thread runs it).
    pub fn owners_packet(&mut self, p: &mut PacketInfo) {
        if p.l3 == L3::None {
            self.arp(p);
            return;
        }
        if p.l3 == L3::Ipv4 && p.has_mac {
            let src = [p.src_ip[0], p.src_ip[1], p.src_ip[2], p.src_ip[3]];
            let dst = [p.dst_ip[0], p.dst_ip[1], p.dst_ip[2], p.dst_ip[3]];
            p.mac_ip_conflict |= self.owners_ipv4(src, dst, &p.src_mac, &p.dst_mac);
        }
    }

    /// Whether an IPv4 frame `src` → `dst` sent from `src_mac` to `dst_mac` contradicts a learnt
    /// owner (learning `src` when it is new); false for peers in different /24s (not checked).
    #[inline]
    pub fn owners_ipv4(&mut self, src: [u8; 4], dst: [u8; 4], src_mac: &[u8; 6], dst_mac: &[u8; 6]) -> bool {
        if src[..3] != dst[..3] {
            return false;
        }
        let mut conflict = false;
        match self.owners.get(&src) {
            Some(m) => conflict |= m != src_mac,
            None if unicast(src_mac) && self.owners.len() < MAX_OWNERS => {
                self.owners.insert(src, *src_mac);
            }
            None => {}
        }
        if unicast(dst_mac) {
            if let Some(m) = self.owners.get(&dst) {
                conflict |= m != dst_mac;
            }
        }
        conflict
    }

    /// The attempts half of [`Observer::packet_at`]: only the packet's own address pair is
    /// touched, so with `--threads` each shard keeps the attempts of its address pairs.
    #[inline]
    pub fn attempts_packet(&mut self, seq: u64, ts_ns: u64, p: &PacketInfo) {
        if p.l3 == L3::None {
            return;
        }
        let attempt = (p.l4_proto == 6 && p.tcp_flags & 0x12 == 0x02) || (p.l4_proto == 17 && p.src_port > p.dst_port);
        if attempt && p.l4_present {
            self.attempt(seq, ts_ns, p);
        }
    }

    /// ARP: a claim "IP is at MAC" that contradicts the owner, or an Ethernet source that is not
    /// the sender the ARP packet names (someone speaking for another host).
    fn arp(&mut self, p: &mut PacketInfo) {
        if p.arp_opcode == 0 || p.arp_sender_ip == [0; 4] {
            return;
        }
        let claimed = self.owners.get(&p.arp_sender_ip).is_some_and(|m| *m != p.arp_sender_mac);
        let relayed = p.has_mac && p.src_mac != p.arp_sender_mac;
        p.mac_ip_conflict |= claimed || relayed;
    }

    fn attempt(&mut self, seq: u64, ts_ns: u64, p: &PacketInfo) {
        let key = (p.src_ip, p.dst_ip);
        if !self.pairs.contains_key(&key) && self.pairs.len() >= self.max_pairs() {
            return;
        }
        let s = self.pairs.entry(key).or_default();
        if s.attempts.len() >= ATTEMPTS_PER_PAIR {
            s.attempts.pop_front();
        }
        s.attempts.push_back((ts_ns, seq, p.dst_port));
    }

    /// The attempts of `initiator` on `responder` (and on its `port`) from [`MARGIN_NS`] before
    /// `first_ns` to [`MARGIN_NS`] after `last_ns`, but none after `due_ns` (when the flow was due
    /// to end: by then the reading thread has certainly shown them) and none more than
    /// [`LOOKBACK_NS`] before the upper bound. Both bounds make the answer independent of when
    /// the row is written. `seen` is scratch space for the distinct ports.
    pub fn pair(
        &mut self,
        initiator: &[u8; 16],
        responder: &[u8; 16],
        port: u16,
        times: (u64, u64, u64),
        seen: &mut Vec<u16>,
    ) -> PairView {
        self.pair_until(initiator, responder, port, times, u64::MAX, seen)
    }

    /// [`Observer::pair`] counting only the attempts of packets up to sequence number `end_seq`
    /// (the packet at which the conversation ended): what a single flow table had shown the
    /// observer by then, whatever `--threads` lets the reading thread run ahead.
    pub fn pair_until(
        &mut self,
        initiator: &[u8; 16],
        responder: &[u8; 16],
        port: u16,
        (first_ns, last_ns, due_ns): (u64, u64, u64),
        end_seq: u64,
        seen: &mut Vec<u16>,
    ) -> PairView {
        // The A and B rows of a conversation ask the same question (about different times): the
        // answers are taken in row order.
        if let Some(&(k, v)) = self.presets.get(self.preset_next) {
            if k == (*initiator, *responder, port, end_seq) {
                self.preset_next += 1;
                return v;
            }
        }
        let key = (*initiator, *responder);
        let Some(s) = self.pairs.get_mut(&key) else { return PairView::default() };
        // Pruning here, in row order, keeps what a row sees independent of the reading thread.
        if due_ns != u64::MAX {
            let keep_from = due_ns.saturating_sub(RETENTION_NS);
            while s.attempts.front().is_some_and(|&(t, _, _)| t < keep_from) {
                s.attempts.pop_front();
            }
            if s.attempts.is_empty() {
                self.pairs.remove(&key);
                return PairView::default();
            }
        }
        let to = last_ns.saturating_add(MARGIN_NS).min(due_ns.max(last_ns));
        let from = first_ns.saturating_sub(MARGIN_NS).max(to.saturating_sub(LOOKBACK_NS));
        seen.clear();
        if self.port_bits.is_empty() {
            self.port_bits = vec![0; 65536 / 64];
        }
        let bits = &mut self.port_bits;
        let mut v = PairView::default();
        // Attempts are held in packet order, so the packets after `end_seq` are a suffix (found by
        // bisection). Their times are not sorted (captures jump back in time), so the window is
        // a filter. Both counts saturate at SATURATE, and a row looks at no more than the
        // MAX_WALK latest attempts up to its end, both far above any rule's threshold: a long
        // brute force or scan then costs each of its rows a bounded walk, not its whole history.
        let end = s.attempts.partition_point(|&(_, q, _)| q <= end_seq);
        let start = end.saturating_sub(MAX_WALK);
        // The deque's two slices, walked newest first (plain slices: a deque range iterator
        // cost three times as much per attempt).
        let (older, newer) = s.attempts.as_slices();
        let split = older.len();
        let newer = &newer[start.saturating_sub(split)..end.saturating_sub(split)];
        let older = &older[start.min(split)..end.min(split)];
        for &(t, _, p) in newer.iter().rev().chain(older.iter().rev()) {
            if t < from || t > to {
                continue;
            }
            if p == port {
                v.port_attempts += 1;
            }
            let (word, bit) = (p as usize / 64, 1u64 << (p % 64));
            if bits[word] & bit == 0 {
                bits[word] |= bit;
                seen.push(p);
            }
            if v.port_attempts >= SATURATE && seen.len() >= SATURATE as usize {
                break;
            }
        }
        for &p in seen.iter() {
            bits[p as usize / 64] = 0;
        }
        v.ports = (seen.len() as u32).min(SATURATE);
        v.port_attempts = v.port_attempts.min(SATURATE);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> [u8; 16] {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&[10, 0, 0, last]);
        a
    }

    fn pkt(src: u8, dst: u8, smac: u8, dmac: u8) -> PacketInfo {
        PacketInfo {
            l3: L3::Ipv4,
            has_mac: true,
            src_ip: ip(src),
            dst_ip: ip(dst),
            src_mac: [2, 0, 0, 0, 0, smac],
            dst_mac: [2, 0, 0, 0, 0, dmac],
            l4_proto: 17,
            l4_present: true,
            src_port: 40000,
            dst_port: 53,
            ..PacketInfo::default()
        }
    }

    #[test]
    fn counts_saturate() {
        let s = 1_000_000_000u64;
        let scan = |ports: &dyn Fn(u16) -> u16, n: u16| {
            let mut o = Observer::default();
            for i in 0..n {
                let mut p = pkt(1, 2, 1, 2);
                p.l4_proto = 6;
                p.tcp_flags = 0x02;
                p.dst_port = ports(i);
                o.packet(100 * s + i as u64 * 1000, &mut p);
            }
            o
        };
        let mut seen = Vec::new();
        let times = (100 * s, 101 * s, 1000 * s);
        // Port 80 tried between 400 probes of other ports: both counts stop at SATURATE.
        let mut o = scan(&|i| if i % 2 == 0 { 80 } else { 1000 + i }, 800);
        assert_eq!(o.pair(&ip(1), &ip(2), 80, times, &mut seen), PairView { ports: SATURATE, port_attempts: SATURATE });
        // 400 distinct ports, one attempt each: the distinct count stops at SATURATE too.
        let mut o = scan(&|i| 1000 + i, 400);
        assert_eq!(o.pair(&ip(1), &ip(2), 1000, times, &mut seen), PairView { ports: SATURATE, port_attempts: 1 });
    }

    #[test]
    fn counts_ports_and_attempts_per_pair() {
        let mut o = Observer::default();
        let s = 1_000_000_000u64;
        for (i, port) in [22, 22, 22, 80, 443].into_iter().enumerate() {
            let mut p = pkt(1, 2, 1, 2);
            p.l4_proto = 6;
            p.tcp_flags = 0x02;
            p.dst_port = port;
            o.packet(100 * s + i as u64 * s, &mut p);
        }
        let mut synack = pkt(2, 1, 2, 1);
        synack.l4_proto = 6;
        synack.tcp_flags = 0x12;
        o.packet(106 * s, &mut synack);
        let mut seen = Vec::new();
        let all = (100 * s, 100 * s, 1000 * s);
        assert_eq!(o.pair(&ip(1), &ip(2), 22, all, &mut seen), PairView { ports: 3, port_attempts: 3 });
        assert_eq!(o.pair(&ip(2), &ip(1), 40000, all, &mut seen), PairView::default(), "answers are no attempts");
        // a flow due to end at 101.5 s sees only what came before
        assert_eq!(
            o.pair(&ip(1), &ip(2), 22, (100 * s, 100 * s, 101 * s + s / 2), &mut seen),
            PairView { ports: 1, port_attempts: 2 }
        );
        // and nothing more than a minute after its last packet
        let mut late = pkt(1, 2, 1, 2);
        late.dst_port = 7;
        o.packet(200 * s, &mut late);
        assert_eq!(o.pair(&ip(1), &ip(2), 7, all, &mut seen).port_attempts, 0);
        assert_eq!(
            o.pair(&ip(1), &ip(2), 7, (200 * s, 200 * s, 1000 * s), &mut seen),
            PairView { ports: 1, port_attempts: 1 }
        );
    }

    #[test]
    fn presets_answer_the_rows_in_order_then_the_table_does() {
        let mut o = Observer::default();
        let mut p = pkt(1, 2, 1, 2);
        o.packet(5, &mut p);
        let mut rec = FlowRecord::default();
        rec.key.src = ip(1);
        rec.key.dst = ip(2);
        rec.key.dst_port = 53;
        rec.key.src_port = 40000;
        let mut b = rec.clone();
        (b.key.src, b.key.dst, b.key.src_port, b.key.dst_port, b.inverted) = (ip(2), ip(1), 53, 40000, true);
        let (va, vb) = (PairView { ports: 7, port_attempts: 1 }, PairView { ports: 9, port_attempts: 2 });
        o.preset(&[(preset_key(&rec, 10), va), (preset_key(&b, 10), vb)]);
        let mut seen = Vec::new();
        assert_eq!(o.row_view(&rec, u64::MAX, 10, &mut seen), va);
        assert_eq!(o.row_view(&b, u64::MAX, 10, &mut seen), vb, "the B row asks the same question");
        // used up: the table answers (one attempt on port 53)
        assert_eq!(o.row_view(&rec, u64::MAX, 10, &mut seen), PairView { ports: 1, port_attempts: 1 });
    }

    #[test]
    fn owners_and_attempts_halves_make_the_whole() {
        let (mut whole, mut halves) = (Observer::default(), Observer::default());
        for (i, (s, d, sm, dm)) in
            [(10, 21, 0x10, 0x21), (21, 10, 0x21, 0x66), (21, 10, 0x66, 0x10)].into_iter().enumerate()
        {
            let (mut p, mut q) = (pkt(s, d, sm, dm), pkt(s, d, sm, dm));
            whole.packet_at(i as u64, i as u64, &mut p);
            halves.owners_packet(&mut q);
            halves.attempts_packet(i as u64, i as u64, &q);
            assert_eq!(p.mac_ip_conflict, q.mac_ip_conflict);
        }
        let mut seen = Vec::new();
        let t = (0, 10, u64::MAX);
        assert_eq!(whole.pair(&ip(21), &ip(10), 53, t, &mut seen), halves.pair(&ip(21), &ip(10), 53, t, &mut seen));
    }

    #[test]
    fn marks_frames_for_an_address_sent_to_another_mac() {
        let mut o = Observer::default();
        let mut p = pkt(10, 21, 0x10, 0x21);
        o.packet(1, &mut p);
        assert!(!p.mac_ip_conflict);
        let mut reply = pkt(21, 10, 0x21, 0x10);
        o.packet(2, &mut reply);
        assert!(!reply.mac_ip_conflict);
        // client .21 now sends to .10 via the attacker's MAC 0x66
        let mut poisoned = pkt(21, 10, 0x21, 0x66);
        o.packet(3, &mut poisoned);
        assert!(poisoned.mac_ip_conflict);
        // ... which relays it with its own source MAC
        let mut relayed = pkt(21, 10, 0x66, 0x10);
        o.packet(4, &mut relayed);
        assert!(relayed.mac_ip_conflict);
        // an ARP reply claiming .10 for 0x66
        let mut arp = PacketInfo {
            has_mac: true,
            src_mac: [2, 0, 0, 0, 0, 0x66],
            arp_opcode: 2,
            arp_sender_ip: [10, 0, 0, 10],
            arp_sender_mac: [2, 0, 0, 0, 0, 0x66],
            ..PacketInfo::default()
        };
        assert!(Observer::wants(&arp));
        o.packet(5, &mut arp);
        assert!(arp.mac_ip_conflict);
        // routed traffic (another /24) is not checked
        let mut routed = pkt(21, 10, 0x21, 0x66);
        routed.dst_ip[2] = 9;
        o.packet(6, &mut routed);
        assert!(!routed.mac_ip_conflict);
    }
}
