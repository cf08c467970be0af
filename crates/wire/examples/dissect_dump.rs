//! Dev tool: dissect every packet of a pcap/pcapng file and print one line per packet.
//!
//! `cargo run -p netanom-wire --example dissect_dump -- [--linktypes] FILE...`
//!
//! Columns (tab-separated): file, index, ts_ns, linktype, caplen, origlen, status, hdrDesc, ethType,
//! vlans, srcMac, dstMac, srcIP, srcPort, dstIP, dstPort, l4Proto, l7_len, pad_len, flowStat,
//! ip_id, frag_offset, mf, icmp type/code, tcp flags.

use netanom_wire::{dissect, PacketInfo, L3};
use pcap_parser::{create_reader, Block, PcapBlockOwned, PcapError};
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

fn mac(m: &[u8; 6]) -> String {
    format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5])
}

fn ip(l3: L3, a: &[u8; 16]) -> String {
    match l3 {
        L3::None => "-".into(),
        L3::Ipv4 => Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string(),
        L3::Ipv6 => Ipv6Addr::from(*a).to_string(),
    }
}

struct Iface {
    linktype: u32,
    resol: u64,
    offset: i64,
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let linktypes_only = args.first().map(|a| a == "--linktypes").unwrap_or(false);
    if linktypes_only {
        args.remove(0);
    }
    // `--hex N`: also print packet N's bytes
    let mut hex_idx: Option<u64> = None;
    if args.first().map(|a| a == "--hex").unwrap_or(false) {
        hex_idx = args.get(1).and_then(|v| v.parse().ok());
        args.drain(..2.min(args.len()));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut info = PacketInfo::default();
    let mut line = String::with_capacity(512);
    for path in &args {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let mut reader = match create_reader(1 << 20, file) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{path}: not a capture: {e:?}");
                continue;
            }
        };
        let mut ifaces: Vec<Iface> = Vec::new();
        let mut legacy_lt = 0u32;
        let mut legacy_ns = false;
        let mut idx = 0u64;
        let mut stalls = 0u32;
        let mut lts = std::collections::BTreeMap::<u32, u64>::new();
        loop {
            match reader.next() {
                Ok((offset, block)) => {
                    stalls = 0;
                    let mut pkt: Option<(u32, u64, &[u8], u32)> = None;
                    match block {
                        PcapBlockOwned::LegacyHeader(h) => {
                            legacy_lt = h.network.0 as u32;
                            legacy_ns = h.is_nanosecond_precision();
                        }
                        PcapBlockOwned::Legacy(b) => {
                            let frac = if legacy_ns { b.ts_usec as u64 } else { b.ts_usec as u64 * 1000 };
                            let n = (b.caplen as usize).min(b.data.len());
                            pkt = Some((legacy_lt, b.ts_sec as u64 * 1_000_000_000 + frac, &b.data[..n], b.origlen));
                        }
                        PcapBlockOwned::NG(Block::SectionHeader(_)) => ifaces.clear(),
                        PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => ifaces.push(Iface {
                            linktype: idb.linktype.0 as u32,
                            resol: idb.ts_resolution().unwrap_or(1_000_000),
                            offset: idb.ts_offset(),
                        }),
                        PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                            if let Some(i) = ifaces.get(epb.if_id as usize) {
                                let (s, f) = epb.decode_ts(i.offset.max(0) as u64, i.resol);
                                let ns = if i.resol == 0 { 0 } else { f as u64 * 1_000_000_000 / i.resol };
                                let n = (epb.caplen as usize).min(epb.data.len());
                                pkt = Some((i.linktype, s as u64 * 1_000_000_000 + ns, &epb.data[..n], epb.origlen));
                            }
                        }
                        PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                            if let Some(i) = ifaces.first() {
                                let n = (spb.origlen as usize).min(spb.data.len());
                                pkt = Some((i.linktype, 0, &spb.data[..n], spb.origlen));
                            }
                        }
                        _ => {}
                    }
                    if let Some((lt, ts, data, orig)) = pkt {
                        idx += 1;
                        if linktypes_only {
                            *lts.entry(lt).or_default() += 1;
                        } else {
                            line.clear();
                            let _ = write!(line, "{path}\t{idx}\t{ts}\t{lt}\t{}\t{orig}\t", data.len());
                            match dissect(lt, data, orig, &mut info) {
                                Err(r) => {
                                    let _ = write!(line, "skip:{r:?}");
                                }
                                Ok(()) => {
                                    let vl: Vec<String> =
                                        info.vlans[..info.n_vlans as usize].iter().map(|v| v.to_string()).collect();
                                    let _ = write!(
                                        line,
                                        "ok\t{}\t0x{:04x}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t0x{:016x}\t{}\t{}\t{}\t{}/{}\t0x{:02x}",
                                        info.hdr,
                                        info.eth_type,
                                        vl.join(";"),
                                        if info.has_mac { mac(&info.src_mac) } else { "-".into() },
                                        if info.has_mac { mac(&info.dst_mac) } else { "-".into() },
                                        ip(info.l3, &info.src_ip),
                                        info.src_port,
                                        ip(info.l3, &info.dst_ip),
                                        info.dst_port,
                                        info.l4_proto,
                                        info.l7_len,
                                        info.pad_len,
                                        info.flow_stat,
                                        info.ip_id,
                                        info.frag_offset,
                                        info.more_fragments as u8,
                                        info.icmp_type,
                                        info.icmp_code,
                                        info.tcp_flags,
                                    );
                                }
                            }
                            line.push('\n');
                            if hex_idx.map_or(true, |h| h == idx) {
                                let _ = out.write_all(line.as_bytes());
                            }
                            if hex_idx == Some(idx) {
                                for (n, chunk) in data.chunks(16).enumerate() {
                                    let hx: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
                                    let _ = writeln!(out, "{:04x}  {}", n * 16, hx.join(" "));
                                }
                            }
                        }
                    }
                    reader.consume(offset);
                }
                Err(PcapError::Eof) => break,
                Err(PcapError::Incomplete(_)) => {
                    stalls += 1;
                    if stalls > 2 || reader.refill().is_err() {
                        eprintln!("{path}: truncated after packet {idx}");
                        break;
                    }
                    continue;
                }
                Err(e) => {
                    eprintln!("{path}: read error after packet {idx}: {e:?}");
                    break;
                }
            }
        }
        if linktypes_only {
            let s: Vec<String> = lts.iter().map(|(k, v)| format!("{k}:{v}")).collect();
            let _ = writeln!(out, "{path}\t{}", s.join(","));
        }
    }
}
