//! The `netanom` command line: a thin layer over the library crates.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd_analyze;
mod cmd_baseline;
mod cmd_flows;
mod cmd_ml;
mod cmd_watch;
mod progress;
mod sample;

/// Network traffic anomaly detector.
#[derive(Parser)]
#[command(name = "netanom", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The whole pipeline: flows, labels, KNN, KMeans, baselines, charts and an HTML report.
    Analyze(cmd_analyze::AnalyzeArgs),
    /// Build Tranalyzer2-compatible flows from packet captures.
    Flows(cmd_flows::FlowsArgs),
    /// Train and evaluate a KNN classifier on a flow table.
    Knn(cmd_ml::KnnArgs),
    /// Cluster a flow table with KMeans.
    Kmeans(cmd_ml::KmeansArgs),
    /// Score a table with a saved model.
    Predict(cmd_ml::PredictArgs),
    /// Forecast traffic per host and alert when an interval strays from its forecast.
    Baseline(cmd_baseline::BaselineArgs),
    /// Capture live (or replay a capture in real time) and alert as flows end.
    Watch(cmd_watch::WatchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze(a) => cmd_analyze::run(a),
        Command::Flows(a) => cmd_flows::run(a),
        Command::Knn(a) => cmd_ml::run_knn(a),
        Command::Kmeans(a) => cmd_ml::run_kmeans(a),
        Command::Predict(a) => cmd_ml::run_predict(a),
        Command::Baseline(a) => cmd_baseline::run(a),
        Command::Watch(a) => cmd_watch::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netanom: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
