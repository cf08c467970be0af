//! Turning command-line arguments into the list of captures to read, in the order given.

use std::path::{Path, PathBuf};

/// One source of packets.
#[derive(Debug, Clone)]
pub enum Input {
    /// A file, or `-` for standard input.
    Path(PathBuf),
    /// A capture held in memory (the bundled sample), with a name for messages.
    Bytes { name: String, data: &'static [u8] },
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }
}

/// A capture found by walking a folder, as opposed to one named on the command line: a folder may
/// hold notes and scripts next to its captures, so a non-capture found there is skipped and
/// reported rather than fatal.
#[derive(Debug, Clone)]
pub struct Expanded {
    pub input: Input,
    pub from_folder: bool,
}

/// Expands folders (recursively, in name order) and keeps files and `-` as they are.
pub fn expand_inputs(args: &[Input]) -> std::io::Result<Vec<Expanded>> {
    let mut out = Vec::new();
    for a in args {
        match a {
            Input::Path(p) if p.is_dir() => {
                let mut files = Vec::new();
                walk(p, &mut files)?;
                files.sort();
                out.extend(files.into_iter().map(|f| Expanded { input: Input::Path(f), from_folder: true }));
            }
            other => out.push(Expanded { input: other.clone(), from_folder: false }),
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let rd = std::fs::read_dir(dir).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    for entry in rd {
        let entry = entry?;
        let path = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if ft.is_file() || (ft.is_symlink() && path.is_file()) {
            out.push(path);
        }
    }
    Ok(())
}
