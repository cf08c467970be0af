//! Recognising what a stream holds from its first bytes.

use std::fmt::Write as _;

/// Compression wrapped around a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
pub(crate) const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

pub(crate) fn sniff_compression(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

/// Says what `head` (the first bytes of a stream that is not a readable capture) looks like, for
/// an error message such as "text beginning \"GET / HTTP/1.1\" (first bytes 47 45 54 ...)".
pub(crate) fn describe(head: &[u8]) -> String {
    if head.is_empty() {
        return "an empty file".to_string();
    }
    let mut s = kind_of(head);
    s.push_str(" (first bytes");
    for b in head.iter().take(16) {
        let _ = write!(s, " {b:02x}");
    }
    s.push(')');
    s
}

fn kind_of(head: &[u8]) -> String {
    const KNOWN: &[(&[u8], &str)] = &[
        (b"snoop\0\0\0", "a Solaris snoop capture (unsupported format)"),
        (b"GMBU", "a Microsoft Network Monitor 2.x capture (unsupported format)"),
        (b"RTSS", "a Microsoft Network Monitor 1.x capture (unsupported format)"),
        (b"XCP\0", "a NetXray/Sniffer capture (unsupported format)"),
        (b"BZh", "bzip2 data (unsupported compression)"),
        (&[0xfd, b'7', b'z', b'X', b'Z', 0], "xz data (unsupported compression)"),
        (&[0x04, 0x22, 0x4d, 0x18], "lz4 data (unsupported compression)"),
        (b"PK\x03\x04", "a zip archive"),
        (b"\x7fELF", "an ELF executable"),
        (b"%PDF", "a PDF document"),
        (&[0x0a, 0x0d, 0x0d, 0x0a], "a pcapng section header with an invalid byte-order magic"),
    ];
    for (magic, what) in KNOWN {
        if head.starts_with(magic) {
            return (*what).to_string();
        }
    }
    if head.len() < 4 {
        return format!("{} bytes, too short for any capture header", head.len());
    }
    if let Some(text) = as_text(head) {
        let first_line: String = text.lines().next().unwrap_or("").chars().take(40).collect();
        return format!("text beginning \"{}\"", first_line.escape_debug());
    }
    "unrecognised binary data".to_string()
}

/// `head` as text if it reads like text: valid UTF-8 (an incomplete character at the cut is
/// fine) without control characters other than whitespace.
fn as_text(head: &[u8]) -> Option<&str> {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() && e.valid_up_to() > 0 => {
            std::str::from_utf8(&head[..e.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let printable = text.chars().all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c'));
    printable.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        assert_eq!(describe(b""), "an empty file");
        assert!(describe(b"snoop\0\0\0\0\0\0\x02").starts_with("a Solaris snoop capture"));
        let d = describe(b"GET / HTTP/1.1\r\nHost: x\r\n");
        assert!(d.starts_with("text beginning \"GET / HTTP/1.1\""), "{d}");
        assert!(d.contains("47 45 54"), "{d}");
        assert!(describe("\u{feff}id,name\n".as_bytes()).starts_with("text"));
        assert!(describe(&[0, 1, 2, 3, 4, 5]).starts_with("unrecognised binary data"));
        assert!(describe(&[1, 2]).contains("too short"));
        // a multi-byte character cut at the end of the sample is still text
        let mut t = "abc é".as_bytes().to_vec();
        t.pop();
        assert!(describe(&t).starts_with("text"));
    }

    #[test]
    fn compression_magic() {
        assert_eq!(sniff_compression(&[0x1f, 0x8b, 8, 0]), Compression::Gzip);
        assert_eq!(sniff_compression(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(sniff_compression(&[0xd4, 0xc3, 0xb2, 0xa1]), Compression::None);
        assert_eq!(sniff_compression(&[0x1f]), Compression::None);
    }
}
