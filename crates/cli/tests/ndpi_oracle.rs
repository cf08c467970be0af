//! nDPI's per-flow packet counts (shared/data/ndpi-tests/result/*.out) as an oracle: netanom's
//! flows must agree with nDPI at least as often as Tranalyzer2 0.9.3's do.
//! Details: docs/compatibility.md.

use std::path::Path;

use t2compare::run::DEFAULT_TIMEOUT;
use t2compare::{DiffOptions, RunOptions, Shared};

/// Our agreement may not fall below T2's by more than this many percentage points (none).
const MAX_SHORTFALL_VS_T2_PCT: f64 = 0.0;
/// T2's own agreement as measured when this test was written (97.05%); far below means the
/// .out parser or the matching broke, not the flow table.
const MIN_T2_AGREEMENT_PCT: f64 = 95.0;
/// Captures run at once (the machines have 2 cores).
const JOBS: usize = 2;

#[test]
fn ndpi_agreement_at_least_t2s() {
    let shared = Shared::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if !shared.exists() {
        eprintln!("skipping: {} has no golden/t2-0.9.3/INDEX.tsv (shared/ is absent)", shared.root.display());
        return;
    }
    let opt = RunOptions {
        netanom: env!("CARGO_BIN_EXE_netanom").into(),
        shared,
        sets: vec!["ndpi-tests".into()],
        only: None,
        jobs: JOBS,
        timeout: DEFAULT_TIMEOUT,
        diff: DiffOptions { examples: 3, columns: None },
    };
    let summary = t2compare::run_oracle(&opt, true).expect("t2compare ndpi");
    println!("{}", summary.render());

    let t2 = summary.t2.agree_pct;
    assert!(t2 >= MIN_T2_AGREEMENT_PCT, "T2 agrees with nDPI on only {t2:.2}%: the oracle itself is broken");
    let ours = summary.ours.as_ref().map_or(0.0, |o| o.agree_pct);
    assert!(
        ours >= t2 - MAX_SHORTFALL_VS_T2_PCT,
        "netanom agrees with nDPI on {ours:.2}% of {} conversations, T2 on {t2:.2}%",
        summary.conversations
    );
}
