//! Labels Tranalyzer2 attaches to addresses and ports: special IP ranges, MAC vendors, port names.

pub mod geo;
pub mod oui;
pub mod ports;

use hashbrown::HashMap;

/// Parses an embedded `key<TAB>value` table, skipping `#` comments. (hashbrown's default hasher:
/// these are looked up for every row written, and SipHash showed in profiles.)
fn parse_table<K: std::hash::Hash + Eq>(
    text: &'static str,
    key: impl Fn(&str) -> Option<K>,
) -> HashMap<K, &'static str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.split_once('\t')?;
            Some((key(k)?, v))
        })
        .collect()
}
