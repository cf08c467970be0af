//! With `--threads`, the reading thread frames records and decides which shard a packet goes to
//! before any dissection (it runs shard 0 itself, the other shards dissect on their threads).
//! Deciding needs the flow's address pair, which [`fast_route`] reads
//! straight from the common frames (Ethernet, VLAN tags, IPv4 or IPv6, then TCP, UDP or ICMP):
//! the same addresses `dissect` would find. Anything else (tunnels, which change the flow's
//! addresses, ARP, other link types, extension headers, bogus headers) returns None and the
//! reader dissects the frame fully to find them.

use netanom_wire::wire::ethernet::ethertype as et;
use netanom_wire::wire::{ayiya, capwap, geneve, gtp, teredo, vxlan};
use netanom_wire::{linktype, PacketInfo, L3};

/// What the reader needs of a frame: the flow's addresses and the outer Ethernet header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    pub v6: bool,
    pub src_ip: [u8; 16],
    pub dst_ip: [u8; 16],
    pub src_mac: [u8; 6],
    pub dst_mac: [u8; 6],
}

/// UDP ports at which `dissect` looks for a tunnel (whose inner addresses make the flow).
fn tunnel_port(p: u16) -> bool {
    matches!(
        p,
        vxlan::PORT
            | teredo::PORT
            | gtp::PORT_U
            | gtp::PORT_C
            | gtp::PORT_PRIME
            | geneve::PORT
            | ayiya::PORT
            | capwap::PORT_CONTROL
            | capwap::PORT_DATA
    )
}

/// Whether a transport header at `l4` (protocol `proto`) cannot lead `dissect` into a tunnel.
#[inline]
fn plain_transport(f: &[u8], proto: u8, l4: usize, later_fragment: bool) -> bool {
    match proto {
        6 | 1 | 58 => true,
        17 if later_fragment => true,
        17 => match f.get(l4..l4 + 4) {
            Some(b) => !tunnel_port(u16::from_be_bytes([b[0], b[1]])) && !tunnel_port(u16::from_be_bytes([b[2], b[3]])),
            // No ports: dissect cannot follow a tunnel either.
            None => true,
        },
        _ => false,
    }
}

/// The flow addresses of a common frame, or None when only a full dissection can tell.
#[inline]
pub(crate) fn fast_route(lt: u32, f: &[u8]) -> Option<Route> {
    if lt != linktype::ETHERNET || f.len() < 14 {
        return None;
    }
    let mut off = 12;
    let mut t = u16::from_be_bytes([f[12], f[13]]);
    let mut tags = 0;
    while matches!(t, et::VLAN | et::QINQ | et::VLAN_9100 | et::VLAN_9200) {
        tags += 1;
        let b = f.get(off + 4..off + 6)?;
        if tags > 4 {
            return None;
        }
        t = u16::from_be_bytes([b[0], b[1]]);
        off += 4;
    }
    let l3 = off + 2;
    let mut r = Route {
        v6: false,
        src_ip: [0; 16],
        dst_ip: [0; 16],
        src_mac: [f[6], f[7], f[8], f[9], f[10], f[11]],
        dst_mac: [f[0], f[1], f[2], f[3], f[4], f[5]],
    };
    match t {
        et::IPV4 => {
            let h = f.get(l3..l3 + 20)?;
            let ihl = (h[0] & 0x0f) as usize * 4;
            if h[0] >> 4 != 4 || ihl < 20 {
                return None;
            }
            let later = u16::from_be_bytes([h[6], h[7]]) & 0x1fff != 0;
            if !plain_transport(f, h[9], l3 + ihl, later) {
                return None;
            }
            r.src_ip[..4].copy_from_slice(&h[12..16]);
            r.dst_ip[..4].copy_from_slice(&h[16..20]);
        }
        et::IPV6 => {
            let h = f.get(l3..l3 + 40)?;
            if h[0] >> 4 != 6 || !plain_transport(f, h[6], l3 + 40, false) {
                return None;
            }
            r.v6 = true;
            r.src_ip.copy_from_slice(&h[8..24]);
            r.dst_ip.copy_from_slice(&h[24..40]);
        }
        _ => return None,
    }
    Some(r)
}

