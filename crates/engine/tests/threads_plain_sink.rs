//! With `--threads`, a plain `FlowSink` (what `netanom analyze` gives the engine) that labels rows
//! through the shared observer sees the same rows, numbers, connStat values and labels as with
//! one thread: the shards' answers about address pairs reach its labeller.

use netanom_engine::labels::Labeller;
use netanom_engine::observe::Observer;
use netanom_engine::{run_flows, FlowJob, Input};
use netanom_flow::{features, Ending, FlowRecord, FlowSink};

struct Rows {
    labeller: Labeller,
    rows: Vec<String>,
}

impl Rows {
    fn row(&mut self, r: &FlowRecord, opp: Option<&FlowRecord>, how: &Ending) {
        self.labeller.label_at(r, opp, how.deadline_ns, how.end_seq);
        let c = &r.conn;
        self.rows.push(format!(
            "{} {} {:?} {} {} {} {} {}",
            r.flow_ind,
            r.is_b,
            r.key,
            c.sip,
            c.dip,
            c.sip_dprt,
            c.pkts,
            self.labeller.fired_names()
        ));
    }
}

impl FlowSink for Rows {
    fn flow(&mut self, _first: &FlowRecord, _second: Option<&FlowRecord>) {}
    fn flow_ended(&mut self, first: &FlowRecord, second: Option<&FlowRecord>, how: &Ending) {
        self.row(first, second, how);
        if let Some(b) = second {
            self.row(b, Some(first), how);
        }
    }
}

fn rows(threads: usize) -> Vec<String> {
    let columns: Vec<_> = features::columns().copied().collect();
    let observer = Observer::shared();
    let labeller = Labeller::defaults_with(None, &columns).unwrap().with_observer(observer.clone());
    let mut sink = Rows { labeller, rows: Vec::new() };
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/lab.pcap");
    let job = FlowJob { threads, observer: Some(observer), ..FlowJob::new(vec![Input::Path(path)]) };
    run_flows(&job, &mut sink, &mut |_| {}).unwrap();
    sink.rows
}

#[test]
fn plain_sinks_label_the_same_with_threads() {
    let one = rows(1);
    assert!(one.len() > 10);
    assert!(one.iter().any(|r| !r.ends_with(" -")), "the sample has anomalous rows");
    for t in [2, 3] {
        assert_eq!(rows(t), one, "--threads {t}");
    }
}
