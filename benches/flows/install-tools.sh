#!/usr/bin/env bash
# Install the comparison flow meters for benches/flows/run.sh, non-interactively.
#
#   apt:  tshark (capinfos comes with it, in wireshark-common), argus-server (argus),
#         argus-client (ra), tcpdump, time
#   pip:  nfstream, in a throwaway venv at $BENCH_DIR/venv (default /tmp/netanom-bench/venv)
#
# Each tool is installed on its own: one that fails is reported and the script carries on
# (run.sh then reports it as "not available"). Needs root for apt (as on the project's machines).
# Tranalyzer2 is not packaged for Debian nor on PyPI, so it is not installed.
set -u

BENCH_DIR=${BENCH_DIR:-/tmp/netanom-bench}
VENV=${NFSTREAM_VENV:-$BENCH_DIR/venv}
mkdir -p "$BENCH_DIR"

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -E"; else
    echo "install-tools: not root and no sudo: skipping apt packages" >&2; SUDO=none; fi
fi

status=0
if [ "$SUDO" != none ]; then
  # tshark's wireshark-common asks whether non-root users may capture: answer "no" in advance.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections || true

  # argus-server ships an init script that would start a capturing daemon on install:
  # forbid service starts for the duration of the install (only if no policy is in place).
  POLICY=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null && $SUDO chmod +x "$POLICY" && made_policy=1
  fi

  $SUDO apt-get update -qq || echo "install-tools: apt-get update failed" >&2
  for pkg in time tcpdump tshark argus-server argus-client; do
    if dpkg -s "$pkg" >/dev/null 2>&1; then echo "install-tools: $pkg already installed"; continue; fi
    echo "install-tools: installing $pkg"
    if ! $SUDO apt-get install -y -qq --no-install-recommends \
         -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$pkg" >"$BENCH_DIR/apt-$pkg.log" 2>&1; then
      echo "install-tools: $pkg FAILED (see $BENCH_DIR/apt-$pkg.log)" >&2; status=1
    fi
  done
  [ "$made_policy" = 1 ] && $SUDO rm -f "$POLICY"
fi

# nfstream: a throwaway venv, never the system Python.
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import nfstream' 2>/dev/null; then
  echo "install-tools: nfstream already in $VENV"
else
  echo "install-tools: creating $VENV and installing nfstream"
  PY=${PYTHON:-python3}
  if "$PY" -m venv "$VENV" >"$BENCH_DIR/venv.log" 2>&1 &&
     "$VENV/bin/pip" install -q --upgrade pip >>"$BENCH_DIR/venv.log" 2>&1 &&
     "$VENV/bin/pip" install -q nfstream >>"$BENCH_DIR/venv.log" 2>&1 &&
     "$VENV/bin/python" -c 'import nfstream' >>"$BENCH_DIR/venv.log" 2>&1; then
    echo "install-tools: nfstream $("$VENV/bin/python" -c 'import nfstream; print(nfstream.__version__)' 2>/dev/null) ok"
  else
    echo "install-tools: nfstream FAILED (see $BENCH_DIR/venv.log)" >&2; status=1
  fi
fi

echo "install-tools: Tranalyzer2 is not packaged (Debian/PyPI): not installed"
exit $status