/// The route of a dissected packet (what [`fast_route`] would say, had it known how).
pub(crate) fn key_of(p: &PacketInfo) -> (&[u8], &[u8]) {
    match p.l3 {
        L3::None => (&p.src_mac, &p.dst_mac),
        _ => (&p.src_ip, &p.dst_ip),
    }
}

/// How the hash range is split between shards. Shard 0 runs on the reading thread, which also
/// frames every record and routes it, so it gets a smaller part of the range: [`SHARD0_SHARE`]
/// of the others' part each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ShardMap {
    /// Hashes (top 32 bits) below this go to shard 0.
    cut: u64,
    /// `(shards - 1) * 2^64 / (2^32 - cut)`: scales the rest of the range to shards 1.. with a
    /// multiply instead of a division.
    scale: u128,
}

/// Shard 0's part of the hash range relative to each other shard's: with two threads, shard 0
/// gets about a quarter of the flows. On the 2M-packet benchmark, in alternating runs, 0.35
/// gave 1.72× and 0.25 1.72×, where 0.5 gave 1.69×, 0.7 1.68× and 0.15 1.63×: the reading
/// thread also frames and routes every packet, and it runs the other shards' batches when
/// their thread falls behind, not the other way round.
pub(crate) const SHARD0_SHARE: f64 = 0.35;

impl ShardMap {
    pub(crate) fn new(shards: usize) -> ShardMap {
        if shards <= 1 {
            return ShardMap { cut: 1 << 32, scale: 0 };
        }
        let share = SHARD0_SHARE / (SHARD0_SHARE + (shards - 1) as f64);
        let cut = ((1u64 << 32) as f64 * share) as u64;
        let rest = ((1u64 << 32) - cut) as u128;
        ShardMap { cut, scale: (((shards - 1) as u128) << 64) / rest }
    }

    #[inline]
    fn of_hash(&self, h32: u64) -> usize {
        if h32 < self.cut {
            0
        } else {
            1 + (((h32 - self.cut) as u128 * self.scale) >> 64) as usize
        }
    }
}

/// Which shard an (unordered) address pair belongs to: both directions of a flow, and all
/// fragments of a datagram, land in the same shard, as do all packets of an address pair (the
/// observer's attempts are kept per pair). Addresses shorter than 16 bytes (MACs) are padded.
pub(crate) fn shard_of_pair(a: &[u8], b: &[u8], map: &ShardMap) -> usize {
    let pad = |x: &[u8]| {
        let mut w = [0u8; 16];
        let n = x.len().min(16);
        w[..n].copy_from_slice(&x[..n]);
        w
    };
    shard_of_addrs(&pad(a), &pad(b), map)
}

