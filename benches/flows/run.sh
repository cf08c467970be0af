#!/usr/bin/env bash
# Whole-process flow-meter benchmark: netanom against argus, tshark and NFStream on one capture,
# side by side in one run. See benches/flows/README.md.
#
#   benches/flows/run.sh [CAPTURE]        (default $BENCH_DIR/bench-2m.pcap, built if missing)
#
# Environment:
#   NETANOM      netanom binary (default <repo>/target/release/netanom)
#   RUNS         runs per tool, median reported (default 3)
#   TOOLS        space-separated subset of: floor netanom netanom-t2 argus tshark nfstream
#                nfstream-nodpi tranalyzer (default: all)
#   BENCH_DIR    scratch directory (default /tmp/netanom-bench); results.tsv and results.md go there
#   NFSTREAM_VENV  venv holding nfstream (default $BENCH_DIR/venv; see install-tools.sh)
#   RUN_TIMEOUT  seconds before one run is killed (default 1800)
#   ARGUS_FILTER BPF filter given to argus (default drops the malformed ARP that crashes argus 3.0.8)
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/netanom-bench}
CAPTURE=${1:-$BENCH_DIR/bench-2m.pcap}
RUNS=${RUNS:-3}
NETANOM=${NETANOM:-$REPO/target/release/netanom}
VENV=${NFSTREAM_VENV:-$BENCH_DIR/venv}
RUN_TIMEOUT=${RUN_TIMEOUT:-1800}
ARGUS_FILTER=${ARGUS_FILTER:-not (arp and (arp[4] != 6 or arp[5] != 4))}
TOOLS=${TOOLS:-floor netanom netanom-t2 argus tshark nfstream nfstream-nodpi tranalyzer}
PY=${PYTHON:-python3}

mkdir -p "$BENCH_DIR"
WORK=$(mktemp -d "$BENCH_DIR/run.XXXXXX")
RESULTS=$BENCH_DIR/results.tsv
log() { echo "run.sh: $*" >&2; }
want() { case " $TOOLS " in *" $1 "*) return 0;; *) return 1;; esac; }

if [ ! -x /usr/bin/time ]; then
  log "/usr/bin/time missing (apt-get install time, or benches/flows/install-tools.sh)"; exit 2
fi
if [ ! -e "$CAPTURE" ]; then
  if [ "$CAPTURE" = "$BENCH_DIR/bench-2m.pcap" ]; then
    log "building $CAPTURE"
    "$PY" "$HERE/make-capture.py" -o "$CAPTURE" || exit 2
  else
    log "no capture at $CAPTURE"; exit 2
  fi
fi
CAPTURE=$(cd "$(dirname "$CAPTURE")" && pwd)/$(basename "$CAPTURE")

# ---------------------------------------------------------------- capture facts (also warms the page cache)
PACKETS=""
if command -v capinfos >/dev/null 2>&1; then
  PACKETS=$(capinfos -M -c "$CAPTURE" 2>/dev/null | awk -F': *' '/Number of packets/ {print $2}')
fi
if [ -z "$PACKETS" ]; then
  PACKETS=$(tcpdump -nr "$CAPTURE" 2>/dev/null | wc -l)
fi
SIZE=$(stat -c %s "$CAPTURE")
cat "$CAPTURE" >/dev/null  # every tool then reads it from the page cache

# ---------------------------------------------------------------- the contenders
# NAMES[i], CMDS[i] (run by bash -c, timed), COUNT[i] (run once after, prints the flow count)
NAMES=(); CMDS=(); COUNT=(); NA=()
add() { NAMES+=("$1"); CMDS+=("$2"); COUNT+=("${3:-}"); }
na() { NA+=("$1	$2"); }
q() { printf %q "$1"; }
C=$(q "$CAPTURE"); W=$(q "$WORK")

if want floor; then
  if command -v tcpdump >/dev/null 2>&1; then
    add "read floor (tcpdump -r -w /dev/null)" "exec tcpdump -r $C -w /dev/null 2>/dev/null"
  else na "read floor (tcpdump)" "tcpdump not installed"; fi
fi

