//! The alert stream: one JSON object a line, `"kind":"flow"` for a flow row that rules or the
//! model flagged, `"kind":"baseline"` for an interval that strayed from its forecast. docs/watch.md
//! shows both.

use netanom_rules::Severity;
use serde_json::{json, Map, Value};

use crate::row::RowCells;
use crate::score::Score;

/// Column indices of the fields an alert names, found once from the row's columns.
#[derive(Debug, Clone, Default)]
pub struct KeyColumns {
    dir: Option<usize>,
    flow_ind: Option<usize>,
    time_first: Option<usize>,
    time_last: Option<usize>,
    src_ip: Option<usize>,
    src_port: Option<usize>,
    dst_ip: Option<usize>,
    dst_port: Option<usize>,
    l4_proto: Option<usize>,
    pkts: Option<usize>,
    bytes: Option<usize>,
}

impl KeyColumns {
    pub fn new(columns: &[netanom_flow::schema::Column]) -> KeyColumns {
        let at = |n: &str| columns.iter().position(|c| c.name == n);
        KeyColumns {
            dir: at("dir"),
            flow_ind: at("flowInd"),
            time_first: at("timeFirst"),
            time_last: at("timeLast"),
            src_ip: at("srcIP"),
            src_port: at("srcPort"),
            dst_ip: at("dstIP"),
            dst_port: at("dstPort"),
            l4_proto: at("l4Proto"),
            pkts: at("pktsSnt"),
            bytes: at("l7BytesSnt"),
        }
    }
}

/// The rules that fired on a row: names and the highest severity.
#[derive(Debug, Clone, Default)]
pub struct Fired {
    pub rules: Vec<String>,
    pub severity: Option<Severity>,
}

fn text(row: &RowCells, i: Option<usize>) -> Value {
    match i.and_then(|i| row.get(i)) {
        Some(c) => Value::String(c.text.clone()),
        None => Value::Null,
    }
}

fn number(row: &RowCells, i: Option<usize>) -> Value {
    match i.and_then(|i| row.get(i)).and_then(|c| c.num) {
        Some(v) if v.fract() == 0.0 && v.abs() < 9e15 => json!(v as i64),
        Some(v) => json!(v),
        None => Value::Null,
    }
}

/// Severity of an alert the model raised alone: rules give theirs; a model's class has none.
pub const MODEL_SEVERITY: Severity = Severity::Medium;

/// The JSON line of a flagged flow row (`row` holds its cells). `at_ns`: when it was raised.
pub fn flow_alert(k: &KeyColumns, row: &RowCells, fired: &Fired, model: Option<&Score>, at_ns: u64) -> Value {
    let severity = match (fired.severity, model) {
        (Some(s), _) => s,
        (None, _) => MODEL_SEVERITY,
    };
    let mut m = Map::new();
    m.insert("kind".into(), json!("flow"));
    m.insert("time".into(), json!(rfc3339(at_ns)));
    m.insert("ts".into(), json!(at_ns as f64 / 1e9));
    m.insert("severity".into(), json!(severity.as_str()));
    m.insert("src".into(), text(row, k.src_ip));
    m.insert("src_port".into(), number(row, k.src_port));
    m.insert("dst".into(), text(row, k.dst_ip));
    m.insert("dst_port".into(), number(row, k.dst_port));
    m.insert("proto".into(), number(row, k.l4_proto));
    m.insert("dir".into(), text(row, k.dir));
    m.insert("flowInd".into(), number(row, k.flow_ind));
    m.insert("first".into(), number(row, k.time_first));
    m.insert("last".into(), number(row, k.time_last));
    m.insert("packets".into(), number(row, k.pkts));
    m.insert("l7_bytes".into(), number(row, k.bytes));
    m.insert("rules".into(), json!(fired.rules));
    m.insert(
        "model".into(),
        match model {
            Some(s) => {
                json!({"prediction": s.prediction, "score": (s.score * 1e4).round() / 1e4, "anomalous": s.anomalous})
            }
            None => Value::Null,
        },
    );
    Value::Object(m)
}

/// A baseline alert with the stream's common fields in front.
pub fn baseline_alert(a: &netanom_baseline::Alert, at_ns: u64) -> Value {
    let mut m = Map::new();
    m.insert("kind".into(), json!("baseline"));
    m.insert("time".into(), json!(rfc3339(at_ns)));
    m.insert("ts".into(), json!(at_ns as f64 / 1e9));
    m.insert("severity".into(), json!(Severity::Medium.as_str()));
    if let Value::Object(rest) = a.to_json() {
        for (k, v) in rest {
            // The baseline's own `kind` is the series kind (host, network, …).
            let k = if k == "kind" { "series".to_string() } else { k };
            m.insert(k, v);
        }
    }
    Value::Object(m)
}

/// `2026-11-29T22:05:01.123Z` for ns since the epoch (UTC, ms precision).
pub fn rfc3339(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let ms = (ns % 1_000_000_000) / 1_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + (m <= 2) as i64;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netanom_flow::schema::ValueSink;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400_500_000_000), "2000-02-29T00:00:00.500Z");
        assert_eq!(rfc3339(1_796_076_301_000_000_000), "2026-11-30T22:05:01.000Z");
    }

    #[test]
    fn a_flow_alert_names_the_key_rules_and_severity() {
        let columns: Vec<_> = netanom_flow::features::columns().copied().collect();
        let k = KeyColumns::new(&columns);
        let mut row = RowCells::default();
        row.begin();
        for c in &columns {
            match c.name {
                "srcIP" => row.ip(&netanom_flow::schema::IpText::V4([10, 77, 0, 66])),
                "dstPort" => row.uint(22),
                "dir" => row.char('A'),
                _ => row.empty(),
            }
        }
        let fired = Fired { rules: vec!["port-scan-vertical".into()], severity: Some(Severity::High) };
        let v = flow_alert(&k, &row, &fired, None, 1_000_000_000);
        assert_eq!(v["src"], "10.77.0.66");
        assert_eq!(v["dst_port"], 22);
        assert_eq!(v["dir"], "A");
        assert_eq!(v["severity"], "high");
        assert_eq!(v["rules"][0], "port-scan-vertical");
        assert!(v["model"].is_null());
        let s = Score { prediction: "1".into(), score: 0.8, anomalous: true };
        let v = flow_alert(&k, &row, &Fired::default(), Some(&s), 0);
        assert_eq!(v["severity"], "medium");
        assert_eq!(v["model"]["prediction"], "1");
    }
}
