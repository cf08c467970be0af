"""Generate the scikit-learn fixtures of netanom's ML tests (crates/ml/tests/fixtures/).

    python3 -m venv /tmp/venv-sk && /tmp/venv-sk/bin/pip install scikit-learn pandas pyarrow
    /tmp/venv-sk/bin/python scripts/sklearn/make_fixtures.py

The tables are synthetic (made here, seeded), small, and committed together with what
scikit-learn computes on them, so `cargo test` needs no Python. Everything is run with one
thread: with several, scikit-learn's parallel-on-Y strategy merges per-thread heaps and may
resolve distance ties differently.
"""

import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sklearn
from sklearn.cluster import KMeans
from sklearn.cluster._kmeans import _kmeans_plusplus
from sklearn.metrics import adjusted_rand_score, classification_report, confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils.extmath import row_norms
from threadpoolctl import threadpool_limits

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "ml", "tests", "fixtures")


def dump(name, obj):
    obj = {"generated_by": f"scripts/sklearn/make_fixtures.py, scikit-learn {sklearn.__version__}, numpy {np.__version__}", **obj}
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def report(y_true, y_pred, classes):
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=classes, zero_division=0)
    return {
        "classes": list(classes),
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=classes).tolist(),
        "precision": p.tolist(),
        "recall": r.tolist(),
        "f1": f.tolist(),
        "support": s.tolist(),
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))),
        "text": classification_report(y_true, y_pred, labels=classes, zero_division=0),
    }


def knn_ties():
    """Small integers, so every distance is exact and ties are everywhere: the fixture pins
    down scikit-learn's tie handling (its heap) and its vote ties."""
    rng = np.random.RandomState(1)
    n = 300
    a, b, c = rng.randint(0, 4, n), rng.randint(0, 3, n), rng.randint(0, 3, n)
    proto = rng.choice(["tcp", "udp", "icmp"], n)
    score = a + b - c + (proto == "icmp") * 2 + rng.randint(-1, 2, n)
    label = np.where(score >= 4, "dos", np.where(score <= 0, "probe", "normal"))
    df = pd.DataFrame({"a": a, "b": b, "c": c, "proto": proto, "label": label})
    df.to_csv(os.path.join(OUT, "knn_ties.csv"), index=False)
    x = np.hstack([df[["a", "b", "c"]].to_numpy(float), np.stack([(proto == p).astype(float) for p in ["icmp", "tcp", "udp"]], 1)])
    train, test = train_test_split(np.arange(n), test_size=0.3, random_state=101)
    strat_train, strat_test = train_test_split(np.arange(n), test_size=0.25, random_state=7, stratify=label)
    ks = list(range(1, 26))
    preds, rates = {}, []
    for k in ks:
        p = KNeighborsClassifier(n_neighbors=k, algorithm="brute").fit(x[train], label[train]).predict(x[test])
        preds[str(k)] = p.tolist()
        rates.append(float(np.mean(p != label[test])))
    best = ks[int(np.argmin(rates))]
    dist7 = KNeighborsClassifier(n_neighbors=7, weights="distance", algorithm="brute").fit(x[train], label[train]).predict(x[test])
    classes = sorted(set(label))
    dump(
        "knn_ties.json",
        {
            "table": "knn_ties.csv",
            "label": "label",
            "scale": "none",
            "train": train.tolist(),
            "test": test.tolist(),
            "stratified": {"test_size": 0.25, "seed": 7, "train": strat_train.tolist(), "test": strat_test.tolist()},
            "predictions_uniform": preds,
            "predictions_distance_k7": dist7.tolist(),
            "error_rate_by_k": rates,
            "best_k": best,
            "report_at_best_k": report(label[test], np.array(preds[str(best)]), classes),
        },
    )


