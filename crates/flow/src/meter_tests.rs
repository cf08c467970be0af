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
