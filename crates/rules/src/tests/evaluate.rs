use super::{col, schema};
use crate::{parse_int_text, ErrorKind, FiredRules, Row, RowValues, Rule, RuleSet, Severity};

/// Whether `when` fires on the row that `fill` builds.
fn fires(when: &str, fill: impl Fn(&mut RowValues)) -> bool {
    let set = RuleSet::from_rules(vec![Rule::new("r", when)]).unwrap_or_else(|e| panic!("{when}: {e}"));
    let compiled = set.compile(&schema()).unwrap_or_else(|e| panic!("{when}: {e}"));
    let mut row = RowValues::new(schema().len());
    fill(&mut row);
    let mut fired = FiredRules::new();
    compiled.evaluate(&row as &dyn Row, &mut fired);
    assert_eq!(fired.contains(0), compiled.matches(0, &row));
    fired.contains(0)
}

fn ints<'a>(values: &'a [(&'a str, i128)]) -> impl Fn(&mut RowValues) + 'a {
    move |row| {
        for &(name, v) in values {
            row.set_int(col(name), v);
        }
    }
}

#[test]
fn integer_comparisons() {
    let r = ints(&[("pktsSnt", 3)]);
    for (when, want) in [
        ("pktsSnt == 3", true),
        ("pktsSnt != 3", false),
        ("pktsSnt < 3", false),
        ("pktsSnt <= 3", true),
        ("pktsSnt > 2", true),
        ("pktsSnt >= 4", false),
        ("3 == pktsSnt", true),
        ("2 < pktsSnt", true),
        ("pktsSnt > -1", true),
    ] {
        assert_eq!(fires(when, &r), want, "{when}");
    }
}

#[test]
fn bit_operators() {
    let r = ints(&[("tcpFlags", 0x0802), ("tcpAnomaly", 0x00f0)]);
    for (when, want) in [
        ("tcpFlags & 0xf800", true),
        ("tcpFlags & 0x0400", false),
        ("tcpFlags & 0x0002 != 0", true),
        ("(tcpFlags & 0x0002) != 0 and pktsRcvd == 0", false), // pktsRcvd missing
        ("tcpFlags | 0x0001 == 0x0803", true),
        ("tcpFlags ^ 0x0002 == 0x0800", true),
        ("~tcpFlags & 0x0802", false),
        ("~tcpFlags & 0x0001", true),
        ("tcpFlags & tcpAnomaly", false),
        ("tcpFlags | tcpAnomaly == 0x08f2", true),
        ("0x0800 | 0x0002 == tcpFlags", true),
        ("tcpFlags & 0x0f00 | 0x00f0 == 0x08f0", true),
        ("0", false),
        ("1", true),
    ] {
        assert_eq!(fires(when, &r), want, "{when}");
    }
}

#[test]
fn sixty_four_bit_masks() {
    let top = i128::from(1u64 << 63);
    assert!(fires("flowStat & 0x8000000000000000", ints(&[("flowStat", top)])));
    assert!(!fires("flowStat & 0x8000000000000000", ints(&[("flowStat", top - 1)])));
    assert!(fires("flowStat > 0x7fffffffffffffff", ints(&[("flowStat", top)])));
    assert!(fires("flowStat == 0xffffffffffffffff", ints(&[("flowStat", u64::MAX.into())])));
    assert!(fires("flowStat == 18446744073709551615", ints(&[("flowStat", u64::MAX.into())])));
    assert!(fires("flowStat & 0x0004000000000000", ints(&[("flowStat", 0x0004000000000001)])));
    assert!(fires("~flowStat == 0", ints(&[("flowStat", u64::MAX.into())])));
    // A negative signed value is its two's-complement pattern to bit operators.
    assert!(fires("tcpMSS < 0 and tcpMSS & 0xff == 0xff", ints(&[("tcpMSS", -1)])));
    assert!(fires("tcpMSS & 0x8000000000000000", ints(&[("tcpMSS", i128::from(i64::MIN))])));
}

#[test]
fn legacy_rule_on_hex_valued_field() {
    for (text, want) in [("0x0005", true), ("0x0004", false), ("0x0000000000000010", true), ("0x0", false)] {
        let v = parse_int_text(text).unwrap();
        assert_eq!(fires("tcpAnomaly > 4", ints(&[("tcpAnomaly", v)])), want, "{text}");
    }
}

#[test]
fn floats_and_mixed() {
    let f = |v: f64| move |row: &mut RowValues| row.set_float(col("avgL7PktSz"), v);
    assert!(fires("avgL7PktSz > 1400.5", f(1400.75)));
    assert!(!fires("avgL7PktSz > 1400.5", f(1400.5)));
    assert!(fires("avgL7PktSz >= 1400.5 and avgL7PktSz <= 1400.5", f(1400.5)));
    assert!(fires("avgL7PktSz == 1400", f(1400.0)));
    assert!(fires("avgL7PktSz != 1400", f(1400.1)));
    assert!(fires("1400 < avgL7PktSz", f(1400.1)));
    assert!(fires("avgL7PktSz < -0.5", f(-1.0)));
    assert!(!fires("avgL7PktSz == avgL7PktSz", f(f64::NAN)));
    assert!(fires("avgL7PktSz != 0.0", f(f64::NAN)));
    assert!(fires("pktsSnt < 2.5", ints(&[("pktsSnt", 2)])));
    assert!(!fires("pktsSnt > 9007199254740992.0", ints(&[("pktsSnt", 1 << 53)])));
    assert!(fires("pktsSnt > 9007199254740992.0", ints(&[("pktsSnt", (1 << 53) + 1)])));
    let both = |row: &mut RowValues| {
        row.set_int(col("pktsSnt"), 1500);
        row.set_float(col("avgL7PktSz"), 1400.5);
    };
    assert!(fires("pktsSnt > avgL7PktSz", both));
    assert!(fires("avgL7PktSz <= pktsSnt", both));
}

#[test]
fn strings() {
    let s = |row: &mut RowValues| {
        row.set_str(col("dstPortClass"), "http");
        row.set_str(col("firstPayload"), "tls");
        row.set_int(col("l4Proto"), 6);
        row.set_int(col("dstPort"), 443);
    };
    assert!(fires("dstPortClass == \"http\"", s));
    assert!(fires("dstPortClass == 'http'", s));
    assert!(!fires("dstPortClass == \"HTTP\"", s));
    assert!(fires("dstPortClass != \"dns\"", s));
    assert!(!fires("dstPortClass == firstPayload", s));
    assert!(!fires(r#"l4Proto == 6 and dstPort == 443 and not (firstPayload == "tls")"#, s));
    assert!(fires(r#"l4Proto == 6 and dstPort == 443 and not (firstPayload == "http")"#, s));
}

#[test]
fn boolean_operators() {
    let r = ints(&[("pktsSnt", 1), ("pktsRcvd", 0)]);
    for (when, want) in [
        ("pktsSnt == 1 and pktsRcvd == 0", true),
        ("pktsSnt == 1 && pktsRcvd == 1", false),
        ("pktsSnt == 2 or pktsRcvd == 0", true),
        ("pktsSnt == 2 || pktsRcvd == 1", false),
        ("not pktsSnt == 2", true),
        ("!(pktsSnt == 1)", false),
        ("not not pktsSnt", true),
        ("pktsSnt == 2 or pktsSnt == 1 and pktsRcvd == 0", true),
        ("(pktsSnt == 2 or pktsSnt == 1) and pktsRcvd == 1", false),
        ("pktsSnt and not pktsRcvd", true),
    ] {
        assert_eq!(fires(when, &r), want, "{when}");
    }
}

#[test]
fn missing_values() {
    let empty = |_: &mut RowValues| {};
    for when in [
        "pktsSnt == 0",
        "pktsSnt != 0",
        "pktsSnt < 1",
        "pktsSnt >= 0",
        "tcpFlags & 0x2",
        "(tcpFlags & 0x2) == 0",
        "~tcpFlags != 0",
        "pktsSnt",
        "avgL7PktSz > 0",
        "avgL7PktSz != 0.5",
        "pktsSnt < 1.5",
        "dstPortClass == \"http\"",
        "dstPortClass != \"http\"",
    ] {
        assert!(!fires(when, empty), "{when} must be false on a missing value");
    }
    // `not` negates the false comparison.
    assert!(fires("not (pktsSnt == 5)", empty));
    assert!(fires("not tcpFlags & 0x2", empty));
    // A present operand does not rescue a missing one.
    assert!(!fires("pktsSnt == pktsRcvd", ints(&[("pktsSnt", 1)])));
    assert!(!fires("tcpFlags | pktsSnt", ints(&[("pktsSnt", 1)])));
    assert!(fires("pktsSnt == 1 or tcpFlags & 2", ints(&[("pktsSnt", 1)])));
}

#[test]
fn compiled_rules_metadata() {
    let mut off = Rule::new("off", "hdrDesc == \"x\"");
    off.enabled = false;
    let mut high = Rule::new("syn", "(tcpFlags & 0x0002) != 0 and pktsRcvd == 0");
    high.severity = Severity::High;
    let set = RuleSet::from_rules(vec![Rule::new("web", "dstPortClass == \"http\""), off, high]).unwrap();
    let compiled = set.compile(&schema()).unwrap();
    assert_eq!(compiled.len(), 2);
    assert_eq!(compiled.columns_used(), &[col("tcpFlags"), col("pktsRcvd"), col("dstPortClass")]);
    let mut row = RowValues::new(0);
    row.set_int(col("tcpFlags"), 2u64);
    row.set_int(col("pktsRcvd"), 0u64);
    row.set_str(col("dstPortClass"), "http");
    let mut fired = FiredRules::new();
    compiled.evaluate(&row, &mut fired);
    let names: Vec<_> = compiled.fired(&fired).map(|r| (r.name.as_str(), r.severity)).collect();
    assert_eq!(names, [("web", Severity::Medium), ("syn", Severity::High)]);
    assert_eq!(fired.iter().collect::<Vec<_>>(), [0, 1]);
    assert!(!compiled.matches(7, &row));
}

#[test]
fn disabled_rules_are_not_checked_against_the_schema() {
    let mut r = Rule::new("old", "noSuchColumn == 1");
    r.enabled = false;
    let set = RuleSet::from_rules(vec![r]).unwrap();
    assert!(set.compile(&schema()).unwrap().is_empty());
    // ...but still have to parse.
    let mut r = Rule::new("old", "== 1");
    r.enabled = false;
    assert!(RuleSet::from_rules(vec![r]).is_err());
}

#[test]
fn extend_replaces_by_name_and_appends() {
    let mut defaults =
        RuleSet::from_rules(vec![Rule::new("a", "pktsSnt == 1"), Rule::new("b", "pktsSnt == 2")]).unwrap();
    let mut b = Rule::new("b", "pktsSnt == 3");
    b.enabled = false;
    let user = RuleSet::from_rules(vec![b, Rule::new("c", "pktsSnt == 4")]).unwrap();
    defaults.extend(user);
    let names: Vec<_> = defaults.rules().map(|r| (r.name.as_str(), r.enabled)).collect();
    assert_eq!(names, [("a", true), ("b", false), ("c", true)]);
    assert_eq!(defaults.get("b").map(|r| r.when.as_str()), Some("pktsSnt == 3"));
    let compiled = defaults.compile(&schema()).unwrap();
    assert_eq!(compiled.rules().iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["a", "c"]);
}

#[test]
fn errors_of_rules_built_in_code() {
    let e = RuleSet::from_rules(vec![Rule::new("x", "pktsSnt >= 50 and")]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.position(), Some((1, 18)));
    assert_eq!(e.to_string(), "rule \"x\": 1:18: expected a value after \"and\"");

    let e = RuleSet::from_rules(vec![Rule::new("a", "1"), Rule::new("a", "2")]).unwrap_err();
    assert_eq!(e.to_string(), "rule \"a\": duplicate rule name \"a\"");
    let e = RuleSet::from_rules(vec![Rule::new("a b", "1")]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidRule);
    assert!(RuleSet::from_rules(vec![Rule::new("", "1")]).is_err());

    let set = RuleSet::from_rules(vec![Rule::new("xmas", "pktsSnt > 1 and\n  tcpFlag & 0x29")]).unwrap();
    let e = set.compile(&schema()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownColumn);
    assert_eq!(e.to_string(), "rule \"xmas\": 2:3: unknown column \"tcpFlag\" (did you mean \"tcpFlags\"?)");
    let set = RuleSet::from_rules(vec![Rule::new("t", "dstPortClass > 1")]).unwrap();
    assert_eq!(set.compile(&schema()).unwrap_err().kind(), ErrorKind::Type);
}

/// Thirty rules of the kinds users write, evaluated over 100k rows with one reused row and
/// bitset. Not a timing assertion (CI machines vary); it prints the cost per row, and the
/// counting-allocator test in tests/no_alloc.rs checks that this loop does not allocate.
#[test]
fn evaluates_many_rows_reusing_buffers() {
    let whens = [
        "tcpAnomaly > 4",
        "tcpFlags & 0xf800",
        "flowStat & 0x0004000000000000",
        "connSipDprt >= 50 and pktsSnt <= 3",
        "l4Proto == 6 and dstPort == 443 and not (firstPayload == \"tls\")",
        "(tcpFlags & 0x0002) != 0 and pktsRcvd == 0",
        "dstPortClass == \"http\"",
        "avgL7PktSz > 1400.5",
        "tcpFlags & 0x0029 == 0x0029",
        "tcpFlags == 0",
    ];
    let rules = (0..30).map(|i| Rule::new(format!("r{i}"), whens[i % whens.len()])).collect();
    let compiled = RuleSet::from_rules(rules).unwrap().compile(&schema()).unwrap();
    let cols = schema();
    let used = compiled.columns_used().to_vec();
    let mut row = RowValues::new(schema().len());
    let mut fired = FiredRules::new();
    let mut total = 0usize;
    let start = std::time::Instant::now();
    for i in 0..100_000u64 {
        row.clear();
        for &c in &used {
            match cols[c].kind {
                crate::ColumnKind::Int if i % 7 != c as u64 % 7 => {
                    row.set_int(c, i.wrapping_mul(0x9e37_79b9) >> (c % 40))
                }
                crate::ColumnKind::Float => row.set_float(c, (i % 3000) as f64),
                crate::ColumnKind::Str => row.set_str(c, if i % 3 == 0 { "http" } else { "tls" }),
                _ => {} // leave some values missing
            }
        }
        compiled.evaluate(&row, &mut fired);
        total += fired.count();
    }
    let per_row = start.elapsed() / 100_000;
    eprintln!("30 rules: {per_row:?} per row (including filling the row), {total} firings");
    assert!(total > 0);
}