def knn_scaled():
    """Features of very different scales, a hex column, missing cells and an infinity: the
    fixture checks the cell policy, StandardScaler's and MinMaxScaler's arithmetic, and
    predictions that depend on the scaling."""
    rng = np.random.RandomState(2)
    n = 240
    bytes_ = np.round(rng.lognormal(8, 2, n)).astype(int)
    dur = np.round(rng.exponential(3.0, n), 6)
    rate = np.round(bytes_ / np.maximum(dur, 1e-3), 4)
    flags = rng.choice([0x02, 0x12, 0x18, 0x11, 0x04], n)
    label = np.where((flags == 0x02) | (bytes_ < 300) & (dur < 0.5), "attack", "normal")
    flip = rng.rand(n) < 0.08
    label = np.where(flip, np.where(label == "attack", "normal", "attack"), label)
    cells_rate = [f"{v}" for v in rate]
    cells_dur = [f"{v}" for v in dur]
    missing_rows = [5, 17, 60, 61, 200]
    for r in missing_rows:
        cells_dur[r] = "-" if r % 2 else ""
    cells_rate[33] = "inf"
    cells_rate[150] = "-inf"
    df = pd.DataFrame({"bytes": bytes_, "duration": cells_dur, "rate": cells_rate, "tcpFlags": [f"0x{v:04x}" for v in flags], "label": label})
    df.to_csv(os.path.join(OUT, "knn_scaled.csv"), index=False)

    train, test = train_test_split(np.arange(n), test_size=0.3, random_state=101)
    dur_v = np.array([np.nan if s in ("", "-") else float(s) for s in cells_dur])
    rate_v = np.array([float(s) for s in cells_rate])
    x = np.stack([bytes_.astype(float), dur_v, rate_v, flags.astype(float)], 1)
    # netanom's policy: missing → mean of the finite training values (summed in order);
    # +inf → the training maximum, -inf → the training minimum.
    fills = {}
    for j, name in enumerate(["bytes", "duration", "rate", "tcpFlags"]):
        col = x[train, j]
        fin = col[np.isfinite(col)]
        mean = float(np.cumsum(fin)[-1] / len(fin))
        fills[name] = {"fill": mean, "pos_inf": float(fin.max()), "neg_inf": float(fin.min())}
        v = x[:, j]
        v[np.isnan(v)] = mean
        v[v == np.inf] = fin.max()
        v[v == -np.inf] = fin.min()
    std = StandardScaler().fit(x[train])
    mm = MinMaxScaler().fit(x[train])
    xs_tr, xs_te = std.transform(x[train]), std.transform(x[test])
    with threadpool_limits(1):
        p5 = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(xs_tr, label[train]).predict(xs_te)
        pm = KNeighborsClassifier(n_neighbors=5, algorithm="brute").fit(mm.transform(x[train]), label[train]).predict(mm.transform(x[test]))
    dump(
        "knn_scaled.json",
        {
            "table": "knn_scaled.csv",
            "label": "label",
            "train": train.tolist(),
            "test": test.tolist(),
            "fills": fills,
            "missing_cells_in_train": int(sum(1 for r in train if r in missing_rows)),
            "standard_mean": std.mean_.tolist(),
            "standard_scale": std.scale_.tolist(),
            "minmax_scale": mm.scale_.tolist(),
            "minmax_min": mm.min_.tolist(),
            "predictions_standard_k5": p5.tolist(),
            "predictions_minmax_k5": pm.tolist(),
        },
    )


def kmeans_blobs():
    rng = np.random.RandomState(3)
    centres = np.array([[0, 0, 0, 0], [6, 1, -2, 30], [2, 8, 5, -10]], float)
    sizes = [180, 120, 100]
    x = np.vstack([c + rng.randn(s, 4) * np.array([1, 2, 1, 8]) for c, s in zip(centres, sizes)])
    perm = rng.permutation(len(x))
    x = np.round(x[perm], 5)
    cls = np.repeat(["normal", "scan", "flood"], sizes)[perm]
    df = pd.DataFrame({"f1": x[:, 0], "f2": x[:, 1], "f3": x[:, 2], "f4": x[:, 3], "cls": cls})
    df.to_csv(os.path.join(OUT, "kmeans_blobs.csv"), index=False)
    xs = StandardScaler().fit_transform(df[["f1", "f2", "f3", "f4"]].to_numpy(float))
    out = {"table": "kmeans_blobs.csv", "label": "cls", "runs": []}
    # the k-means++ seeds of the first two runs of KMeans(random_state=0) on the centred data
    xc = xs - xs.mean(axis=0)
    rs = np.random.RandomState(0)
    seeds = []
    for _ in range(2):
        _, idx = _kmeans_plusplus(xc, 3, x_squared_norms=row_norms(xc, squared=True), random_state=rs, sample_weight=np.ones(len(xc)))
        seeds.append(idx.tolist())
    out["kmeans_plusplus_seed0_k3"] = seeds
    with threadpool_limits(1):
        for k in (2, 3, 5):
            km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(xs)
            out["runs"].append({"k": k, "n_init": 10, "seed": 0, "inertia": float(km.inertia_), "n_iter": int(km.n_iter_), "labels": km.labels_.tolist(), "centers_scaled": km.cluster_centers_.tolist()})
    out["ari_k3_vs_cls"] = float(adjusted_rand_score(cls, out["runs"][1]["labels"]))
    dump("kmeans_blobs.json", out)


