//! Reading nDPI's `result/<capture>.out` files (ndpiReader's test output): one line per flow,
//! e.g. `\t1\tTCP 192.168.1.13:55523 <-> 178.62.197.130:443 [proto: ...]...[51 pkts/4260 bytes <-> 58 pkts/69722 bytes]...`.

use std::fs;
use std::net::IpAddr;
use std::path::Path;

use crate::err;
use crate::error::Result;

/// A conversation's identity without direction: protocol and both endpoints, sorted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConvKey {
    pub proto: u8,
    pub lo: (String, u16),
    pub hi: (String, u16),
}

impl ConvKey {
    /// Addresses are canonicalised (nDPI and T2 write some IPv6 addresses differently); an
    /// address that does not parse is kept as written and simply matches nothing.
    pub fn new(proto: u8, a: (&str, u16), b: (&str, u16)) -> ConvKey {
        let a = (canonical_ip(a.0), a.1);
        let b = (canonical_ip(b.0), b.1);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        ConvKey { proto, lo, hi }
    }
}

impl std::fmt::Display for ConvKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "proto {} {}:{} <-> {}:{}", self.proto, self.lo.0, self.lo.1, self.hi.0, self.hi.1)
    }
}

fn canonical_ip(s: &str) -> String {
    s.parse::<IpAddr>().map_or_else(|_| s.to_owned(), |ip| ip.to_string())
}

#[derive(Debug, Clone)]
pub struct NdpiFlow {
    /// 1-based line in the .out file.
    pub line: usize,
    pub key: ConvKey,
    /// Packets in both directions.
    pub packets: u64,
}

/// What a parsed .out file holds.
#[derive(Debug, Default)]
pub struct NdpiFile {
    pub flows: Vec<NdpiFlow>,
    /// Flow-like lines that could not be read (an unknown protocol name, say), with reasons.
    pub skipped: Vec<String>,
}

pub fn read_out(path: &Path) -> Result<NdpiFile> {
    // Some fuzzed captures put raw bytes into hostnames: read lossily, not as strict UTF-8.
    let bytes = fs::read(path).map_err(|e| err!("{}: cannot read: {e}", path.display()))?;
    Ok(parse_out(&String::from_utf8_lossy(&bytes), &path.display().to_string()))
}

pub fn parse_out(text: &str, origin: &str) -> NdpiFile {
    let mut out = NdpiFile::default();
    for (i, line) in text.lines().enumerate() {
        match parse_flow_line(line) {
            Ok(Some((key, packets))) => out.flows.push(NdpiFlow { line: i + 1, key, packets }),
            Ok(None) => {}
            Err(why) => out.skipped.push(format!("{origin}:{}: {why}", i + 1)),
        }
    }
    out
}

/// `Ok(None)` for lines that are not flow lines at all; `Err` for flow lines we cannot read.
fn parse_flow_line(line: &str) -> std::result::Result<Option<(ConvKey, u64)>, String> {
    // Flow lines are indented: "\t<n>\t<PROTO> <src> <->|-> <dst> [...".
    if !line.starts_with(char::is_whitespace) {
        return Ok(None);
    }
    let mut tok = line.split_whitespace();
    let (Some(num), Some(proto), Some(src), Some(arrow), Some(dst), Some(rest)) =
        (tok.next(), tok.next(), tok.next(), tok.next(), tok.next(), tok.next())
    else {
        return Ok(None);
    };
    if !num.bytes().all(|b| b.is_ascii_digit()) || !(arrow == "<->" || arrow == "->") || !rest.starts_with('[') {
        return Ok(None);
    }
    let proto = proto_number(proto).ok_or_else(|| format!("unknown protocol `{proto}`"))?;
    let src = endpoint(src).ok_or_else(|| format!("cannot read endpoint `{src}`"))?;
    let dst = endpoint(dst).ok_or_else(|| format!("cannot read endpoint `{dst}`"))?;
    let packets = packet_counts(line).ok_or("no `[N pkts/N bytes <-> N pkts/N bytes]` field")?;
    Ok(Some((ConvKey::new(proto, src, dst), packets)))
}

/// nDPI's protocol names (ndpi_get_ip_proto_name), or the number it prints for the others.
fn proto_number(name: &str) -> Option<u8> {
    const NAMES: &[(&str, u8)] = &[
        ("ICMP", 1),
        ("IGMP", 2),
        ("TCP", 6),
        ("EGP", 8),
        ("UDP", 17),
        ("GRE", 47),
        ("ESP", 50),
        ("AH", 51),
        ("ICMPV6", 58),
        ("OSPF", 89),
        ("PIM", 103),
        ("VRRP", 112),
        ("PGM", 113),
        ("SCTP", 132),
    ];
    NAMES.iter().find(|(n, _)| *n == name).map(|(_, p)| *p).or_else(|| name.parse().ok())
}

/// `1.2.3.4:80` or `[2001:db8::1]:80`.
fn endpoint(s: &str) -> Option<(&str, u16)> {
    let (addr, port) = match s.strip_prefix('[') {
        Some(v6) => v6.rsplit_once("]:")?,
        None => s.rsplit_once(':')?,
    };
    Some((addr, port.parse().ok()?))
}

/// Total packets from the `[A pkts/B bytes <-> C pkts/D bytes]` field (`->` when one-way).
fn packet_counts(line: &str) -> Option<u64> {
    line.split('[').find_map(|seg| {
        let seg = seg.split(']').next()?;
        let t: Vec<&str> = seg.split_whitespace().collect();
        match t.as_slice() {
            [a, pa, "bytes", "<->" | "->", b, pb, "bytes"] if pa.starts_with("pkts/") && pb.starts_with("pkts/") => {
                Some(a.parse::<u64>().ok()? + b.parse::<u64>().ok()?)
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUT: &str = "Guessed flow protos:\t6\n\nJA3 Host Stats: \n\t1\t 192.168.1.13             \t 1      \n\n\
\t1\tTCP 192.168.1.13:55523 <-> 178.62.197.130:443 [proto: 91.26/TLS.ntop][Hostname/SNI: [x]][51 pkts/4260 bytes <-> 58 pkts/69722 bytes][Goodput ratio: 22/94]\n\
\t2\tICMPV6 [2a03:2880:1010:6f03:face:b00c::2]:0 -> [ff02::c]:0 [proto: 102/ICMPV6][16 pkts/8921 bytes -> 0 pkts/0 bytes]\n\
\t3\tFOO 1.1.1.1:1 -> 2.2.2.2:2 [proto: 0][1 pkts/1 bytes -> 0 pkts/0 bytes]\n\
\t4\t254 1.1.1.1:0 -> 2.2.2.2:0 [proto: 0][3 pkts/1 bytes -> 0 pkts/0 bytes]\n";

    #[test]
    fn parses_flow_lines() {
        let f = parse_out(OUT, "x.out");
        assert_eq!(f.flows.len(), 3, "{:?}", f.flows);
        assert_eq!(f.flows[0].packets, 109);
        assert_eq!(f.flows[0].key, ConvKey::new(6, ("178.62.197.130", 443), ("192.168.1.13", 55523)));
        // T2 writes this address with `:0:2`; both canonicalise alike.
        assert_eq!(f.flows[1].key, ConvKey::new(58, ("2a03:2880:1010:6f03:face:b00c:0:2", 0), ("ff02::c", 0)));
        assert_eq!(f.flows[2].key.proto, 254);
        assert_eq!(f.skipped.len(), 1);
        assert!(f.skipped[0].starts_with("x.out:8: unknown protocol"), "{:?}", f.skipped);
    }
}
