//! `netanom flows`.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct FlowsArgs {}

pub fn run(_a: FlowsArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    Err("not yet".into())
}
