//! macRecorder: the MAC address pairs seen in one flow direction and their packet counts.

use crate::labels::oui;
use crate::record::FlowRecord;
use crate::schema::{write_mac, Column, Kind, ValueSink};

pub const COLUMNS: &[Column] = &[
    Column::new("macStat", "H8", Kind::Hex(2), "macRecorder status"),
    Column::new("macPairs", "U32", Kind::UInt, "Number of distinct source/destination MAC addresses pairs"),
    Column::new(
        "srcMac_dstMac_numP",
        "MAC_MAC_U64:R",
        Kind::Text,
        "Source/destination MAC address, number of packets of MAC address combination",
    ),
    Column::new("srcMacLbl_dstMacLbl", "SC_SC:R", Kind::Text, "Source/destination MAC label"),
];

/// Tranalyzer2's MR_MAX_MAC: pairs beyond this set macStat 0x01 and are not listed.
pub const MAX_PAIRS: usize = 16;
const OVERFLOW: u8 = 0x01;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MacPair {
    pub src: [u8; 6],
    pub dst: [u8; 6],
    pub packets: u64,
}

/// Distinct pairs, the first inline (nearly every flow has one).
#[derive(Debug, Clone, Default)]
pub struct MacPairs {
    first: MacPair,
    more: Vec<MacPair>,
    count: u32,
    stat: u8,
}

impl MacPairs {
    #[inline]
    pub fn record(&mut self, src: &[u8; 6], dst: &[u8; 6]) {
        if self.count == 0 {
            self.first = MacPair { src: *src, dst: *dst, packets: 1 };
            self.count = 1;
            return;
        }
        if self.first.src == *src && self.first.dst == *dst {
            self.first.packets += 1;
            return;
        }
        if let Some(p) = self.more.iter_mut().find(|p| p.src == *src && p.dst == *dst) {
            p.packets += 1;
            return;
        }
        if self.more.len() + 1 < MAX_PAIRS {
            self.more.push(MacPair { src: *src, dst: *dst, packets: 1 });
            self.count += 1;
        } else {
            self.stat |= OVERFLOW;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &MacPair> {
        std::iter::once(&self.first).take(self.count.min(1) as usize).chain(self.more.iter())
    }
}

pub fn write(rec: &FlowRecord, w: &mut dyn ValueSink) {
    let m = &rec.macs;
    w.hex(m.stat as u64, 2);
    w.uint(m.count as u64);
    if m.count == 0 {
        w.empty();
        w.empty();
        return;
    }
    w.text(&|o| {
        for (i, p) in m.iter().enumerate() {
            if i > 0 {
                o.write_char(';')?;
            }
            write_mac(o, &p.src)?;
            o.write_char('_')?;
            write_mac(o, &p.dst)?;
            o.write_char('_')?;
            o.write_str(itoa::Buffer::new().format(p.packets))?;
        }
        Ok(())
    });
    w.text(&|o| {
        for (i, p) in m.iter().enumerate() {
            if i > 0 {
                o.write_char(';')?;
            }
            o.write_str(oui::label(&p.src))?;
            o.write_char('_')?;
            o.write_str(oui::label(&p.dst))?;
        }
        Ok(())
    });
}
