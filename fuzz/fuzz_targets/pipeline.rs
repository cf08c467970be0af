//! Bytes → capture reader → dissector → flow table → feature rows, as `netanom flows` runs them
//! (crates/engine/src/run.rs), with the output replaced by a sink that checks every row.
//!
//! Checks, besides "no panic, no hang, bounded memory":
//! * every row has exactly one value per column of `netanom_flow::features::columns()`, and the
//!   repeated/compound (`text`) values format without error;
//! * the two rows of a conversation share its `flowInd`, the A row comes first;
//! * the meter's counters agree with what the sink received (packets, rows by direction,
//!   conversations by how they ended), and the table is empty after `finish`.
//!
//! The flow table's configuration depends on the input's length: even lengths use the defaults,
//! odd ones a tiny table with short timeouts, so that eviction and the active timeout are
//! exercised too.
#![no_main]

use std::fmt;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use netanom_capture::{CaptureReader, ReadEvent};
use netanom_flow::features::{columns, write_row};
use netanom_flow::schema::{IpText, ValueSink};
use netanom_flow::{EndReason, Ending, FlowMeter, FlowRecord, FlowSink, MeterConfig};
use netanom_wire::{dissect, PacketInfo};

/// Counts the values of one row.
#[derive(Default)]
struct Values {
    n: usize,
    text: String,
}

impl ValueSink for Values {
    fn char(&mut self, _: char) {
        self.n += 1;
    }
    fn uint(&mut self, _: u64) {
        self.n += 1;
    }
    fn int(&mut self, _: i64) {
        self.n += 1;
    }
    fn hex(&mut self, _: u64, _: u8) {
        self.n += 1;
    }
    fn float(&mut self, _: f64) {
        self.n += 1;
    }
    fn double(&mut self, _: f64) {
        self.n += 1;
    }
    fn timestamp(&mut self, _: u64) {
        self.n += 1;
    }
    fn duration(&mut self, _: u64) {
        self.n += 1;
    }
    fn str(&mut self, _: &str) {
        self.n += 1;
    }
    fn short_str(&mut self, _: &str) {
        self.n += 1;
    }
    fn ip(&mut self, addr: &IpText) {
        use fmt::Write as _;
        self.text.clear();
        let _ = write!(self.text, "{addr}");
        self.n += 1;
    }
    fn mac(&mut self, _: &[u8; 6]) {
        self.n += 1;
    }
    fn text(&mut self, f: &dyn Fn(&mut dyn fmt::Write) -> fmt::Result) {
        self.text.clear();
        f(&mut self.text).expect("formatting a text value failed");
        self.n += 1;
    }
    fn empty(&mut self) {
        self.n += 1;
    }
}

#[derive(Default)]
struct Rows {
    columns: usize,
    values: Values,
    a_rows: u64,
    b_rows: u64,
    conversations: [u64; 4],
}

impl Rows {
    fn row(&mut self, rec: &FlowRecord, opp: Option<&FlowRecord>) {
        self.values.n = 0;
        write_row(rec, opp, &mut self.values);
        assert_eq!(self.values.n, self.columns, "row with {} values for {} columns", self.values.n, self.columns);
        if rec.is_b {
            self.b_rows += 1;
        } else {
            self.a_rows += 1;
        }
    }
}

impl FlowSink for Rows {
    fn flow(&mut self, _: &FlowRecord, _: Option<&FlowRecord>) {
        unreachable!("the meter calls flow_ended");
    }

    fn flow_ended(&mut self, a: &FlowRecord, b: Option<&FlowRecord>, how: &Ending) {
        self.conversations[how.reason as usize] += 1;
        assert_ne!(a.flow_ind, 0);
        if let Some(b) = b {
            assert_eq!(a.flow_ind, b.flow_ind, "the two rows of a conversation differ in flowInd");
            assert!(!a.is_b && b.is_b, "rows out of order: A is_b={}, B is_b={}", a.is_b, b.is_b);
        }
        self.row(a, b);
        if let Some(b) = b {
            self.row(b, Some(a));
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = CaptureReader::from_reader("fuzz-input", Cursor::new(data.to_vec())) else {
        return;
    };
    let cfg = if data.len() % 2 == 0 {
        MeterConfig::default()
    } else {
        MeterConfig {
            idle_timeout_ns: 5_000_000_000,
            active_timeout_ns: Some(2_000_000_000),
            max_flows: 4,
            tcp_timeouts_ns: [3_000_000_000, 4_000_000_000, 1_000_000_000, 500_000_000, 1],
        }
    };
    let mut meter = FlowMeter::new(cfg);
    let mut rows = Rows { columns: columns().count(), ..Rows::default() };
    let mut info = PacketInfo::default();
    let mut fed = 0u64;
    loop {
        match reader.next_event() {
            Ok(Some(ReadEvent::Packet(p))) => {
                if dissect(p.linktype, p.data, p.orig_len, &mut info).is_ok() {
                    meter.packet(p.ts_ns, &info, &mut rows);
                    fed += 1;
                }
            }
            Ok(Some(ReadEvent::Damaged(_))) => {}
            Ok(None) => break,
            Err(e) => panic!("in-memory input gave an I/O error: {e}"),
        }
    }
    meter.finish(&mut rows);
    assert_eq!(meter.live_flows(), 0, "flows left in the table after finish");
    let c = meter.counters();
    assert_eq!(c.packets, fed);
    assert_eq!((c.flows_a, c.flows_b), (rows.a_rows, rows.b_rows));
    let by_reason = |r: EndReason| rows.conversations[r as usize];
    assert_eq!(c.ended_by_timeout, by_reason(EndReason::Timeout));
    assert_eq!(c.ended_by_active_timeout, by_reason(EndReason::ActiveTimeout));
    assert_eq!(c.evicted, by_reason(EndReason::Evicted));
    assert_eq!(c.flushed_at_end, by_reason(EndReason::Flushed));
});
