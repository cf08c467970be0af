//! Machine learning on flow tables: KNN classification and KMeans clustering with
//! scikit-learn's semantics (same splits, same neighbours, same seeds), written for speed:
//! blocked distance kernels through a matrix multiply, rayon across rows, scikit-learn's
//! bounded heap per query, one neighbour search for a whole k sweep, Hamerly's bounds for
//! KMeans. docs/ml.md describes the behaviour and the measurements.
//!
//! The pieces follow scikit-learn's estimator shape: parameters in one struct with documented
//! defaults ([`KnnParams`], [`KMeansParams`], [`FeatureOptions`]), `fit` then
//! `predict`/`transform`, results reproducible from a seed. [`pipeline`] runs the CLI's
//! workflows end to end.

pub mod distance;
pub mod error;
pub mod features;
pub mod kmeans;
pub mod knn;
pub mod matrix;
pub mod metrics;
pub mod model;
mod parquet_io;
pub mod pipeline;
pub mod rng;
mod simd;
pub mod split;
pub mod table;

pub use distance::Neighbours;
pub use error::{MlError, Result};
pub use features::{Categorical, FeatureOptions, Missing, Preprocessor, Scale};
pub use kmeans::{KMeans, KMeansParams};
pub use knn::{KnnClassifier, KnnParams, Weights};
pub use matrix::Matrix;
pub use table::{read_table, LoadOptions, Table};

/// Run `f` on a rayon pool of `threads` threads (0 = rayon's default).
pub fn with_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    if threads == 0 {
        return f();
    }
    match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool.install(f),
        Err(_) => f(),
    }
}
