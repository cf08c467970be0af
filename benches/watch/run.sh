#!/usr/bin/env bash
# Where does `netanom watch -i` start to drop packets on this machine?
#
#   sudo benches/watch/run.sh [BINARY] [CAPTURE]
#
# Makes two network namespaces joined by a veth pair, runs `netanom watch -i` on one end, replays
# CAPTURE (default samples/lab.pcap, looped) into the other end with tcpreplay at increasing packet
# rates, and prints per rate what the kernel received and dropped (libpcap's counters, from the
# watch's --report-json). BINARY must be built with `--features live`
# (default: target/release/netanom). Needs root, iproute2, tcpreplay.
# The namespaces are removed on exit, also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${1:-${CARGO_TARGET_DIR:-target}/release/netanom}
CAP=${2:-samples/lab.pcap}
RATES=${RATES:-"5000 10000 20000 40000 80000 160000 320000"}
SECS=${SECS:-4}
BUF_MIB=${BUF_MIB:-}

for t in ip tcpreplay capinfos; do
    command -v "$t" >/dev/null || { [ "$t" = capinfos ] && continue; echo "run.sh: $t is missing (apt-get install iproute2 tcpreplay)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (namespaces, capture)" >&2; exit 2; }
[ -x "$BIN" ] || { echo "run.sh: no binary at $BIN (cargo build --release --features live)" >&2; exit 2; }

id=$$
NS_CAP=nabench-cap-$id; NS_GEN=nabench-gen-$id; V_CAP=nbc$id; V_GEN=nbg$id
tmp=$(mktemp -d)
cleanup() {
    [ -n "${WPID:-}" ] && kill "$WPID" 2>/dev/null || true
    ip netns del "$NS_CAP" 2>/dev/null || true
    ip netns del "$NS_GEN" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

ip netns add "$NS_CAP"; ip netns add "$NS_GEN"
ip link add "$V_CAP" netns "$NS_CAP" type veth peer name "$V_GEN" netns "$NS_GEN"
ip -n "$NS_CAP" link set "$V_CAP" up; ip -n "$NS_GEN" link set "$V_GEN" up

pkts=$("$BIN" flows "$CAP" -o /dev/null --no-labels 2>&1 | awk '/packets read/ {print $3}')
echo "capture: $CAP ($pkts packets a loop); $(nproc) cores; $(uname -r)"
printf '%10s %10s %10s %10s %10s %9s %8s\n' "rate pps" "sent" "received" "k.dropped" "captured" "drop %" "actual"
first_drop=""
for rate in $RATES; do
    loops=$(( (rate * SECS + pkts - 1) / pkts ))
    extra=(); [ -n "$BUF_MIB" ] && extra=(--buffer-mib "$BUF_MIB")
    ip netns exec "$NS_CAP" "$BIN" watch -i "$V_CAP" --status 0 --no-baseline --alerts /dev/null \
        --report-json "$tmp/r.json" "${extra[@]}" 2> "$tmp/err" &
    WPID=$!
    for _ in $(seq 50); do grep -q "reading" "$tmp/err" 2>/dev/null && break; sleep 0.1; done
    sleep 0.3
    out=$(ip netns exec "$NS_GEN" tcpreplay -q -i "$V_GEN" --pps="$rate" --loop="$loops" "$CAP" 2>&1 || true)
    sleep 1
    kill -INT "$WPID"; wait "$WPID" || true; WPID=""
    sent=$(echo "$out" | awk '/Actual:/ {print $2; exit}')
    actual=$(echo "$out" | awk '/Rated:/ {for (i=1;i<=NF;i++) if ($i ~ /pps/) {print $(i-1); exit}}')
    read -r recv drop frames < <(python3 -c "import json;r=json.load(open('$tmp/r.json'));print(r['kernel_received'],r['kernel_dropped'],r['frames'])")
    pct=$(python3 -c "print(f'{100*$drop/max($recv,1):.2f}')")
    printf '%10s %10s %10s %10s %10s %9s %8s\n' "$rate" "${sent:-?}" "$recv" "$drop" "$frames" "$pct" "${actual:-?}"
    if [ -z "$first_drop" ] && [ "$drop" -gt 0 ]; then first_drop=$rate; fi
done
if [ -n "$first_drop" ]; then
    echo "kernel drops start at about $first_drop packets/s (requested rate; 'actual' is what tcpreplay achieved)"
else
    echo "no kernel drops up to the highest rate tried"
fi
