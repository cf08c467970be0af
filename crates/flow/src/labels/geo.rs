//! Country/organisation labels for special-purpose address ranges, as Tranalyzer2's subnet
//! database labels them (a two-digit code instead of a country). Public addresses get `-` because
//! no public subnet database is bundled, unless the user loads a subnet file
//! ([`load_subnet_file`]), whose entries are looked up first.

use std::net::IpAddr;
use std::sync::OnceLock;

use crate::schema::IpText;

/// Subnets from a user's file, longest prefix first. Set once per process, before any flow is
/// written (the labels are part of every row, so they cannot change in the middle of a table).
static USER_SUBNETS: OnceLock<Vec<(u128, u8, bool, &'static str, &'static str)>> = OnceLock::new();

/// Loads a subnet file: one `CIDR<TAB>country<TAB>organisation` entry per line (`#` comments and
/// blank lines ignored), e.g. `203.0.113.0/24	au	Example Pty`. Errors name the line. Call it once,
/// before writing flows; a second call is an error.
pub fn load_subnet_file(path: &std::path::Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut entries = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let bad =
            |why: &str| format!("{}:{}: {why} (expected CIDR<TAB>country<TAB>organisation)", path.display(), i + 1);
        let mut f = line.split('\t');
        let (Some(cidr), Some(cc), org) = (f.next(), f.next(), f.next().unwrap_or("-")) else {
            return Err(bad("missing the country column"));
        };
        let (addr, len) = cidr.trim().split_once('/').unwrap_or((cidr.trim(), ""));
        let addr: IpAddr = addr.parse().map_err(|_| bad(&format!("`{addr}` is not an IP address")))?;
        let (bits, v4, max) = match addr {
            IpAddr::V4(a) => (u32::from(a) as u128, true, 32),
            IpAddr::V6(a) => (u128::from(a), false, 128),
        };
        let len: u8 =
            if len.is_empty() { max } else { len.parse().map_err(|_| bad(&format!("bad prefix length `{len}`")))? };
        if len > max {
            return Err(bad(&format!("prefix length {len} is longer than {max}")));
        }
        let leak = |s: &str| -> &'static str { Box::leak(s.trim().to_string().into_boxed_str()) };
        entries.push((bits, len, v4, leak(cc), leak(org)));
    }
    entries.sort_by(|a, b| b.1.cmp(&a.1));
    let n = entries.len();
    USER_SUBNETS.set(entries).map_err(|_| "a subnet file was already loaded".to_string())?;
    Ok(n)
}

fn user_label(v: u128, v4: bool) -> Option<(&'static str, &'static str)> {
    let max = if v4 { 32 } else { 128 };
    USER_SUBNETS.get()?.iter().find_map(|&(net, len, is_v4, cc, org)| {
        if is_v4 != v4 {
            return None;
        }
        let shift = max - len as u32;
        let same = if len == 0 { true } else { (v >> shift) == (net >> shift) };
        same.then_some((cc, org))
    })
}

/// (network, prefix length, code, organisation); more specific entries first.
const V4: &[([u8; 4], u8, &str, &str)] = &[
    ([224, 0, 0, 1], 32, "10", "All Systems on this Subnet"),
    ([224, 0, 0, 2], 32, "10", "All Routers on this Subnet"),
    ([224, 0, 0, 13], 32, "10", "All PIM Routers"),
    ([224, 0, 0, 22], 32, "10", "IGMP"),
    ([224, 0, 0, 102], 32, "10", "HSRP"),
    ([224, 0, 0, 117], 32, "10", "DLEP Discovery"),
    ([224, 0, 0, 251], 32, "10", "mDNS"),
    ([224, 0, 0, 252], 32, "10", "Link-local Multicast Name Reso"),
    ([224, 0, 2, 2], 32, "10", "SUN RPC PMAPPROC_CALLIT"),
    ([224, 0, 23, 12], 32, "10", "EIBnet/IP"),
    ([224, 2, 127, 254], 32, "10", "SAPv1 Announcements"),
    ([255, 255, 255, 255], 32, "11", "Broadcast"),
    ([239, 0, 0, 0], 8, "10", "Organization-Local Scope"),
    ([224, 0, 0, 0], 4, "10", "Multicast"),
    ([240, 0, 0, 0], 4, "24", "Reserved"),
    ([10, 0, 0, 0], 8, "04", "Private network"),
    ([172, 16, 0, 0], 12, "05", "Private network"),
    ([192, 168, 0, 0], 16, "07", "Private network"),
    ([127, 0, 0, 0], 8, "01", "Loopback"),
    ([169, 254, 0, 0], 16, "02", "Link-local"),
    ([100, 64, 0, 0], 10, "20", "Shared address space"),
    ([192, 0, 2, 0], 24, "21", "TEST-NET-1"),
    ([198, 51, 100, 0], 24, "22", "TEST-NET-2"),
    ([203, 0, 113, 0], 24, "23", "TEST-NET-3"),
    ([192, 88, 99, 0], 24, "60", "IPv6 to IPv4 relay"),
    ([198, 18, 0, 0], 15, "08", "Benchmark testing subnets"),
    ([14, 0, 0, 0], 8, "03", "Public data networks"),
    ([24, 0, 0, 0], 8, "09", "Cable television networks"),
];

