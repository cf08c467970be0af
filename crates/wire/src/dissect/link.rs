//! Link layers: the capture's link type, Ethernet, VLAN, MPLS, PPPoE, PPP, LLC/SNAP, ARP and the
//! other layer-2 protocols that make pure layer-2 flows.

use super::{linktype as lt, Dissector};
use crate::hdrdesc::Proto;
use crate::info::{flowstat as fs, SkipReason};
use crate::wire::ethernet::ethertype as et;
use crate::wire::llc::sap;
use crate::wire::ppp::{proto as pppp, PppHeader};
use crate::wire::{self, ArpPacket, EthernetFrame, LlcHeader, MplsLabel, PppoeHeader, Sll2Header, SllHeader, VlanTag};

impl Dissector<'_, '_> {
    pub(super) fn link(&mut self, linktype: u32) -> Result<(), SkipReason> {
        match linktype {
            lt::ETHERNET => {
                if self.f.len() < EthernetFrame::<&[u8]>::HEADER_LEN {
                    return Err(SkipReason::TooShortForLinkLayer);
                }
                self.ethernet(0);
            }
            lt::NULL | lt::LOOP => {
                let fam = wire::null::family(self.f).map_err(|_| SkipReason::TooShortForLinkLayer)?;
                self.push(Proto::Null);
                self.stat(fs::NO_ETH);
                match fam {
                    wire::null::Family::Ipv4 => self.ipv4(4),
                    wire::null::Family::Ipv6 => self.ipv6(4),
                    wire::null::Family::Other(_) => self.ip_by_version(4),
                }
            }
            lt::RAW | lt::DLT_RAW_12 | lt::DLT_RAW_14 => {
                if self.f.is_empty() {
                    return Err(SkipReason::TooShortForLinkLayer);
                }
                self.push(Proto::Raw);
                self.stat(fs::NO_ETH);
                self.ip_by_version(0);
            }
            lt::IPV4 | lt::IPV6 => {
                if self.f.is_empty() {
                    return Err(SkipReason::TooShortForLinkLayer);
                }
                // Tranalyzer2 prints these link types with an empty name (`:ipv4:tcp`).
                self.push(Proto::Empty);
                self.stat(fs::NO_ETH);
                if linktype == lt::IPV4 {
                    self.ipv4(0)
                } else {
                    self.ipv6(0)
                }
            }
            lt::LINUX_SLL => {
                let sll = SllHeader::new_checked(self.f).map_err(|_| SkipReason::TooShortForLinkLayer)?;
                self.push(Proto::Sll);
                // Tranalyzer2 reads the MAC columns as if the cooked header were an Ethernet one.
                self.i.has_mac = true;
                self.i.dst_mac = wire::mac_at(self.f, 0);
                self.i.src_mac = wire::mac_at(self.f, 6);
                let proto = sll.protocol();
                self.sll_protocol(proto, 16);
            }
            lt::LINUX_SLL2 => {
                let sll = Sll2Header::new_checked(self.f).map_err(|_| SkipReason::TooShortForLinkLayer)?;
                // Tranalyzer2 0.9.3 refuses SLL2; we treat it like SLL, the source address as srcMac.
                self.push(Proto::Sll2);
                self.i.has_mac = true;
                self.i.src_mac = wire::mac_at(sll.addr(), 0);
                let proto = sll.protocol();
                self.sll_protocol(proto, 20);
            }
            lt::PPP | lt::PPP_HDLC => {
                if self.f.is_empty() {
                    return Err(SkipReason::TooShortForLinkLayer);
                }
                self.stat(fs::NO_ETH | fs::PPP_AFTER_TUNNEL);
                if matches!(self.f[0], 0x0f | 0x8f) {
                    // Cisco HDLC framing inside a PPP capture
                    self.push(Proto::Ppp);
                    self.chdlc(0);
                } else {
                    self.ppp(0, true);
                }
            }
            lt::C_HDLC => {
                if self.f.len() < 4 {
                    return Err(SkipReason::TooShortForLinkLayer);
                }
                self.stat(fs::NO_ETH);
                self.chdlc(0);
            }
            lt::IEEE802_11 => {
                self.wlan(0, false);
            }
            lt::IEEE802_11_RADIOTAP => {
                let n = wire::wlan::radiotap_len(self.f).map_err(|_| SkipReason::TooShortForLinkLayer)?;
                self.push(Proto::Radiotap);
                self.wlan(n, false);
            }
            lt::PPI => {
                let (n, dlt) = wire::wlan::ppi_header(self.f).map_err(|_| SkipReason::TooShortForLinkLayer)?;
                self.push(Proto::Ppi);
                match dlt {
                    lt::ETHERNET => self.ethernet(n),
                    lt::IEEE802_11 => self.wlan(n, false),
                    _ => self.stat(fs::STOP_DISSECTING),
                }
            }
            _ => return Err(SkipReason::UnsupportedLinkType),
        }
        Ok(())
    }

