#!/usr/bin/env bash
# install-deps.sh - install (Debian/Ubuntu, apt) every tool lab/make-sample.sh
# needs. Non-interactive and idempotent: packages already present are left
# alone, and a second run installs nothing.
#
#   sudo lab/install-deps.sh [--with-tshark] [--no-update]
#
# Installing server packages (nginx, openssh-server, chrony, ...) normally
# starts their daemons on the host. This script prevents that: while apt runs,
# /usr/sbin/policy-rc.d answers 101 ("action not allowed") to every service
# start, and afterwards the services of packages this run newly installed are
# stopped and disabled. make-sample.sh starts its own copies of the servers,
# with their own configuration, inside network namespaces only.
#
# chrony: Debian's chrony package conflicts with other time daemons (e.g.
# systemd-timesyncd) and installing it would remove them. When that would
# happen, this script does not install the package; it unpacks only the
# chronyd binary from the .deb into /usr/local/lib/netanom-lab/ (plus chrony's
# shared-library dependencies, which conflict with nothing), where
# make-sample.sh finds it. The host's time daemon stays as it is.
set -euo pipefail

WITH_TSHARK=0
DO_UPDATE=1
for a in "$@"; do
    case "$a" in
        --with-tshark) WITH_TSHARK=1 ;;   # only for inspecting captures; make-sample.sh does not need it
        --no-update) DO_UPDATE=0 ;;
        -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "install-deps.sh: unknown option: $a" >&2; exit 2 ;;
    esac
done

die() { echo "install-deps.sh: $*" >&2; exit 1; }
log() { echo "install-deps.sh: $*" >&2; }

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get install). Try: sudo $0 $*"
command -v apt-get >/dev/null && command -v dpkg-query >/dev/null \
    || die "needs a Debian-based system with apt-get"

export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_MODE=a NEEDRESTART_SUSPEND=1   # Ubuntu's needrestart: never prompt, never restart
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

LIBDIR=/usr/local/lib/netanom-lab

# package : tool(s) make-sample.sh checks for / uses
PKGS=(
    iproute2          # ip, ss
    tcpdump           # capture
    ethtool           # offloads off on the veths
    nmap              # scans
    hping3            # SYN floods, land attack, fragmented ICMP
    dsniff            # arpspoof
    arping            # gratuitous ARP (Thomas Habets' arping: -U -P -S -B)
    nginx             # http/https server
    dnsmasq-base      # dns server (the binary only; the "dnsmasq" package would add a system service)
    openssh-server    # sshd
    openssh-client    # ssh, ssh-keygen
    openssl           # certificates, seeded pseudo-random payloads
    curl              # http(s) client
    dnsutils          # dig
    netcat-openbsd    # nc
    socat             # echo server
    iputils-ping      # ping
    procps            # sysctl
    python3           # SNTP client
    jq                # truth file
    coreutils         # timeout
    util-linux        # flock
    mawk              # awk
)
[[ $WITH_TSHARK -eq 1 ]] && PKGS+=(tshark)

installed() { [[ $(dpkg-query -W -f '${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }

missing=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done
need_chrony=0
installed chrony || [[ -x $LIBDIR/chronyd ]] || need_chrony=1

if [[ ${#missing[@]} -eq 0 && $need_chrony -eq 0 ]]; then
    log "all packages already installed"
    exit 0
fi

# ---- keep daemons from starting while apt runs -------------------------------
POLICY=/usr/sbin/policy-rc.d
POLICY_BAK=""
restore_policy() {
    if [[ -n $POLICY_BAK ]]; then
        mv -f "$POLICY_BAK" "$POLICY"
    else
        rm -f "$POLICY"
    fi
}
if [[ -e $POLICY ]]; then
    POLICY_BAK=$(mktemp /usr/sbin/.policy-rc.d.netanom-lab.XXXXXX)
    cp -p "$POLICY" "$POLICY_BAK"
fi
trap restore_policy EXIT
printf '#!/bin/sh\n# installed temporarily by netanom lab/install-deps.sh\nexit 101\n' >"$POLICY"
chmod 755 "$POLICY"

if [[ $DO_UPDATE -eq 1 ]]; then
    log "apt-get update"
    apt-get -q update
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing: ${missing[*]}"
    # --no-remove: never take anything away from the host
    apt-get "${APT_OPTS[@]}" --no-remove install "${missing[@]}"
fi

# ---- chrony -------------------------------------------------------------------
if [[ $need_chrony -eq 1 ]]; then
    if apt-get -s "${APT_OPTS[@]}" --no-remove install chrony >/dev/null 2>&1; then
        log "installing: chrony"
        apt-get "${APT_OPTS[@]}" --no-remove install chrony
        missing+=(chrony)
    else
        # installing the package would remove the host's time daemon: unpack chronyd only
        log "chrony conflicts with an installed time daemon; unpacking chronyd into $LIBDIR instead"
        libs=()
        for l in $(apt-cache depends chrony 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^lib/ { print $2 }' | sort -u); do
            installed "$l" || libs+=("$l")
        done
        if [[ ${#libs[@]} -gt 0 ]]; then
            apt-get "${APT_OPTS[@]}" --no-remove install "${libs[@]}"
        fi
        tmp=$(mktemp -d)
        chmod 755 "$tmp"
        id _apt >/dev/null 2>&1 && chown _apt "$tmp"   # apt downloads as user _apt
        (cd "$tmp" && apt-get -q download chrony >/dev/null)
        dpkg-deb -x "$tmp"/chrony_*.deb "$tmp/root"
        install -d -m 755 "$LIBDIR"
        install -m 755 "$tmp/root/usr/sbin/chronyd" "$LIBDIR/chronyd"
        dpkg-deb -f "$tmp"/chrony_*.deb Version >"$LIBDIR/chronyd.version"
        rm -rf "$tmp"
        "$LIBDIR/chronyd" -v >/dev/null || die "unpacked chronyd does not run"
    fi
fi

# ---- make sure no daemon of a newly installed package runs on the host --------
# (only packages installed by this run: services that were there before are the
# host owner's business)
declare -A SERVICES=([nginx]=nginx [openssh-server]="ssh sshd" [chrony]="chrony chronyd" [dnsmasq-base]="")
for p in "${missing[@]}"; do
    for s in ${SERVICES[$p]:-}; do
        if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
            systemctl stop "$s" >/dev/null 2>&1 || true
            systemctl disable "$s" >/dev/null 2>&1 || true
        fi
        if [[ -x /etc/init.d/$s ]]; then
            /etc/init.d/"$s" stop >/dev/null 2>&1 || true
        fi
    done
done
for bin in nginx sshd chronyd dnsmasq; do
    # a daemon of ours would only run if a service start slipped through
    if pids=$(pgrep -x "$bin" 2>/dev/null); then
        for pid in $pids; do
            # leave alone anything running inside a network namespace (e.g. a running lab)
            [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$(readlink /proc/1/ns/net)" ]] || continue
            log "WARNING: $bin (pid $pid) is running on the host; it was not started by this script"
        done
    fi
done

log "done"
