//! One captured frame in, one dissected packet out to the flow table: the per-packet part of the
//! read loop, shared by the offline run ([`run_flows`](crate::run_flows)) and the live pipeline
//! (`netanom watch`), so that both count, dissect and observe packets the same way.

use netanom_capture::MappedInput;
use netanom_wire::{dissect, flowstat, PacketInfo};

use crate::observe::{Observer, SharedObserver};
use crate::report::{link_type_name, RunReport};
use crate::route::{fast_route, key_of, shard_of_addrs, shard_of_pair};
use crate::sharded::Dispatcher;

const SNAPPED: u64 = flowstat::SNAP_L2 | flowstat::SNAP_L3_LEN | flowstat::SNAP_L3_HDR | flowstat::SNAP_L4_HDR;

/// Counts, dissects and shows each frame to the observer before handing it to the flow table.
#[derive(Default)]
pub struct PacketFeed {
    pub(crate) packets: u64,
    captured_bytes: u64,
    wire_bytes: u64,
    snapped: u64,
    /// (link type, packets): a handful of entries, searched linearly from the last one used.
    link_types: Vec<(u32, u64)>,
    skipped: Vec<(&'static str, u64)>,
    info: PacketInfo,
    observer: Option<SharedObserver>,
    /// Packets handed to the flow table so far: the next one's sequence number (`Ending::end_seq`).
    fed: u64,
    /// With `--threads`, the address owners, out of `observer` for the run (see
    /// [`PacketFeed::take_owners`]).
    owners: Option<Observer>,
    /// The mapped file being read, if it is: with `--threads`, its frames go to the shards as
    /// places in the map instead of copies.
    pub(crate) source: Option<MappedInput>,
}

impl PacketFeed {
    /// `observer`: shown every dissected packet first (the per-source aggregates of the rules).
    pub fn new(observer: Option<SharedObserver>) -> PacketFeed {
        PacketFeed { observer, ..PacketFeed::default() }
    }

    /// Frames seen so far (dissected or not).
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Bytes of the frames as captured.
    pub fn captured_bytes(&self) -> u64 {
        self.captured_bytes
    }

    /// Accounts one frame; when it dissects, hands it to `feed` and returns what `feed` returned
    /// (true: stop reading, the output went away).
    #[inline]
    pub fn packet(
        &mut self,
        ts_ns: u64,
        linktype: u32,
        data: &[u8],
        orig_len: u32,
        feed: &mut dyn FnMut(u64, &PacketInfo) -> bool,
    ) -> bool {
        self.packets += 1;
        self.captured_bytes += data.len() as u64;
        self.wire_bytes += orig_len as u64;
        self.count_link_type(linktype);
        match dissect(linktype, data, orig_len, &mut self.info) {
            Ok(()) => {
                if self.info.flow_stat & SNAPPED != 0 {
                    self.snapped += 1;
                }
                let seq = self.fed;
                self.fed += 1;
                if let Some(o) = &self.observer {
                    if Observer::wants(&self.info) {
                        // A poisoned lock only means another thread panicked; keep going.
                        let mut o = o.lock().unwrap_or_else(|e| e.into_inner());
                        o.packet_at(seq, ts_ns, &mut self.info);
                    }
                }
                feed(ts_ns, &self.info)
            }
            Err(why) => {
                self.count_skip(why.as_str());
                false
            }
        }
    }

    /// With `--threads`: accounts one frame and hands it, undissected where possible, to the
    /// shard of its address pair (see the `sharded` module).
    #[inline]
    pub(crate) fn route(&mut self, ts_ns: u64, linktype: u32, data: &[u8], orig_len: u32, d: &mut Dispatcher) {
        self.packets += 1;
        self.captured_bytes += data.len() as u64;
        self.wire_bytes += orig_len as u64;
        self.count_link_type(linktype);
        let map = d.shard_map();
        let (shard, conflict) = match fast_route(linktype, data) {
            Some(r) => {
                let mut conflict = false;
                if let (Some(o), false) = (&mut self.owners, r.v6) {
                    if r.src_ip[..3] == r.dst_ip[..3] {
                        let (s, t) = (
                            [r.src_ip[0], r.src_ip[1], r.src_ip[2], r.src_ip[3]],
                            [r.dst_ip[0], r.dst_ip[1], r.dst_ip[2], r.dst_ip[3]],
                        );
                        conflict = o.owners_ipv4(s, t, &r.src_mac, &r.dst_mac);
                    }
                }
                (shard_of_addrs(&r.src_ip, &r.dst_ip, &map), conflict)
            }
            None => match dissect(linktype, data, orig_len, &mut self.info) {
                Ok(()) => {
                    if let Some(o) = &mut self.owners {
                        if Observer::wants(&self.info) {
                            o.owners_packet(&mut self.info);
                        }
                    }
                    let (a, b) = key_of(&self.info);
                    (shard_of_pair(a, b, &map), self.info.mac_ip_conflict)
                }
                Err(why) => {
                    self.count_skip(why.as_str());
                    return;
                }
            },
        };
        self.fed += 1;
        d.push(ts_ns, linktype, data, orig_len, shard, conflict, self.source.as_ref());
    }

    /// Takes the address owners out of the shared observer for a `--threads` run, in which the
    /// reading thread ([`PacketFeed::route`]) is their only user: an uncontended lock per packet
    /// was still a cost on the thread that every packet waits for.
    pub(crate) fn take_owners(&mut self) {
        if let Some(o) = &self.observer {
            self.owners = Some(o.lock().unwrap_or_else(|e| e.into_inner()).take_owners());
        }
    }

    /// Puts back what [`PacketFeed::take_owners`] took.
    pub(crate) fn put_owners(&mut self) {
        if let (Some(o), Some(owners)) = (&self.observer, self.owners.take()) {
            o.lock().unwrap_or_else(|e| e.into_inner()).put_owners(owners);
        }
    }

    /// Frames flagged as snapped that were dissected elsewhere (by the shards).
    pub(crate) fn add_snapped(&mut self, n: u64) {
        self.snapped += n;
    }

    /// Writes the packet totals (packets, bytes, link types, skipped) into `report`.
    pub fn fill_report(&self, report: &mut RunReport) {
        report.packets = self.packets;
        report.captured_bytes = self.captured_bytes;
        report.wire_bytes = self.wire_bytes;
        report.packets_snapped = self.snapped;
        report.link_types = self.link_types.iter().map(|&(lt, n)| (link_type_name(lt), n)).collect();
        for (reason, n) in &self.skipped {
            *report.skipped.entry(reason.to_string()).or_default() += n;
        }
    }

    #[inline]
    fn count_link_type(&mut self, lt: u32) {
        if let Some(last) = self.link_types.last_mut() {
            if last.0 == lt {
                last.1 += 1;
                return;
            }
        }
        match self.link_types.iter().position(|&(l, _)| l == lt) {
            Some(i) => {
                self.link_types[i].1 += 1;
                // Keep the one in use last, so the common case is one comparison.
                let n = self.link_types.len();
                self.link_types.swap(i, n - 1);
            }
            None => self.link_types.push((lt, 1)),
        }
    }

    fn count_skip(&mut self, why: &'static str) {
        match self.skipped.iter_mut().find(|(w, _)| *w == why) {
            Some((_, n)) => *n += 1,
            None => self.skipped.push((why, 1)),
        }
    }
}
