//! netanom's flow table against Tranalyzer2 0.9.3's own output (shared/golden/t2-0.9.3) over the
//! ndpi-tests and zeek-traces captures, through the t2compare library.
//! Details of the comparison: docs/compatibility.md.

use std::path::Path;
use std::time::Duration;

use t2compare::columns::{core_columns, is_legit_different, tcpflags_columns};
use t2compare::run::DEFAULT_TIMEOUT;
use t2compare::{DiffOptions, RunOptions, Shared};

/// Share of golden rows (captures T2 read completely) that must have a row in our table.
const MIN_ROWS_PRESENT_PCT: f64 = 99.0;
/// Share of joined golden rows on which each basicFlow/macRecorder/portClassifier/basicStats
/// column (headers.txt's first 45: dir … bytAsm, less the legitimately different ones) must agree.
const MIN_CORE_COLUMN_AGREEMENT_PCT: f64 = 99.0;
/// Share of joined golden rows on which each column of the protocol plugins (tcpFlags, tcpStates,
/// icmpDecode, arpDecode, connStat: headers.txt's tcpFStat … connNumBCnt) must agree, except the
/// ones listed in [`BELOW_TARGET`].
const MIN_PLUGIN_COLUMN_AGREEMENT_PCT: f64 = 99.0;
/// Plugin columns not yet at the target, with the floor each is held to (a little under the
/// agreement measured when the floor was set, so that a regression fails): none since every
/// column reached 99% (2026-12-04). tcpJA4T is not computed (licence) and is reported apart by
/// t2compare.
const BELOW_TARGET: &[(&str, f64)] = &[];

/// The tcpStates, icmpDecode, arpDecode and connStat columns: the last ones of headers.txt.
fn later_plugin_columns() -> Vec<&'static str> {
    let names: Vec<_> = t2compare::columns::table_names().collect();
    let first = names.iter().position(|c| *c == "tcpStatesAFlags").expect("column in headers.txt");
    names[first..].to_vec()
}
/// The sets compared (≈1300 small captures).
const SETS: &[&str] = &["ndpi-tests", "zeek-traces"];
/// Captures run at once (the machines have 2 cores).
const JOBS: usize = 2;
/// Per-capture time limit for `netanom flows`.
const TIMEOUT: Duration = DEFAULT_TIMEOUT;

fn shared() -> Option<Shared> {
    let shared = Shared::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if shared.exists() {
        Some(shared)
    } else {
        eprintln!("skipping: {} has no golden/t2-0.9.3/INDEX.tsv (shared/ is absent)", shared.root.display());
        None
    }
}

#[test]
fn flow_table_agrees_with_t2_golden() {
    let Some(shared) = shared() else { return };
    let opt = RunOptions {
        netanom: env!("CARGO_BIN_EXE_netanom").into(),
        shared,
        sets: SETS.iter().map(|s| s.to_string()).collect(),
        only: None,
        jobs: JOBS,
        timeout: TIMEOUT,
        diff: DiffOptions { examples: 3, columns: None },
    };
    let summary = t2compare::run(&opt).expect("t2compare run");
    println!("{}", summary.render(10));

    let mut failures = Vec::new();
    if !summary.crashes.is_empty() || !summary.timeouts.is_empty() {
        failures.push(format!(
            "{} crashes, {} timeouts (nothing may crash or hang)",
            summary.crashes.len(),
            summary.timeouts.len()
        ));
    }
    let strict = &summary.strict;
    if strict.rows_present_pct < MIN_ROWS_PRESENT_PCT {
        failures.push(format!(
            "rows present {:.2}% < {MIN_ROWS_PRESENT_PCT}% ({} of {} golden rows)",
            strict.rows_present_pct, strict.joined, strict.golden_rows
        ));
    }
    for col in core_columns().into_iter().filter(|c| !is_legit_different(c)) {
        let pct = strict.column_stat(col).map_or(0.0, |c| c.agreement_pct);
        if pct < MIN_CORE_COLUMN_AGREEMENT_PCT {
            failures.push(format!("column {col}: {pct:.2}% < {MIN_CORE_COLUMN_AGREEMENT_PCT}%"));
        }
    }
    let plugin_columns = tcpflags_columns().into_iter().chain(later_plugin_columns());
    for col in plugin_columns.filter(|c| !is_legit_different(c)) {
        let pct = strict.column_stat(col).map_or(0.0, |c| c.agreement_pct);
        let floor = BELOW_TARGET.iter().find(|(n, _)| *n == col).map_or(MIN_PLUGIN_COLUMN_AGREEMENT_PCT, |(_, f)| *f);
        if pct < floor {
            failures.push(format!("column {col}: {pct:.2}% < {floor}%"));
        }
    }
    assert!(failures.is_empty(), "flow table vs T2 golden:\n  {}", failures.join("\n  "));
}
