//! Arbitrary bytes through the whole reader: detection, decompression, pcap and pcapng framing,
//! resynchronisation. Beyond "no panic", `read_checked` asserts the invariants the rest of
//! netanom relies on (see crates/capture/src/fuzz_support.rs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netanom_capture::fuzz_support::read_checked(data);
});
