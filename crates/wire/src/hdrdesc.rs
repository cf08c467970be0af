//! Tranalyzer2's header description (`hdrDesc`): the protocol stack of one packet, e.g.
//! `eth:vlan{2}:ipv4:udp:gtp:ipv4:tcp`. Stored as a fixed array of tags so a flow can compare a
//! packet's stack with the ones it has seen without allocating.

use std::fmt;

/// Maximum number of headers recorded; deeper stacks set flowStat "header description overrun".
pub const MAX_HDRS: usize = 24;

/// One protocol in a header description. `name()` is the spelling Tranalyzer2 0.9.3 prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Proto {
    #[default]
    /// A link layer Tranalyzer2 prints as an empty name (e.g. `:ipv4:tcp`).
    Empty,
    Eth,
    Vlan,
    Mpls,
    Pppoes,
    Pppoed,
    Ppp,
    Sll,
    Sll2,
    Raw,
    Null,
    Llc,
    Stp,
    Lldp,
    Arp,
    Rarp,
    Ipv4,
    Ipv6,
    /// An IP header too damaged to know its version (`ipvx`).
    Ipvx,
    Ipv6HopOpts,
    Ipv6DstOpts,
    Ipv6Route,
    Ipv6FragHdr,
    Ipv6NoNxt,
    Tcp,
    Udp,
    UdpLite,
    Icmp,
    Icmpv6,
    Igmp,
    Sctp,
    Gre,
    Esp,
    Ah,
    Vxlan,
    Teredo,
    Gtp,
    Geneve,
    Capwap,
    Wlan,
    L2tp,
    Erspan,
    Netbios,
    Ssdp,
    Isakmp,
    UdpEncap,
    Mipv6,
    Lcp,
    Pap,
    Chap,
    Ipcp,
    Ipv6cp,
    Ccp,
    Cdp,
    Eapol,
    Realtek,
    Wlccp,
    Ipx,
    Hpext,
    Ddp,
    Ospf,
    Pim,
    Pgm,
    Vrrp,
    Eigrp,
    Chdlc,
    Ppi,
    Radiotap,
    /// DTLS whose version is not read (behind CAPWAP's DTLS preamble).
    Dtls,
    Dtls10,
    Dtls12,
    Dtls13,
    /// CAPWAP data channel (UDP 5247); plain [`Proto::Capwap`] is the control channel.
    CapwapData,
    Ayiya,
    Slarp,
    /// Unknown ethertype, printed `UNK(0x8903)`; the tag's `arg` holds the value.
    UnkEthType,
    /// Unknown LLC SAP, printed `UNK(0x45)`; the tag's `arg` holds the value.
    UnkLlc,
    /// Unknown IP protocol, printed `UNK(99)`; the tag's `arg` holds the value.
    UnkIpProto,
    /// Any other protocol name the dissector wants printed verbatim (index into [`EXTRA_NAMES`]).
    Extra,
}

/// Names for [`Proto::Extra`] tags (`arg` indexes this table).
pub const EXTRA_NAMES: &[&str] =
    &["dtls1.0", "dtls1.2", "dtls1.3", "capwap.data", "capwap.ctrl", "ayiya", "lwapp", "wccp", "ppp.comp"];

impl Proto {
    pub fn name(self) -> &'static str {
        use Proto::*;
        match self {
            Empty => "",
            Eth => "eth",
            Vlan => "vlan",
            Mpls => "mpls",
            Pppoes => "pppoes",
            Pppoed => "pppoed",
            Ppp => "ppp",
            Sll => "sll",
            Sll2 => "sll2",
            Raw => "raw",
            Null => "null",
            Llc => "llc",
            Stp => "stp",
            Lldp => "lldp",
            Arp => "arp",
            Rarp => "rarp",
            Ipv4 => "ipv4",
            Ipv6 => "ipv6",
            Ipvx => "ipvx",
            Ipv6HopOpts => "ipv6.hopopts",
            Ipv6DstOpts => "ipv6.dstopts",
            Ipv6Route => "ipv6.routing",
            Ipv6FragHdr => "ipv6.fraghdr",
            Ipv6NoNxt => "ipv6.nonxt",
            Tcp => "tcp",
            Udp => "udp",
            UdpLite => "udplite",
            Icmp => "icmp",
            Icmpv6 => "icmpv6",
            Igmp => "igmp",
            Sctp => "sctp",
            Gre => "gre",
            Esp => "esp",
            Ah => "ah",
            Vxlan => "vxlan",
            Teredo => "teredo",
            Gtp => "gtp",
            Geneve => "geneve",
            Capwap => "capwap",
            Wlan => "wlan",
            L2tp => "l2tp",
            Erspan => "erspan",
            Netbios => "netbios",
            Ssdp => "ssdp",
            Isakmp => "isakmp",
            UdpEncap => "udpencap",
            Mipv6 => "mipv6",
            Lcp => "lcp",
            Pap => "pap",
            Chap => "chap",
            Ipcp => "ipcp",
            Ipv6cp => "ipv6cp",
            Ccp => "ccp",
            Cdp => "cdp",
            Eapol => "eapol",
            Realtek => "realtek",
            Wlccp => "wlccp",
            Ipx => "ipx",
            Hpext => "hpext",
            Ddp => "ddp",
            Ospf => "ospf",
            Pim => "pim",
            Pgm => "pgm",
            Vrrp => "vrrp",
            Eigrp => "eigrp",
            Chdlc => "chdlc",
            Ppi => "ppi",
            Radiotap => "radiotap",
            Dtls => "dtls",
            Dtls10 => "dtls1.0",
            Dtls12 => "dtls1.2",
            Dtls13 => "dtls1.3",
            CapwapData => "capwap.data",
            Ayiya => "ayiya",
            Slarp => "slarp",
            UnkEthType | UnkIpProto | UnkLlc => "UNK",
            Extra => "?",
        }
    }
}

