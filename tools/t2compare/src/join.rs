//! Pairing golden rows with ours on the flow key (golden/README.md, "How to compare", step 3).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::columns::DIR;
use crate::error::Result;
use crate::table::{Row, Table};

/// Columns of the primary key, in the README's order.
pub const KEY_COLUMNS: &[&str] = &[DIR, "srcIP", "srcPort", "dstIP", "dstPort", "l4Proto", "timeFirst"];

/// The result of a join: indices into `golden.rows` / `ours.rows`.
#[derive(Debug, Default)]
pub struct Joined {
    pub pairs: Vec<(usize, usize)>,
    pub only_golden: Vec<usize>,
    pub only_ours: Vec<usize>,
    /// Golden primary keys shared by more than one row (resolved by the tie-breakers).
    pub golden_duplicate_keys: usize,
}

/// Joins two tables. Rows with the same primary key are paired first by the tie-breakers
/// (`vlanID`; for non-IP rows also `srcMac`, `dstMac`, `ethType`), then in file order, so that a
/// wrong tie-breaker value shows as a column mismatch rather than as a missing row.
pub fn join(golden: &Table, ours: &Table) -> Result<Joined> {
    for name in KEY_COLUMNS {
        golden.require(name)?;
        ours.require(name)?;
    }
    let mut ours_by_key: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, row) in ours.rows.iter().enumerate() {
        ours_by_key.entry(primary_key(ours, row)).or_default().push(i);
    }
    let mut golden_by_key: HashMap<String, Vec<usize>> = HashMap::new();
    let mut golden_order = Vec::new();
    for (i, row) in golden.rows.iter().enumerate() {
        let key = primary_key(golden, row);
        let group = golden_by_key.entry(key.clone()).or_default();
        if group.is_empty() {
            golden_order.push(key);
        }
        group.push(i);
    }

    let mut out = Joined::default();
    let mut ours_used = vec![false; ours.rows.len()];
    for key in &golden_order {
        let g_rows = &golden_by_key[key];
        if g_rows.len() > 1 {
            out.golden_duplicate_keys += 1;
        }
        let o_rows = ours_by_key.get(key).map(Vec::as_slice).unwrap_or(&[]);
        let mut g_left = Vec::new();
        for &g in g_rows {
            let tie = tie_breaker(golden, &golden.rows[g]);
            let hit = o_rows.iter().copied().find(|&o| !ours_used[o] && tie_breaker(ours, &ours.rows[o]) == tie);
            match hit {
                Some(o) => {
                    ours_used[o] = true;
                    out.pairs.push((g, o));
                }
                None => g_left.push(g),
            }
        }
        let o_left: Vec<usize> = o_rows.iter().copied().filter(|&o| !ours_used[o]).collect();
        let mut o_left = o_left.into_iter();
        for g in g_left {
            match o_left.next() {
                Some(o) => {
                    ours_used[o] = true;
                    out.pairs.push((g, o));
                }
                None => out.only_golden.push(g),
            }
        }
    }
    out.only_ours = (0..ours.rows.len()).filter(|&o| !ours_used[o]).collect();
    Ok(out)
}

/// The primary key, with IP addresses and `timeFirst` normalised so that a mere formatting
/// difference is reported in its column, not as a missing row.
pub fn primary_key(t: &Table, row: &Row) -> String {
    let ip = |name| normalise_ip(t.get(row, name));
    format!(
        "{} {}:{} > {}:{} proto {} t {}",
        t.get(row, DIR),
        ip("srcIP"),
        t.get(row, "srcPort"),
        ip("dstIP"),
        t.get(row, "dstPort"),
        t.get(row, "l4Proto"),
        normalise_time(t.get(row, "timeFirst")),
    )
}

/// A key for messages: the primary key plus the tie-breakers that are set.
pub fn display_key(t: &Table, row: &Row) -> String {
    let tie = tie_breaker(t, row);
    let key = primary_key(t, row);
    if tie.trim_matches('|').is_empty() {
        key
    } else {
        format!("{key} [{tie}]")
    }
}

fn tie_breaker(t: &Table, row: &Row) -> String {
    let vlan = t.get(row, "vlanID");
    if t.get(row, "srcIP") == "-" {
        let mac = |n| t.get(row, n);
        format!("vlan {vlan}|{}|{}|{}", mac("srcMac"), mac("dstMac"), mac("ethType"))
    } else if vlan.is_empty() {
        String::new()
    } else {
        format!("vlan {vlan}")
    }
}

fn normalise_ip(s: &str) -> String {
    s.parse::<IpAddr>().map_or_else(|_| s.to_owned(), |ip| ip.to_string())
}

/// `seconds.fraction` as integer nanoseconds, printed with 9 decimals; anything else verbatim.
/// Never via a float: 1.6e9 s does not fit in an f64 at nanosecond resolution.
pub fn normalise_time(s: &str) -> String {
    let (sec, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if sec.is_empty() || !digits(sec) || !digits(frac) || frac.len() > 9 {
        return s.to_owned();
    }
    match sec.parse::<u64>() {
        Ok(sec) => format!("{sec}.{frac:0<9}"),
        Err(_) => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HDR: &str = "%dir\tsrcIP\tsrcPort\tdstIP\tdstPort\tl4Proto\ttimeFirst\tvlanID\tsrcMac\tdstMac\tethType\n";

    fn table(rows: &[&str]) -> Table {
        Table::parse(&format!("{HDR}{}\n", rows.join("\n")), "t").expect("test table")
    }

    #[test]
    fn times_are_compared_as_nanoseconds() {
        assert_eq!(normalise_time("1.5"), "1.500000000");
        assert_eq!(normalise_time("1581113120.474299000"), "1581113120.474299000");
        assert_eq!(normalise_time("-"), "-");
    }

    #[test]
    fn ties_are_broken_by_vlan_then_order() {
        let g = table(&[
            "A\t10.0.0.1\t1\t10.0.0.2\t2\t17\t1.0\t10\t\t\t",
            "A\t10.0.0.1\t1\t10.0.0.2\t2\t17\t1.0\t20\t\t\t",
            "A\t-\t0\t-\t0\t0\t2.0\t\taa\tbb\t0x0806",
            "A\t-\t0\t-\t0\t0\t2.0\t\tcc\tdd\t0x0806",
            "A\t2001:db8:0:0::1\t3\t10.0.0.2\t4\t6\t3.0\t\t\t\t",
        ]);
        let o = table(&[
            "A\t-\t0\t-\t0\t0\t2.000000000\t\tcc\tdd\t0x0806",
            "A\t10.0.0.1\t1\t10.0.0.2\t2\t17\t1.0\t20\t\t\t",
            "A\t10.0.0.1\t1\t10.0.0.2\t2\t17\t1.0\t10\t\t\t",
            "A\t2001:db8::1\t3\t10.0.0.2\t4\t6\t3.0\t\t\t\t",
            "B\t10.0.0.2\t2\t10.0.0.1\t1\t17\t1.0\t\t\t\t",
        ]);
        let j = join(&g, &o).expect("join");
        let mut pairs = j.pairs.clone();
        pairs.sort();
        assert_eq!(pairs, vec![(0, 2), (1, 1), (3, 0), (4, 3)]);
        assert_eq!(j.only_golden, vec![2]);
        assert_eq!(j.only_ours, vec![4]);
        assert_eq!(j.golden_duplicate_keys, 2);
    }
}
