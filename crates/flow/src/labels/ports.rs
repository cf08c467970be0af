//! Service names for destination ports, from the IANA registry (`ports.tsv`, made by
//! scripts/gen-labels.py).

use std::collections::HashMap;
use std::sync::OnceLock;

static TABLE: OnceLock<HashMap<u16, &'static str>> = OnceLock::new();

/// The service name of `port`; Tranalyzer2's portClassifier names by port number alone.
pub fn name(port: u16, _l4_proto: u8) -> Option<&'static str> {
    let t = TABLE.get_or_init(|| super::parse_table(include_str!("ports.tsv"), |k| k.parse().ok()));
    t.get(&port).copied()
}

#[cfg(test)]
mod tests {
    #[test]
    fn common_ports() {
        assert_eq!(super::name(80, 6), Some("http"));
        assert_eq!(super::name(53, 17), Some("domain"));
    }
}
