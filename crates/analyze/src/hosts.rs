//! Per-host, per-second and per-conversation tallies of the labelled rows, kept small: the
//! report shows the top few of each, never every flow.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};

use netanom_flow::FlowRecord;
use netanom_report::{Conversation, Count, HostSummary, Timeline};
use netanom_wire::L3;

/// Distinct peers counted exactly up to this many per host, then reported as this many.
pub const PEERS_CAP: usize = 256;

#[derive(Default)]
struct Host {
    flows: u64,
    anomalous: u64,
    packets: u64,
    bytes: u64,
    peers: Vec<[u8; 16]>,
    /// (rule index, rows), only for hosts with anomalous rows.
    rules: Vec<(u32, u64)>,
}

/// The address a row was sent from: an IP, or a MAC for layer-2 flows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HostKey {
    l3: u8,
    addr: [u8; 16],
}

impl HostKey {
    fn src(rec: &FlowRecord) -> HostKey {
        HostKey { l3: l3_code(rec.key.l3), addr: rec.key.src }
    }
    fn dst(rec: &FlowRecord) -> HostKey {
        HostKey { l3: l3_code(rec.key.l3), addr: rec.key.dst }
    }
}

fn l3_code(l3: L3) -> u8 {
    match l3 {
        L3::None => 0,
        L3::Ipv4 => 4,
        L3::Ipv6 => 6,
    }
}

impl std::fmt::Display for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = &self.addr;
        match self.l3 {
            4 => write!(f, "{}", Ipv4Addr::new(a[0], a[1], a[2], a[3])),
            6 => write!(f, "{}", Ipv6Addr::from(*a)),
            _ => write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", a[0], a[1], a[2], a[3], a[4], a[5]),
        }
    }
}

/// Ranks a conversation among the most anomalous: more rules fired, then more packets, then the
/// earlier flow (a deterministic order).
type Rank = (usize, u64, Reverse<u64>, Reverse<bool>);

pub(crate) struct Tally {
    hosts: HashMap<HostKey, Host>,
    /// Rows per second of capture time: (all, anomalous).
    per_second: HashMap<u64, (u64, u64)>,
    pub rows: u64,
    pub anomalous: u64,
    pub rule_rows: Vec<u64>,
    pub first_ns: u64,
    pub last_ns: u64,
    top: BinaryHeap<Reverse<(Rank, usize)>>,
    kept: Vec<Option<Conversation>>,
    top_n: usize,
    rule_names: Vec<String>,
}

impl Tally {
    pub fn new(rules: usize) -> Tally {
        Tally {
            hosts: HashMap::new(),
            per_second: HashMap::new(),
            rows: 0,
            anomalous: 0,
            rule_rows: vec![0; rules],
            first_ns: u64::MAX,
            last_ns: 0,
            top: BinaryHeap::new(),
            kept: Vec::new(),
            top_n: 50,
            rule_names: Vec::new(),
        }
    }

    pub fn set_rule_names(&mut self, names: Vec<String>) {
        self.rule_names = names;
    }

    /// One labelled row; `fired`: indices of the rules that fired on it.
    pub fn row(&mut self, rec: &FlowRecord, fired: &[usize]) {
        let anomalous = !fired.is_empty();
        self.rows += 1;
        self.anomalous += anomalous as u64;
        self.first_ns = self.first_ns.min(rec.first_ns);
        self.last_ns = self.last_ns.max(rec.last_ns);
        let sec = self.per_second.entry(rec.first_ns / 1_000_000_000).or_default();
        sec.0 += 1;
        sec.1 += anomalous as u64;
        let h = self.hosts.entry(HostKey::src(rec)).or_default();
        h.flows += 1;
        h.packets += rec.stats.pkts;
        h.bytes += rec.stats.l7_bytes;
        let peer = rec.key.dst;
        if h.peers.len() < PEERS_CAP && !h.peers.contains(&peer) {
            h.peers.push(peer);
        }
        if anomalous {
            h.anomalous += 1;
            for &i in fired {
                if let Some(n) = self.rule_rows.get_mut(i) {
                    *n += 1;
                }
                match h.rules.iter_mut().find(|(r, _)| *r as usize == i) {
                    Some((_, n)) => *n += 1,
                    None => h.rules.push((i as u32, 1)),
                }
            }
            self.offer(rec, fired);
        }
    }

    fn offer(&mut self, rec: &FlowRecord, fired: &[usize]) {
        let rank: Rank = (fired.len(), rec.stats.pkts, Reverse(rec.flow_ind), Reverse(rec.is_b));
        if self.top.len() >= self.top_n {
            match self.top.peek() {
                Some(Reverse((low, _))) if *low < rank => {}
                _ => return,
            }
            if let Some(Reverse((_, slot))) = self.top.pop() {
                let c = self.conversation(rec, fired);
                self.kept[slot] = Some(c);
                self.top.push(Reverse((rank, slot)));
            }
            return;
        }
        let c = self.conversation(rec, fired);
        self.kept.push(Some(c));
        self.top.push(Reverse((rank, self.kept.len() - 1)));
    }

