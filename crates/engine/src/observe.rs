//! netanom's own per-source aggregation, for rules that need more than one flow.
//!
//! The reading thread shows every dissected packet to an [`Observer`] before the flow table gets
//! it (one thread, so the same result whatever `--threads`). It keeps two small tables:
//!
//! * **Attempts per address pair**: for each (initiator, responder) IP pair, the distinct
//!   destination ports the initiator tried and how often it tried each: a TCP SYN without ACK is
//!   one attempt; a UDP datagram counts when its source port is above its destination port (the
//!   client side picks the larger, ephemeral one, so a server's replies do not count). Attempts
//!   are kept in [`BUCKETS`] buckets of [`BUCKET_NS`] (4 minutes). The labeller reads them when
//!   a row is written, i.e. at the flow's end, counting the attempts from a minute before the
//!   flow to a minute after it, so a scan's first probe sees the probes that followed it:
//!   columns `srcDstPorts` and `srcDstPortConns`.
//! * **Who owns an address on the link**: the first MAC seen sending from an IPv4 address to a
//!   peer in the same /24 (a proxy for "on the same link": routed traffic goes to the router's
//!   MAC and is not checked). Later frames that carry that address with another MAC (sent from or
//!   to it), and ARP packets claiming it for another MAC, are marked in
//!   [`PacketInfo::mac_ip_conflict`], which the flow table turns into the `macIpConflict` column:
//!   frames relayed or swallowed by an ARP-poisoning man in the middle. Learning is first come:
//!   a capture that starts after the poisoning learns the attacker's MAC (documented limitation).
//!
//! Both tables are bounded ([`MAX_PAIRS`], [`MAX_OWNERS`]); when full they stop learning.

use std::sync::{Arc, Mutex};

use hashbrown::HashMap;
use netanom_wire::{PacketInfo, L3};

/// Attempts are counted in buckets of this length; a pair keeps the last [`BUCKETS`].
pub const BUCKET_NS: u64 = 30_000_000_000;
pub const BUCKETS: usize = 8;
/// A row sees the attempts from this long before its flow's first packet to this long after its
/// last (as far as they are still held when the row is written).
pub const MARGIN_NS: u64 = 60_000_000_000;
/// Distinct ports remembered per pair; more are counted, not listed.
pub const PORTS_PER_PAIR: usize = 64;
pub const MAX_PAIRS: usize = 1 << 20;
pub const MAX_OWNERS: usize = 1 << 16;

#[derive(Debug, Default)]
struct PairStats {
    /// Bucket number (time / BUCKET_NS) of the newest bucket.
    head: u64,
    /// (port, attempts per bucket, indexed by bucket number % BUCKETS).
    ports: Vec<(u16, [u16; BUCKETS])>,
    /// New ports beyond the list, per bucket.
    overflow: [u16; BUCKETS],
}

impl PairStats {
    /// Makes `bucket` the newest, clearing the buckets that fall out of the ring.
    fn advance(&mut self, bucket: u64) {
        if bucket <= self.head {
            return;
        }
        let n = (bucket - self.head).min(BUCKETS as u64);
        for b in self.head + 1..=self.head + n {
            let i = (b % BUCKETS as u64) as usize;
            self.overflow[i] = 0;
            for (_, c) in &mut self.ports {
                c[i] = 0;
            }
        }
        self.head = bucket;
        self.ports.retain(|(_, c)| c.iter().any(|&x| x > 0));
    }

    /// Ring indices of the held buckets within `[from, to]`.
    fn held(&self, from: u64, to: u64) -> impl Iterator<Item = usize> {
        let oldest = self.head.saturating_sub(BUCKETS as u64 - 1);
        (from.max(oldest)..=to.min(self.head)).map(|b| (b % BUCKETS as u64) as usize)
    }
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
    pairs: HashMap<([u8; 16], [u8; 16]), PairStats>,
    owners: HashMap<[u8; 4], [u8; 6]>,
}

