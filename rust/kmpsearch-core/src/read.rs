//! Positioned reads: what a file search needs from its source.

use std::fs::File;
use std::io;

/// A source of bytes read at absolute offsets, shared by the search threads (`pread`).
///
/// A file search reads each chunk's window in blocks through this trait; the reads of
/// different threads never share a file position.
pub trait ReadAt {
    /// Read up to `buf.len()` bytes starting at `offset`; return how many were read.
    ///
    /// `Ok(0)` means the end of the source (a file truncated during the search ends its
    /// scan there). Short reads are allowed; `ErrorKind::Interrupted` is retried.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
}

#[cfg(unix)]
impl ReadAt for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }
}

#[cfg(windows)]
impl ReadAt for File {
    /// `seek_read` moves the file's position (Windows has no `pread` that does not).
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::windows::fs::FileExt::seek_read(self, buf, offset)
    }
}

/// In-memory bytes as a source (handy in tests; memory searches use the slice directly).
impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }
}

impl<R: ReadAt + ?Sized> ReadAt for &R {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }
}
