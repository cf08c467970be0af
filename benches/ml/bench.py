"""netanom knn/kmeans against scikit-learn, on the same rows and the same features.

Run through benches/ml/run.sh (it makes the throwaway venv and builds netanom). For each data
set and thread count it times:

  sweep   netanom `knn --k-range 1..59` against the seed's loop of 59 KNeighborsClassifier
          fit+predict calls (one per k);
  knn     netanom `knn --k K` against one scikit-learn fit+predict;
  kmeans  netanom `kmeans --k 2 --n-init 10` against KMeans(2, n_init=10).

scikit-learn's times cover only fit/predict on ready C-contiguous arrays (its best case: no
CSV reading, no preprocessing); netanom's are given twice: the whole process (reading and
preparing the CSV included) and its own compute phases from the report's `timings_s`. It also
checks that the answers agree: predictions row by row, the sweep's error rates and best k, and
the KMeans inertia.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_info, threadpool_limits

sys.dont_write_bytecode = True  # no __pycache__ in the repository
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "sklearn"))
import netanom_like as nl  # noqa: E402

SHARED = os.environ.get("NETANOM_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared"))
NSL = os.path.join(SHARED, "data", "nsl-kdd")
DATASETS = {
    "nsl-kdd": {
        "file": os.path.join(NSL, "KDDTrain+_20Percent.txt"),
        "read": ["--no-header", "--names", os.path.join(NSL, "Field_Names.csv"), "--extra-names", "label,difficulty"],
        "names": lambda: nl_names(os.path.join(NSL, "Field_Names.csv")) + ["label", "difficulty"],
        "label": "label",
    },
    "unsw-nb15": {
        "file": os.path.join(SHARED, "data", "unsw-nb15", "UNSW_NB15_training-set.csv"),
        "read": [],
        "names": lambda: None,
        "label": "label",
    },
}


def nl_names(path):
    return [l.split(",")[0].strip() for l in open(path, encoding="utf-8-sig") if l.strip()]


def run_netanom(args, cmd):
    """Wall time of one run, its report and (knn) its predictions by file line."""
    with tempfile.TemporaryDirectory() as tmp:
        rep = os.path.join(tmp, "r.json")
        pred = os.path.join(tmp, "p.csv")
        full = [args.netanom] + cmd + ["--report-json", rep, "-q"]
        if cmd[0] == "knn":
            full += ["--predictions", pred]
        t = time.perf_counter()
        subprocess.run(full, check=True)
        wall = time.perf_counter() - t
        report = json.load(open(rep))
        preds = None
        if cmd[0] == "knn":
            preds = {int(r["line"]): r["prediction"] for r in csv.DictReader(open(pred, encoding="utf-8"))}
    return wall, report, preds


def interleaved(args, cmd, sk, repeat):
    """Best of `repeat` rounds, each running netanom then scikit-learn, so that both see the
    same machine load (it is shared): (netanom wall, netanom report, predictions, sklearn time,
    sklearn result). The report is the fastest run's."""
    nt_best, sk_best, out = (float("inf"), None, None), float("inf"), None
    for _ in range(repeat):
        wall, rep, preds = run_netanom(args, cmd)
        if wall < nt_best[0]:
            nt_best = (wall, rep, preds)
        t = time.perf_counter()
        res = sk()
        el = time.perf_counter() - t
        if el < sk_best:
            sk_best, out = el, res
    return nt_best[0], nt_best[1], nt_best[2], sk_best, out


def timed(f, repeat):
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def phase(report, *names):
    return sum(report["timings_s"].get(n, 0.0) for n in names)


