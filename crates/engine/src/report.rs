//! The end-of-run report: what was read, skipped, damaged and built, per file and in total.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use netanom_flow::MeterCounters;
use serde::Serialize;

/// Damage messages kept per file for the report; the rest are only counted.
pub const MAX_DAMAGE_EXAMPLES: usize = 5;

/// One input file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub name: String,
    /// e.g. "pcap (little-endian, µs, linktype 1, snaplen 65535)"; empty when it could not be read.
    pub format: String,
    pub packets: u64,
    /// Bytes of the (decompressed) capture consumed.
    pub capture_bytes: u64,
    /// Damaged parts skipped, by kind (truncated file, impossible record length, …).
    pub damaged: BTreeMap<String, u64>,
    /// The first few damage events, with their offsets.
    pub damage_examples: Vec<String>,
    /// Why the file could not be read at all (not a capture, cannot open, read error).
    pub error: Option<String>,
    /// The file was found by walking a folder and is not a capture: skipped, not an error.
    pub skipped_not_capture: bool,
}

/// Everything a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub files: Vec<FileReport>,
    /// Packets handed out by the readers.
    pub packets: u64,
    /// Sum of the packets' captured lengths.
    pub captured_bytes: u64,
    /// Sum of the packets' lengths on the wire.
    pub wire_bytes: u64,
    /// Packets per link type ("1 ethernet" → count).
    pub link_types: BTreeMap<String, u64>,
    /// Packets that became part of no flow, by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Damaged parts of files, by kind, over all files.
    pub damaged: BTreeMap<String, u64>,
    /// Packets whose flow was flagged as snapped or short (flowStat bits 32–35).
    pub packets_snapped: u64,
    pub flows: MeterCounters,
    /// Conversations ended (one or two rows each).
    pub conversations: u64,
    /// Rows written (A and B).
    pub rows: u64,
    pub elapsed_s: f64,
    pub packets_per_s: f64,
    /// Anomaly labels, when rows were labelled (filled in by the caller that labelled them).
    pub labels: Option<crate::labels::LabelReport>,
}

impl RunReport {
    /// Files named on the command line that could not be read.
    pub fn failed_files(&self) -> impl Iterator<Item = &FileReport> {
        self.files.iter().filter(|f| f.error.is_some() && !f.skipped_not_capture)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// The report printed on stderr at the end of `netanom flows`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = self.write_text(&mut s);
        s
    }

    fn write_text(&self, s: &mut String) -> std::fmt::Result {
        writeln!(s, "netanom: end report")?;
        for f in &self.files {
            if f.skipped_not_capture {
                writeln!(s, "  {}: skipped, {}", f.name, f.error.as_deref().unwrap_or("not a capture"))?;
                continue;
            }
            if let Some(e) = &f.error {
                if f.packets == 0 {
                    writeln!(s, "  {}: FAILED: {e}", f.name)?;
                    continue;
                }
            }
            writeln!(s, "  {}: {}, {} packets", f.name, f.format, f.packets)?;
            for (kind, n) in &f.damaged {
                writeln!(s, "    damaged: {n} × {kind}")?;
            }
            for ex in &f.damage_examples {
                writeln!(s, "      {ex}")?;
            }
            if let Some(e) = &f.error {
                writeln!(s, "    stopped early: {e}")?;
            }
        }
        writeln!(
            s,
            "  packets read      {} ({} bytes on the wire, {} captured)",
            self.packets, self.wire_bytes, self.captured_bytes
        )?;
        for (lt, n) in &self.link_types {
            writeln!(s, "    link type {lt}: {n}")?;
        }
        let skipped: u64 = self.skipped.values().sum();
        writeln!(s, "  packets skipped   {skipped}")?;
        for (why, n) in &self.skipped {
            writeln!(s, "    {why}: {n}")?;
        }
        let damaged: u64 = self.damaged.values().sum();
        if damaged > 0 {
            writeln!(s, "  damaged parts     {damaged} (the good packets around them were kept)")?;
            for (kind, n) in &self.damaged {
                writeln!(s, "    {kind}: {n}")?;
            }
        }
        if self.packets_snapped > 0 {
            writeln!(s, "  packets snapped   {} (flagged in flowStat bits 32-35)", self.packets_snapped)?;
        }
        let c = &self.flows;
        writeln!(
            s,
            "  flows             {} rows: {} A, {} B ({} conversations)",
            self.rows, c.flows_a, c.flows_b, self.conversations
        )?;
        writeln!(
            s,
            "    ended by timeout {}, flushed at end {}, active timeout {}, evicted (table full) {}",
            c.ended_by_timeout, c.flushed_at_end, c.ended_by_active_timeout, c.evicted
        )?;
        if c.evicted > 0 {
            writeln!(
                s,
                "    WARNING: {} conversations were cut because the flow table was full; raise --max-flows",
                c.evicted
            )?;
        }
        if c.orphan_fragments > 0 {
            writeln!(s, "    IP fragments without their first fragment: {}", c.orphan_fragments)?;
        }
        writeln!(s, "    most flows in the table at once: {}", c.peak_flows)?;
        if let Some(l) = &self.labels {
            writeln!(s, "  anomalous rows    {} of {} (rules that fired, rows each):", l.anomalous_rows, l.rows)?;
            for r in l.rules.iter().filter(|r| r.rows > 0) {
                writeln!(s, "    {:<28} {:>9}  {}", r.name, r.rows, r.severity)?;
            }
            let quiet = l.rules.iter().filter(|r| r.rows == 0).count();
            writeln!(s, "    ({quiet} other rules enabled, none fired)")?;
            if !l.skipped_rules.is_empty() {
                writeln!(
                    s,
                    "    default rules skipped (their columns are not in this build): {}",
                    l.skipped_rules.join(", ")
                )?;
            }
        }
        writeln!(s, "  elapsed           {:.3} s ({:.2} M packets/s)", self.elapsed_s, self.packets_per_s / 1e6)?;
        Ok(())
    }
}

/// Name of a LINKTYPE_* value for the report.
pub fn link_type_name(lt: u32) -> String {
    let name = match lt {
        0 => "null/loopback",
        1 => "ethernet",
        9 => "ppp",
        12 | 14 | 101 => "raw ip",
        50 => "ppp-hdlc",
        104 => "cisco hdlc",
        105 => "802.11",
        108 => "openbsd loopback",
        113 => "linux sll",
        127 => "802.11 radiotap",
        192 => "ppi",
        228 => "ipv4",
        229 => "ipv6",
        276 => "linux sll2",
        _ => "other",
    };
    format!("{lt} ({name})")
}
