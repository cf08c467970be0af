"""Build, with pandas and scikit-learn, the same feature matrix netanom builds, so the two can be
compared row for row. Used by the fixture generator and the benchmark; never by netanom itself.

netanom's report JSON (`--report-json`) lists the input columns it used and how each was
encoded (`features.inputs`); this module reads the table with netanom's cell policy and applies
that encoding with the imputation values netanom fitted (training mean, ±inf → training
max/min), then fits scikit-learn's own scaler on the training rows.
"""

import numpy as np
import pandas as pd
from sklearn.preprocessing import MinMaxScaler, StandardScaler

# netanom's missing tokens (crates/ml/src/table.rs, is_missing_token).
MISSING = ["", "-", "NA", "N/A", "n/a", "NaN", "nan", "NAN", "null", "NULL", "None", "?"]


def read_table(path, names=None):
    """Read a CSV/TSV like netanom: BOM stripped, every cell as text first."""
    with open(path, "rb") as f:
        head = f.read(4096).decode("utf-8-sig", errors="replace")
    first = head.split("\n", 1)[0]
    sep = "\t" if first.count("\t") > 0 and first.count("\t") >= first.count(",") else ","
    kw = dict(sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)
    if names is not None:
        return pd.read_csv(path, header=None, names=names, **kw)
    df = pd.read_csv(path, **kw)
    df.columns = [c.lstrip("%").strip() for c in df.columns]
    return df


def _num(s):
    """netanom's numeric cell parsing: missing tokens → NaN, 0x… → hex integer, inf kept."""

    def one(v):
        v = v.strip()
        if v in MISSING:
            return np.nan
        if len(v) > 2 and v[:2] in ("0x", "0X"):
            return float(int(v[2:], 16))
        return float(v)

    return np.array([one(v) for v in s], dtype=np.float64)


def encode(df, inputs):
    """The unscaled matrix for all rows of `df`."""
    cols = []
    for inp in inputs:
        name, kind = inp["name"], inp["kind"]
        if kind["type"] == "num":
            # The fitted fill values come from netanom's report (they are exact in its JSON);
            # the comparison is about the models, and the scaler below is scikit-learn's own.
            v = _num(df[name].to_numpy(str))
            v = np.where(np.isnan(v), kind["fill"], v)
            v = np.where(v == np.inf, kind["pos_inf"], v)
            v = np.where(v == -np.inf, kind["neg_inf"], v)
            cols.append(v[:, None])
        else:
            cats = kind["categories"]
            s = df[name].to_numpy(str)
            cols.append(np.stack([(s == c).astype(np.float64) for c in cats], axis=1))
    return np.ascontiguousarray(np.hstack(cols))


def scaler(kind):
    return {"standard": StandardScaler(), "minmax": MinMaxScaler(), "none": None}[kind]


def prepare(df, report_features, train_rows, other_rows):
    """(X_train, X_other) scaled like netanom: C-contiguous float64."""
    x = encode(df, report_features["inputs"])
    xtr, xo = x[train_rows], x[other_rows]
    sc = scaler(report_features["scale"])
    if sc is not None:
        sc.fit(xtr)
        xtr, xo = sc.transform(xtr), sc.transform(xo)
    return np.ascontiguousarray(xtr), np.ascontiguousarray(xo)
