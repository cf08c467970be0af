//! Turning table rows into the (unscaled) feature matrix: numeric columns imputed, text
//! columns one-hot encoded. Column by column, since the table is stored that way.

use super::{InputColumn, InputKind, Missing, PrepStats, Prepared, Preprocessor};
use crate::error::{MlError, Result};
use crate::matrix::Matrix;
use crate::table::{is_missing_token, Column, Table};

impl Preprocessor {
    /// The table column of each input, checked to be usable.
    fn resolve<'a>(&'a self, table: &Table, rows: &[usize]) -> Result<Vec<(usize, &'a InputColumn)>> {
        let mut cols = Vec::with_capacity(self.inputs.len());
        for inp in &self.inputs {
            let idx = table.index_of(&inp.name).ok_or_else(|| MlError::Data {
                file: table.source.clone(),
                msg: format!("the model needs column '{}', which this table does not have", inp.name),
            })?;
            if let (InputKind::Num { .. }, Column::Text(t)) = (&inp.kind, &table.columns[idx]) {
                // Show the first cell that is not a number.
                let bad = rows.iter().find(|&&r| {
                    let s = t[r].trim();
                    !is_missing_token(s) && s.parse::<f64>().is_err() && !s.starts_with("0x")
                });
                let (line, cell) = bad.map(|&r| (table.lines[r], t[r].clone())).unwrap_or((0, String::new()));
                return Err(MlError::BadRow {
                    file: table.source.clone(),
                    line,
                    msg: format!("column {} ('{}') must be numeric, found '{}'", idx + 1, inp.name, cell),
                });
            }
            cols.push((idx, inp));
        }
        Ok(cols)
    }

    /// Encode and impute `rows` of `table` (no scaling).
    pub(super) fn encode(&self, table: &Table, rows: &[usize]) -> Result<Prepared> {
        let cols = self.resolve(table, rows)?;
        let d = self.feature_names.len();
        let m = rows.len();
        let mut stats = PrepStats { rows_in: m, ..Default::default() };
        // With `--missing drop`, a row with any missing numeric cell goes, and is counted.
        let mut keep = vec![true; m];
        if self.missing == Missing::Drop {
            for &(idx, inp) in &cols {
                if let (InputKind::Num { .. }, Column::Num(c)) = (&inp.kind, &table.columns[idx]) {
                    for (k, &r) in keep.iter_mut().zip(rows) {
                        *k &= !c.values[r].is_nan();
                    }
                }
            }
        }
        let kept: Vec<usize> = rows.iter().zip(&keep).filter(|(_, &k)| k).map(|(&r, _)| r).collect();
        stats.rows_dropped_missing = m - kept.len();
        let n = kept.len();
        let mut x = vec![0.0; n * d];
        let mut off = 0;
        for &(idx, inp) in &cols {
            match (&inp.kind, &table.columns[idx]) {
                (InputKind::Num { fill, pos_inf, neg_inf }, Column::Num(c)) => {
                    for (i, &r) in kept.iter().enumerate() {
                        let v = c.values[r];
                        x[i * d + off] = if v.is_nan() {
                            stats.missing_filled += 1;
                            *fill
                        } else if v == f64::INFINITY {
                            stats.infinite_replaced += 1;
                            *pos_inf
                        } else if v == f64::NEG_INFINITY {
                            stats.infinite_replaced += 1;
                            *neg_inf
                        } else {
                            v
                        };
                    }
                    off += 1;
                }
                (InputKind::OneHot { categories }, col) => {
                    // A column of categories may read as numbers in another file: compare
                    // the text. Unseen categories encode as all zeros.
                    let owned;
                    let text: &[String] = match col {
                        Column::Text(t) => t,
                        Column::Num(_) => {
                            owned = table.text_column(idx);
                            &owned
                        }
                    };
                    for (i, &r) in kept.iter().enumerate() {
                        if let Ok(p) = categories.binary_search_by(|c| c.as_str().cmp(&text[r])) {
                            x[i * d + off + p] = 1.0;
                        }
                    }
                    off += categories.len();
                }
                (InputKind::Num { .. }, Column::Text(_)) => {
                    return Err(MlError::Data {
                        file: table.source.clone(),
                        msg: format!("column '{}' must be numeric", inp.name),
                    });
                }
            }
        }
        stats.rows_used = n;
        Ok(Prepared { x: Matrix { rows: n, cols: d, data: x }, rows: kept, stats })
    }
}