def metrics_cases():
    a = [0, 0, 1, 1, 2, 2, 2, 0]
    b = [1, 1, 0, 0, 2, 2, 0, 0]
    y_true = ["normal", "dos", "dos", "probe", "normal", "u2r", "normal", "dos", "probe", "probe"]
    y_pred = ["normal", "dos", "normal", "probe", "normal", "dos", "dos", "dos", "probe", "normal"]
    classes = sorted(set(y_true) | set(y_pred))
    dump(
        "metrics.json",
        {
            "ari": [{"a": a, "b": b, "value": adjusted_rand_score(a, b)}, {"a": [0, 0, 0, 0], "b": [0, 1, 2, 3], "value": adjusted_rand_score([0, 0, 0, 0], [0, 1, 2, 3])}],
            "report": {"y_true": y_true, "y_pred": y_pred, **report(y_true, y_pred, classes)},
        },
    )


def t2_flows():
    """A flow table in Tranalyzer2's layout (`%` header, tabs, hex bit fields, `-` for
    missing, timestamps, addresses and ports) with an `anomaly` label, for the CLI tests."""
    rng = np.random.RandomState(4)
    cols = ["dir", "flowInd", "flowStat", "timeFirst", "timeLast", "duration", "srcIP", "srcPort", "dstIP", "dstPort", "l4Proto",
            "numPktsSnt", "numBytesSnt", "tcpFlags", "avgPktSize", "pktps", "hdrDesc", "anomaly"]
    lines = ["%" + "\t".join(cols)]
    for i in range(1, 181):
        bad = rng.rand() < 0.3
        proto = 6 if rng.rand() < 0.95 else 17
        pkts = int(rng.randint(1, 4) if bad else rng.randint(3, 200))
        size = float(rng.uniform(40, 80) if bad else rng.uniform(200, 1400))
        dur = float(rng.exponential(0.05 if bad else 5.0))
        t0 = 1507911659.0 + i * 0.37
        flags = rng.choice([0x02, 0x04]) if bad else rng.choice([0x1a, 0x1b, 0x18])
        pktps = "inf" if dur == 0 else f"{pkts / dur:.6g}"
        avg = "-" if rng.rand() < 0.05 else f"{size:.4f}"
        lines.append("\t".join([
            "A" if i % 2 else "B", str((i + 1) // 2), f"0x{(0x4000 | (0x0001 * (i % 2))):016x}", f"{t0:.9f}", f"{t0 + dur:.9f}", f"{dur:.9f}",
            f"10.0.{i % 7}.{i % 250}", str(1024 + i), "192.0.2.80", "80" if not bad else str(rng.randint(1, 1024)), str(proto),
            str(pkts), str(int(pkts * size)), f"0x{flags:02x}", avg, pktps, "eth:ipv4:tcp" if proto == 6 else "eth:ipv4:udp",
            "malicious" if bad else "normal",
        ]))
    with open(os.path.join(OUT, "t2_flows.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def parquet_sample():
    t = pa.table(
        {
            "flowInd": pa.array([1, 2, 3, 4], pa.int64()),
            "duration": pa.array([0.5, None, 2.25, 1e3], pa.float64()),
            "proto": pa.array(["tcp", "udp", None, "tcp"], pa.string()),
            "label": pa.array(["normal", "dos", "normal", "dos"], pa.string()),
        }
    )
    pq.write_table(t, os.path.join(OUT, "sample.parquet"))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    with threadpool_limits(1):
        knn_ties()
        knn_scaled()
        kmeans_blobs()
        metrics_cases()
        parquet_sample()
        t2_flows()
    print("fixtures written to", os.path.normpath(OUT))
