//! `netanom knn`, `kmeans`, `predict` (owned by the ML work).

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct KnnArgs {}
#[derive(clap::Args)]
pub struct KmeansArgs {}
#[derive(clap::Args)]
pub struct PredictArgs {}

pub fn run_knn(_a: KnnArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    Err("not yet".into())
}
pub fn run_kmeans(_a: KmeansArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    Err("not yet".into())
}
pub fn run_predict(_a: PredictArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    Err("not yet".into())
}
