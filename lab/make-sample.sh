#!/usr/bin/env bash
# make-sample.sh - build a small virtual LAN in network namespaces, run real
# servers, normal clients and real attack tools inside it, record everything
# on the bridge and write a pcap plus a ground-truth JSON file.
#
#   sudo lab/make-sample.sh [--out DIR] [--duration-scale X] [--rounds N] [--seed N]
#
# All traffic stays inside namespaces this script creates (prefix "nalab-").
# Nothing touches the host's interfaces: the bridge lives in its own
# namespace and no namespace has a route anywhere but 10.77.0.0/24.
# See lab/README.md for details.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$SCRIPT_DIR/.." && pwd)

# ----------------------------------------------------------------- options --
OUT_DIR="$REPO_DIR/samples"
SCALE=1
ROUNDS=1
SEED=7734
KEEP_WORK=0

usage() {
    cat <<EOF
usage: $0 [options]

Builds the netanom lab LAN (network namespaces + veth + bridge), runs normal
clients and attack tools, and writes:
  DIR/lab.pcap         capture of the bridge (every frame once)
  DIR/lab.truth.json   ground truth (addresses, spoofed ranges, attack phases)
  DIR/README.md        description of this capture (generated)

options:
  --out DIR             output directory (default: $REPO_DIR/samples)
  --duration-scale X    scale normal-traffic periods, gaps, flood sizes and
                        ARP-poisoning time by X (default 1 = bundled sample,
                        ~2 minutes, < 3 MB). Range 0.25..50.
  --rounds N            repeat the whole attack sequence N times (default 1)
  --seed N              seed for client behaviour, payloads and spoofed
                        addresses (default 7734)
  --keep-work           keep the temporary work directory (logs) for debugging
  -h, --help            this help
EOF
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --out) OUT_DIR=${2:?--out needs a directory}; shift 2 ;;
        --out=*) OUT_DIR=${1#*=}; shift ;;
        --duration-scale) SCALE=${2:?--duration-scale needs a number}; shift 2 ;;
        --duration-scale=*) SCALE=${1#*=}; shift ;;
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
        --rounds=*) ROUNDS=${1#*=}; shift ;;
        --seed) SEED=${2:?--seed needs a number}; shift 2 ;;
        --seed=*) SEED=${1#*=}; shift ;;
        --keep-work) KEEP_WORK=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "make-sample.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done

die() { echo "make-sample.sh: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ $(id -u) -ne 0 ]]; then
    die "must run as root: it creates network namespaces, veth pairs and a bridge,
and runs raw-socket tools (nmap, hping3, arpspoof, tcpdump). Try: sudo $0 $*"
fi

[[ $SEED =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer"
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 100 ]] || die "--rounds must be 1..100"
awk -v s="$SCALE" 'BEGIN { exit !(s ~ /^[0-9]*\.?[0-9]+$/ && s >= 0.25 && s <= 50) }' \
    || die "--duration-scale must be a number in 0.25..50"

# scaled seconds / counts (integers, at least $2)
sc() { awk -v v="$1" -v s="$SCALE" -v m="${2:-1}" 'BEGIN { x = int(v * s + 0.5); if (x < m) x = m; print x }'; }

# install-deps.sh unpacks chronyd here when the chrony package would replace
# the host's time daemon
LAB_LIBDIR=/usr/local/lib/netanom-lab
CHRONYD=$(command -v chronyd || true)
[[ -z $CHRONYD && -x $LAB_LIBDIR/chronyd ]] && CHRONYD=$LAB_LIBDIR/chronyd
need=(ip ss tcpdump ethtool nmap hping3 arpspoof arping nginx dnsmasq /usr/sbin/sshd ssh
      ssh-keygen openssl curl dig nc socat ping sysctl python3 jq timeout flock awk)
missing=()
for t in "${need[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
[[ -n $CHRONYD ]] || missing+=(chronyd)
[[ ${#missing[@]} -eq 0 ]] || die "missing tools: ${missing[*]} - run lab/install-deps.sh first"

mkdir -p "$OUT_DIR"
OUT_DIR=$(cd "$OUT_DIR" && pwd)

# One run at a time on this machine (the namespace names are fixed).
exec 9>/run/netanom-lab.lock
flock -n 9 || die "another make-sample.sh run holds /run/netanom-lab.lock"

# ------------------------------------------------------------ fixed layout --
P=nalab
NS_SW=$P-switch
NS_SRV=$P-server
NS_C1=$P-client1
NS_C2=$P-client2
NS_ATK=$P-attacker
ALL_NS=("$NS_SRV" "$NS_C1" "$NS_C2" "$NS_ATK" "$NS_SW")

SUBNET=10.77.0.0/24
IP_SRV=10.77.0.10;  MAC_SRV=02:77:00:00:00:10
IP_C1=10.77.0.21;   MAC_C1=02:77:00:00:00:21
IP_C2=10.77.0.22;   MAC_C2=02:77:00:00:00:22
IP_ATK=10.77.0.66;  MAC_ATK=02:77:00:00:00:66
MAC_BR=02:77:00:00:00:fe          # bridge device, has no IP, sends nothing
SPOOF_NET=198.51.100.0/24          # TEST-NET-2, used by the spoofed-range flood
DOMAIN=lab.internal

# seeded RNG for everything the script itself decides
RANDOM=$SEED

# ----------------------------------------------------------------- cleanup --
WORK=""
BG_PIDS=()

teardown_namespaces() {
    local ns pids
    for ns in "${ALL_NS[@]}"; do
        [[ -e /run/netns/$ns ]] || continue
        pids=$(ip netns pids "$ns" 2>/dev/null || true)
        if [[ -n $pids ]]; then
            kill -TERM $pids 2>/dev/null || true
            for _ in 1 2 3 4 5 6 7 8 9 10; do
                pids=$(ip netns pids "$ns" 2>/dev/null || true)
                [[ -z $pids ]] && break
                sleep 0.3
            done
            [[ -n $pids ]] && kill -KILL $pids 2>/dev/null || true
        fi
        ip netns del "$ns" 2>/dev/null || true
    done
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $WORK && -d $WORK ]] && touch "$WORK/stop" 2>/dev/null || true
    local p
    for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    teardown_namespaces
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ $KEEP_WORK -eq 1 || $rc -ne 0 ]]; then
            log "work directory kept: $WORK"
        else
            rm -rf "$WORK"
        fi
    fi
    exit $rc
}
trap cleanup EXIT
trap 'echo "make-sample.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# stale namespaces from an interrupted run
teardown_namespaces

