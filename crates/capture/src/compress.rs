//! Transparent decompression, chosen by magic number.

use std::io::{self, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::detect::{sniff_compression, Compression};

/// Read size towards the compressed file: decompressors pull small amounts at a time, and this
/// keeps those from turning into system calls.
const COMPRESSED_READ: usize = 256 << 10;

/// Counts the bytes taken from the underlying file, for progress against its size.
pub(crate) struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    pub(crate) fn new(inner: R, count: Arc<AtomicU64>) -> Self {
        Counting { inner, count }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Looks at the first bytes of `src` and wraps it in the matching decompressor. The bytes looked
/// at are put back in front of the stream, since stdin cannot seek.
pub(crate) fn unwrap(mut src: Box<dyn Read + Send>) -> io::Result<(Box<dyn Read + Send>, Compression)> {
    let mut magic = [0u8; 4];
    let mut n = 0;
    while n < magic.len() {
        match src.read(&mut magic[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = magic[..n].to_vec();
    let compression = sniff_compression(&head);
    let rejoined = Cursor::new(head).chain(src);
    let out: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(rejoined),
        Compression::Gzip => {
            Box::new(flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(COMPRESSED_READ, rejoined)))
        }
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(COMPRESSED_READ, rejoined))?)
        }
    };
    Ok((out, compression))
}
