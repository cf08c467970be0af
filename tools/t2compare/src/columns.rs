//! What the comparison knows about Tranalyzer2 0.9.3's columns.
//!
//! The list mirrors `golden/t2-0.9.3/<set>/headers.txt` (identical for every set). It is compiled in
//! so that `t2compare diff` works on any two tables without the golden folder at hand.

/// (name, T2 type) of the 117 columns, in T2's order. The table's first column is `%dir`; its
/// header name here is `dir` as in headers.txt.
pub const T2_COLUMNS: &[(&str, &str)] = &[
    ("dir", "C"),
    ("flowInd", "U64"),
    ("flowStat", "H64"),
    ("timeFirst", "U64.U32"),
    ("timeLast", "U64.U32"),
    ("duration", "U64.U32"),
    ("numHdrDesc", "U8"),
    ("numHdrs", "U16:R"),
    ("hdrDesc", "SC:R"),
    ("srcMac", "MAC:R"),
    ("dstMac", "MAC:R"),
    ("ethType", "H16"),
    ("vlanID", "U16:R"),
    ("srcIP", "IPX"),
    ("srcIPCC", "SC"),
    ("srcIPOrg", "S"),
    ("srcPort", "U16"),
    ("dstIP", "IPX"),
    ("dstIPCC", "SC"),
    ("dstIPOrg", "S"),
    ("dstPort", "U16"),
    ("l4Proto", "U8"),
    ("macStat", "H8"),
    ("macPairs", "U32"),
    ("srcMac_dstMac_numP", "MAC_MAC_U64:R"),
    ("srcMacLbl_dstMacLbl", "SC_SC:R"),
    ("dstPortClassN", "U16"),
    ("dstPortClass", "SC"),
    ("pktsSnt", "U64"),
    ("pktsRcvd", "U64"),
    ("padBytesSnt", "I64"),
    ("l7BytesSnt", "U64"),
    ("l7BytesRcvd", "U64"),
    ("minL7PktSz", "U16"),
    ("maxL7PktSz", "U16"),
    ("avgL7PktSz", "F"),
    ("stdL7PktSz", "F"),
    ("minIAT", "F"),
    ("maxIAT", "F"),
    ("avgIAT", "F"),
    ("stdIAT", "F"),
    ("pktps", "F"),
    ("bytps", "F"),
    ("pktAsm", "F"),
    ("bytAsm", "F"),
    ("tcpFStat", "H16"),
    ("ipMindIPID", "U16"),
    ("ipMaxdIPID", "U16"),
    ("ipMinTTL", "U8"),
    ("ipMaxTTL", "U8"),
    ("ipTTLChg", "U8"),
    ("ipToS", "H8"),
    ("ipFlags", "H16"),
    ("ipOptCnt", "U16"),
    ("ipOptCpCl_Num", "H8_H32"),
    ("ip6OptCntHH_D", "U16_U16"),
    ("ip6OptHH_D", "H32_H32"),
    ("tcpISeqN", "U32"),
    ("tcpPSeqCnt", "U16"),
    ("tcpSeqSntBytes", "U64"),
    ("tcpSeqFaultCnt", "U16"),
    ("tcpPAckCnt", "U16"),
    ("tcpFlwLssAckRcvdBytes", "U64"),
    ("tcpAckFaultCnt", "U16"),
    ("tcpBFlgtMx", "U32"),
    ("tcpInitWinSz", "U32"),
    ("tcpAvgWinSz", "F"),
    ("tcpMinWinSz", "U32"),
    ("tcpMaxWinSz", "U32"),
    ("tcpWinSzDwnCnt", "U16"),
    ("tcpWinSzUpCnt", "U16"),
    ("tcpWinSzChgDirCnt", "U16"),
    ("tcpWinSzThRt", "F"),
    ("tcpFlags", "H16"),
    ("tcpAnomaly", "H16"),
    ("tcpJA4T", "SC"),
    ("tcpOptPktCnt", "U16"),
    ("tcpOptCnt", "U16"),
    ("tcpOptions", "H32"),
    ("tcpMSS", "U16"),
    ("tcpWS", "U16"),
    ("tcpMPTBF", "H16"),
    ("tcpMPF", "H8"),
    ("tcpMPAID", "U8"),
    ("tcpMPDSSF", "H8"),
    ("tcpTmS", "U32"),
    ("tcpTmER", "U32"),
    ("tcpEcI", "F"),
    ("tcpUtm", "D"),
    ("tcpBtm", "U64.U32"),
    ("tcpSSASAATrip", "F"),
    ("tcpRTTAckTripMin", "F"),
    ("tcpRTTAckTripMax", "F"),
    ("tcpRTTAckTripAvg", "F"),
    ("tcpRTTAckTripJitAvg", "F"),
    ("tcpRTTSseqAA", "F"),
    ("tcpRTTAckJitAvg", "F"),
    ("tcpStatesAFlags", "H8"),
    ("icmpStat", "H8"),
    ("icmpTCcnt", "U8"),
    ("icmpBFTypH_TypL_Code", "H32_H32_H16"),
    ("icmpTmGtw", "H32"),
    ("icmpEchoSuccRatio", "F"),
    ("icmpPFindex", "U64"),
    ("arpStat", "H8"),
    ("arpHwType", "U16"),
    ("arpOpcode", "H16"),
    ("arpIpMacCnt", "U16"),
    ("arpMac_Ip_Cnt", "MAC_IP4_U16:R"),
    ("connSip", "U32"),
    ("connDip", "U32"),
    ("connSipDip", "U32"),
    ("connSipDprt", "U32"),
    ("connF", "F"),
    ("connG", "F"),
    ("connNumPCnt", "U64"),
    ("connNumBCnt", "U64"),
];

