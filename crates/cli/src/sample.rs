//! The bundled sample capture: a small LAN with an attacker, made by `lab/make-sample.sh`
//! (see samples/README.md for what is in it and samples/lab.truth.json for the ground truth).

use netanom_engine::Input;

/// The capture's bytes, compiled into the binary so `netanom flows` and `netanom analyze` work
/// with no file at hand.
pub const LAB_PCAP: &[u8] = include_bytes!("../../../samples/lab.pcap");

/// Name the sample goes by in reports and default output names.
pub const NAME: &str = "lab.pcap";

pub fn input() -> Input {
    Input::Bytes { name: NAME.to_string(), data: LAB_PCAP }
}
