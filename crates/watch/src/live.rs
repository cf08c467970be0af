//! Live capture through libpcap (cargo feature `live`): BPF filter, snap length, promiscuous
//! mode, and the kernel's drop counters.

use crate::source::{wall_ns, Frame, Next, PacketSource, SourceError, SourceStats, POLL};

/// How a live capture is opened.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub interface: String,
    /// A BPF filter expression (tcpdump's syntax), if any.
    pub filter: Option<String>,
    pub snaplen: i32,
    pub promisc: bool,
    /// The kernel's capture buffer in bytes (libpcap's default is 2 MiB).
    pub buffer_bytes: Option<i32>,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions { interface: String::new(), filter: None, snaplen: 65535, promisc: true, buffer_bytes: None }
    }
}

/// An interface being captured.
pub struct LiveSource {
    /// Non-blocking, waited on with poll(2): a blocking read with a timeout can block for good in
    /// libpcap's immediate mode on a quiet link, and the clock must move on.
    cap: pcap::Capture<pcap::Active>,
    /// The last read returned a packet: read again before waiting.
    maybe_more: bool,
    buf: Vec<u8>,
    name: String,
    linktype: u32,
    frames: u64,
    stats: SourceStats,
}

fn permission_hint(iface: &str, msg: &str) -> String {
    let exe = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "netanom".into());
    format!(
        "cannot capture on '{iface}': {msg}\n  capturing needs root or the CAP_NET_RAW capability (and CAP_NET_ADMIN for \
         promiscuous mode): run with sudo, or once: sudo setcap cap_net_raw,cap_net_admin=eip {exe}"
    )
}

impl LiveSource {
    pub fn open(o: &LiveOptions) -> Result<LiveSource, SourceError> {
        let iface = o.interface.as_str();
        let err = |m: String| SourceError::Live(m);
        // Say which interfaces exist rather than libpcap's bare "No such device".
        if let Ok(devs) = pcap::Device::list() {
            if !devs.iter().any(|d| d.name == iface) {
                let names: Vec<_> = devs.iter().map(|d| d.name.as_str()).filter(|n| !n.contains("nflog")).collect();
                return Err(err(format!(
                    "interface '{iface}' not found (this machine has: {}); pick one with -i",
                    names.join(", ")
                )));
            }
        }
        let mut inactive = pcap::Capture::from_device(iface)
            .map_err(|e| err(format!("cannot capture on '{iface}': {e}")))?
            .promisc(o.promisc)
            .snaplen(o.snaplen)
            .timeout(POLL.as_millis() as i32)
            // Hand each packet over at once rather than when the kernel's block fills.
            .immediate_mode(true);
        if let Some(b) = o.buffer_bytes {
            inactive = inactive.buffer_size(b);
        }
        let mut cap = inactive.open().map_err(|e| {
            let m = e.to_string();
            if m.contains("ermission") || m.contains("not permitted") {
                err(permission_hint(iface, &m))
            } else {
                err(format!("cannot capture on '{iface}': {m}"))
            }
        })?;
        if let Some(f) = &o.filter {
            cap.filter(f, true).map_err(|e| err(format!("bad --filter '{f}': {e} (tcpdump's filter syntax)")))?;
        }
        let linktype = cap.get_datalink().0 as u32;
        let cap = cap.setnonblock().map_err(|e| err(format!("cannot capture on '{iface}': {e}")))?;
        Ok(LiveSource {
            cap,
            maybe_more: false,
            buf: Vec::with_capacity(65536),
            name: iface.to_string(),
            linktype,
            frames: 0,
            stats: SourceStats::default(),
        })
    }

    fn refresh_stats(&mut self) {
        if let Ok(s) = self.cap.stats() {
            self.stats.kernel_received = Some(s.received as u64);
            self.stats.kernel_dropped = Some(s.dropped as u64);
            self.stats.if_dropped = Some(s.if_dropped as u64);
        }
    }
}

impl PacketSource for LiveSource {
    fn next(&mut self) -> Result<Next<'_>, SourceError> {
        if !self.maybe_more {
            use std::os::unix::io::AsRawFd;
            let mut fd = libc::pollfd { fd: self.cap.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd; an interrupted or failed poll only means "read and see".
            unsafe { libc::poll(&mut fd, 1, POLL.as_millis() as libc::c_int) };
        }
        let got = match self.cap.next_packet() {
            Ok(p) => {
                self.buf.clear();
                self.buf.extend_from_slice(p.data);
                let ts = p.header.ts;
                Some(((ts.tv_sec as u64).saturating_mul(1_000_000_000) + (ts.tv_usec as u64) * 1000, p.header.len))
            }
            Err(pcap::Error::TimeoutExpired) | Err(pcap::Error::NoMorePackets) => None,
            Err(e) => return Err(SourceError::Live(format!("capture on '{}' failed: {e}", self.name))),
        };
        self.maybe_more = got.is_some();
        match got {
            Some((ts_ns, len)) => {
                self.frames += 1;
                Ok(Next::Frame(Frame { ts_ns, linktype: self.linktype, data: &self.buf, orig_len: len }))
            }
            None => Ok(Next::Idle),
        }
    }

    fn now_ns(&self) -> u64 {
        wall_ns()
    }

    fn stats(&mut self) -> SourceStats {
        self.refresh_stats();
        SourceStats { frames: self.frames, ..self.stats }
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}