WORK=$(mktemp -d /tmp/netanom-lab.XXXXXX)
chmod 755 "$WORK"
log "work dir $WORK, scale $SCALE, rounds $ROUNDS, seed $SEED"

# ----------------------------------------------------------------- network --
nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

for ns in "${ALL_NS[@]}"; do
    ip netns add "$ns"
    # IPv6 off before any interface exists: no ND/MLD/RS noise in the capture
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
done

ip -n "$NS_SW" link add br0 address "$MAC_BR" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
ip -n "$NS_SW" link set br0 up

add_host() {  # ns ip mac port-name
    local ns=$1 ip=$2 mac=$3 port=$4
    ip -n "$NS_SW" link add "$port" type veth peer name eth0 netns "$ns"
    ip -n "$ns" link set eth0 address "$mac"
    ip -n "$NS_SW" link set "$port" master br0
    # real-looking frames on the wire: no TSO/GSO super-frames, full checksums
    nsx "$ns" ethtool -K eth0 tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    nsx "$NS_SW" ethtool -K "$port" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$NS_SW" link set "$port" up
    ip -n "$ns" link set eth0 up
}
add_host "$NS_SRV" "$IP_SRV" "$MAC_SRV" sw-server
add_host "$NS_C1"  "$IP_C1"  "$MAC_C1"  sw-client1
add_host "$NS_C2"  "$IP_C2"  "$MAC_C2"  sw-client2
add_host "$NS_ATK" "$IP_ATK" "$MAC_ATK" sw-attacker
nsx "$NS_ATK" sysctl -qw net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0

# ------------------------------------------------------------ server files --
mkdir -p "$WORK"/{www/data,www/img,nginx/tmp,tls,ssh,chrony,logs}
seeded_bytes() {  # n-bytes label -> deterministic pseudo-random bytes on stdout
    { openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$SEED-$2" </dev/zero 2>/dev/null || true; } | head -c "$1"
}
{
    echo "<!doctype html><html><head><title>lab intranet</title></head><body>"
    echo "<h1>lab.internal</h1><p>netanom lab server.</p><ul>"
    for i in $(seq 1 40); do echo "<li><a href=\"/data/report.json\">report $i</a></li>"; done
    echo "</ul><img src=\"/img/logo.bin\"></body></html>"
} >"$WORK/www/index.html"
seeded_bytes 4000 logo >"$WORK/www/img/logo.bin"
{
    printf '{"rows":['
    for i in $(seq 1 120); do printf '{"id":%d,"v":%d},' "$i" $((i * 37 % 101)); done
    printf '{"id":0,"v":0}]}\n'
} >"$WORK/www/data/report.json"
seeded_bytes 24000 big >"$WORK/www/data/archive.bin"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
    -subj "/CN=www.$DOMAIN" -addext "subjectAltName=DNS:www.$DOMAIN,IP:$IP_SRV" \
    -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" >/dev/null 2>&1

cat >"$WORK/nginx/nginx.conf" <<EOF
user root;
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/logs/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log $WORK/logs/nginx-access.log;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    types { text/html html; application/json json; application/octet-stream bin; }
    default_type application/octet-stream;
    keepalive_timeout 5;
    server {
        listen $IP_SRV:80;
        listen $IP_SRV:443 ssl;
        server_name www.$DOMAIN;
        ssl_certificate $WORK/tls/cert.pem;
        ssl_certificate_key $WORK/tls/key.pem;
        root $WORK/www;
        location = /api/status { default_type application/json; return 200 '{"status":"ok"}\n'; }
    }
}
EOF

cat >"$WORK/hosts" <<EOF
$IP_SRV www.$DOMAIN api.$DOMAIN files.$DOMAIN ntp.$DOMAIN ssh.$DOMAIN
$IP_C1 client1.$DOMAIN
$IP_C2 client2.$DOMAIN
EOF

ssh-keygen -q -t ed25519 -N '' -C lab-host -f "$WORK/ssh/host_ed25519"
ssh-keygen -q -t ed25519 -N '' -C lab-client -f "$WORK/ssh/client_ed25519"
cp "$WORK/ssh/client_ed25519.pub" "$WORK/ssh/authorized_keys"
cat >"$WORK/ssh/sshd_config" <<EOF
Port 22
ListenAddress $IP_SRV
HostKey $WORK/ssh/host_ed25519
PidFile $WORK/ssh/sshd.pid
AuthorizedKeysFile $WORK/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitTTY no
X11Forwarding no
AllowTcpForwarding no
ForceCommand /bin/echo lab-ok
PrintMotd no
LogLevel ERROR
EOF
mkdir -p /run/sshd