BASE=""
if want netanom || want netanom-t2; then
  if [ -x "$NETANOM" ] && "$NETANOM" flows --help >/dev/null 2>&1 &&
     "$NETANOM" flows --help 2>&1 | grep -q -- '-o'; then
    N=$(q "$NETANOM")
    if want netanom; then
      add "netanom" "exec $N flows $C -o /dev/null"; BASE="netanom"
    fi
    if want netanom-t2; then
      if "$NETANOM" flows --help 2>&1 | grep -q -- '--threads'; then
        add "netanom --threads 2" "exec $N flows $C -o /dev/null --threads 2"
        [ -z "$BASE" ] && BASE="netanom --threads 2"
      else na "netanom --threads 2" "binary has no --threads option"; fi
    fi
  else
    na "netanom" "no working 'netanom flows … -o' at $NETANOM (cargo build --release -p netanom, or set NETANOM)"
  fi
fi

if want argus; then
  if command -v argus >/dev/null 2>&1 && command -v ra >/dev/null 2>&1; then
    # argus appends to an existing output file: start from none each run.
    # argus 3.0.8 aborts (heap corruption) on ARP packets with a hardware address length
    # other than 6 (the capture has some, from the fuzz traces): a BPF filter leaves those out.
    add "argus 3.0.8 (-w file)" "rm -f $W/argus.out; exec argus -r $C -w $W/argus.out - $(q "$ARGUS_FILTER")" \
        "ra -n -r $W/argus.out 2>/dev/null | wc -l"
  else na "argus" "argus/ra not installed (apt: argus-server, argus-client)"; fi
fi

if want tshark; then
  if command -v tshark >/dev/null 2>&1; then
    add "tshark -z conv,tcp" "exec tshark -q -z conv,tcp -r $C > $W/tshark.out 2>/dev/null" \
        "grep -c '<->' $W/tshark.out"
  else na "tshark" "not installed (apt: tshark)"; fi
fi

for v in nfstream nfstream-nodpi; do
  want $v || continue
  if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import nfstream' 2>/dev/null; then
    ver=$("$VENV/bin/python" -c 'import nfstream; print(nfstream.__version__)' 2>/dev/null)
    if [ $v = nfstream ]; then
      add "nfstream $ver" "exec $(q "$VENV/bin/python") $(q "$HERE/nfstream_count.py") $C > $W/nfstream.out" \
          "cat $W/nfstream.out"
    else
      add "nfstream $ver n_dissections=0" \
          "exec $(q "$VENV/bin/python") $(q "$HERE/nfstream_count.py") $C --no-dpi > $W/nfstream-nodpi.out" \
          "cat $W/nfstream-nodpi.out"
    fi
  else na "$v" "no nfstream in $VENV (pip install nfstream failed or install-tools.sh not run)"; fi
done

if want tranalyzer; then
  if command -v tranalyzer >/dev/null 2>&1; then
    add "tranalyzer2" "rm -rf $W/t2; mkdir -p $W/t2; exec tranalyzer -r $C -w $W/t2/ >/dev/null 2>&1" \
        "cat $W/t2/*flows.txt 2>/dev/null | grep -vc '^%'"
  else na "Tranalyzer2" "not packaged for Debian or PyPI, and no way to fetch its source here"; fi
fi

# ---------------------------------------------------------------- runs, interleaved (run r of every tool, then r+1)
printf 'tool\trun\twall_s\tuser_s\tsys_s\tmax_rss_kib\texit\tpackets\tcapture\n' > "$RESULTS"
declare -A FAILED=()
log "capture $CAPTURE: $PACKETS packets, $SIZE bytes; $RUNS run(s) of ${#NAMES[@]} tool(s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= RUNS; r++)); do
  for i in "${!NAMES[@]}"; do
    name=${NAMES[$i]}
    [ -n "${FAILED[$name]:-}" ] && continue
    tf=$WORK/time.$i.$r
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$tf" timeout "$RUN_TIMEOUT" bash -c "${CMDS[$i]}" 2>"$WORK/stderr.$i.$r" </dev/null
    rc=$?
    t1=$(date +%s.%N)
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    user=$(awk -F': ' '/User time/ {print $2}' "$tf")
    sys=$(awk -F': ' '/System time/ {print $2}' "$tf")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
    printf '%s\t%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n' "$name" "$r" "$wall" "${user:-}" "${sys:-}" "${rss:-}" "$rc" \
      "$PACKETS" "$CAPTURE" >> "$RESULTS"
    log "$name run $r: ${wall}s, rss ${rss:-?} KiB, exit $rc"
    if [ "$rc" != 0 ]; then
      FAILED[$name]="exit $rc$( [ "$rc" = 124 ] && echo ", timeout ${RUN_TIMEOUT}s"): $(tail -c 300 "$WORK/stderr.$i.$r" | tr '\n\t' '  ')"
    fi
  done
