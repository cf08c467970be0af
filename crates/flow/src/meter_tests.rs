use super::*;

struct Rows(Vec<u16>);

impl FlowSink for Rows {
    fn flow(&mut self, a: &FlowRecord, _b: Option<&FlowRecord>) {
        self.0.push(a.key.src_port);
    }
}

fn udp(sport: u16, ip_id: u32) -> PacketInfo {
    let mut p = PacketInfo { l3: L3::Ipv4, l4_proto: 17, src_port: sport, dst_port: 443, ip_id, ..Default::default() };
    p.src_ip[..4].copy_from_slice(&[10, 0, 0, 1]);
    p.dst_ip[..4].copy_from_slice(&[10, 0, 0, 2]);
    p.l4_present = true;
    p
}

#[test]
fn later_fragment_keeps_the_flow_in_its_lru_place() {
    let mut m = FlowMeter::new(MeterConfig::default());
    let mut rows = Rows(Vec::new());
    let s = 1_000_000_000u64;
    // Flow 1000: a datagram in two fragments, the second after flow 2000's single packet.
    let mut first = udp(1000, 7);
    first.is_fragment = true;
    first.more_fragments = true;
    m.packet(s, &first, &mut rows);
    m.packet(s + 10, &udp(2000, 8), &mut rows);
    let mut second = udp(0, 7);
    second.is_fragment = true;
    second.frag_offset = 1480;
    second.l4_present = false;
    m.packet(s + 20, &second, &mut rows);
    // Long after both expired, the next packet ends them in LRU order: the fragmented one first.
    m.packet(1_000 * s, &udp(3000, 9), &mut rows);
    assert_eq!(rows.0, vec![1000, 2000]);
}

/// Keeps ended conversations by moving them out of the table into recycled records.
#[derive(Default)]
struct Keeper {
    kept: Vec<(FlowRecord, Option<FlowRecord>)>,
    spares: Vec<FlowRecord>,
    /// Per ended conversation: A's source port, packets and bytes, B's packets.
    seen: Vec<(u16, u64, u64, Option<u64>)>,
}

impl FlowSink for Keeper {
    fn flow(&mut self, _a: &FlowRecord, _b: Option<&FlowRecord>) {}
    fn flow_ended_mut(&mut self, a: &mut FlowRecord, b: Option<&mut FlowRecord>, _how: &Ending) {
        let mut take = |r: &mut FlowRecord| {
            let mut spare = self.spares.pop().unwrap_or_default();
            r.move_out(&mut spare);
            spare
        };
        let kept = (take(a), b.map(take));
        let (a, b) = (&kept.0, kept.1.as_ref());
        self.seen.push((a.key.src_port, a.stats.pkts, a.stats.l7_bytes, b.map(|b| b.stats.pkts)));
        self.kept.push(kept);
    }
}

#[test]
fn records_moved_out_at_their_end_leave_the_table_working() {
    let s = 1_000_000_000u64;
    let run = |recycle: bool| {
        let mut m = FlowMeter::new(MeterConfig { max_flows: 4, ..MeterConfig::default() });
        let mut k = Keeper::default();
        for round in 0..6u64 {
            for port in 0..5u16 {
                let mut p = udp(1000 + port, (round * 5 + port as u64) as u32);
                p.l7_len = 10 * (port as u32 + 1);
                m.packet(round * 300 * s + port as u64, &p, &mut k);
                // The peer answers some of them.
                if port % 2 == 0 {
                    let mut r = p.clone();
                    std::mem::swap(&mut r.src_ip, &mut r.dst_ip);
                    std::mem::swap(&mut r.src_port, &mut r.dst_port);
                    m.packet(round * 300 * s + port as u64 + 1, &r, &mut k);
                }
            }
            if recycle {
                // Old records come back as spares, carrying stale contents.
                let old: Vec<_> = k.kept.drain(..).collect();
                for (a, b) in old {
                    k.spares.push(a);
                    k.spares.extend(b);
                }
            }
        }
        m.finish(&mut k);
        (k.seen, m.counters().clone())
    };
    let (fresh, recycled) = (run(false), run(true));
    assert_eq!(fresh.0.len(), 30, "every conversation of the six rounds ends once");
    assert!(fresh.0.iter().all(|&(port, pkts, bytes, b)| pkts == 1
        && bytes == 10 * (port as u64 - 999)
        && b.is_some() == (port % 2 == 0)));
    assert_eq!(fresh.0, recycled.0);
    assert_eq!((fresh.1.evicted, fresh.1.flows_a, fresh.1.flows_b), (18, 30, 18));
    assert_eq!((recycled.1.evicted, recycled.1.flows_a, recycled.1.flows_b), (18, 30, 18));
}

