//! `t2compare`: command line over the library (see docs/compatibility.md).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use regex::Regex;
use t2compare::summary::Aggregate;
use t2compare::{diff_tables, err, DiffOptions, Result, RunOptions, Shared, Table};

#[derive(Parser)]
#[command(name = "t2compare", about = "Compare flow tables with Tranalyzer2 0.9.3's golden output and nDPI")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Diff one of our tables against a golden table (either may be gzipped).
    Diff {
        ours: PathBuf,
        golden: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Run netanom over golden captures and diff every table.
    Run {
        #[command(flatten)]
        tool: Tool,
        /// Sets to run (repeatable): ndpi-tests, zeek-traces, pcapplusplus-examples, esnet-curated-pcaps.
        #[arg(long = "set", required = true)]
        sets: Vec<String>,
        /// Only captures whose `set/capture` matches this regular expression.
        #[arg(long)]
        only: Option<String>,
        /// Write the summary as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Hold golden T2 (and netanom, if given) against nDPI's per-flow packet counts.
    Ndpi {
        /// netanom executable; without it only golden T2 is checked.
        #[arg(long)]
        netanom: Option<PathBuf>,
        #[arg(long)]
        shared: Option<PathBuf>,
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        #[arg(long)]
        only: Option<String>,
        #[arg(long)]
        json: Option<PathBuf>,
        #[arg(long, default_value_t = 3)]
        examples: usize,
    },
}

#[derive(Args)]
struct Tool {
    /// The executable to run as `PATH flows CAPTURE -o OUT`.
    #[arg(long)]
    netanom: PathBuf,
    /// The shared/ folder (default: beside the source tree).
    #[arg(long)]
    shared: Option<PathBuf>,
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Per-capture time limit in seconds.
    #[arg(long, default_value_t = 10)]
    timeout: u64,
}

#[derive(Args)]
struct Common {
    /// Mismatch examples per column.
    #[arg(long, default_value_t = 3)]
    examples: usize,
    /// Compare only these columns (comma-separated).
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
}

impl Common {
    fn options(&self) -> DiffOptions {
        DiffOptions { examples: self.examples, columns: self.columns.clone() }
    }
}

fn main() -> ExitCode {
    match real_main(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("t2compare: error: {e}");
            ExitCode::from(2)
        }
    }
}

fn real_main(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Diff { ours, golden, common } => {
            let opt = common.options();
            let d = diff_tables(&Table::read(&golden)?, &Table::read(&ours)?, &opt)?;
            let mut agg = Aggregate::default();
            agg.add(&ours.display().to_string(), &d, opt.examples);
            agg.finish();
            print!("{}", agg.render("diff"));
            let (g, o) = (&d.golden_totals, &d.ours_totals);
            println!(
                "totals: golden {} pkts {}A/{}B, ours {} pkts {}A/{}B",
                g.packets, g.a_rows, g.b_rows, o.packets, o.a_rows, o.b_rows
            );
        }
        Command::Run { tool, sets, only, json, common } => {
            let opt = run_options(&tool, sets, only.as_deref(), common.options())?;
            let summary = t2compare::run(&opt)?;
            print!("{}", summary.render(common.examples));
            write_json(json, &summary)?;
        }
        Command::Ndpi { netanom, shared, jobs, only, json, examples } => {
            let tool = Tool { netanom: netanom.clone().unwrap_or_default(), shared, jobs, timeout: 10 };
            let diff = DiffOptions { examples, columns: None };
            let opt = run_options(&tool, vec!["ndpi-tests".into()], only.as_deref(), diff)?;
            let summary = t2compare::run_oracle(&opt, netanom.is_some())?;
            print!("{}", summary.render());
            write_json(json, &summary)?;
        }
    }
    Ok(())
}

fn run_options(tool: &Tool, sets: Vec<String>, only: Option<&str>, diff: DiffOptions) -> Result<RunOptions> {
    let shared = tool.shared.clone().map_or_else(Shared::beside_source, Shared::new);
    if !shared.exists() {
        return Err(err!("{}: no golden/t2-0.9.3/INDEX.tsv here (use --shared)", shared.root.display()));
    }
    let only = only.map(Regex::new).transpose().map_err(|e| err!("--only: {e}"))?;
    Ok(RunOptions {
        netanom: tool.netanom.clone(),
        shared,
        sets,
        only,
        jobs: tool.jobs,
        timeout: Duration::from_secs(tool.timeout),
        diff,
    })
}

fn write_json(path: Option<PathBuf>, value: &impl serde::Serialize) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    let text = serde_json::to_string_pretty(value).map_err(|e| err!("JSON: {e}"))?;
    std::fs::write(&path, text).map_err(|e| err!("{}: cannot write: {e}", path.display()))
}