/// [`shard_of_pair`] for two 16-byte addresses: whole words, a few multiplies and no division,
/// since the reader does this for every packet.
#[inline]
pub(crate) fn shard_of_addrs(a: &[u8; 16], b: &[u8; 16], map: &ShardMap) -> usize {
    let words = |x: &[u8; 16]| {
        let (lo, hi) = x.split_at(8);
        (u64::from_le_bytes(lo.try_into().unwrap_or_default()), u64::from_le_bytes(hi.try_into().unwrap_or_default()))
    };
    let (a, b) = (words(a), words(b));
    // Any fixed order of the two makes the pair unordered.
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let mut h = lo.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ lo.1.wrapping_mul(0xc2b2_ae3d_27d4_eb4f)
        ^ hi.0.wrapping_mul(0x1656_67b1_9e37_79f9)
        ^ hi.1.wrapping_mul(0x27d4_eb2f_1656_67c5);
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    map.of_hash(h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netanom_capture::{CaptureReader, ReadEvent};
    use netanom_wire::dissect;

    /// Checks `fast_route` against `dissect` on every frame of `path`; returns frames routed fast.
    fn check_file(path: &std::path::Path) -> (u64, u64) {
        let Ok(mut r) = CaptureReader::open_with(path, false) else { return (0, 0) };
        let mut info = PacketInfo::default();
        let (mut fast, mut all) = (0, 0);
        while let Ok(Some(ev)) = r.next_event() {
            let ReadEvent::Packet(p) = ev else { continue };
            all += 1;
            let Some(route) = fast_route(p.linktype, p.data) else { continue };
            fast += 1;
            assert!(dissect(p.linktype, p.data, p.orig_len, &mut info).is_ok());
            let want = Route {
                v6: info.l3 == L3::Ipv6,
                src_ip: info.src_ip,
                dst_ip: info.dst_ip,
                src_mac: info.src_mac,
                dst_mac: info.dst_mac,
            };
            assert!(info.l3 != L3::None && info.has_mac, "{}: packet {all} is not IP", path.display());
            assert_eq!(route, want, "{}: packet {all}", path.display());
        }
        (fast, all)
    }

    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }

    #[test]
    fn fast_route_agrees_with_dissect() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut files = vec![root.join("samples/lab.pcap")];
        // The shared captures (tunnels of every kind, fragments, VLANs), when present.
        // `../shared` beside the repository, as CI has it (NETANOM_SHARED overrides).
        let shared = std::env::var_os("NETANOM_SHARED").map(std::path::PathBuf::from);
        let shared = shared.unwrap_or_else(|| root.join("../shared"));
        if shared.join("data").is_dir() {
            walk(&shared.join("data"), &mut files);
        } else {
            eprintln!("fast_route_agrees_with_dissect: {} absent, checking the bundled sample only", shared.display());
        }
        let (mut fast, mut all) = (0, 0);
        for f in &files {
            let (a, b) = check_file(f);
            fast += a;
            all += b;
        }
        assert!(fast > 0, "no frame took the fast route");
        println!("{fast} of {all} frames routed without dissection");
    }

    #[test]
    fn shard_of_pair_ignores_direction_and_spreads() {
        let map = ShardMap::new(3);
        let mut counts = [0u32; 3];
        for i in 0..3000u32 {
            let mut a = [0u8; 16];
            let mut b = [0u8; 16];
            a[..4].copy_from_slice(&[10, 0, (i >> 8) as u8, i as u8]);
            b[..4].copy_from_slice(&[192, 168, 1, (i % 7) as u8]);
            let s = shard_of_pair(&a, &b, &map);
            assert_eq!(s, shard_of_pair(&b, &a, &map));
            assert_eq!(s, shard_of_addrs(&a, &b, &map));
            counts[s] += 1;
        }
        // Shard 0 gets SHARD0_SHARE / (SHARD0_SHARE + 2) of the pairs, the others 1 / (.. + 2) each
        // (give or take 15%).
        let expect = |part: f64| 3000.0 * part / (SHARD0_SHARE + 2.0);
        let near = |n: u32, e: f64| (n as f64 - e).abs() < 0.15 * e;
        assert!(near(counts[0], expect(SHARD0_SHARE)), "{counts:?}");
        assert!(counts[1..].iter().all(|&n| near(n, expect(1.0))), "{counts:?}");
        let two = ShardMap::new(2);
        assert_eq!(
            shard_of_pair(&[1, 2, 3, 4, 5, 6], &[6, 5, 4, 3, 2, 1], &two),
            shard_of_pair(&[6, 5, 4, 3, 2, 1], &[1, 2, 3, 4, 5, 6], &two)
        );
    }

    #[test]
    fn shard_map_covers_every_shard_and_no_more() {
        for shards in 1..=16 {
            let map = ShardMap::new(shards);
            let mut seen = vec![false; shards];
            let edges = [0, (1 << 32) - 1, map.cut.saturating_sub(1), map.cut.min((1 << 32) - 1)];
            for h in (0..1u64 << 32).step_by(1 << 20).chain(edges) {
                let s = map.of_hash(h);
                assert!(s < shards, "{shards} shards, hash {h:#x} -> {s}");
                seen[s] = true;
            }
            assert!(seen.iter().all(|&s| s), "{shards} shards: {seen:?}");
        }
    }

    #[test]
    fn tunnels_and_arp_need_dissection() {
        let mut f = vec![0u8; 14 + 20 + 8 + 8];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[23] = 17;
        f[34..36].copy_from_slice(&4789u16.to_be_bytes());
        assert!(fast_route(linktype::ETHERNET, &f).is_none(), "VXLAN");
        f[34..36].copy_from_slice(&53u16.to_be_bytes());
        assert!(fast_route(linktype::ETHERNET, &f).is_some());
        f[23] = 47;
        assert!(fast_route(linktype::ETHERNET, &f).is_none(), "GRE");
        f[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(fast_route(linktype::ETHERNET, &f).is_none(), "ARP");
    }
}
