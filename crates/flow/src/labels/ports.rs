//! Service names for destination ports, from the IANA registry (`ports.tsv`, made by
//! scripts/gen-labels.py).

use std::sync::OnceLock;

/// One entry per port (empty: no name): a direct index, as every row looks one up.
static TABLE: OnceLock<Vec<&'static str>> = OnceLock::new();

/// The service name of `port`; Tranalyzer2's portClassifier names by port number alone.
pub fn name(port: u16, l4_proto: u8) -> Option<&'static str> {
    // IANA registers port 0 only for TCP and SCTP (spr-itunes), and Tranalyzer2 names it so
    // there alone (UDP port 0 stays unknown).
    if port == 0 {
        return matches!(l4_proto, 6 | 132).then_some("spr-itunes");
    }
    let t = TABLE.get_or_init(|| {
        let mut t = vec![""; 1 << 16];
        for (p, n) in super::parse_table(include_str!("ports.tsv"), |k| k.parse::<u16>().ok()) {
            t[p as usize] = n;
        }
        t
    });
    Some(t[port as usize]).filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn common_ports() {
        assert_eq!(super::name(80, 6), Some("http"));
        assert_eq!(super::name(53, 17), Some("domain"));
        assert_eq!(super::name(0, 6), Some("spr-itunes"));
        assert_eq!(super::name(0, 132), Some("spr-itunes"));
        assert_eq!(super::name(0, 17), None);
    }
}
