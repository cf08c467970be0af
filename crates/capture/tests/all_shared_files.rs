//! Every file under `shared/data`, whatever its name: no panic, no I/O error, no hang; each is
//! either read to the end or rejected as not a capture.

mod common;

use std::time::Duration;

use common::{read, shared_dir, walk, Outcome};

/// Far above the slowest file in a debug build; a file that takes longer has a loop.
const PER_FILE_LIMIT: Duration = Duration::from_secs(20);

#[test]
fn every_file_reads_to_the_end_or_is_not_a_capture() {
    let Some(shared) = shared_dir("every_file_reads_to_the_end_or_is_not_a_capture") else { return };
    let data = shared.join("data");
    let files = walk(&data);
    assert!(files.len() > 1000, "expected the full data set, found {} files", files.len());
    let mut problems = Vec::new();
    let (mut captures, mut packets, mut rejected, mut damaged_files) = (0, 0, 0, 0);
    for path in &files {
        let rel = path.strip_prefix(&data).unwrap_or(path).display().to_string();
        let start = std::time::Instant::now();
        let outcome = std::panic::catch_unwind(|| read(path));
        let elapsed = start.elapsed();
        if elapsed > PER_FILE_LIMIT {
            problems.push(format!("{rel}: took {elapsed:?}"));
        }
        match outcome {
            Err(_) => problems.push(format!("{rel}: panicked")),
            Ok(Outcome::Failed(e)) => problems.push(format!("{rel}: {e}")),
            Ok(Outcome::NotACapture(e)) => {
                rejected += 1;
                let name = rel.to_lowercase();
                if [".pcap", ".pcapng", ".cap", ".gz", ".zst"].iter().any(|x| name.ends_with(x)) {
                    println!("not a capture despite its name: {e}");
                }
            }
            Ok(Outcome::Read(s)) => {
                captures += 1;
                packets += s.packets;
                if s.damaged() > 0 {
                    damaged_files += 1;
                    println!(
                        "damaged: {rel}: {} packets, {:?}; first: {}",
                        s.packets,
                        s.damage,
                        s.first_damage.unwrap_or_default()
                    );
                }
            }
        }
    }
    println!(
        "{} files: {captures} captures ({packets} packets, {damaged_files} with damage), {rejected} not captures",
        files.len()
    );
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}