/// One entry of a header description.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Tag {
    pub proto: Proto,
    pub arg: u16,
}

/// A packet's protocol stack, outermost first. Equality and hashing look at the used part only
/// (the flow table compares every packet's description with its flow's).
#[derive(Clone, Copy)]
pub struct HdrDesc {
    len: u8,
    overrun: bool,
    tags: [Tag; MAX_HDRS],
}

impl PartialEq for HdrDesc {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.overrun == other.overrun && self.tags() == other.tags()
    }
}

impl Eq for HdrDesc {}

impl std::hash::Hash for HdrDesc {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.overrun.hash(state);
        self.tags().hash(state);
    }
}

impl Default for HdrDesc {
    fn default() -> Self {
        HdrDesc { len: 0, overrun: false, tags: [Tag::default(); MAX_HDRS] }
    }
}

impl HdrDesc {
    pub fn clear(&mut self) {
        self.len = 0;
        self.overrun = false;
    }

    /// Appends a header; beyond [`MAX_HDRS`] the description is marked overrun instead.
    #[inline]
    pub fn push(&mut self, proto: Proto) {
        self.push_arg(proto, 0)
    }

    #[inline]
    pub fn push_arg(&mut self, proto: Proto, arg: u16) {
        if (self.len as usize) < MAX_HDRS {
            self.tags[self.len as usize] = Tag { proto, arg };
            self.len += 1;
        } else {
            self.overrun = true;
        }
    }

    /// Number of headers (Tranalyzer2's `numHdrs`): repeated headers count once each.
    pub fn depth(&self) -> usize {
        self.len as usize
    }

    pub fn overrun(&self) -> bool {
        self.overrun
    }

    pub fn tags(&self) -> &[Tag] {
        &self.tags[..self.len as usize]
    }

    pub fn last(&self) -> Option<Proto> {
        self.tags().last().map(|t| t.proto)
    }
}

impl fmt::Display for HdrDesc {
    /// Tranalyzer2's spelling: `:` between headers, consecutive VLAN/MPLS repeats folded as `vlan{2}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tags = self.tags();
        let mut i = 0;
        while i < tags.len() {
            let t = tags[i];
            let mut n = 1;
            // Tranalyzer2 folds only repeated VLAN tags and MPLS labels (`vlan{2}`, `mpls{2}`);
            // other repeats (`ipv6:ipv6`, `dtls1.2:dtls1.2`) are printed one by one.
            while matches!(t.proto, Proto::Vlan | Proto::Mpls) && i + n < tags.len() && tags[i + n] == t {
                n += 1;
            }
            if i > 0 {
                f.write_str(":")?;
            }
            match t.proto {
                Proto::UnkEthType => write!(f, "UNK(0x{:04x})", t.arg)?,
                Proto::UnkIpProto => write!(f, "UNK({})", t.arg)?,
                Proto::UnkLlc => write!(f, "UNK(0x{:02x})", t.arg)?,
                Proto::Extra => f.write_str(EXTRA_NAMES.get(t.arg as usize).copied().unwrap_or("?"))?,
                p => f.write_str(p.name())?,
            }
            if n > 1 {
                write!(f, "{{{n}}}")?;
            }
            i += n;
        }
        Ok(())
    }
}

impl fmt::Debug for HdrDesc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HdrDesc({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_repeats_and_counts_each() {
        let mut h = HdrDesc::default();
        for p in [Proto::Eth, Proto::Vlan, Proto::Vlan, Proto::Ipv4, Proto::Udp] {
            h.push(p);
        }
        assert_eq!(h.to_string(), "eth:vlan{2}:ipv4:udp");
        assert_eq!(h.depth(), 5);
        let mut u = HdrDesc::default();
        u.push(Proto::Eth);
        u.push_arg(Proto::UnkEthType, 0x8903);
        assert_eq!(u.to_string(), "eth:UNK(0x8903)");
    }
}