cat >"$WORK/chrony/chrony.conf" <<EOF
local stratum 8
allow $SUBNET
port 123
cmdport 0
pidfile $WORK/chrony/chronyd.pid
EOF

cat >"$WORK/sntp.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(b"\x23" + 47 * b"\0", (sys.argv[1], 123))  # LI=0 VN=4 mode=3 (client)
try:
    s.recvfrom(512)
except OSError:
    sys.exit(1)
EOF

# ---------------------------------------------------------------- capture --
PCAP_TMP=$WORK/lab.pcap
# (ip netns exec is called directly, not through nsx: "ip netns exec" execs the
# command in place, so $! is tcpdump's own pid and a signal reaches it)
ip netns exec "$NS_SW" tcpdump -i br0 -n -U -Z root -w "$PCAP_TMP" >"$WORK/logs/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
BG_PIDS+=("$TCPDUMP_PID")
for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/logs/tcpdump.log" && break; sleep 0.1; done
grep -q 'listening on' "$WORK/logs/tcpdump.log" || die "tcpdump did not start: $(cat "$WORK/logs/tcpdump.log")"
CAPTURE_START=$(date +%s.%N)
log "capturing on $NS_SW/br0"

# ---------------------------------------------------------------- servers --
bg() {  # ns logname cmd...
    local ns=$1 name=$2; shift 2
    ip netns exec "$ns" "$@" >"$WORK/logs/$name.log" 2>&1 &
    BG_PIDS+=("$!")
}
bg "$NS_SRV" nginx nginx -e "$WORK/logs/nginx-error.log" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
bg "$NS_SRV" dnsmasq dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts --no-poll \
    --bind-interfaces --listen-address="$IP_SRV" --port=53 --local="/$DOMAIN/" --domain="$DOMAIN" \
    --addn-hosts="$WORK/hosts" --txt-record="$DOMAIN,v=lab1" --mx-host="$DOMAIN,www.$DOMAIN,10" \
    --pid-file="$WORK/dnsmasq.pid" --log-facility=- --log-queries
bg "$NS_SRV" sshd /usr/sbin/sshd -D -e -f "$WORK/ssh/sshd_config"
bg "$NS_SRV" chronyd "$CHRONYD" -d -x -u root -f "$WORK/chrony/chrony.conf"
bg "$NS_SRV" echo socat TCP-LISTEN:7,bind="$IP_SRV",reuseaddr,fork PIPE

wait_port() {  # proto port
    local i
    for i in $(seq 1 50); do
        if nsx "$NS_SRV" ss -Hln"${1}" "sport = :$2" | grep -q .; then return 0; fi
        sleep 0.1
    done
    return 1
}
wait_port t 80  || die "nginx did not start: $(cat "$WORK/logs/nginx"*.log)"
wait_port t 443 || die "nginx TLS did not start"
wait_port u 53  || die "dnsmasq did not start: $(cat "$WORK/logs/dnsmasq.log")"
wait_port t 22  || die "sshd did not start: $(cat "$WORK/logs/sshd.log")"
wait_port t 7   || die "echo server did not start"
HAVE_NTP=1
wait_port u 123 || { HAVE_NTP=0; log "WARNING: chronyd did not start, no NTP traffic: $(head -3 "$WORK/logs/chronyd.log")"; }
log "servers up in $NS_SRV (http, https, dns, ssh, echo$([[ $HAVE_NTP = 1 ]] && echo ', ntp'))"

# ----------------------------------------------------------- normal clients --
cat >"$WORK/client.sh" <<'EOF'
#!/usr/bin/env bash
# client.sh WORK SEED SERVER PEER DOMAIN HAVE_NTP MAXITER
WORK=$1; RANDOM=$2; SRV=$3; PEER=$4; DOMAIN=$5; HAVE_NTP=$6; MAXITER=$7
KEY=$WORK/ssh/client_ed25519
names=(www api files ntp ssh client1 client2 printer wiki mail backup)
resolve() { dig +short +time=2 +tries=1 @"$SRV" "$1.$DOMAIN" A | tail -1; }
web() {  # scheme path...
    local scheme=$1; shift
    local ip port=80; [[ $scheme = https ]] && port=443
    ip=$(resolve www); [[ -n $ip ]] || return 0
    local urls=(); for p in "$@"; do urls+=("$scheme://www.$DOMAIN$p"); done
    curl -sk --max-time 5 --resolve "www.$DOMAIN:$port:$ip" -o /dev/null -o /dev/null -o /dev/null "${urls[@]}" || true
}
i=0
while [[ ! -e $WORK/stop && $i -lt $MAXITER ]]; do
    i=$((i + 1))
    r=$((RANDOM % 100))
    if   (( r < 20 )); then web http / /img/logo.bin
    elif (( r < 28 )); then web http /api/status
    elif (( r < 44 )); then web https / /data/report.json
    elif (( r < 46 )); then web https /data/archive.bin
    elif (( r < 64 )); then dig +time=2 +tries=1 @"$SRV" "${names[RANDOM % ${#names[@]}]}.$DOMAIN" A >/dev/null || true
    elif (( r < 68 )); then dig +time=2 +tries=1 @"$SRV" "$DOMAIN" MX >/dev/null || true
    elif (( r < 76 )); then ping -n -q -c 2 -i 0.3 -W 1 "$SRV" >/dev/null || true
    elif (( r < 80 )); then ping -n -q -c 1 -W 1 "$PEER" >/dev/null || true
    elif (( r < 85 )); then
        timeout 8 ssh -F /dev/null -i "$KEY" -o IdentitiesOnly=yes -o BatchMode=yes \
            -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=4 \
            -o LogLevel=ERROR "root@$SRV" true >/dev/null 2>&1 || true
    elif (( r < 93 )); then printf 'hello %d from %s\n' "$i" "$HOSTNAME" | timeout 3 nc -N -w 2 "$SRV" 7 >/dev/null 2>&1 || true
    else [[ $HAVE_NTP = 1 ]] && { timeout 3 python3 "$WORK/sntp.py" "$SRV" || true; }
    fi
    sleep "0.$((3 + RANDOM % 7))$((RANDOM % 10))"