    fn sll_protocol(&mut self, proto: u16, off: usize) {
        match proto {
            // Linux ETH_P_802_2: an LLC header follows
            0x0004 => self.llc(off, None),
            // ETH_P_802_3 (Novell raw) and other small values: nothing we decode
            p if p < 0x0600 => self.unknown_ethertype(p, off),
            p => self.ethertype(p, off),
        }
    }

    /// An Ethernet header at `off`.
    pub(super) fn ethernet(&mut self, off: usize) {
        let Ok(eth) = EthernetFrame::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L2 | fs::STOP_DISSECTING);
            return;
        };
        if !self.step() {
            return;
        }
        self.push(Proto::Eth);
        if !self.i.has_mac {
            self.i.has_mac = true;
            self.i.src_mac = eth.src_addr();
            self.i.dst_mac = eth.dst_addr();
        }
        let t = eth.ethertype();
        if t < 0x0600 {
            self.llc(off + 14, Some(t as usize));
        } else {
            self.ethertype(t, off + 14);
        }
    }

    /// The payload at `off` announced by EtherType `t` (VLAN tags are walked here).
    pub(super) fn ethertype(&mut self, mut t: u16, mut off: usize) {
        loop {
            if !self.step() {
                return;
            }
            self.set_eth_type(t);
            match t {
                et::VLAN | et::QINQ | et::VLAN_9100 | et::VLAN_9200 => {
                    let Ok(tag) = VlanTag::new_checked(self.at(off)) else {
                        self.push(Proto::Vlan);
                        self.stat(fs::VLAN | fs::SNAP_L2 | fs::STOP_DISSECTING);
                        return;
                    };
                    self.push(Proto::Vlan);
                    self.stat(fs::VLAN);
                    let tci = tag.tci();
                    if tci & 0x0fff == 0 {
                        self.stat(fs::VLAN_PRIO_TAG);
                    }
                    let n = self.i.n_vlans as usize;
                    if n < self.i.vlans.len() {
                        self.i.vlans[n] = tci;
                        self.i.n_vlans += 1;
                    }
                    t = tag.ethertype();
                    off += 4;
                    if t < 0x0600 {
                        self.llc(off, Some(t as usize));
                        return;
                    }
                }
                et::MPLS_UCAST | et::MPLS_MCAST => {
                    self.stat(if t == et::MPLS_UCAST { fs::MPLS_UCAST } else { fs::MPLS_MCAST });
                    self.mpls(off);
                    return;
                }
                et::IPV4 => return self.ipv4(off),
                et::IPV6 => return self.ipv6(off),
                et::ARP | et::RARP => return self.arp(t, off),
                et::PPPOE_SESS => {
                    self.push(Proto::Pppoes);
                    self.stat(fs::PPPOE_SESS);
                    let Ok(_h) = PppoeHeader::new_checked(self.at(off)) else {
                        self.stat(fs::SNAP_L2 | fs::STOP_DISSECTING);
                        self.l2_payload(off);
                        return;
                    };
                    return self.ppp(off + 6, false);
                }
                et::PPPOE_DISC => {
                    self.push(Proto::Pppoed);
                    self.stat(fs::PPPOE_DISC);
                    return self.l2_payload(off);
                }
                et::LLDP => {
                    self.push(Proto::Lldp);
                    self.stat(fs::LLDP);
                    return self.l2_payload(off);
                }
                et::EAPOL => {
                    self.push(Proto::Eapol);
                    return self.l2_payload(off);
                }
                et::REALTEK => {
                    self.push(Proto::Realtek);
                    return self.l2_payload(off);
                }
                0x890d => {
                    // IEEE 802.11 data encapsulation (802.11r/TDLS)
                    self.push(Proto::Wlan);
                    return self.l2_payload(off);
                }
                _ => return self.unknown_ethertype(t, off),
            }
        }
    }

    /// A layer-2 flow whose payload starts at `off` (its size is what Tranalyzer2 counts as L7).
    pub(super) fn l2_payload(&mut self, off: usize) {
        if self.outer_ip_done {
            // a layer-2 payload inside a tunnel: the flow stays the tunnel's (outer IP) one
            return;
        }
        let t = self.i.eth_type;
        self.l2_flow(t);
        self.i.l7_offset = off as u32;
        self.i.l7_len = self.wire_avail(off) as u32;
    }

    pub(super) fn unknown_ethertype(&mut self, t: u16, off: usize) {
        self.push_arg(Proto::UnkEthType, t);
        self.stat(fs::STOP_DISSECTING);
        if !self.outer_ip_done {
            self.set_eth_type(t);
        }
        self.l2_payload(off);
    }

    fn mpls(&mut self, mut off: usize) {
        loop {
            if !self.step() {
                return;
            }
            let Ok(label) = MplsLabel::new_checked(self.at(off)) else {
                self.push(Proto::Mpls);
                self.stat(fs::SNAP_L2 | fs::STOP_DISSECTING);
                self.l2_payload(off);
                return;
            };
            self.push(Proto::Mpls);
            off += 4;
            if label.bottom() {
                break;
            }
        }
        match self.at(off).first().map(|b| b >> 4) {
            Some(4) => self.ipv4(off),
            Some(6) => self.ipv6(off),
            _ => {
                // pseudowire or garbage: nothing more Tranalyzer2 decodes
                self.stat(fs::STOP_DISSECTING);
                self.l2_payload(off);
            }
        }
    }

    /// A PPP header at `off` (`hdlc`: an `ff 03` address/control prefix may be present).
    pub(super) fn ppp(&mut self, off: usize, hdlc: bool) {
        if !self.step() {
            return;
        }
        self.push(Proto::Ppp);
        let Ok(h) = PppHeader::parse(self.at(off), hdlc) else {
            self.stat(fs::SNAP_L2 | fs::STOP_DISSECTING);
            self.l2_payload(off);
            return;
        };
        let next = off + h.header_len;
        match h.protocol {
            pppp::IPV4 => self.ipv4(next),
            pppp::IPV6 => self.ipv6(next),
            pppp::MPLS_UCAST | pppp::MPLS_MCAST => {
                self.stat(if h.protocol == pppp::MPLS_UCAST { fs::MPLS_UCAST } else { fs::MPLS_MCAST });
                self.mpls(next)
            }
            p => {
                let name = match p {
                    pppp::LCP => Proto::Lcp,
                    pppp::PAP => Proto::Pap,
                    pppp::CHAP => Proto::Chap,
                    pppp::IPCP => Proto::Ipcp,
                    _ => {
                        if p == pppp::COMP {
                            self.stat(fs::PPP_L3_UNREADABLE);
                        }
                        // Tranalyzer2 prints an unknown PPP protocol with its bytes swapped
                        // (IPV6CP 0x8057 shows as `UNK(0x5780)`).
                        self.push_arg(Proto::UnkEthType, p.swap_bytes());
                        self.stat(fs::STOP_DISSECTING);
                        return self.l2_payload(next);
                    }
                };
                self.push(name);
                self.l2_payload(next);
            }
        }
    }

    /// Cisco HDLC: address, control, EtherType.
    fn chdlc(&mut self, off: usize) {
        self.push(Proto::Chdlc);
        let b = self.at(off);
        if b.len() < 4 {
            self.stat(fs::SNAP_L2 | fs::STOP_DISSECTING);
            return;
        }
        let t = u16::from_be_bytes([b[2], b[3]]);
        if t == 0x8035 {
            self.push(Proto::Slarp);
            self.set_eth_type(t);
            return self.l2_payload(off + 4);
        }
        self.ethertype(t, off + 4)
    }

    /// An IEEE 802.2 LLC header at `off`; `len` is the 802.3 length field when there is one.
    pub(super) fn llc(&mut self, off: usize, len: Option<usize>) {
        if !self.step() {
            return;
        }
        self.push(Proto::Llc);
        // padding beyond the 802.3 length
        let pad = len.map(|l| self.wire_avail(off).saturating_sub(l)).unwrap_or(0) as u32;
        let Ok(llc) = LlcHeader::new_checked(self.at(off)) else {
            self.stat(fs::STOP_DISSECTING);
            self.set_eth_type(len.unwrap_or(0) as u16);
            self.l2_payload(off);
            self.set_pad(pad);
            return;
        };
        if let Some(pid) = llc.snap_pid() {
            let oui = llc.snap_oui().unwrap_or(0);
            let next = off + 8;
            self.set_eth_type(pid);
            if oui == 0 {
                match pid {
                    et::IPV4 | et::IPV6 | et::ARP | et::RARP | et::VLAN | et::MPLS_UCAST => {
                        return self.ethertype(pid, next);
                    }
                    _ => {}
                }
            }
            match (oui, pid) {
                (0x00000c, 0x2000) => self.push(Proto::Cdp),
                (0x004096, _) => self.push(Proto::Wlccp),
                _ => {
                    self.push_arg(Proto::UnkEthType, pid);
                    self.stat(fs::STOP_DISSECTING);
                }
            }
            self.l2_payload(next);
            self.set_pad(pad);
            return;
        }
        self.set_eth_type(u16::from_be_bytes([llc.dsap(), llc.ssap()]));
        match llc.dsap() {
            sap::STP => self.push(Proto::Stp),
            sap::NETBIOS => self.push(Proto::Netbios),
            sap::IPX => self.push(Proto::Ipx),
            sap::HPEXT => self.push(Proto::Hpext),
            d => {
                self.push_arg(Proto::UnkLlc, d as u16);
                self.stat(fs::STOP_DISSECTING);
            }
        }
        self.l2_payload(off + 3);
        self.set_pad(pad);
    }

    fn arp(&mut self, t: u16, off: usize) {
        let rarp = t == et::RARP;
        self.push(if rarp { Proto::Rarp } else { Proto::Arp });
        self.stat(if rarp { fs::RARP } else { fs::ARP });
        self.l2_payload(off);
        let Ok(a) = ArpPacket::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L3_HDR);
            return;
        };
        self.i.arp_hw_type = a.hw_type();
        self.i.arp_opcode = a.operation();
        if let Some((sm, si, tm, ti)) = a.eth_ipv4() {
            self.i.arp_sender_mac = sm;
            self.i.arp_sender_ip = si;
            self.i.arp_target_mac = tm;
            self.i.arp_target_ip = ti;
        }
        self.set_pad(self.wire_avail(off).saturating_sub(a.total_len()) as u32);
    }

    /// An 802.11 frame at `off`. `swapped_fc`: the two frame-control bytes come in swapped order,
    /// as Cisco access points send them inside CAPWAP (Wireshark's "swap frame control" default).
    pub(super) fn wlan(&mut self, off: usize, swapped_fc: bool) {
        self.push(Proto::Wlan);
        let Ok(w) = wire::wlan::WlanHeader::new_checked(self.at(off)) else {
            self.stat(fs::SNAP_L2 | fs::STOP_DISSECTING);
            return;
        };
        // addresses as Tranalyzer2 reports them: receiver/transmitter
        if let (Some(a1), Some(a2)) = (w.addr(1), w.addr(2)) {
            self.i.has_mac = true;
            self.i.dst_mac = a1;
            self.i.src_mac = a2;
        }
        let fc = w.frame_control();
        let fc = if swapped_fc { fc.swap_bytes() } else { fc };
        let (fc0, fc1) = ((fc >> 8) as u8, fc as u8);
        match wire::wlan::data_header_len(fc0, fc1) {
            Some(n) if fc1 & wire::wlan::PROTECTED == 0 => self.llc(off + n, None),
            _ => {
                self.stat(fs::STOP_DISSECTING);
                self.l2_payload(off);
            }
        }
    }
}