/// The observer as shared between the reading thread and the labeller.
pub type SharedObserver = Arc<Mutex<Observer>>;

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

    /// Whether `packet` would change or be marked by the observer (cheap, no lock needed).
    #[inline]
    pub fn wants(p: &PacketInfo) -> bool {
        match p.l3 {
            L3::None => p.arp_opcode != 0,
            _ => (p.l4_proto == 6 && p.tcp_flags & 0x12 == 0x02)
                || (p.l4_proto == 17 && p.src_port > p.dst_port)
                || (p.l3 == L3::Ipv4 && p.has_mac && same_24(&p.src_ip, &p.dst_ip)),
        }
    }

    /// Records one packet and marks it when it contradicts a learnt address owner.
    pub fn packet(&mut self, ts_ns: u64, p: &mut PacketInfo) {
        if p.l3 == L3::None {
            self.arp(p);
            return;
        }
        let attempt = (p.l4_proto == 6 && p.tcp_flags & 0x12 == 0x02) || (p.l4_proto == 17 && p.src_port > p.dst_port);
        if attempt && p.l4_present {
            self.attempt(ts_ns, p);
        }
        if p.l3 == L3::Ipv4 && p.has_mac && same_24(&p.src_ip, &p.dst_ip) {
            let src = [p.src_ip[0], p.src_ip[1], p.src_ip[2], p.src_ip[3]];
            let dst = [p.dst_ip[0], p.dst_ip[1], p.dst_ip[2], p.dst_ip[3]];
            let mut conflict = false;
            match self.owners.get(&src) {
                Some(m) => conflict |= *m != p.src_mac,
                None if unicast(&p.src_mac) && self.owners.len() < MAX_OWNERS => {
                    self.owners.insert(src, p.src_mac);
                }
                None => {}
            }
            if unicast(&p.dst_mac) {
                if let Some(m) = self.owners.get(&dst) {
                    conflict |= *m != p.dst_mac;
                }
            }
            p.mac_ip_conflict |= conflict;
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

    fn attempt(&mut self, ts_ns: u64, p: &PacketInfo) {
        let key = (p.src_ip, p.dst_ip);
        if !self.pairs.contains_key(&key) && self.pairs.len() >= MAX_PAIRS {
            return;
        }
        let bucket = ts_ns / BUCKET_NS;
        let s = self.pairs.entry(key).or_insert_with(|| PairStats { head: bucket, ..PairStats::default() });
        s.advance(bucket);
        if bucket + (BUCKETS as u64) <= s.head {
            return; // older than the ring (out-of-order timestamps)
        }
        let i = (bucket % BUCKETS as u64) as usize;
        if let Some((_, c)) = s.ports.iter_mut().find(|(port, _)| *port == p.dst_port) {
            c[i] = c[i].saturating_add(1);
        } else if s.ports.len() < PORTS_PER_PAIR {
            let mut c = [0; BUCKETS];
            c[i] = 1;
            s.ports.push((p.dst_port, c));
        } else {
            s.overflow[i] = s.overflow[i].saturating_add(1);
        }
    }

    /// The attempts of `initiator` on `responder` (and on its `port`) from [`MARGIN_NS`] before
    /// `first_ns` to [`MARGIN_NS`] after `last_ns`.
    pub fn pair(&self, initiator: &[u8; 16], responder: &[u8; 16], port: u16, first_ns: u64, last_ns: u64) -> PairView {
        let Some(s) = self.pairs.get(&(*initiator, *responder)) else { return PairView::default() };
        let (from, to) = (first_ns.saturating_sub(MARGIN_NS) / BUCKET_NS, last_ns.saturating_add(MARGIN_NS) / BUCKET_NS);
        let mut v = PairView::default();
        for (p, c) in &s.ports {
            let n: u32 = s.held(from, to).map(|i| c[i] as u32).sum();
            if n > 0 {
                v.ports += 1;
                if *p == port {
                    v.port_attempts = n;
                }
            }
        }
        v.ports += s.held(from, to).map(|i| s.overflow[i] as u32).sum::<u32>();
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
    fn counts_ports_and_attempts_per_pair() {
        let mut o = Observer::default();
        for port in [22, 22, 22, 80, 443] {
            let mut p = pkt(1, 2, 1, 2);
            p.l4_proto = 6;
            p.tcp_flags = 0x02;
            p.dst_port = port;
            o.packet(1, &mut p);
        }
        let mut synack = pkt(2, 1, 2, 1);
        synack.l4_proto = 6;
        synack.tcp_flags = 0x12;
        o.packet(2, &mut synack);
        assert_eq!(o.pair(&ip(1), &ip(2), 22, 1, 1), PairView { ports: 3, port_attempts: 3 });
        assert_eq!(o.pair(&ip(2), &ip(1), 40000, 1, 1), PairView::default(), "answers are no attempts");
        let late = 10 * BUCKET_NS;
        let mut later = pkt(1, 2, 1, 2);
        later.dst_port = 7;
        o.packet(late, &mut later);
        assert_eq!(o.pair(&ip(1), &ip(2), 7, late, late), PairView { ports: 1, port_attempts: 1 }, "old buckets left");
        o.packet(late + BUCKET_NS, &mut later);
        assert_eq!(o.pair(&ip(1), &ip(2), 7, late, late), PairView { ports: 1, port_attempts: 2 }, "60 s margin");
        assert_eq!(o.pair(&ip(1), &ip(2), 7, late - 4 * BUCKET_NS, late - 4 * BUCKET_NS).port_attempts, 0);
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
