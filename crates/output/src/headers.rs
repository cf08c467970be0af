//! Tranalyzer2's `_headers.txt` sidecar: provenance and one line per column.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use netanom_flow::schema::Column;

use crate::TableMeta;

/// `dir/capture_flows.txt` → `dir/capture_headers.txt`; other names get `_headers.txt` appended to
/// their stem.
pub fn headers_path(table: &Path) -> PathBuf {
    let stem = table.file_stem().and_then(|s| s.to_str()).unwrap_or("flows");
    let stem = stem.strip_suffix("_flows").unwrap_or(stem);
    table.with_file_name(format!("{stem}_headers.txt"))
}

pub fn write_headers(path: &Path, columns: &[Column], groups: &[(&str, usize)], meta: &TableMeta) -> io::Result<()> {
    let mut f = io::BufWriter::new(
        std::fs::File::create(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: cannot create: {e}", path.display())))?,
    );
    writeln!(f, "# netanom {}", meta.tool_version)?;
    writeln!(f, "# Imitates: Tranalyzer {} (column names, order, types and value formatting)", meta.t2_version)?;
    writeln!(f, "# Command line: {}", meta.command_line)?;
    writeln!(f, "#")?;
    writeln!(f, "# Column groups (Tranalyzer2 plugins):")?;
    for (i, (name, n)) in groups.iter().enumerate() {
        writeln!(f, "#   {:02}: {name} ({n} columns)", i + 1)?;
    }
    writeln!(f, "#")?;
    writeln!(f, "# Col No.\tType\tName\tDescription")?;
    for (i, c) in columns.iter().enumerate() {
        writeln!(f, "{}\t{}\t{}\t{}", i + 1, c.t2_type, c.name, c.description)?;
    }
    f.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidecar_names() {
        assert_eq!(headers_path(Path::new("out/cap_flows.txt")), Path::new("out/cap_headers.txt"));
        assert_eq!(headers_path(Path::new("flows.csv")), Path::new("flows_headers.txt"));
    }
}
