//! MAC vendor labels from the IEEE MA-L registry (`oui.tsv`, made by scripts/gen-labels.py).

use hashbrown::HashMap;
use std::sync::OnceLock;

static TABLE: OnceLock<HashMap<u32, &'static str>> = OnceLock::new();

/// Group addresses Tranalyzer2 names by purpose rather than by vendor.
const GROUP: &[([u8; 6], usize, &str)] = &[
    ([0xff; 6], 6, "Broadcast"),
    ([0x01, 0x80, 0xc2, 0, 0, 0x00], 6, "NearestCu"),
    ([0x01, 0x80, 0xc2, 0, 0, 0x0e], 6, "NearestBr"),
    ([0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc], 6, "CDP"),
    ([0x01, 0x00, 0x5e, 0, 0, 0], 3, "IPv4Multi"),
    ([0x33, 0x33, 0, 0, 0, 0], 2, "IPv6Multi"),
];

/// The vendor label of a MAC address, `-` when the prefix is unregistered.
pub fn label(mac: &[u8; 6]) -> &'static str {
    if let Some((_, _, name)) = GROUP.iter().find(|(m, n, _)| mac[..*n] == m[..*n]) {
        return name;
    }
    // An all-zero address is a placeholder (no real Ethernet header), not Xerox's.
    if mac == &[0; 6] {
        return "-";
    }
    let t = TABLE.get_or_init(|| super::parse_table(include_str!("oui.tsv"), |k| u32::from_str_radix(k, 16).ok()));
    let prefix = (mac[0] as u32) << 16 | (mac[1] as u32) << 8 | mac[2] as u32;
    t.get(&prefix).copied().unwrap_or("-")
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_and_unknown() {
        assert_eq!(super::label(&[0x3c, 0xa9, 0xf4, 1, 2, 3]), "IntelCorp,MY");
        assert_eq!(super::label(&[0x02, 0, 0, 0, 0, 1]), "-");
        assert_eq!(super::label(&[0x01, 0, 0x5e, 0x7f, 0xff, 0xfa]), "IPv4Multi");
        assert_eq!(super::label(&[0x33, 0x33, 0xff, 0, 0, 1]), "IPv6Multi");
        assert_eq!(super::label(&[0xff; 6]), "Broadcast");
        assert_eq!(super::label(&[0; 6]), "-");
    }
}
