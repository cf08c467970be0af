//! What is counted: series keys, measures, and one interval's accumulator for one series.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use netanom_flow::FlowRecord;
use netanom_wire::L3;

use crate::distinct::{hash_addr, hash_port, Distinct};

/// What a series follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A host as the initiator of conversations.
    SrcHost,
    /// A host as the responder.
    DstHost,
    /// A responder host and destination port (with the transport protocol: tcp/53 is not udp/53).
    DstPort,
    /// Every flow.
    Network,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::SrcHost, Kind::DstHost, Kind::DstPort, Kind::Network];

    pub fn name(self) -> &'static str {
        match self {
            Kind::SrcHost => "src_host",
            Kind::DstHost => "dst_host",
            Kind::DstPort => "dst_port",
            Kind::Network => "network",
        }
    }
}

/// The measures of every series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    Flows,
    Packets,
    Bytes,
    /// Distinct other ends: destinations of a source host, sources otherwise.
    Peers,
    /// Distinct destination ports (not kept for `DstPort` series, where it is always 1).
    Ports,
    /// Flows labelled anomalous by whoever feeds the baseline (the rule labeller).
    Anomalous,
}

pub const MEASURES: usize = 6;

impl Measure {
    pub const ALL: [Measure; MEASURES] =
        [Measure::Flows, Measure::Packets, Measure::Bytes, Measure::Peers, Measure::Ports, Measure::Anomalous];

    pub fn name(self) -> &'static str {
        match self {
            Measure::Flows => "flows",
            Measure::Packets => "packets",
            Measure::Bytes => "bytes",
            Measure::Peers => "peers",
            Measure::Ports => "ports",
            Measure::Anomalous => "anomalous",
        }
    }

    pub fn applies_to(self, kind: Kind) -> bool {
        !(self == Measure::Ports && kind == Kind::DstPort)
    }
}

/// A series' identity. Hosts are 16-byte addresses (IPv4 in the first four bytes, as in the flow key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SeriesKey {
    pub kind: Kind,
    pub v6: bool,
    pub host: [u8; 16],
    pub proto: u8,
    pub port: u16,
}

impl SeriesKey {
    pub fn network() -> SeriesKey {
        SeriesKey { kind: Kind::Network, v6: false, host: [0; 16], proto: 0, port: 0 }
    }

    pub fn host_string(&self) -> String {
        if self.v6 {
            Ipv6Addr::from(self.host).to_string()
        } else {
            Ipv4Addr::new(self.host[0], self.host[1], self.host[2], self.host[3]).to_string()
        }
    }

    pub fn proto_name(&self) -> String {
        match self.proto {
            6 => "tcp".into(),
            17 => "udp".into(),
            1 | 58 => "icmp".into(),
            132 => "sctp".into(),
            p => p.to_string(),
        }
    }
}

/// `network`, `src_host 10.0.0.1`, `dst_port 10.0.0.1 tcp/80`.
impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.kind {
            Kind::Network => f.write_str("network"),
            Kind::SrcHost | Kind::DstHost => write!(f, "{} {}", self.kind.name(), self.host_string()),
            Kind::DstPort => {
                write!(f, "{} {} {}/{}", self.kind.name(), self.host_string(), self.proto_name(), self.port)
            }
        }
    }
}

/// One ended conversation as the baseline sees it.
#[derive(Debug, Clone, Copy, Default)]
pub struct FlowObs {
    /// When it counts: the conversation's last packet (see [`FlowObs::from_records`]).
    pub at_ns: u64,
    /// Hosts are only known for IP flows; other flows count for the network alone.
    pub ip: bool,
    pub v6: bool,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub proto: u8,
    pub dst_port: u16,
    /// Both directions together.
    pub packets: u64,
    pub bytes: u64,
    pub anomalous: bool,
}

impl FlowObs {
    /// From the flow engine's ended conversation: `first` is the A row (the initiator's direction).
    ///
    /// The whole conversation counts at its last packet. The flow table hands a conversation over
    /// at most its timeout after that packet (610 s for established TCP, the longest), so intervals
    /// held open that long miss none; counted at its first packet, every conversation longer than
    /// the hold would arrive after its interval closed. For the short conversations that make up
    /// floods and scans both instants are the same interval.
    pub fn from_records(first: &FlowRecord, second: Option<&FlowRecord>, anomalous: bool) -> FlowObs {
        let k = &first.key;
        let (mut packets, mut bytes, mut last) = (first.stats.pkts, first.stats.l7_bytes, first.last_ns);
        if let Some(b) = second {
            packets += b.stats.pkts;
            bytes += b.stats.l7_bytes;
            last = last.max(b.last_ns);
        }
        let icmp = k.l4_proto == 1 || k.l4_proto == 58;
        FlowObs {
            at_ns: last,
            ip: k.l3 != L3::None,
            v6: k.l3 == L3::Ipv6,
            src: k.src,
            dst: k.dst,
            proto: k.l4_proto,
            // ICMP keys carry type/code-derived values in the port fields; the flow rows show 0.
            dst_port: if icmp { 0 } else { k.dst_port },
            packets,
            bytes,
            anomalous,
        }
    }
}

/// One series' counts during one interval.
#[derive(Debug, Clone, Default)]
pub struct Acc {
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
    pub anomalous: u64,
    pub peers: Distinct,
    pub ports: Distinct,
}

impl Acc {
    #[inline]
    pub fn add(&mut self, kind: Kind, f: &FlowObs) {
        self.flows += 1;
        self.packets += f.packets;
        self.bytes += f.bytes;
        self.anomalous += f.anomalous as u64;
        let peer = if kind == Kind::SrcHost { &f.dst } else { &f.src };
        if f.ip || kind != Kind::Network {
            self.peers.insert(hash_addr(peer));
        }
        if kind != Kind::DstPort {
            self.ports.insert(hash_port(f.dst_port));
        }
    }

    /// The measures in [`Measure::ALL`] order, and how many distinct counters were saturated.
    pub fn values(&self) -> ([f32; MEASURES], u32) {
        let (peers, p_full) = self.peers.count();
        let (ports, q_full) = self.ports.count();
        // Whole numbers: an estimate's fraction is noise, not information.
        let (peers, ports) = (peers.round() as f32, ports.round() as f32);
        let v = [self.flows as f32, self.packets as f32, self.bytes as f32, peers, ports, self.anomalous as f32];
        (v, p_full as u32 + q_full as u32)
    }
}