done

# ---------------------------------------------------------------- flow counts (output of the last run)
FLOWS=$WORK/flows.tsv; : > "$FLOWS"
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]}
  [ -n "${FAILED[$name]:-}" ] && continue
  [ -n "${COUNT[$i]}" ] || continue
  printf '%s\t%s\n' "$name" "$(bash -c "${COUNT[$i]}" 2>/dev/null | tail -1)" >> "$FLOWS"
done
NAFILE=$WORK/na.tsv; : > "$NAFILE"
for x in "${NA[@]}"; do printf '%s\n' "$x" >> "$NAFILE"; done
for k in "${!FAILED[@]}"; do printf '%s\tfailed (%s)\n' "$k" "${FAILED[$k]}" >> "$NAFILE"; done

# ---------------------------------------------------------------- table
ORDER=$WORK/order.txt; printf '%s\n' "${NAMES[@]}" > "$ORDER"
BASE="$BASE" PACKETS="$PACKETS" SIZE="$SIZE" CAPTURE="$CAPTURE" "$PY" - "$RESULTS" "$FLOWS" "$NAFILE" "$ORDER" \
  <<'EOF' | tee "$BENCH_DIR/results.md"
import os, statistics, sys
results, flows, nafile, order = sys.argv[1:5]
rows = {}
for line in open(results).read().splitlines()[1:]:
    tool, run, wall, user, sys_, rss, rc = line.split("\t")[:7]
    rows.setdefault(tool, []).append((float(wall), float(user or 0) + float(sys_ or 0), int(rss or 0), int(rc)))
fl = dict(l.split("\t", 1) for l in open(flows).read().splitlines() if "\t" in l)
na = [l.split("\t", 1) for l in open(nafile).read().splitlines() if "\t" in l]
failed = {n for n, why in na if why.startswith("failed")}
names = [n for n in open(order).read().splitlines() if n]
packets = int(os.environ["PACKETS"] or 0)
med = {n: statistics.median(w for w, _, _, rc in rows[n]) for n in names if n in rows and n not in failed}
base = os.environ.get("BASE") or ""
note = ""
if base not in med:
    base = next((n for n in med if n.startswith("read floor")), "")
    note = ("\n**netanom did not run**: ratios are against the read floor (`%s`) instead; "
            "rerun with a netanom binary for the real comparison.\n" % base) if base else ""
print("Capture: `%s`, %d packets, %.1f MiB. Medians of %d run(s); ratio = tool's median time / %s's "
      "(above 1: slower than it). Peak RSS: the largest over the runs (for several processes, "
      "the largest one).\n" % (os.environ["CAPTURE"], packets, int(os.environ["SIZE"]) / 2**20,
                               max((len(v) for v in rows.values()), default=0), base or "?"))
print("| tool | median s | Mpps | ratio vs %s | peak RSS MiB | CPU s (user+sys) | flows/records |" % (base or "?"))
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for n in names:
    if n not in med:
        continue
    m = med[n]
    cpu = statistics.median(c for _, c, _, _ in rows[n])
    rss = max(r for _, _, r, _ in rows[n]) / 1024
    ratio = "%.2f" % (m / med[base]) if base in med and med[base] > 0 else "-"
    mpps = "%.2f" % (packets / m / 1e6) if m > 0 else "-"
    print("| %s | %.2f | %s | %s | %.0f | %.2f | %s |" % (n, m, mpps, ratio, rss, cpu, fl.get(n, "-")))
for n, why in na:
    print("| %s | %s | | | | | |" % (n, why if why.startswith("failed") else "not available (%s)" % why))
print(note)
EOF
log "raw numbers: $RESULTS; table: $BENCH_DIR/results.md; tool outputs: $WORK"
