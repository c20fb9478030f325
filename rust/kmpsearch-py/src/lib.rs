//! `kmpsearch_rust`: the Python extension module of kmpsearch's Rust backend.
//!
//! A thin PyO3 layer over [`kmpsearch_core`]: it borrows the caller's buffer without
//! copying it (the buffer protocol), detaches from the interpreter for the whole search
//! (other Python threads run meanwhile; the module declares `gil_used = false`, so it
//! loads on free-threaded builds without re-enabling the GIL), and turns the core's
//! errors into Python exceptions. Argument policy (str handling, `threads=None`, ...)
//! lives in `kmpsearch._frontend`; `kmpsearch.backends.rust` wraps this module.

use pyo3::prelude::*;

/// Extension module of kmpsearch's Rust backend (KMP with a memchr skip, rayon threads).
///
/// Use it through ``kmpsearch`` (``KMPSEARCH_BACKEND=rust`` or
/// ``kmpsearch.get_backend("rust")``); the functions here are its kernels. They search
/// a buffer in place, without copying it, with the GIL released (detached) for the
/// whole search: the caller must not mutate a buffer while it is being searched.
#[pymodule(gil_used = false)]
mod kmpsearch_rust {
    use std::fs::File;
    use std::io;
    use std::mem::ManuallyDrop;

