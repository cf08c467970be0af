//! Parquet input: every column is cast to text and typed like a delimited file's column, so the
//! missing-value, hex and bad-cell policies are the same for both.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{MlError, Result};
use crate::table::{build_table, resolve_names, LoadOptions, Table};

pub fn read_parquet(path: &Path, opts: &LoadOptions) -> Result<Table> {
    let source = path.display().to_string();
    let err = |m: String| MlError::Data { file: source.clone(), msg: format!("parquet: {m}") };
    let file = std::fs::File::open(path).map_err(|e| MlError::Io { path: path.to_path_buf(), source: e })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| err(e.to_string()))?;
    let schema = builder.schema().clone();
    let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let n_cols = header.len();
    let reader = builder.with_batch_size(65536).build().map_err(|e| err(e.to_string()))?;
    let mut cols: Vec<Vec<String>> = vec![Vec::new(); n_cols];
    for batch in reader {
        let batch = batch.map_err(|e| err(e.to_string()))?;
        for (c, col) in batch.columns().iter().enumerate() {
            let s =
                arrow::compute::cast(col, &DataType::Utf8).map_err(|e| err(format!("column '{}': {e}", header[c])))?;
            let s = s.as_string::<i32>();
            for i in 0..s.len() {
                cols[c].push(if s.is_null(i) { String::new() } else { s.value(i).to_string() });
            }
        }
    }
    let n_rows = cols.first().map(|c| c.len()).unwrap_or(0);
    let names = resolve_names(&source, if opts.names.is_some() { None } else { Some(header) }, opts, n_cols)?;
    let refs: Vec<Vec<&str>> = cols.iter().map(|c| c.iter().map(|s| s.as_str()).collect()).collect();
    build_table(&source, names, refs, (1..=n_rows).collect(), 0, Vec::new(), opts)
}
