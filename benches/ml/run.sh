#!/usr/bin/env bash
# netanom knn/kmeans against scikit-learn on NSL-KDD and UNSW-NB15, 1 and 2 threads.
#
#   benches/ml/run.sh                 # full run (the seed's 59-fit loop is really run: ~15 min)
#   benches/ml/run.sh --quick         # scikit-learn's sweep estimated from 3 values of k
#   benches/ml/run.sh --threads 2 --data unsw-nb15 --json out.json
#
# scikit-learn lives in a throwaway venv ($VENV, default ../venv-sk beside the repository), never
# in netanom's dependencies. The data comes from ../shared (or $NETANOM_SHARED).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${VENV:-$root/../venv-sk}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q scikit-learn pandas threadpoolctl
fi
(cd "$root" && cargo build --release -q -p netanom)
bin="${CARGO_TARGET_DIR:-$root/target}/release/netanom"
# Some machines set these for old OpenBLAS builds; they slow a current one down, which would
# flatter netanom. Unset them for this run only.
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$venv/bin/python" "$here/bench.py" --netanom "$bin" "$@"