#[test]
fn moving_the_clock_without_expiring_matches_expire() {
    let s = 1_000_000_000u64;
    // Two tables see the same times; one is told them through `advance_clock` where nothing ends.
    let (mut a, mut b) = (FlowMeter::new(MeterConfig::default()), FlowMeter::new(MeterConfig::default()));
    let (mut ra, mut rb) = (Rows(Vec::new()), Rows(Vec::new()));
    for m in [&mut a, &mut b] {
        m.packet(s, &udp(1000, 1), &mut Rows(Vec::new()));
    }
    assert!(!b.would_expire(100 * s), "the idle timeout is 182 s");
    assert!(b.would_expire(200 * s));
    for t in [50 * s, 150 * s, 120 * s] {
        a.expire(t, &mut ra);
        assert!(!b.would_expire(t));
        b.advance_clock(t);
    }
    // A packet that goes back in time is stamped with the clock (150 s) in both tables.
    a.packet(100 * s, &udp(2000, 2), &mut ra);
    b.packet(100 * s, &udp(2000, 2), &mut rb);
    for t in [183 * s, 320 * s, 333 * s] {
        assert_eq!(a.would_expire(t), b.would_expire(t));
        a.expire(t, &mut ra);
        b.expire(t, &mut rb);
        assert_eq!(ra.0, rb.0, "at {t}");
        if t == 320 * s {
            assert_eq!(ra.0, vec![1000], "2000 runs from the clock, not from its own 100 s");
        }
    }
    // 1000 timed out at 183 s; 2000 (last seen at clock 150 s) after 332 s.
    assert_eq!(ra.0, vec![1000, 2000]);
}

#[test]
fn flushing_in_parts_ends_the_flows_in_the_order_of_one_flush() {
    let (mut a, mut b) = (FlowMeter::new(MeterConfig::default()), FlowMeter::new(MeterConfig::default()));
    for m in [&mut a, &mut b] {
        for (i, port) in [5000u16, 4000, 7000, 1000, 3000, 6000, 2000].into_iter().enumerate() {
            m.packet(i as u64 * 1000, &udp(port, i as u32), &mut Rows(Vec::new()));
        }
        // Active again: it ends last.
        m.packet(10_000, &udp(4000, 9), &mut Rows(Vec::new()));
    }
    let mut whole = Rows(Vec::new());
    a.finish(&mut whole);
    assert_eq!(whole.0, vec![5000, 7000, 1000, 3000, 6000, 2000, 4000]);
    let mut parts = Rows(Vec::new());
    let mut unfinished = 0;
    while !b.finish_some(3, &mut parts) {
        unfinished += 1;
        assert_eq!(parts.0.len(), 3 * unfinished);
    }
    assert_eq!((unfinished, parts.0, b.live_flows()), (2, whole.0, 0));
    assert_eq!(b.counters().flushed_at_end, 7);
    // An empty table is done at once, and takes packets again.
    assert!(b.finish_some(3, &mut Rows(Vec::new())));
    b.packet(20_000, &udp(8000, 10), &mut Rows(Vec::new()));
    assert_eq!(b.live_flows(), 1);
}