done
EOF
chmod +x "$WORK/client.sh"

# Background chatter of the same two hosts: the small, frequent exchanges an
# OS and its applications make on their own (name lookups incl. NXDOMAIN, AAAA
# and PTR, NTP polls, single pings). Each is its own short flow, so normal
# flows clearly outnumber the attack's (one scan or flood is hundreds of
# flows) while adding few bytes.
cat >"$WORK/chatter.sh" <<'EOF'
#!/usr/bin/env bash
# chatter.sh WORK SEED SERVER PEER DOMAIN HAVE_NTP MAXITER
WORK=$1; RANDOM=$2; SRV=$3; PEER=$4; DOMAIN=$5; HAVE_NTP=$6; MAXITER=$7
names=(www api files ntp ssh client1 client2 printer wiki mail backup intranet git cups)
hosts=(10 21 22)
q() { dig +time=2 +tries=1 @"$SRV" "$@" >/dev/null 2>&1 || true; }
i=0
while [[ ! -e $WORK/stop && $i -lt $MAXITER ]]; do
    i=$((i + 1))
    r=$((RANDOM % 100))
    if   (( r < 52 )); then q "${names[RANDOM % ${#names[@]}]}.$DOMAIN" A
    elif (( r < 64 )); then q "${names[RANDOM % 5]}.$DOMAIN" AAAA
    elif (( r < 76 )); then q -x "10.77.0.${hosts[RANDOM % ${#hosts[@]}]}"
    elif (( r < 80 )); then q "$DOMAIN" TXT
    elif (( r < 89 )); then
        if [[ $HAVE_NTP = 1 ]]; then timeout 3 python3 "$WORK/sntp.py" "$SRV" || true
        else q "ntp.$DOMAIN" A; fi
    elif (( r < 96 )); then ping -n -q -c 1 -W 1 "$SRV" >/dev/null || true
    else ping -n -q -c 1 -W 1 "$PEER" >/dev/null || true
    fi
    sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
done
EOF

WARMUP=$(sc 20 5)
GAP=$(sc 3 2)
COOLDOWN=$(sc 15 5)
POISON_SECS=$(sc 8 4)
FLOOD_N=$(sc 300 100)
SPOOF_N=$(sc 15 5)

# Upper bounds for the client loops (wall time and iterations): safety nets
# only; the loops normally end when $WORK/stop appears after the cool-down.
# (18 phases; an iteration sleeps >= 0.3 s in client.sh, >= 0.1 s in chatter.sh)
CLIENT_MAXSECS=$(( (WARMUP + COOLDOWN + ROUNDS * (18 * GAP + 90 + POISON_SECS)) * 2 + 120 ))
CLIENT_MAXITER=$(( CLIENT_MAXSECS * 4 ))
CHATTER_MAXITER=$(( CLIENT_MAXSECS * 10 ))
bg "$NS_C1" client1 timeout "$CLIENT_MAXSECS" bash "$WORK/client.sh" "$WORK" $((SEED * 10 + 1)) "$IP_SRV" "$IP_C2" "$DOMAIN" "$HAVE_NTP" "$CLIENT_MAXITER"
bg "$NS_C1" chatter1 timeout "$CLIENT_MAXSECS" bash "$WORK/chatter.sh" "$WORK" $((SEED * 10 + 3)) "$IP_SRV" "$IP_C2" "$DOMAIN" "$HAVE_NTP" "$CHATTER_MAXITER"
sleep 0.37
bg "$NS_C2" client2 timeout "$CLIENT_MAXSECS" bash "$WORK/client.sh" "$WORK" $((SEED * 10 + 2)) "$IP_SRV" "$IP_C1" "$DOMAIN" "$HAVE_NTP" "$CLIENT_MAXITER"
bg "$NS_C2" chatter2 timeout "$CLIENT_MAXSECS" bash "$WORK/chatter.sh" "$WORK" $((SEED * 10 + 4)) "$IP_SRV" "$IP_C1" "$DOMAIN" "$HAVE_NTP" "$CHATTER_MAXITER"
log "normal clients running; warm-up ${WARMUP}s"
sleep "$WARMUP"

# ----------------------------------------------------------------- attacks --
PHASES_JSONL=$WORK/phases.jsonl
: >"$PHASES_JSONL"
PHASE_NO=0

# readable shell quoting for the recorded command lines
shell_join() {
    local a out=""
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:,=+@%-]+$ ]]; then out+="$a "
        else out+="'${a//\'/\'\\\'\'}' "; fi
    done
    printf '%s' "${out% }"
}