/// Columns that may differ for reasons outside the flow logic (see golden/README.md, "How to
/// compare"): lookup databases, port map and vendor list versions, fingerprint formatting, and
/// connStat's per-host packet and byte totals, which Tranalyzer2 keeps in hash-table slots that a
/// new host can inherit (docs/compatibility.md). connStat's live counts are compared: they follow
/// the termination order, which we reproduce. Reported apart, never failed on.
pub const LEGIT_DIFFERENT: &[&str] = &[
    "srcIPCC",
    "srcIPOrg",
    "dstIPCC",
    "dstIPOrg",
    "dstPortClassN",
    "dstPortClass",
    "srcMacLbl_dstMacLbl",
    "tcpJA4T",
    "connNumPCnt",
    "connNumBCnt",
];

/// `flowInd` numbers flows in creation order; only its A/B pairing is compared.
pub const FLOW_INDEX: &str = "flowInd";

/// The table's name for column 1 (`dir` in headers.txt).
pub const DIR: &str = "%dir";

/// How a column's values are judged equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnKind {
    /// Byte-for-byte equal strings: counts, hex bit fields, strings, compound values, and the
    /// U64.U32 timestamps/durations (printed with exactly 9 decimals, so exact is right).
    Exact,
    /// Numbers printed with ~7 significant digits (T2 types `F` and `D`): relative tolerance.
    Float,
    /// `flowInd`: compared as A/B pairing, not by value.
    Pairing,
}

/// The kind of a column; columns unknown to T2 0.9.3 are compared exactly.
pub fn kind_of(name: &str) -> ColumnKind {
    if name == FLOW_INDEX {
        return ColumnKind::Pairing;
    }
    match t2_type(name) {
        Some("F") | Some("D") => ColumnKind::Float,
        _ => ColumnKind::Exact,
    }
}

/// The T2 type string of a column (`None` for columns T2 does not have).
pub fn t2_type(name: &str) -> Option<&'static str> {
    let name = if name == DIR { "dir" } else { name };
    T2_COLUMNS.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}

/// Whether mismatches in this column are expected and reported apart.
pub fn is_legit_different(name: &str) -> bool {
    LEGIT_DIFFERENT.contains(&name)
}

/// The table's header names of T2's columns, in T2's order (`%dir` first).
pub fn table_names() -> impl Iterator<Item = &'static str> {
    T2_COLUMNS.iter().map(|(n, _)| if *n == "dir" { DIR } else { *n })
}

/// The basicFlow, macRecorder, portClassifier and basicStats columns: the first 45 of
/// headers.txt (`dir` … `bytAsm`), the ones the integration tests hold to near-full agreement.
pub fn core_columns() -> Vec<&'static str> {
    table_names().take(45).collect()
}

/// The tcpFlags plugin's columns: headers.txt's 46–97 (`tcpFStat` … `tcpRTTAckJitAvg`).
pub fn tcpflags_columns() -> Vec<&'static str> {
    table_names().skip(45).take(52).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_headers() {
        assert_eq!(T2_COLUMNS.len(), 117);
        assert_eq!(kind_of("avgIAT"), ColumnKind::Float);
        assert_eq!(kind_of("tcpUtm"), ColumnKind::Float);
        assert_eq!(kind_of("duration"), ColumnKind::Exact);
        assert_eq!(kind_of("flowInd"), ColumnKind::Pairing);
        assert_eq!(kind_of("anomaly"), ColumnKind::Exact);
        assert_eq!(core_columns().last(), Some(&"bytAsm"));
        assert_eq!(core_columns()[0], "%dir");
        let t = tcpflags_columns();
        assert_eq!((t[0], t[t.len() - 1]), ("tcpFStat", "tcpRTTAckJitAvg"));
    }
}