    fn conversation(&self, rec: &FlowRecord, fired: &[usize]) -> Conversation {
        let k = &rec.key;
        let (sp, dp) = netanom_flow::shown_ports(k);
        Conversation {
            flow_ind: rec.flow_ind,
            direction: if rec.is_b { "B" } else { "A" }.into(),
            src: HostKey::src(rec).to_string(),
            src_port: sp,
            dst: HostKey::dst(rec).to_string(),
            dst_port: dp,
            proto: proto_name(k.l3, k.l4_proto, k.eth_type),
            first_s: rec.first_ns as f64 / 1e9,
            duration_s: rec.duration_ns() as f64 / 1e9,
            packets: rec.stats.pkts,
            bytes: rec.stats.l7_bytes,
            rules: fired.iter().filter_map(|&i| self.rule_names.get(i).cloned()).collect(),
        }
    }

    /// The most anomalous conversations, most rules first.
    pub fn conversations(&self) -> Vec<Conversation> {
        let mut v: Vec<(Rank, &Conversation)> =
            self.top.iter().filter_map(|Reverse((r, slot))| self.kept[*slot].as_ref().map(|c| (*r, c))).collect();
        v.sort_by(|a, b| b.0.cmp(&a.0));
        v.into_iter().map(|(_, c)| c.clone()).collect()
    }

    fn summary(&self, k: &HostKey, h: &Host) -> HostSummary {
        let mut rules: Vec<Count> = h
            .rules
            .iter()
            .map(|&(i, n)| Count { name: self.rule_names.get(i as usize).cloned().unwrap_or_default(), count: n })
            .collect();
        rules.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
        HostSummary {
            host: k.to_string(),
            flows: h.flows,
            anomalous_flows: h.anomalous,
            packets: h.packets,
            bytes: h.bytes,
            peers: h.peers.len() as u64,
            rules,
        }
    }

    /// The `n` hosts first by `key` (descending), ties by address.
    fn top_by(&self, n: usize, keep: impl Fn(&Host) -> bool, key: impl Fn(&Host) -> (u64, u64)) -> Vec<HostSummary> {
        let mut v: Vec<(&HostKey, &Host)> = self.hosts.iter().filter(|(_, h)| keep(h)).collect();
        v.sort_by(|a, b| key(b.1).cmp(&key(a.1)).then(a.0.cmp(b.0)));
        v.into_iter().take(n).map(|(k, h)| self.summary(k, h)).collect()
    }

    pub fn top_offenders(&self, n: usize) -> Vec<HostSummary> {
        self.top_by(n, |h| h.anomalous > 0, |h| (h.anomalous, h.packets))
    }

    pub fn top_talkers(&self, n: usize) -> Vec<HostSummary> {
        self.top_by(n, |_| true, |h| (h.bytes, h.packets))
    }

    /// Rows over time in 20–120 buckets of a round width.
    pub fn timeline(&self) -> Timeline {
        if self.per_second.is_empty() {
            return Timeline::default();
        }
        let lo = self.per_second.keys().copied().min().unwrap_or(0);
        let hi = self.per_second.keys().copied().max().unwrap_or(0);
        let width = bucket_width(hi - lo + 1);
        let start = lo - lo % width;
        let n = ((hi - start) / width + 1) as usize;
        let (mut normal, mut anomalous) = (vec![0u64; n], vec![0u64; n]);
        for (&s, &(all, bad)) in &self.per_second {
            let i = ((s - start) / width) as usize;
            normal[i] += all - bad;
            anomalous[i] += bad;
        }
        Timeline { start_s: start as f64, bucket_s: width as f64, normal, anomalous }
    }
}

/// A round bucket width giving at most 120 buckets over `span_s` seconds.
fn bucket_width(span_s: u64) -> u64 {
    const STEPS: &[u64] = &[1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
    for &w in STEPS {
        if span_s.div_ceil(w) <= 120 {
            return w;
        }
    }
    span_s.div_ceil(120).next_multiple_of(86400)
}

pub fn proto_name(l3: L3, proto: u8, eth_type: u16) -> String {
    if l3 == L3::None {
        return match eth_type {
            0x0806 => "arp".into(),
            0x88cc => "lldp".into(),
            t => format!("eth 0x{t:04x}"),
        };
    }
    match proto {
        1 => "icmp".into(),
        6 => "tcp".into(),
        17 => "udp".into(),
        58 => "icmpv6".into(),
        132 => "sctp".into(),
        47 => "gre".into(),
        p => p.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_widths_are_round_and_bounded() {
        assert_eq!(bucket_width(1), 1);
        assert_eq!(bucket_width(120), 1);
        assert_eq!(bucket_width(121), 2);
        assert_eq!(bucket_width(3600), 30);
        assert_eq!(bucket_width(86400), 900);
        for span in [1u64, 59, 600, 7_000, 100_000, 10_000_000] {
            assert!(span.div_ceil(bucket_width(span)) <= 120, "{span}");
        }
    }

    #[test]
    fn host_keys_print_as_their_address_family() {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&[10, 77, 0, 66]);
        assert_eq!(HostKey { l3: 4, addr: a }.to_string(), "10.77.0.66");
        a[..6].copy_from_slice(&[2, 0x77, 0, 0, 0, 0x66]);
        assert_eq!(HostKey { l3: 0, addr: a }.to_string(), "02:77:00:00:00:66");
        assert_eq!(HostKey { l3: 6, addr: Ipv6Addr::LOCALHOST.octets() }.to_string(), "::1");
    }
}