# phase NAME CATEGORY DESCRIPTION -- command...   (run in the attacker namespace)
phase() {
    local name=$1 category=$2 desc=$3; shift 4
    local cmdline start end rc=0
    PHASE_NO=$((PHASE_NO + 1))
    cmdline=$(shell_join "$@")
    log "phase $PHASE_NO: $name"
    start=$(date +%s.%N)
    # (run from $WORK so that recorded command lines name its files relatively)
    (cd "$WORK" && nsx "$NS_ATK" "$@") >>"$WORK/logs/attack-$name.log" 2>&1 || rc=$?
    cmd_end=$(date +%s.%N)
    settle
    end=$(date +%s.%N)
    jq -cn --argjson n "$PHASE_NO" --arg name "$name" --arg cat "$category" --arg desc "$desc" \
        --arg cmd "$cmdline" --argjson t0 "$start" --argjson t1 "$end" --argjson tc "$cmd_end" --argjson rc "$rc" \
        --argjson round "$ROUND" \
        '{n:$n, round:$round, name:$name, category:$cat, description:$desc, "start":$t0, "end":$t1, command_end:$tc, command:$cmd, exit_code:$rc}' \
        >>"$PHASES_JSONL"
    sleep "$GAP"
}

# After a phase's tool exits, its effects can outlast it: the attacker kernel
# keeps ARP-resolving addresses a sweep touched, and after ARP poisoning the
# victims keep sending to the attacker MAC until they re-resolve. Wait (at most
# 15 s) until neither is the case, so that these frames fall inside the phase
# window ([start, end]; the tool's own exit time is command_end).
settle() {
    local i ns
    for i in $(seq 1 75); do
        local busy=0
        [[ -n $(ip -n "$NS_ATK" neigh show nud incomplete 2>/dev/null) ]] && busy=1
        for ns in "$NS_SRV" "$NS_C1" "$NS_C2"; do
            ip -n "$ns" neigh show 2>/dev/null | grep -v "^$IP_ATK " | grep -qi "lladdr $MAC_ATK" && busy=1
        done
        [[ $busy = 0 ]] && return 0
        sleep 0.2
    done
    log "WARNING: phase effects did not settle within 15 s"
}

