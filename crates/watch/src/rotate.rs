//! Flow rows written to a new file every `--rotate` period: `DIR/flows-<UTC start>.<ext>`, the
//! period aligned on the epoch (a 1 h period starts files on the hour), so that files from a
//! long watch can be read, moved or deleted one by one while the next one is written.

use std::io;
use std::path::{Path, PathBuf};

use netanom_flow::schema::{Column, ValueSink};
use netanom_output::{Destination, Format, TableMeta, TableWriter};

pub struct RotatingTable {
    dir: PathBuf,
    format: Format,
    columns: Vec<Column>,
    meta: TableMeta,
    period_ns: u64,
    current: Option<(u64, PathBuf, Box<dyn TableWriter>)>,
    /// Files finished so far, with their rows.
    pub done: Vec<(PathBuf, u64)>,
    rows: u64,
}

pub fn extension(f: Format) -> &'static str {
    match f {
        Format::T2 => "txt",
        Format::Csv => "csv",
        Format::Jsonl => "jsonl",
        Format::Parquet => "parquet",
    }
}

impl RotatingTable {
    /// Creates `dir` if needed. `period_ns` 0: one file for the whole watch.
    pub fn new(
        dir: &Path,
        format: Format,
        columns: Vec<Column>,
        meta: TableMeta,
        period_ns: u64,
    ) -> io::Result<RotatingTable> {
        std::fs::create_dir_all(dir)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: cannot create the flows folder: {e}", dir.display())))?;
        Ok(RotatingTable {
            dir: dir.to_path_buf(),
            format,
            columns,
            meta,
            period_ns,
            current: None,
            done: Vec::new(),
            rows: 0,
        })
    }

    /// The file being written, if any.
    pub fn current_path(&self) -> Option<&Path> {
        self.current.as_ref().map(|(_, p, _)| p.as_path())
    }

    /// Starts a new file when `now_ns` is in a later period than the current file's.
    pub fn tick(&mut self, now_ns: u64) -> io::Result<()> {
        let period = self.period_of(now_ns);
        if matches!(&self.current, Some((p, _, _)) if *p != period && self.period_ns > 0) {
            self.close()?;
        }
        Ok(())
    }

    fn period_of(&self, now_ns: u64) -> u64 {
        if self.period_ns == 0 {
            0
        } else {
            now_ns / self.period_ns * self.period_ns
        }
    }

    /// Writes one row at time `now_ns` (opening the period's file if needed).
    pub fn row(&mut self, now_ns: u64, fill: &mut dyn FnMut(&mut dyn ValueSink)) -> io::Result<()> {
        self.tick(now_ns)?;
        if self.current.is_none() {
            let start = self.period_of(now_ns).max(if self.period_ns == 0 { now_ns } else { 0 });
            let stamp = crate::alert::rfc3339(start).replace([':', '-'], "");
            let stamp = stamp.split('.').next().unwrap_or("").to_string();
            let mut path = self.dir.join(format!("flows-{stamp}Z.{}", extension(self.format)));
            let mut n = 1;
            while path.exists() {
                // A restart within the same period: never overwrite the rows of the earlier run.
                n += 1;
                path = self.dir.join(format!("flows-{stamp}Z-{n}.{}", extension(self.format)));
            }
            let w =
                netanom_output::open(self.format, &Destination::File(path.clone()), self.columns.clone(), &self.meta)
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: cannot create: {e}", path.display())))?;
            self.rows = 0;
            self.current = Some((self.period_of(now_ns), path, w));
        }
        if let Some((_, _, w)) = self.current.as_mut() {
            w.row(fill)?;
            self.rows += 1;
        }
        Ok(())
    }

    /// Finishes the current file.
    pub fn close(&mut self) -> io::Result<()> {
        if let Some((_, path, w)) = self.current.take() {
            w.finish().map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            self.done.push((path, self.rows));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_on_period_boundaries() {
        let dir = std::env::temp_dir().join(format!("netanom-rotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cols = vec![Column::new("n", "U64", netanom_flow::schema::Kind::UInt, "n")];
        let meta = TableMeta { tool_version: "t".into(), t2_version: "t".into(), command_line: "t".into() };
        let mut t = RotatingTable::new(&dir, Format::Csv, cols, meta, 3_600_000_000_000).unwrap();
        let h = 3_600_000_000_000u64;
        for (at, v) in [(h * 400_000 + 5, 1u64), (h * 400_000 + 9, 2), (h * 400_001, 3)] {
            t.row(at, &mut |w| w.uint(v)).unwrap();
        }
        t.close().unwrap();
        assert_eq!(t.done.len(), 2);
        assert_eq!(t.done[0].1, 2);
        assert_eq!(t.done[1].1, 1);
        let name = t.done[0].0.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(name, "flows-20150819T160000Z.csv");
        let text = std::fs::read_to_string(&t.done[1].0).unwrap();
        assert!(text.ends_with("3\n"), "{text}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