def bench(args, name, threads, rows_out):
    ds = DATASETS[name]
    base = ["--data", ds["file"]] + ds["read"] + ["--label", ds["label"], "--threads", str(threads)]
    split = ["--test-size", "0.3", "--seed", "101"]
    a, b = args.k_range
    # netanom first: its report says which features it used, and scikit-learn gets the same.
    nt_sweep, rep_sweep, preds_best = run_netanom(args, ["knn"] + base + split + ["--k-range", f"{a}..{b}"])
    k = args.k or rep_sweep["best_k"]
    knn_cmd = ["knn"] + base + split + ["--k", str(k)]
    km_cmd = ["kmeans"] + base + ["--k", "2", "--n-init", "10", "--seed", "0"]
    _, rep_knn, _ = run_netanom(args, knn_cmd)
    _, rep_km, _ = run_netanom(args, km_cmd)

    df = nl.read_table(ds["file"], ds["names"]())
    n = len(df)
    train, test = train_test_split(np.arange(n), test_size=0.3, random_state=101)
    xtr, xte = nl.prepare(df, rep_knn["features"], train, test)
    y = df[ds["label"]].to_numpy(str)
    ytr, yte = y[train], y[test]
    all_rows = np.arange(n)
    xall, _ = nl.prepare(df, rep_km["features"], all_rows, all_rows[:1])
    # netanom's prediction files use file lines: header line (if any) + 1-based row.
    first_line = 1 if ds["read"] else 2

    with threadpool_limits(threads):
        def fit_predict(kk):
            return KNeighborsClassifier(n_neighbors=kk, algorithm="brute").fit(xtr, ytr).predict(xte)

        nt_knn, rep_knn, preds_k, sk_knn, sk_pred = interleaved(args, knn_cmd, lambda: fit_predict(k), args.repeat)
        nt_km, rep_km, _, sk_km, kmodel = interleaved(args, km_cmd, lambda: KMeans(n_clusters=2, n_init=10, random_state=0).fit(xall), args.repeat)
        ks = list(range(a, b + 1))
        if args.quick:
            # Time a few k and scale to the whole loop (the cost hardly depends on k).
            sample = sorted({ks[0], ks[len(ks) // 2], ks[-1]})
            t, _ = timed(lambda: [fit_predict(kk) for kk in sample], 1)
            sk_sweep, sk_rates = t * len(ks) / len(sample), None
        else:
            rates = []
            t0 = time.perf_counter()
            for kk in ks:
                rates.append(float(np.mean(fit_predict(kk) != yte)))
            sk_sweep, sk_rates = time.perf_counter() - t0, rates
        sk_best_pred = fit_predict(rep_sweep["best_k"])
    ours_k = np.array([preds_k[i + first_line] for i in test])
    ours_best = np.array([preds_best[i + first_line] for i in test])

    sweep_note = ""
    if sk_rates is not None:
        ours = [r["error_rate"] for r in rep_sweep["error_rate_by_k"]]
        sk_best = ks[int(np.argmin(sk_rates))]
        diff = max(abs(x - y) for x, y in zip(ours, sk_rates))
        sweep_note = f"best k {rep_sweep['best_k']} (scikit-learn {sk_best}), max |error rate diff| {diff:.2e}"
        rows_out_rates = {"netanom": ours, "sklearn": sk_rates}
    else:
        rows_out_rates = None
    agree_k = float(np.mean(ours_k == sk_pred))
    agree_best = float(np.mean(ours_best == sk_best_pred))
    ratio_inertia = rep_km["inertia"] / kmodel.inertia_
    rows_out.append(
        {
            "data": name,
            "threads": threads,
            "n_train": len(train),
            "n_test": len(test),
            "features": xtr.shape[1],
            "k": k,
            "error_rates": rows_out_rates,
            "sweep": {"sklearn_s": sk_sweep, "netanom_s": nt_sweep, "netanom_compute_s": phase(rep_sweep, "neighbours", "evaluate"), "estimated": args.quick, "note": sweep_note},
            "knn": {"sklearn_s": sk_knn, "netanom_s": nt_knn, "netanom_compute_s": phase(rep_knn, "neighbours", "evaluate"), "agreement": agree_k, "disagreements": int(np.sum(ours_k != sk_pred)), "agreement_best_k": agree_best},
            "kmeans": {"sklearn_s": sk_km, "netanom_s": nt_km, "netanom_compute_s": phase(rep_km, "fit"), "inertia_ratio": ratio_inertia, "sklearn_inertia": kmodel.inertia_, "netanom_inertia": rep_km["inertia"]},
        }
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--netanom", required=True, help="the netanom binary (release build)")
    p.add_argument("--data", default="nsl-kdd,unsw-nb15")
    p.add_argument("--threads", default="1,2")
    p.add_argument("--k", type=int, default=34, help="k of the single-k run (0: the sweep's best)")
    p.add_argument("--k-range", default="1..59")
    p.add_argument("--repeat", type=int, default=5, help="best of N (alternating) for the single-k and kmeans runs")
    p.add_argument("--quick", action="store_true", help="estimate scikit-learn's sweep from 3 values of k")
    p.add_argument("--json", help="also write the results here")
    args = p.parse_args()
    a, b = args.k_range.split("..")
    args.k_range = (int(a), int(b))
    blas = [(i.get("internal_api"), i.get("architecture")) for i in threadpool_info() if i.get("user_api") == "blas"]
    print(f"scikit-learn BLAS: {blas}; load average {os.getloadavg()}", file=sys.stderr)
    rows = []
    for name in args.data.split(","):
        for th in [int(t) for t in args.threads.split(",")]:
            print(f"{name}, {th} thread(s)...", file=sys.stderr)
            bench(args, name, th, rows)
    print("| data | threads | task | scikit-learn s | netanom s (whole run) | netanom s (compute) | speed-up (whole) | speed-up (compute) | agreement |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        for task in ("sweep", "knn", "kmeans"):
            t = r[task]
            if task == "sweep":
                what = f"k {args.k_range[0]}..{args.k_range[1]}" + (" (sklearn est.)" if t["estimated"] else "")
                agree = t["note"] or "-"
            elif task == "knn":
                what = f"k = {r['k']}"
                agree = f"{100 * t['agreement']:.3f}% ({t['disagreements']} rows differ)"
            else:
                what = "kmeans k=2 n_init=10"
                agree = f"inertia ratio {t['inertia_ratio']:.6f}"
            print(
                f"| {r['data']} ({r['n_train']}+{r['n_test']} rows, {r['features']} features) | {r['threads']} | {what} | "
                f"{t['sklearn_s']:.3f} | {t['netanom_s']:.3f} | {t['netanom_compute_s']:.3f} | "
                f"{t['sklearn_s'] / t['netanom_s']:.1f}× | {t['sklearn_s'] / max(t['netanom_compute_s'], 1e-9):.1f}× | {agree} |"
            )
    print(f"load average at the end: {os.getloadavg()}")
    if args.json:
        json.dump(rows, open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