/// (network, prefix length, code, organisation) for IPv6; more specific entries first.
const V6: &[(u128, u8, &str, &str)] = &[
    (1, 128, "01", "Loopback"),
    (0xff02_0000_0000_0000_0000_0000_0000_0001, 128, "10", "All Nodes Address"),
    (0xff02_0000_0000_0000_0000_0000_0000_0002, 128, "10", "Routers Address"),
    (0xff02_0000_0000_0000_0000_0000_0000_000c, 128, "10", "SSDP"),
    (0xff02_0000_0000_0000_0000_0000_0000_0012, 128, "10", "VRRP"),
    (0xff02_0000_0000_0000_0000_0000_0000_0016, 128, "10", "MLDv2-capable routers"),
    (0xff02_0000_0000_0000_0000_0000_0000_0066, 128, "10", "Documentation Addresses"),
    (0xff02_0000_0000_0000_0000_0000_0000_00fb, 128, "10", "mDNSv6"),
    (0xff02_0000_0000_0000_0000_0000_0001_0002, 128, "10", "DHCP_Relay_Agents_and_Servers"),
    (0xff02_0000_0000_0000_0000_0000_0001_0003, 128, "10", "mulicast name resolution"),
    (0xff02_0000_0000_0000_0000_0001_ff00_0000, 104, "10", "Solicited node Link-local"),
    (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, "10", "Multicast"),
    (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, "02", "Link-local"),
    (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, "04", "Unique local"),
    (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32, "27", "doc and example source"),
    (0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96, "63", "IPv4/6 translation"),
    (0x2001_0000_0000_0000_0000_0000_0000_0000, 32, "64", "Teredo"),
    (0x2002_0000_0000_0000_0000_0000_0000_0000, 16, "65", "6to4 (deprecated)"),
];

const UNKNOWN: (&str, &str) = ("-", "-");

/// First octets that some [`V4`] entry covers: most addresses are public and skip the scan (two
/// lookups per row written, a linear scan each showed in profiles).
const V4_FIRST_OCTET: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < V4.len() {
        let (net, len) = (V4[i].0, V4[i].1);
        let free = if len >= 8 { 0 } else { 0xffu8 >> len };
        let lo = net[0] & !free;
        let mut o = lo as usize;
        while o <= (lo | free) as usize {
            t[o] = true;
            o += 1;
        }
        i += 1;
    }
    t
};

/// The (country code, organisation) pair for an address.
pub fn label(ip: &IpText) -> (&'static str, &'static str) {
    match ip {
        IpText::V4(a) => {
            let v = u32::from_be_bytes(*a);
            if let Some(l) = user_label(v as u128, true) {
                return l;
            }
            if !V4_FIRST_OCTET[a[0] as usize] {
                return UNKNOWN;
            }
            scan_v4(v)
        }
        IpText::V6(a) => {
            let v = u128::from_be_bytes(*a);
            if let Some(l) = user_label(v, false) {
                return l;
            }
            V6.iter()
                .find(|(net, len, _, _)| {
                    let mask = if *len == 0 { 0 } else { u128::MAX << (128 - *len as u32) };
                    v & mask == net & mask
                })
                .map(|(_, _, cc, org)| (*cc, *org))
                .unwrap_or(UNKNOWN)
        }
        IpText::None => UNKNOWN,
    }
}

fn scan_v4(v: u32) -> (&'static str, &'static str) {
    V4.iter()
        .find(|(net, len, _, _)| {
            let mask = if *len == 0 { 0 } else { u32::MAX << (32 - *len as u32) };
            v & mask == u32::from_be_bytes(*net) & mask
        })
        .map(|(_, _, cc, org)| (*cc, *org))
        .unwrap_or(UNKNOWN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_octet_filter_changes_no_label() {
        for o in 0..=255u8 {
            for b in [0u8, 1, 16, 31, 51, 64, 88, 113, 127, 168, 254, 255] {
                for c in [0u8, 2, 99, 100, 255] {
                    let a = [o, b, c, 1];
                    assert_eq!(label(&IpText::V4(a)), scan_v4(u32::from_be_bytes(a)), "{a:?}");
                }
            }
        }
    }

    #[test]
    fn special_ranges() {
        assert_eq!(label(&IpText::V4([192, 168, 1, 128])), ("07", "Private network"));
        assert_eq!(label(&IpText::V4([224, 0, 0, 251])), ("10", "mDNS"));
        assert_eq!(label(&IpText::V4([224, 127, 98, 214])), ("10", "Multicast"));
        assert_eq!(label(&IpText::V4([216, 58, 208, 142])), ("-", "-"));
        assert_eq!(label(&IpText::V4([255, 1, 2, 3])), ("24", "Reserved"));
        assert_eq!(label(&IpText::V4([238, 1, 2, 3])), ("10", "Multicast"));
        assert_eq!(label(&IpText::V4([100, 63, 0, 1])), ("-", "-"));
        assert_eq!(label(&IpText::V4([100, 64, 0, 1])), ("20", "Shared address space"));
        let ll: std::net::Ipv6Addr = "fe80::1059:a858:f9e7:cf94".parse().unwrap();
        assert_eq!(label(&IpText::V6(ll.octets())), ("02", "Link-local"));
        let sn: std::net::Ipv6Addr = "ff02::1:ff00:1".parse().unwrap();
        assert_eq!(label(&IpText::V6(sn.octets())), ("10", "Solicited node Link-local"));
    }
}