# seeded spoofed sources for the fixed-range flood
SPOOF_HOSTS=()
while [[ ${#SPOOF_HOSTS[@]} -lt 8 ]]; do
    h="198.51.100.$((1 + RANDOM % 254))"
    [[ " ${SPOOF_HOSTS[*]} " == *" $h "* ]] || SPOOF_HOSTS+=("$h")
done
seeded_bytes 400 garbage443 >"$WORK/garbage443.bin"
seeded_bytes 120 garbage53 >"$WORK/garbage53.bin"

spoof_cmd="for a in ${SPOOF_HOSTS[*]}; do hping3 -I eth0 -q -S -p 443 -a \$a -c $SPOOF_N -i u2000 $IP_SRV & done; wait"

for ROUND in $(seq 1 "$ROUNDS"); do
    phase ping_sweep_arp recon "nmap ARP ping sweep of the /24" -- \
        nmap -sn -n -T4 "$SUBNET"
    phase ping_sweep_icmp recon "nmap ICMP echo sweep (raw IP, no ARP ping) of the /24" -- \
        nmap -sn -n -T4 -PE --send-ip --max-retries 1 "$SUBNET"
    phase syn_scan portscan "nmap SYN scan, top 100 ports" -- \
        nmap -sS -n -T4 -Pn --max-retries 1 --top-ports 100 "$IP_SRV"
    phase connect_scan portscan "nmap TCP connect scan, top 60 ports" -- \
        nmap -sT -n -T4 -Pn --max-retries 1 --top-ports 60 "$IP_SRV"
    phase null_scan portscan "nmap NULL scan (no TCP flags), top 40 ports" -- \
        nmap -sN -n -T4 -Pn --max-retries 1 --top-ports 40 "$IP_SRV"
    phase fin_scan portscan "nmap FIN scan, top 40 ports" -- \
        nmap -sF -n -T4 -Pn --max-retries 1 --top-ports 40 "$IP_SRV"
    phase xmas_scan portscan "nmap Xmas scan (FIN+PSH+URG), top 40 ports" -- \
        nmap -sX -n -T4 -Pn --max-retries 1 --top-ports 40 "$IP_SRV"
    phase udp_scan portscan "nmap UDP scan of a few ports" -- \
        nmap -sU -n -T4 -Pn --max-retries 1 -p 7,53,67,69,123,161,500,514,1900,5353 "$IP_SRV"
    phase syn_flood_random_src dos "hping3 SYN flood to :80 with random (spoofed) IPv4 sources, bounded count" -- \
        timeout 60 hping3 -I eth0 -q -S -p 80 --rand-source -c "$FLOOD_N" -i u400 "$IP_SRV"
    phase syn_flood_spoofed_range dos "hping3 SYN flood to :443 from 8 spoofed sources in $SPOOF_NET" -- \
        timeout 60 sh -c "$spoof_cmd"
    phase land_attack dos "hping3 land attack: SYN with src=dst=$IP_SRV, sport=dport=80" -- \
        timeout 20 hping3 -I eth0 -q -S -a "$IP_SRV" -s 80 -k -p 80 -c 5 -i u200000 "$IP_SRV"
    phase oversized_icmp dos "hping3 oversized ICMP echo (4000-byte payload, fragmented by hping3 at MTU 1480)" -- \
        timeout 20 hping3 -I eth0 -q -1 -d 4000 -m 1480 -c 3 -i u300000 "$IP_SRV"
    phase big_ping dos "ping with 30000-byte payload (kernel-fragmented echo + fragmented replies)" -- \
        timeout 20 ping -n -q -c 2 -i 0.5 -s 30000 "$IP_SRV"
    nsx "$NS_ATK" sysctl -qw net.ipv4.ip_forward=1
    phase arp_poison mitm "arpspoof: poison client1<->server both ways for ${POISON_SECS}s (attacker forwards = MITM), then restore" -- \
        timeout -s INT -k 15 "$POISON_SECS" arpspoof -i eth0 -t "$IP_C1" -r "$IP_SRV"
    nsx "$NS_ATK" sysctl -qw net.ipv4.ip_forward=0
    phase gratuitous_arp mitm "arping: 3 gratuitous (unsolicited, broadcast) ARP replies claiming $IP_SRV is at the attacker MAC" -- \
        timeout 20 arping -q -i eth0 -U -P -S "$IP_SRV" -c 3 "$IP_SRV"
    phase non_tls_on_443 protocol "plain HTTP and random garbage sent over TCP to the TLS port 443" -- \
        timeout 20 sh -c "printf 'GET / HTTP/1.1\\r\\nHost: www.$DOMAIN\\r\\n\\r\\n' | nc -w 2 $IP_SRV 443; nc -w 2 $IP_SRV 443 < garbage443.bin"
    phase non_dns_on_53 protocol "non-DNS payloads to UDP/53 and TCP/53 (random bytes, an HTTP request)" -- \
        timeout 20 sh -c "nc -u -w 1 $IP_SRV 53 < garbage53.bin; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -u -w 1 $IP_SRV 53; printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 $IP_SRV 53"
    phase ssh_bruteforce bruteforce "12 rapid SSH logins with wrong users (no key accepted)" -- \
        timeout 60 sh -c "for u in admin test oracle guest user pi ubuntu postgres git ftp support backup; do ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=3 -o LogLevel=ERROR \$u@$IP_SRV true; done"
done

log "attacks done; cool-down ${COOLDOWN}s"
sleep "$COOLDOWN"

# ------------------------------------------------------------------ finish --
touch "$WORK/stop"
sleep 3
CAPTURE_END=$(date +%s.%N)
kill -TERM "$TCPDUMP_PID" 2>/dev/null || true
wait "$TCPDUMP_PID" 2>/dev/null || true
log "capture stopped: $(tail -3 "$WORK/logs/tcpdump.log" | tr '\n' ' ')"

# ---------------------------------------------------------- count & truth --
# Every packet that has the attacker's MAC as Ethernet source or destination is
# attack traffic (spoofed-source packets are sent by the attacker, and the
# poisoned client/server frames are addressed to it). Count them per phase
# window [start, end + 1 s] with tcpdump -r.
tcpdump -r "$PCAP_TMP" -n -tt 2>/dev/null | awk '{print $1}' >"$WORK/all.ts"
tcpdump -r "$PCAP_TMP" -n -tt "ether host $MAC_ATK" 2>/dev/null | awk '{print $1}' >"$WORK/atk.ts"
count_in() { awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b { n++ } END { print n + 0 }' "$1"; }

TOTAL=$(wc -l <"$WORK/all.ts")
ATK_TOTAL=$(wc -l <"$WORK/atk.ts")
: >"$WORK/phases-counted.jsonl"
while IFS= read -r line; do
    s=$(jq -r .start <<<"$line"); e=$(jq -r .end <<<"$line")
    e1=$(awk -v e="$e" 'BEGIN { printf "%.6f", e + 1 }')
    pa=$(count_in "$WORK/atk.ts" "$s" "$e1")
    pt=$(count_in "$WORK/all.ts" "$s" "$e1")
    jq -c --argjson pa "$pa" --argjson pt "$pt" '. + {attacker_mac_packets:$pa, packets_in_window:$pt}' <<<"$line" >>"$WORK/phases-counted.jsonl"
done <"$PHASES_JSONL"

ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo unknown; }
TOOLS_JSON=$(jq -n \
    --arg kernel "$(uname -r)" \
    --arg nmap "$(nmap --version | awk 'NR==1{print $3}')" \
    --arg hping3 "$(ver hping3)" \
    --arg dsniff "$(ver dsniff)" \
    --arg arping "$(ver arping)" \
    --arg tcpdump "$(tcpdump --version 2>&1 | awk 'NR==1{print $3}')" \
    --arg libpcap "$(tcpdump --version 2>&1 | awk '/libpcap/{print $3}')" \
    --arg nginx "$(nginx -v 2>&1 | sed 's/.*nginx\///')" \
    --arg dnsmasq "$(dnsmasq --version | awk 'NR==1{print $3}')" \
    --arg openssh "$(ver openssh-server)" \
    --arg openssl "$(openssl version | awk '{print $2}')" \
    --arg chrony "$("$CHRONYD" -v 2>/dev/null | awk '{print $4}')" \
    --arg curl "$(curl --version | awk 'NR==1{print $2}')" \
    --arg dig "$(dig -v 2>&1 | awk '{print $2}')" \
    --arg netcat "$(ver netcat-openbsd)" \
    --arg socat "$(ver socat)" \
    --arg iproute2 "$(ver iproute2)" \
    '$ARGS.named')

ATK_FIRST=$(jq -s 'map(.start) | min' "$WORK/phases-counted.jsonl")
ATK_LAST=$(jq -s 'map(.end) | max' "$WORK/phases-counted.jsonl")
jq -n \
    --slurpfile phases "$WORK/phases-counted.jsonl" \
    --argjson tools "$TOOLS_JSON" \
    --argjson seed "$SEED" --argjson scale "$SCALE" --argjson rounds "$ROUNDS" \
    --argjson cap_start "$CAPTURE_START" --argjson cap_end "$CAPTURE_END" \
    --argjson total "$TOTAL" --argjson atk_total "$ATK_TOTAL" \
    --argjson atk_first "$ATK_FIRST" --argjson atk_last "$ATK_LAST" \
    --arg subnet "$SUBNET" --arg domain "$DOMAIN" \
    --arg ip_srv "$IP_SRV" --arg mac_srv "$MAC_SRV" \
    --arg ip_c1 "$IP_C1" --arg mac_c1 "$MAC_C1" --arg ip_c2 "$IP_C2" --arg mac_c2 "$MAC_C2" \
    --arg ip_atk "$IP_ATK" --arg mac_atk "$MAC_ATK" --arg mac_br "$MAC_BR" \
    --arg spoof_net "$SPOOF_NET" --arg spoof_hosts "${SPOOF_HOSTS[*]}" \
    --arg have_ntp "$HAVE_NTP" '
{
  format: "netanom-lab-truth/1",
  generator: "lab/make-sample.sh",
  parameters: {seed: $seed, duration_scale: $scale, rounds: $rounds},
  capture: {
    file: "lab.pcap", linktype: "EN10MB", interface: "br0 (bridge in namespace nalab-switch)",
    "start": $cap_start, "end": $cap_end, packets: $total
  },
  network: {subnet: $subnet, domain: $domain, bridge_mac: $mac_br, ipv6: false},
  attacker: {name: "attacker", ipv4: $ip_atk, mac: $mac_atk},
  victims: [{name: "server", ipv4: $ip_srv, mac: $mac_srv,
             services: (["tcp/22 ssh (OpenSSH)", "tcp/80 http (nginx)", "tcp/443 https (nginx, self-signed)",
                         "udp+tcp/53 dns (dnsmasq)", "tcp/7 echo (socat)"]
                        + (if $have_ntp == "1" then ["udp/123 ntp (chronyd)"] else [] end))},
            {name: "client1", ipv4: $ip_c1, mac: $mac_c1, note: "ARP-poisoned in phase arp_poison"}],
  clients: [{name: "client1", ipv4: $ip_c1, mac: $mac_c1},
            {name: "client2", ipv4: $ip_c2, mac: $mac_c2}],
  spoofed_sources: [
    {phase: "syn_flood_random_src", range: "0.0.0.0/0", how: "hping3 --rand-source (uniformly random IPv4, not seedable)"},
    {phase: "syn_flood_spoofed_range", range: $spoof_net, hosts: ($spoof_hosts | split(" ")), how: "hping3 -a <host>"},
    {phase: "land_attack", range: ($ip_srv + "/32"), how: "hping3 -a victim (source = destination)"}
  ],
  labeling: {
    rule: "a frame is attack traffic iff its Ethernet source or destination is the attacker MAC",
    notes: ["spoofed-source packets carry the attacker MAC as Ethernet source",
            "during arp_poison, client1<->server frames are sent to the attacker MAC and forwarded by it (duplicates on the wire)",
            "phase windows are [start, end]; responses may trail end by up to ~1 s; counts use [start, end+1]",
            "command_end is when the tool exited; end is later when its effects lasted longer: the attacker kernel still resolving swept addresses, or hosts still sending to the attacker MAC after ARP poisoning until they re-resolve",
            "gratuitous_arp re-points the server entry in every host ARP cache to the attacker MAC; the attacker does not forward then (ip_forward is off again), so client frames to the server are dropped until the clients re-resolve it (part of the phase window)",
            "the victim has no route off 10.77.0.0/24, so spoofed SYNs get no SYN-ACK backscatter"]
  },
  attack_window: {"start": $atk_first, "end": $atk_last},
  counts: {packets: $total, attacker_mac_packets: $atk_total, other_packets: ($total - $atk_total)},
  phases: $phases,
  tool_versions: $tools
}' >"$WORK/lab.truth.json"

# ------------------------------------------------------------------ check --
# Verify the capture against the truth file (phase signatures, counts) and get
# its flow composition for the README. A failed check keeps the old outputs.
CHECK_ARGS=()
[[ $SCALE = 1 && $ROUNDS = 1 ]] || CHECK_ARGS=(--lenient)
if ! python3 "$SCRIPT_DIR/check-sample.py" "${CHECK_ARGS[@]}" "$PCAP_TMP" "$WORK/lab.truth.json" >"$WORK/check.txt" 2>&1; then
    grep -E '^(FAIL|WARN)' "$WORK/check.txt" >&2 || tail -5 "$WORK/check.txt" >&2
    die "lab/check-sample.py failed (full report: $WORK/check.txt); $OUT_DIR left unchanged"
fi
grep -E '^WARN' "$WORK/check.txt" >&2 || true
FLOW_SUMMARY=$(awk '/^flows: /{on=1} on{print} /^normal flows by service/{exit}' "$WORK/check.txt")

# --------------------------------------------------------------- README.md --
PCAP_BYTES=$(stat -c %s "$PCAP_TMP")
{
cat <<EOF
# netanom lab sample capture

Generated by \`lab/make-sample.sh\` (seed $SEED, duration scale $SCALE, rounds $ROUNDS)
on $(date -u -d "@${CAPTURE_START%.*}" '+%Y-%m-%d %H:%M UTC'). Regenerate with:

    sudo lab/install-deps.sh            # once per machine
    sudo lab/make-sample.sh             # writes samples/lab.pcap, lab.truth.json, README.md

The capture is reproducible in shape (same hosts, addresses, MACs, phases and
roughly the same packet counts), not bit for bit: timestamps, TCP sequence
numbers, nmap's port order, TLS keys and hping3's random sources differ.

## Files

| file | what |
| --- | --- |
| \`lab.pcap\` | pcap (Ethernet, snaplen 262144), $TOTAL packets, $PCAP_BYTES bytes |
| \`lab.truth.json\` | ground truth: addresses, MACs, spoofed ranges, attack phases with epoch start/end, command lines, packet counts, tool versions |

## Topology

All hosts are Linux network namespaces joined by veth pairs to one bridge
\`br0\`, which lives in its own namespace (\`nalab-switch\`), so nothing touches the
host's interfaces. IPv6 is disabled, there is no default route anywhere.

| host | namespace | IPv4 | MAC | role |
| --- | --- | --- | --- | --- |
| server | nalab-server | $IP_SRV | $MAC_SRV | nginx http :80 and https :443 (self-signed), dnsmasq :53 (zone $DOMAIN), OpenSSH :22, socat echo :7, chronyd NTP :123 |
| client1 | nalab-client1 | $IP_C1 | $MAC_C1 | normal client |
| client2 | nalab-client2 | $IP_C2 | $MAC_C2 | normal client |
| attacker | nalab-attacker | $IP_ATK | $MAC_ATK | runs the attack tools |
| (bridge) | nalab-switch | - | $MAC_BR | br0, capture point, sends nothing |

The capture is taken with \`tcpdump -i br0\` in the switch namespace. In
promiscuous mode the bridge device passes every frame it forwards up to the
capture, so each frame appears exactly once (capturing every veth would
record each frame twice, once on the ingress port and once on the egress port).
Offloads (TSO/GSO/GRO, checksum) are switched off on all veths, so frames are
at most 1514 bytes and carry real checksums.

Normal traffic runs for the whole capture. Each client runs two seeded loops:
a "user" loop (0.3-1.0 s pauses) of DNS lookups with dig followed by curl over
HTTP and HTTPS (keep-alive, 1-2 objects), DNS-only lookups (some NXDOMAIN, MX),
ping to the server and to the other client, SSH logins with a key (the server
forces \`echo lab-ok\`), a TCP echo exchange with nc and SNTP queries; and a
"background" loop (0-0.3 s pauses) of the small exchanges an OS makes on its
own: A/AAAA/PTR/TXT lookups, SNTP polls and single pings. Each of those is a
short flow of its own, so normal flows outnumber the attack's flows even
though a scan or a flood is hundreds of flows; see the flow summary below.

## Attack phases

Phases run one after another from the attacker after a ${WARMUP} s warm-up, with
${GAP} s gaps, followed by a ${COOLDOWN} s cool-down. Counts are frames to or from
the attacker MAC within [start, end + 1 s] and all frames in that window.

| # | phase | category | start (epoch) | duration s | attacker frames | all frames | command |
| --- | --- | --- | --- | --- | --- | --- | --- |
EOF
jq -r '"| \(.n) | \(.name) | \(.category) | \(.start * 1000 | floor / 1000) | \((.end - .start) * 100 | floor / 100) | \(.attacker_mac_packets) | \(.packets_in_window) | `\(.command | gsub("\\|"; "\\|"))` |"' "$WORK/phases-counted.jsonl"
cat <<EOF

Totals: $TOTAL frames, $ATK_TOTAL with the attacker MAC, $((TOTAL - ATK_TOTAL)) others.

## Flow composition

As counted by \`lab/check-sample.py\` (which also checks every phase's
signature in the capture): a flow is a bidirectional 5-tuple (ICMP echo: its
identifier; non-IP: the MAC pair), attack when any of its frames has the
attacker MAC, and then counted for the phase in whose window its first such
frame falls (a client flow that was running when the poisoning began counts
for that phase).
A phase window lasts until the phase's effects have settled (see
\`command_end\` vs \`end\` in the truth file), so the clients' frames sent to
the attacker MAC after ARP poisoning count with the poisoning phase.

\`\`\`
$FLOW_SUMMARY
\`\`\`

Spoofed sources: \`syn_flood_random_src\` uses \`hping3 --rand-source\` (any IPv4
address); \`syn_flood_spoofed_range\` uses ${SPOOF_HOSTS[*]} (in $SPOOF_NET);
\`land_attack\` uses the victim's own address. Every spoofed frame still has the
attacker MAC as Ethernet source, which is the labelling rule in the truth file.

## Tool versions

| tool | version |
| --- | --- |
EOF
jq -r 'to_entries[] | "| \(.key) | \(.value) |"' <<<"$TOOLS_JSON"
} >"$WORK/README.md"

# atomically-ish replace the outputs
for f in lab.pcap lab.truth.json README.md; do
    cp "$WORK/$f" "$OUT_DIR/.$f.tmp"
    mv -f "$OUT_DIR/.$f.tmp" "$OUT_DIR/$f"
done
log "wrote $OUT_DIR/lab.pcap ($PCAP_BYTES bytes, $TOTAL packets, $ATK_TOTAL attacker), lab.truth.json, README.md"
if [[ $SCALE = 1 && $ROUNDS = 1 && $PCAP_BYTES -gt 3145728 ]]; then
    log "WARNING: default-scale capture is larger than 3 MB"
fi