    use kmpsearch_core::{Error, Options, Pattern, Scan};
    use pyo3::buffer::PyBuffer;
    use pyo3::exceptions::{PyMemoryError, PyOSError, PyTypeError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::PyList;

    /// Least number of candidate start positions per chunk when none is given.
    #[pymodule_export]
    const DEFAULT_MIN_CHUNK: u64 = kmpsearch_core::DEFAULT_MIN_CHUNK;

    /// Bytes each thread reads per ``pread`` in the file searches.
    #[pymodule_export]
    const DEFAULT_BLOCK_SIZE: usize = kmpsearch_core::DEFAULT_BLOCK_SIZE;

    /// The scans this module offers; the first is the default.
    #[pymodule_export]
    const SCANS: (&str, &str) = ("fast", "textbook");

    /// Version of the extension module.
    #[pymodule_export]
    #[allow(non_upper_case_globals)]
    const __version__: &str = env!("CARGO_PKG_VERSION");

    fn to_pyerr(err: Error) -> PyErr {
        match err {
            Error::InvalidArgument(msg) => PyValueError::new_err(msg),
            Error::OutOfMemory => PyMemoryError::new_err("out of memory"),
            Error::Io(err) => io_error(&err),
            // pthread_create fails with EAGAIN when threads cannot be started
            Error::ThreadPool(msg) => PyOSError::new_err((11, format!("could not start the search threads: {msg}"))),
        }
    }

    /// ``OSError(errno, strerror)``: Python picks the subclass from errno
    /// (``OSError(9, ...)`` is not a subclass, ``OSError(2, ...)`` a FileNotFoundError).
    fn io_error(err: &io::Error) -> PyErr {
        match err.raw_os_error() {
            Some(code) => {
                let text = err.to_string();
                let strerror = text.strip_suffix(&format!(" (os error {code})")).unwrap_or(&text).to_owned();
                PyOSError::new_err((code, strerror))
            }
            None => PyOSError::new_err(err.to_string()),
        }
    }

    fn options(threads: usize, min_chunk: u64, scan: &str) -> PyResult<Options> {
        let scan: Scan = scan.parse().map_err(to_pyerr)?;
        Ok(Options::default().threads(threads).min_chunk(min_chunk).scan(scan))
    }

    fn pattern(py: Python<'_>, needle: &PyBuffer<u8>) -> PyResult<Pattern> {
        Pattern::new(&needle.to_vec(py)?).map_err(to_pyerr)
    }

    /// The bytes of a C-contiguous buffer, borrowed without a copy.
    ///
    /// # Safety
    ///
    /// The slice aliases memory owned by the exporting object; `buf` keeps the export
    /// alive (a bytearray or mmap with an export cannot be resized or closed), but its
    /// contents may still be written by another thread: the caller of the Python function
    /// promises not to mutate the buffer during the search (documented in the stub).
    unsafe fn bytes_of(buf: &PyBuffer<u8>) -> PyResult<&[u8]> {
        let len = buf.item_count();
        if len == 0 {
            return Ok(&[]);
        }
        match buf.as_slice_ptr() {
            Some(ptr) => Ok(unsafe { ptr.as_ref() }),
            None => Err(PyTypeError::new_err("haystack must be a C-contiguous buffer")),
        }
    }

    /// Borrow `fd` as a `File` that is never closed here.
    fn borrow_fd(fd: i32) -> PyResult<ManuallyDrop<File>> {
        if fd < 0 {
            return Err(PyValueError::new_err("fd must be a non-negative file descriptor"));
        }
        #[cfg(unix)]
        {
            use std::os::fd::FromRawFd;
            // SAFETY: ManuallyDrop: the File never closes the caller's descriptor; a closed
            // or invalid descriptor only makes fstat/pread fail with EBADF.
            Ok(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
        }
        #[cfg(not(unix))]
        {
            Err(PyOSError::new_err("file descriptor searches need a Unix system"))
        }
    }

    /// Number of occurrences of ``needle`` in ``haystack`` (overlaps included).
    ///
    /// ``haystack``: any C-contiguous buffer of unsigned bytes (bytes, bytearray, mmap,
    /// memoryview), searched in place, without a copy, with the GIL released: do not
    /// mutate it while it is searched. ``needle``: non-empty bytes-like.
    /// ``threads`` >= 1, ``min_chunk`` >= 1 (the chunk plan), ``scan``: "fast" or
    /// "textbook". Raises ValueError for bad arguments, MemoryError.
    #[pyfunction]
    #[pyo3(signature = (haystack, needle, threads=1, min_chunk=DEFAULT_MIN_CHUNK, scan="fast"))]
    fn count(
        py: Python<'_>,
        haystack: PyBuffer<u8>,
        needle: PyBuffer<u8>,
        threads: usize,
        min_chunk: u64,
        scan: &str,
    ) -> PyResult<u64> {
        let (pat, opts) = (pattern(py, &needle)?, options(threads, min_chunk, scan)?);
        // SAFETY: see bytes_of; `haystack` outlives the search.
        let hay = unsafe { bytes_of(&haystack)? };
        py.detach(|| pat.count(hay, &opts)).map_err(to_pyerr)
    }

    /// Start offsets of every occurrence of ``needle`` in ``haystack``, ascending, as a
    /// list of int; arguments as for ``count``.
    #[pyfunction]
    #[pyo3(signature = (haystack, needle, threads=1, min_chunk=DEFAULT_MIN_CHUNK, scan="fast"))]
    fn find_all<'py>(
        py: Python<'py>,
        haystack: PyBuffer<u8>,
        needle: PyBuffer<u8>,
        threads: usize,
        min_chunk: u64,
        scan: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let (pat, opts) = (pattern(py, &needle)?, options(threads, min_chunk, scan)?);
        // SAFETY: see bytes_of; `haystack` outlives the search.
        let hay = unsafe { bytes_of(&haystack)? };
        let found = py.detach(|| pat.find_all(hay, &opts)).map_err(to_pyerr)?;
        drop(haystack);
        PyList::new(py, found)
    }

    /// Number of occurrences of ``needle`` in the regular file open on ``fd``.
    ///
    /// The file is read from offset 0 to its size at the start with ``pread`` (its
    /// position is not used or moved) into one bounded buffer per thread; ``fd`` is not
    /// closed. A file that shrinks meanwhile gives the matches in what could be read.
    /// Raises OSError (with ``errno``) for read errors; other arguments as for ``count``.
    #[pyfunction]
    #[pyo3(signature = (fd, needle, threads=1, min_chunk=DEFAULT_MIN_CHUNK, scan="fast"))]
    fn count_fd(
        py: Python<'_>,
        fd: i32,
        needle: PyBuffer<u8>,
        threads: usize,
        min_chunk: u64,
        scan: &str,
    ) -> PyResult<u64> {
        let (pat, opts) = (pattern(py, &needle)?, options(threads, min_chunk, scan)?);
        let file = borrow_fd(fd)?;
        py.detach(|| pat.count_file(&file, &opts)).map_err(to_pyerr)
    }

    /// Byte offsets of every occurrence of ``needle`` in the regular file open on ``fd``,
    /// ascending, as a list of int; as ``count_fd``.
    #[pyfunction]
    #[pyo3(signature = (fd, needle, threads=1, min_chunk=DEFAULT_MIN_CHUNK, scan="fast"))]
    fn find_all_fd<'py>(
        py: Python<'py>,
        fd: i32,
        needle: PyBuffer<u8>,
        threads: usize,
        min_chunk: u64,
        scan: &str,
    ) -> PyResult<Bound<'py, PyList>> {
        let (pat, opts) = (pattern(py, &needle)?, options(threads, min_chunk, scan)?);
        let file = borrow_fd(fd)?;
        let found = py.detach(|| pat.find_all_file(&file, &opts)).map_err(to_pyerr)?;
        PyList::new(py, found)
    }
}
