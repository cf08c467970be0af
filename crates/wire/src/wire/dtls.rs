//! DTLS record layer (RFC 6347 / 9147): content type, version, epoch, sequence number, length.

use super::{be16, view};

#[derive(Debug, Clone, Copy)]
pub struct DtlsRecord<T: AsRef<[u8]>> {
    buffer: T,
}

view!(DtlsRecord, 13);

/// DTLS protocol versions as they appear on the wire.
pub mod version {
    pub const DTLS1_0: u16 = 0xfeff;
    pub const DTLS1_2: u16 = 0xfefd;
    pub const DTLS1_3: u16 = 0xfefc;
}

impl<T: AsRef<[u8]>> DtlsRecord<T> {
    pub const HEADER_LEN: usize = 13;

    #[inline]
    pub fn content_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    #[inline]
    pub fn version(&self) -> u16 {
        be16(self.buffer.as_ref(), 1)
    }
    #[inline]
    pub fn epoch(&self) -> u16 {
        be16(self.buffer.as_ref(), 3)
    }
    /// Length of the record's fragment (after the 13-byte header).
    #[inline]
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), 11)
    }
    /// Whether the header looks like a DTLS record (content type 20–25, a DTLS version).
    pub fn is_plausible(&self) -> bool {
        (20..=25).contains(&self.content_type())
            && matches!(self.version(), version::DTLS1_0 | version::DTLS1_2 | version::DTLS1_3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn record() {
        let r = DtlsRecord::new_checked(&[22u8, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5][..]).unwrap();
        assert!(r.is_plausible());
        assert_eq!((r.version(), r.length()), (version::DTLS1_2, 5));
        assert!(DtlsRecord::new_checked(&[0u8; 12][..]).is_err());
    }
}
