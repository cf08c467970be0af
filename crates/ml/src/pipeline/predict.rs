//! `netanom predict`: score a table with a saved model (its own features and scaler).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use serde_json::json;

use super::{csv_field, io_err, Outcome};
use crate::error::{MlError, Result};
use crate::kmeans::KMeans;
use crate::knn::KnnClassifier;
use crate::matrix::Matrix;
use crate::model::{self, ModelKind};
use crate::table::{self, is_missing_token, LoadOptions};

/// `netanom predict`.
#[derive(Clone, Debug)]
pub struct PredictJob {
    pub model: PathBuf,
    pub input: PathBuf,
    pub load: LoadOptions,
    pub output: Option<PathBuf>,
}

pub fn run_predict(job: &PredictJob) -> Result<Outcome> {
    let m = model::load(&job.model)?;
    let label = m.header.label.clone();
    let mut lo = job.load.clone();
    if let Some(l) = &label {
        lo.keep_text.push(l.clone());
    }
    let t = table::read_table(&job.input, &lo)?;
    let rows: Vec<usize> = (0..t.n_rows()).collect();
    let p = m.header.preprocessor.transform(&t, &rows).map_err(|e| match e {
        MlError::Data { file, msg } => MlError::Data { file, msg: format!("{msg} (model {})", job.model.display()) },
        e => e,
    })?;
    let label_col = label.as_ref().and_then(|l| t.index_of(l)).map(|i| t.text_column(i));
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{}: {} rows scored with {} ({} bad rows skipped, {} dropped for missing values; {} missing and {} infinite values replaced)",
        t.source,
        p.x.rows,
        job.model.display(),
        t.bad_rows_skipped,
        p.stats.rows_dropped_missing,
        p.stats.missing_filled,
        p.stats.infinite_replaced
    );
    // Each output row's value cells, already CSV-escaped; KNN also keeps the raw class.
    let (header, cells, classes_out): (&str, Vec<String>, Option<Vec<String>>) = match (&m.header.model, &m.train) {
        (ModelKind::Knn { params, classes, .. }, Some((x, y))) => {
            let clf = KnnClassifier::fit(params.clone(), x.clone(), y.clone(), classes.len())?;
            let pr: Vec<String> = clf.predict(&p.x)?.iter().map(|&c| classes[c].clone()).collect();
            ("prediction", pr.iter().map(|c| csv_field(c)).collect(), Some(pr))
        }
        (ModelKind::Kmeans { params, centers, cluster_names }, _) => {
            let km = KMeans {
                params: params.clone(),
                centers: Matrix::from_rows(centers),
                labels: vec![],
                inertia: 0.0,
                n_iter: 0,
                inertia_per_init: vec![],
            };
            let l = km.predict(&p.x);
            (
                "cluster,cluster_name",
                l.iter().map(|&c| format!("{c},{}", csv_field(&cluster_names[c as usize]))).collect(),
                None,
            )
        }
        _ => {
            return Err(MlError::Model {
                path: job.model.display().to_string(),
                msg: "KNN model without training data".into(),
            })
        }
    };
    let mut json = json!({"rows": p.x.rows, "missing_values_filled": p.stats.missing_filled, "infinite_values_replaced": p.stats.infinite_replaced, "bad_rows_skipped": t.bad_rows_skipped, "rows_dropped_missing": p.stats.rows_dropped_missing});
    if let (Some(lc), Some(pred)) = (&label_col, &classes_out) {
        // Only rows that carry a label can be scored against it.
        let scored: Vec<bool> = p
            .rows
            .iter()
            .zip(pred)
            .filter(|(&r, _)| !is_missing_token(lc[r].trim()))
            .map(|(&r, pr)| &lc[r] == pr)
            .collect();
        let acc = scored.iter().filter(|&&c| c).count() as f64 / scored.len().max(1) as f64;
        let _ = writeln!(
            text,
            "accuracy against column '{}': {acc:.4} ({} labelled rows)",
            label.as_deref().unwrap_or(""),
            scored.len()
        );
        json["accuracy"] = json!(acc);
        json["labelled_rows"] = json!(scored.len());
    }
    let mut out: Box<dyn std::io::Write> = match &job.output {
        Some(o) => Box::new(std::io::BufWriter::new(std::fs::File::create(o).map_err(io_err(o))?)),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let opath = job.output.clone().unwrap_or_else(|| PathBuf::from("<stdout>"));
    let lab_head = match (&label_col, &label) {
        (Some(_), Some(l)) => format!("{},", csv_field(l)),
        _ => String::new(),
    };
    writeln!(out, "line,{lab_head}{header}").map_err(io_err(&opath))?;
    for (i, &r) in p.rows.iter().enumerate() {
        let lv = match &label_col {
            Some(lc) => format!("{},", csv_field(&lc[r])),
            None => String::new(),
        };
        writeln!(out, "{},{lv}{}", t.lines[r], cells[i]).map_err(io_err(&opath))?;
    }
    out.flush().map_err(io_err(&opath))?;
    Ok(Outcome { text, json })
}
