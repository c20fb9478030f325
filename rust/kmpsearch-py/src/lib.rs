//! `kmpsearch_rust`: the Python extension module of kmpsearch's Rust backend.
//!
//! A thin PyO3 layer over [`kmpsearch_core`] giving the *core contract*
//! (`python/kmpsearch/_contract.py`): `compile_pattern`, `compile_words`, `plan`, and the
//! frozen, thread-safe compiled objects, each with one entry, `search(source, want,
//! options)`. It borrows the caller's buffer without copying it (the buffer protocol),
//! reads a file range with `pread`, or opens, reads and searches a batch of files (each on
//! one thread, a read buffer per thread), detaches from the interpreter for the whole search
//! (other Python threads run meanwhile; the module declares `gil_used = false`, so it
//! loads on free-threaded builds without re-enabling the GIL), turns the core's errors
//! into Python exceptions, and writes the results into `array.array`s with fallible
//! allocations (MemoryError). Whole words and match kinds (`options.whole`, `.kind`) are
//! chosen here too, from a buffer's candidates ([`kmpsearch_core::choose`]). Lists,
//! argument policy (str handling, `threads=None`, de-duplication, ...) and Ctrl-C live in
//! the Python layer.

use pyo3::prelude::*;

/// Extension module of kmpsearch's Rust backend: KMP (memmem skip) for one pattern,
/// Aho-Corasick with a start filter for word sets, on a reused pool of threads.
///
/// Use it through ``kmpsearch`` (``KMPSEARCH_BACKEND=rust`` or
/// ``kmpsearch.get_backend("rust")``): this module is the backend's *core*
/// (``compile_pattern``, ``compile_words``, ``plan``). Searches read the buffer in
/// place, without copying it, with the GIL released (detached) for the whole search:
/// do not mutate a buffer while it is being searched.
#[pymodule(gil_used = false)]
mod kmpsearch_rust {
    use std::fs::File;
    use std::io;
    use std::mem::{ManuallyDrop, MaybeUninit};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::path::Path;
    use std::sync::atomic::{AtomicU8, Ordering};

    use kmpsearch_core::{
        advise_huge, choose, Batch, BatchFound, BatchWant, Candidate, Choice, Error, Kind, Options,
        Pattern as CorePattern, Scan, Simd, WordSet as CoreWordSet, HUGE_FROM,
    };
    use pyo3::buffer::PyBuffer;
    use pyo3::exceptions::{
        PyKeyboardInterrupt, PyMemoryError, PyOSError, PyOverflowError, PyRuntimeError, PyTypeError, PyValueError,
    };
    use pyo3::ffi;
    use pyo3::intern;
    use pyo3::prelude::*;
    use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
    use pyo3::sync::PyOnceLock;
    use pyo3::types::{PyBytes, PyList, PyString, PyTuple, PyType};
    use pyo3::IntoPyObjectExt;

    /// Least number of candidate start positions per chunk the frontend passes by default.
    #[pymodule_export]
    const DEFAULT_MIN_CHUNK: u64 = kmpsearch_core::DEFAULT_MIN_CHUNK;

    /// Bytes each thread reads per ``pread`` in the file searches.
    #[pymodule_export]
    const DEFAULT_BLOCK_SIZE: usize = kmpsearch_core::DEFAULT_BLOCK_SIZE;

    /// The scans this core offers; the first is the default.
    #[pymodule_export]
    const SCANS: (&str, &str) = ("fast", "textbook");

    /// The SIMD levels this core accepts: "auto", or one forced for tests (a level the CPU
    /// lacks runs the best one below it). They choose the single pattern's skip (AVX2,
    /// SSE2 or portable packed pair) and the word-set filter (AVX2 or portable bitmap
    /// loop; "scalar": no Teddy); memchr's own dispatch and aho-corasick's Teddy cannot
    /// be forced.
    #[pymodule_export]
    const SIMD_LEVELS: (&str, &str, &str, &str) = ("auto", "scalar", "sse2", "avx2");

    /// Most helper threads the shared pool ever has.
    #[pymodule_export]
    const MAX_POOL_THREADS: usize = kmpsearch_core::MAX_POOL_THREADS;

    /// Version of the extension module.
    #[pymodule_export]
    #[allow(non_upper_case_globals)]
    const __version__: &str = env!("CARGO_PKG_VERSION");

    fn to_pyerr(err: Error) -> PyErr {
        match err {
            Error::InvalidArgument(msg) => PyValueError::new_err(msg),
            Error::OutOfMemory => PyMemoryError::new_err("out of memory"),
            Error::Io(err) => io_error(&err),
            Error::Internal(msg) => PyRuntimeError::new_err(format!("kmpsearch_rust internal error: {msg}")),
            Error::Cancelled => PyKeyboardInterrupt::new_err("kmpsearch (rust): the search was cancelled"),
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

    // --- the arguments of a search ---------------------------------------------------------

    /// What to return (the contract's ``want``).
    #[derive(Clone, Copy)]
    enum Want {
        Count,
        Each,
        Offsets,
        Pairs,
    }

    impl Want {
        fn extract(want: &Bound<'_, PyAny>) -> PyResult<Want> {
            match want.extract::<PyBackedStr>().as_deref() {
                Ok("count") => Ok(Want::Count),
                Ok("each") => Ok(Want::Each),
                Ok("offsets") => Ok(Want::Offsets),
                Ok("pairs") => Ok(Want::Pairs),
                _ => Err(PyValueError::new_err(format!(
                    "want must be 'count', 'each', 'offsets' or 'pairs', not {}",
                    want.repr().map_or_else(|_| "?".into(), |r| r.to_string())
                ))),
            }
        }
    }

    /// An int attribute of the options: a negative or too large one is a ValueError.
    fn int_option(options: &Bound<'_, PyAny>, name: &Bound<'_, PyString>) -> PyResult<u64> {
        let value = options.getattr(name)?;
        value.extract::<u64>().map_err(|err| {
            if err.is_instance_of::<PyOverflowError>(options.py()) {
                PyValueError::new_err(format!("{name} out of range: {value}"))
            } else {
                err
            }
        })
    }

    /// A str attribute of the options.
    fn str_option(options: &Bound<'_, PyAny>, name: &Bound<'_, PyString>) -> PyResult<PyBackedStr> {
        options
            .getattr(name)?
            .extract::<PyBackedStr>()
            .map_err(|_| PyTypeError::new_err(format!("{name} must be a str")))
    }

    /// The contract's ``options`` (``kmpsearch._contract.Options``), read by attribute name.
    struct SearchOptions {
        threads: u64,
        min_chunk: u64,
        scan: PyBackedStr,
        simd: PyBackedStr,
        block: u64,
        /// the cancel flag's export, held for the search (see [`cancel_flag`])
        cancel: Option<PyBuffer<u8>>,
        kind: Kind,
        /// the table of word characters (borrowed) when only whole words are kept
        whole: Option<PyBackedBytes>,
    }

    impl SearchOptions {
        fn extract(options: &Bound<'_, PyAny>) -> PyResult<SearchOptions> {
            let py = options.py();
            let cancel = options.getattr(intern!(py, "cancel"))?;
            let kind = str_option(options, intern!(py, "kind"))?.parse().map_err(to_pyerr)?;
            let whole = options.getattr(intern!(py, "whole"))?.extract::<bool>()?;
            Ok(SearchOptions {
                threads: int_option(options, intern!(py, "threads"))?,
                min_chunk: int_option(options, intern!(py, "min_chunk"))?,
                scan: str_option(options, intern!(py, "scan"))?,
                simd: str_option(options, intern!(py, "simd"))?,
                block: int_option(options, intern!(py, "block"))?,
                cancel: if cancel.is_none() { None } else { Some(PyBuffer::get(&cancel)?) },
                kind,
                whole: if whole { Some(word_chars(options)?) } else { None },
            })
        }

        /// The matches to keep of the candidates.
        fn choice(&self) -> Choice<'_> {
            Choice { whole: self.whole.as_deref(), kind: self.kind }
        }

        /// The core's options, borrowing the cancel flag.
        fn core(&self) -> PyResult<Options<'_>> {
            let scan: Scan = self.scan.parse().map_err(to_pyerr)?;
            let simd: Simd = self.simd.parse().map_err(to_pyerr)?;
            let threads = usize::try_from(self.threads).unwrap_or(usize::MAX); // the core rejects > MAX_THREADS
            let mut opts = Options::default().threads(threads).min_chunk(self.min_chunk).scan(scan).simd(simd);
            if self.block != 0 {
                opts = opts.block_size(usize::try_from(self.block).unwrap_or(usize::MAX));
            }
            opts.cancel = cancel_flag(&self.cancel)?;
            Ok(opts)
        }
    }

    /// Code points in the table of word characters (``kmpsearch._wordchars.TABLE``).
    const WORD_CHARS: usize = 0x11_0000;

    /// ``options.word_chars``: ``bytes`` of one byte per code point, borrowed (no copy).
    fn word_chars(options: &Bound<'_, PyAny>) -> PyResult<PyBackedBytes> {
        let table = options.getattr(intern!(options.py(), "word_chars"))?;
        match table.cast_into::<PyBytes>() {
            Ok(table) if table.as_bytes().len() == WORD_CHARS => Ok(PyBackedBytes::from(table)),
            _ => Err(PyValueError::new_err(
                "whole words need word_chars: bytes of 0x110000 (kmpsearch._wordchars.TABLE)",
            )),
        }
    }

    /// The first byte of the cancel flag (the Python layer's ``bytearray(1)``) as an atomic.
    ///
    /// The byte is written by another Python thread while the search runs; the search only
    /// loads it (relaxed). `buf` keeps the export alive (a bytearray with an export cannot be
    /// resized), so the reference is valid while `buf` is.
    fn cancel_flag(buf: &Option<PyBuffer<u8>>) -> PyResult<Option<&AtomicU8>> {
        let Some(buf) = buf else { return Ok(None) };
        if buf.item_count() < 1 {
            return Err(PyValueError::new_err("cancel must be a buffer of at least one byte"));
        }
        let ptr = buf.buf_ptr() as *const AtomicU8;
        // SAFETY: AtomicU8 has the size and alignment of u8; the byte lives as long as `buf`.
        Ok(Some(unsafe { &*ptr }))
    }

    /// What a search reads (the contract's ``source``): the caller's buffer, or a
    /// ``FileRange(fd, start, size)`` (any tuple of three ints).
    enum Source {
        Memory(PyBuffer<u8>),
        File { file: ManuallyDrop<File>, start: u64, size: u64 },
    }

    impl Source {
        fn extract(source: &Bound<'_, PyAny>) -> PyResult<Source> {
            let Ok(range) = source.cast::<PyTuple>() else {
                return Ok(Source::Memory(PyBuffer::get(source)?));
            };
            let (fd, start, size): (i64, i64, i64) = range.extract()?;
            let (Ok(start), Ok(size)) = (u64::try_from(start), u64::try_from(size)) else {
                return Err(PyValueError::new_err("a file range's start and size must be >= 0"));
            };
            if start.checked_add(size).is_none_or(|end| end > i64::MAX as u64) {
                return Err(PyValueError::new_err("a file range's start + size must be at most 2**63-1"));
            }
            Ok(Source::File { file: borrow_fd(fd)?, start, size })
        }

        /// The bytes to search, as the core reads them.
        fn hay(&self) -> PyResult<Hay<'_>> {
            match self {
                // SAFETY: see bytes_of; `self` holds the export for the search.
                Source::Memory(buf) => Ok(Hay::Memory(unsafe { bytes_of(buf)? })),
                Source::File { file, start, size } => Ok(Hay::File(FileRange { file, start: *start, size: *size })),
            }
        }
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
        if buf.item_count() == 0 {
            return Ok(&[]);
        }
        match buf.as_slice_ptr() {
            Some(ptr) => Ok(unsafe { ptr.as_ref() }),
            None => Err(PyTypeError::new_err("the buffer must be C-contiguous")),
        }
    }

    /// Borrow `fd` as a `File` that is never closed here; not a descriptor: OSError(EBADF).
    fn borrow_fd(fd: i64) -> PyResult<ManuallyDrop<File>> {
        #[cfg(unix)]
        {
            use std::os::fd::FromRawFd;
            let Some(fd) = i32::try_from(fd).ok().filter(|&fd| fd >= 0) else {
                return Err(io_error(&io::Error::from_raw_os_error(EBADF)));
            };
            // SAFETY: ManuallyDrop: the File never closes the caller's descriptor; a closed
            // or invalid descriptor only makes pread fail with EBADF.
            Ok(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
        }
        #[cfg(not(unix))]
        {
            let _ = fd;
            Err(PyOSError::new_err("file descriptor searches need a Unix system"))
        }
    }

    /// "Bad file descriptor" (9 on every Unix).
    #[cfg(unix)]
    const EBADF: i32 = 9;

    /// Bytes ``[start, start + size)`` of a file, whose offset 0 (for the core) is `start`.
    struct FileRange<'a> {
        file: &'a File,
        start: u64,
        size: u64,
    }

    impl kmpsearch_core::ReadAt for FileRange<'_> {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
            let at = self.start.checked_add(offset).ok_or_else(|| io::Error::from_raw_os_error(22))?;
            kmpsearch_core::ReadAt::read_at(self.file, buf, at)
        }
    }

    /// The bytes a search reads.
    enum Hay<'a> {
        Memory(&'a [u8]),
        File(FileRange<'a>),
    }

    impl Hay<'_> {
        /// What the core's offsets are relative to (a file range's start).
        fn base(&self) -> u64 {
            match self {
                Hay::Memory(_) => 0,
                Hay::File(range) => range.start,
            }
        }
    }

    // --- the searches, written once for both compiled objects -------------------------------

    /// The searches of a core object over a [`Hay`].
    trait Searches: Sync {
        type Match: Candidate + Send + Sync;
        fn count(&self, hay: &Hay, opts: &Options) -> Result<u64, Error>;
        /// The number of matches of each word (a pattern: one).
        fn each(&self, hay: &Hay, opts: &Options) -> Result<Vec<u64>, Error>;
        /// Every match, sorted, as one vector per chunk of the plan (in order).
        fn matches(&self, hay: &Hay, opts: &Options) -> Result<Vec<Vec<Self::Match>>, Error>;
        /// The words' lengths in bytes, by word index.
        fn lengths(&self) -> Result<Vec<usize>, Error>;
        /// A batch of whole files (see [`FileBatch`]).
        fn files(
            &self,
            paths: &[&Path],
            max_size: u64,
            want: BatchWant,
            opts: &Options,
        ) -> Result<Batch<Self::Match>, Error>;
    }

    impl Searches for CorePattern {
        type Match = u64;
        fn count(&self, hay: &Hay, opts: &Options) -> Result<u64, Error> {
            match hay {
                Hay::Memory(bytes) => self.count(bytes, opts),
                Hay::File(range) => self.count_read_at(range, range.size, opts),
            }
        }
        fn each(&self, hay: &Hay, opts: &Options) -> Result<Vec<u64>, Error> {
            Ok(vec![Searches::count(self, hay, opts)?])
        }
        fn lengths(&self) -> Result<Vec<usize>, Error> {
            Ok(vec![self.needle().len()])
        }
        fn matches(&self, hay: &Hay, opts: &Options) -> Result<Vec<Vec<u64>>, Error> {
            match hay {
                Hay::Memory(bytes) => self.find_all_parts(bytes, opts),
                Hay::File(range) => self.find_all_parts_read_at(range, range.size, opts),
            }
        }
        fn files(
            &self,
            paths: &[&Path],
            max_size: u64,
            want: BatchWant,
            opts: &Options,
        ) -> Result<Batch<Self::Match>, Error> {
            self.search_files(paths, max_size, want, opts)
        }
    }

    impl Searches for CoreWordSet {
        type Match = (u64, u32);
        fn count(&self, hay: &Hay, opts: &Options) -> Result<u64, Error> {
            match hay {
                Hay::Memory(bytes) => self.count(bytes, opts),
                Hay::File(range) => self.count_read_at(range, range.size, opts),
            }
        }
        fn each(&self, hay: &Hay, opts: &Options) -> Result<Vec<u64>, Error> {
            match hay {
                Hay::Memory(bytes) => self.count_each(bytes, opts),
                Hay::File(range) => self.count_each_read_at(range, range.size, opts),
            }
        }
        fn lengths(&self) -> Result<Vec<usize>, Error> {
            CoreWordSet::lengths(self)
        }
        fn matches(&self, hay: &Hay, opts: &Options) -> Result<Vec<Vec<(u64, u32)>>, Error> {
            match hay {
                Hay::Memory(bytes) => self.find_all_parts(bytes, opts),
                Hay::File(range) => self.find_all_parts_read_at(range, range.size, opts),
            }
        }
        fn files(
            &self,
            paths: &[&Path],
            max_size: u64,
            want: BatchWant,
            opts: &Options,
        ) -> Result<Batch<Self::Match>, Error> {
            self.search_files(paths, max_size, want, opts)
        }
    }

    /// What a search found, before it becomes Python objects.
    enum Found<M> {
        Count(u64),
        Each(Vec<u64>),
        Matches(Vec<Vec<M>>),
    }

    /// ``search(source, want, options)`` of a compiled object: the arguments read, the
    /// search run detached, the buffer released, then the result made (arrays written in
    /// place, see [`array_of`]).
    fn search<'py, C: Searches>(
        py: Python<'py>,
        core: &C,
        source: &Bound<'py, PyAny>,
        want: &Bound<'py, PyAny>,
        options: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let want = Want::extract(want)?;
        let options = SearchOptions::extract(options)?;
        let opts = options.core()?;
        let choice = options.choice();
        if let Ok(batch) = source.cast::<PyTuple>() {
            if !choice.keeps_all() {
                return Err(PyValueError::new_err(
                    "whole words and match kinds are chosen in memory only (not a FileRange or FileBatch)",
                ));
            }
            if batch.len() == 2 {
                return search_files(py, core, &FileBatch::extract(batch)?, want, &opts);
            }
        }
        let source = Source::extract(source)?;
        let (found, base) = {
            let hay = source.hay()?;
            let found = detached(py, || {
                if !choice.keeps_all() {
                    return chosen(core, &hay, &opts, choice, want);
                }
                Ok(match want {
                    Want::Count => Found::Count(Searches::count(core, &hay, &opts)?),
                    Want::Each => Found::Each(core.each(&hay, &opts)?),
                    Want::Offsets | Want::Pairs => Found::Matches(core.matches(&hay, &opts)?),
                })
            })?;
            (found, hay.base())
        };
        drop(source);
        match found {
            Found::Count(n) => n.into_bound_py_any(py),
            Found::Each(counts) => array_of(py, counts.len(), counts.iter().map(|&c| c as i64), opts.cancel),
            Found::Matches(parts) => {
                let n = parts.iter().map(Vec::len).sum();
                let all = || parts.iter().flatten();
                // offsets < 2**63 (start + size is); word indices < 2**31
                let offsets = array_of(py, n, all().map(|m| (m.offset() + base) as i64), opts.cancel)?;
                if let Want::Offsets = want {
                    return Ok(offsets);
                }
                let index = array_of(py, n, all().map(|m| m.index() as i32), opts.cancel)?;
                Ok(PyTuple::new(py, [offsets, index])?.into_any())
            }
        }
    }

    /// The search with match semantics (``options.whole``, ``options.kind``) of memory: the
    /// candidates (every match, as for ``"pairs"``), then the chosen ones of them
    /// ([`choose`]: one pass in order, compacting the chunks' lists in place).
    fn chosen<C: Searches>(
        core: &C,
        hay: &Hay,
        opts: &Options,
        choice: Choice,
        want: Want,
    ) -> Result<Found<C::Match>, Error> {
        let Hay::Memory(data) = hay else {
            return Err(Error::InvalidArgument("whole words and match kinds are chosen in memory only"));
        };
        let lengths = core.lengths()?;
        let mut parts = core.matches(hay, opts)?;
        let kept = choose(data, &lengths, choice, &mut parts, opts.cancel)?;
        Ok(match want {
            Want::Count => Found::Count(kept),
            Want::Each => Found::Each(kmpsearch_core::choose::count_each(&parts, lengths.len())?),
            Want::Offsets | Want::Pairs => Found::Matches(parts),
        })
    }

    /// A ``FileBatch(paths, max_size)`` (any pair of an iterable of bytes and an int): the
    /// paths held as bytes objects, whose contents the search borrows.
    struct FileBatch<'py> {
        paths: Vec<Bound<'py, PyBytes>>,
        max_size: u64,
    }

    impl<'py> FileBatch<'py> {
        fn extract(batch: &Bound<'py, PyTuple>) -> PyResult<FileBatch<'py>> {
            let items = batch.get_item(0)?;
            let max_size = batch
                .get_item(1)?
                .extract::<u64>()
                .map_err(|_| PyValueError::new_err("a file batch's max_size must be an int in 0..2**64"))?;
            let mut paths = Vec::new();
            paths.try_reserve_exact(items.len().unwrap_or(0)).map_err(|_| PyMemoryError::new_err("out of memory"))?;
            for item in items.try_iter()? {
                let path = item?
                    .cast_into::<PyBytes>()
                    .map_err(|_| PyTypeError::new_err("a file batch's paths must be bytes"))?;
                paths.try_reserve(1).map_err(|_| PyMemoryError::new_err("out of memory"))?;
                paths.push(path);
            }
            Ok(FileBatch { paths, max_size })
        }
    }

    /// A path's bytes as the system takes them.
    #[cfg(unix)]
    fn path_of(bytes: &[u8]) -> PyResult<&Path> {
        use std::os::unix::ffi::OsStrExt;
        Ok(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }

    #[cfg(not(unix))]
    fn path_of(bytes: &[u8]) -> PyResult<&Path> {
        std::str::from_utf8(bytes).map(Path::new).map_err(|_| PyValueError::new_err("a path must be UTF-8 here"))
    }

    /// ``search(FileBatch, want, options)``: ``(status, found)`` as the core contract says
    /// (the files searched detached from the interpreter, then the arrays written in place).
    fn search_files<'py, C: Searches>(
        py: Python<'py>,
        core: &C,
        batch: &FileBatch<'py>,
        want: Want,
        opts: &Options,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut paths: Vec<&Path> = Vec::new();
        paths.try_reserve_exact(batch.paths.len()).map_err(|_| PyMemoryError::new_err("out of memory"))?;
        for p in &batch.paths {
            paths.push(path_of(p.as_bytes())?);
        }
        let core_want = match want {
            Want::Count => BatchWant::Count,
            Want::Each => BatchWant::Each,
            Want::Offsets | Want::Pairs => BatchWant::Matches,
        };
        let max_size = batch.max_size;
        let Batch { status, found } = detached(py, || core.files(&paths, max_size, core_want, opts))?;
        let status = array_of(py, status.len(), status.iter().copied(), opts.cancel)?;
        let found = match found {
            BatchFound::Counts(counts) => array_of(py, counts.len(), counts.iter().map(|&c| c as i64), opts.cancel)?,
            BatchFound::Matches { bounds, matches } => {
                let bounds = array_of(py, bounds.len(), bounds.iter().map(|&b| b as i64), opts.cancel)?;
                // offsets < 2**63 (a file's size is); word indices < 2**31
                let offsets = array_of(py, matches.len(), matches.iter().map(|m| m.offset() as i64), opts.cancel)?;
                if let Want::Offsets = want {
                    PyTuple::new(py, [bounds, offsets])?.into_any()
                } else {
                    let index = array_of(py, matches.len(), matches.iter().map(|m| m.index() as i32), opts.cancel)?;
                    PyTuple::new(py, [bounds, offsets, index])?.into_any()
                }
            }
        };
        Ok(PyTuple::new(py, [status, found])?.into_any())
    }

    /// Run a search detached from the interpreter. A panic would be a bug (the core does
    /// not panic on any input); as a last resort it becomes a RuntimeError rather than
    /// crossing into Python.
    fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error> + Send) -> PyResult<T> {
        py.detach(|| catch_unwind(AssertUnwindSafe(f)))
            .unwrap_or(Err(Error::Internal("panic in the search")))
            .map_err(to_pyerr)
    }

    // --- result arrays ------------------------------------------------------------------------

    /// An item type of the result arrays: its ``array`` type code.
    trait Item: Copy + Send {
        const CODE: &'static str;
    }

    impl Item for i64 {
        const CODE: &'static str = "q";
    }

    impl Item for i32 {
        const CODE: &'static str = "i";
    }

    /// ``array.array`` (imported once).
    fn array_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
        static ARRAY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
        ARRAY.import(py, "array", "array")
    }

    /// CPython's ``array.array`` object (Modules/arraymodule.c: ``arrayobject``), the layout
    /// Cython's ``cpython.array`` relies on too. Used only after [`array_layout_ok`] has
    /// checked it against the public ``buffer_info()`` in this interpreter.
    #[repr(C)]
    struct ArrayObject {
        ob_base: ffi::PyVarObject,
        ob_item: *mut std::os::raw::c_char,
        allocated: ffi::Py_ssize_t,
        ob_descr: *const std::os::raw::c_void,
        weakreflist: *mut ffi::PyObject,
        ob_exports: ffi::Py_ssize_t,
    }

    /// Whether ``array.array`` objects have the layout of [`ArrayObject`] here: a probe
    /// ``array(code, [7, 8, 9])`` of each type code must show its ``buffer_info()``
    /// (address, length) there. Probed once per process (a race probes twice).
    fn array_layout_ok(py: Python<'_>) -> PyResult<bool> {
        static KNOWN: AtomicU8 = AtomicU8::new(0); // 0: not probed, 1: the layout, 2: another
        match KNOWN.load(Ordering::Relaxed) {
            1 => return Ok(true),
            2 => return Ok(false),
            _ => {}
        }
        let mut ok = true;
        for code in [i64::CODE, i32::CODE] {
            let probe = array_type(py)?.call1((code, [7, 8, 9]))?;
            let (addr, len): (usize, isize) = probe.call_method0("buffer_info")?.extract()?;
            let raw = probe.as_ptr() as *const ArrayObject;
            // SAFETY: reads of fields an array object has (checked against what it says of itself)
            ok &= unsafe {
                len == 3
                    && (*raw).ob_base.ob_size == 3
                    && (*raw).ob_item as usize == addr
                    && (*raw).allocated >= 3
                    && (*raw).ob_exports == 0
            };
        }
        KNOWN.store(if ok { 1 } else { 2 }, Ordering::Relaxed);
        Ok(ok)
    }

    /// Items written between two looks at the cancel flag (a few ms).
    const FILL_SLICE: usize = 1 << 20;

    /// Write the `out.len()` `items` into `out`, a slice of [`FILL_SLICE`] at a time, looking
    /// at `cancel` before each but the first (a set flag: [`Error::Cancelled`]); detached
    /// from the interpreter when the result is big (other Python threads run meanwhile, the
    /// main thread's Ctrl-C handler among them).
    fn fill<T: Item>(
        py: Python<'_>,
        out: &mut [MaybeUninit<T>],
        mut items: impl Iterator<Item = T> + Send,
        cancel: Option<&AtomicU8>,
    ) -> Result<(), Error> {
        let (n, big) = (out.len(), std::mem::size_of_val(out) >= HUGE_FROM);
        let mut write = || {
            catch_unwind(AssertUnwindSafe(|| {
                let mut written = 0;
                for (s, slice) in out.chunks_mut(FILL_SLICE).enumerate() {
                    if s > 0 && cancel.is_some_and(|flag| flag.load(Ordering::Relaxed) != 0) {
                        return Err(Error::Cancelled);
                    }
                    written += slice.iter_mut().zip(&mut items).map(|(slot, x)| slot.write(x)).count();
                }
                if written == n {
                    Ok(())
                } else {
                    Err(Error::Internal("a result array was not filled"))
                }
            }))
            .unwrap_or(Err(Error::Internal("panic writing a result array")))
        };
        if big {
            py.detach(write)
        } else {
            write()
        }
    }

    /// A new ``array(T::CODE)`` of the `n` `items` (written as [`fill`] does: a set `cancel`
    /// flag stops it with KeyboardInterrupt).
    ///
    /// The array is given a buffer allocated for it (``PyMem_Malloc``, the allocator it
    /// frees with), advised huge pages from [`HUGE_FROM`] bytes up before the first write,
    /// and the items are written there directly: one pass, no copy (rust/README.md: the page
    /// faults this saves). Where the array's layout is not the known one (see
    /// [`array_layout_ok`]), the items go to a vector first, then into the array by
    /// ``frombytes``.
    fn array_of<'py, T: Item>(
        py: Python<'py>,
        n: usize,
        items: impl Iterator<Item = T> + Send,
        cancel: Option<&AtomicU8>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let arr = array_type(py)?.call1((T::CODE,))?;
        if n == 0 {
            return Ok(arr);
        }
        let bytes = n.checked_mul(std::mem::size_of::<T>()).ok_or_else(|| PyMemoryError::new_err("array too long"))?;
        let len = ffi::Py_ssize_t::try_from(n).map_err(|_| PyMemoryError::new_err("array too long"))?;
        let raw = arr.as_ptr() as *mut ArrayObject;
        // SAFETY: reads of a fresh empty array of the checked layout
        let fresh = || unsafe { (*raw).ob_item.is_null() && (*raw).allocated == 0 && (*raw).ob_exports == 0 };
        if cfg!(target_os = "linux") && array_layout_ok(py)? && fresh() {
            // SAFETY: PyMem_Malloc with an attached thread; on success a block of `bytes`
            // bytes aligned for any item type, not yet seen by anyone
            let p = unsafe { ffi::PyMem_Malloc(bytes) } as *mut MaybeUninit<T>;
            if p.is_null() {
                return Err(PyMemoryError::new_err("out of memory"));
            }
            if bytes >= HUGE_FROM {
                advise_huge(p.cast(), bytes);
            }
            // SAFETY: `n` items of the block, each written below before the array shows them
            let out = unsafe { std::slice::from_raw_parts_mut(p, n) };
            if let Err(err) = fill(py, out, items, cancel) {
                // SAFETY: the block is not the array's
                unsafe { ffi::PyMem_Free(p.cast()) };
                return Err(to_pyerr(err));
            }
            // SAFETY: the array is fresh (no buffer, no export): it takes the block, whose
            // `n` items are written, and frees it with PyMem_Free
            unsafe {
                (*raw).ob_item = p.cast();
                (*raw).allocated = len;
                (*raw).ob_base.ob_size = len;
            }
            return Ok(arr);
        }
        let mut staged: Vec<T> = Vec::new();
        staged.try_reserve_exact(n).map_err(|_| PyMemoryError::new_err("out of memory"))?;
        let out = staged.spare_capacity_mut().get_mut(..n).ok_or_else(|| PyMemoryError::new_err("out of memory"))?;
        fill(py, out, items, cancel).map_err(to_pyerr)?;
        // SAFETY: the first `n` items were written just above
        unsafe { staged.set_len(n) };
        // SAFETY: a read-only memoryview over `staged`, which outlives it (released below)
        let view = unsafe {
            let p = ffi::PyMemoryView_FromMemory(
                staged.as_ptr() as *mut std::os::raw::c_char,
                bytes as ffi::Py_ssize_t,
                ffi::PyBUF_READ,
            );
            if p.is_null() {
                return Err(PyErr::fetch(py));
            }
            Bound::from_owned_ptr(py, p)
        };
        let done = arr.call_method1("frombytes", (&view,));
        view.call_method0("release")?;
        done.map(|_| arr)
    }

    // --- the core contract -----------------------------------------------------------

    /// A compiled pattern (immutable, thread-safe): ``compile_pattern(needle)``.
    #[pyclass(frozen, module = "kmpsearch_rust")]
    struct Pattern {
        inner: CorePattern,
    }

    #[pymethods]
    impl Pattern {
        /// ``search(source, want, options)``: the core contract's one search (see
        /// ``kmpsearch._contract``); a pattern's ``"each"`` has one entry, its ``"pairs"``
        /// word indices are all 0.
        #[pyo3(signature = (source, want, options, /))]
        fn search<'py>(
            &self,
            py: Python<'py>,
            source: &Bound<'py, PyAny>,
            want: &Bound<'py, PyAny>,
            options: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyAny>> {
            search(py, &self.inner, source, want, options)
        }

        /// The pattern's bytes.
        #[getter]
        fn needle<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
            pyo3::types::PyBytes::new(py, self.inner.needle())
        }

        /// Bytes this pattern holds (the needle; its failure table once a search built it).
        #[getter]
        fn memory_bytes(&self) -> usize {
            self.inner.memory_bytes()
        }

        fn __repr__(&self) -> String {
            format!("<kmpsearch_rust.Pattern of {} bytes>", self.inner.needle().len())
        }
    }

    /// A compiled word set (immutable, thread-safe): ``compile_words(words, ignore_case)``.
    #[pyclass(frozen, module = "kmpsearch_rust")]
    struct WordSet {
        inner: CoreWordSet,
    }

    #[pymethods]
    impl WordSet {
        /// ``search(source, want, options)``: the core contract's one search (see
        /// ``kmpsearch._contract``).
        #[pyo3(signature = (source, want, options, /))]
        fn search<'py>(
            &self,
            py: Python<'py>,
            source: &Bound<'py, PyAny>,
            want: &Bound<'py, PyAny>,
            options: &Bound<'py, PyAny>,
        ) -> PyResult<Bound<'py, PyAny>> {
            search(py, &self.inner, source, want, options)
        }

        /// Bytes the compiled set holds: words, start filter, and the Aho-Corasick
        /// automaton once built (the first textbook search, or a fast-scan fallback,
        /// builds it; ``build_automaton()`` forces it).
        #[getter]
        fn memory_bytes(&self) -> usize {
            self.inner.memory_bytes()
        }

        /// Whether ASCII letters match either case.
        #[getter]
        fn ignore_case(&self) -> bool {
            self.inner.ignore_case()
        }

        /// Length of the longest word.
        #[getter]
        fn longest(&self) -> usize {
            self.inner.longest()
        }

        /// Build the Aho-Corasick automaton now (normally built when first needed).
        fn build_automaton(&self, py: Python<'_>) -> PyResult<()> {
            detached(py, || self.inner.automaton().map(|_| ()))
        }

        /// What the set holds, as a dict (for benchmarks).
        fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
            let s = self.inner.stats();
            let d = pyo3::types::PyDict::new(py);
            d.set_item("words", s.words)?;
            d.set_item("word_bytes", s.word_bytes)?;
            d.set_item("automaton_bytes", s.automaton_bytes)?;
            d.set_item("automaton_built", self.inner.automaton_built())?;
            d.set_item("filter_bytes", s.filter_bytes)?;
            d.set_item("bitmap_bits", s.bitmap_bits)?;
            d.set_item("prefix_len", s.prefix_len)?;
            d.set_item("stride", s.stride)?;
            d.set_item("teddy", s.teddy)?;
            Ok(d)
        }

        fn __len__(&self) -> usize {
            self.inner.len()
        }

        fn __repr__(&self) -> String {
            format!(
                "<kmpsearch_rust.WordSet of {} words{}>",
                self.inner.len(),
                if self.inner.ignore_case() { ", ignore_case" } else { "" }
            )
        }
    }

    /// Compile ``needle`` (non-empty bytes-like; copied).
    #[pyfunction]
    #[pyo3(signature = (needle, /))]
    fn compile_pattern(needle: PyBuffer<u8>) -> PyResult<Pattern> {
        // SAFETY: see bytes_of; copied before `needle` is released.
        let bytes = unsafe { bytes_of(&needle)? };
        Ok(Pattern { inner: CorePattern::new(bytes).map_err(to_pyerr)? })
    }

    /// Compile ``words`` (a list of at least one non-empty bytes, distinct -- after ASCII
    /// case folding when ``ignore_case``); match indices refer to positions in the list.
    #[pyfunction]
    #[pyo3(signature = (words, ignore_case, /))]
    fn compile_words(py: Python<'_>, words: &Bound<'_, PyList>, ignore_case: bool) -> PyResult<WordSet> {
        let mut held: Vec<PyBackedBytes> = Vec::new();
        held.try_reserve_exact(words.len()).map_err(|_| PyMemoryError::new_err("out of memory"))?;
        for w in words.iter() {
            held.push(w.extract::<PyBackedBytes>().map_err(|_| PyTypeError::new_err("words must be bytes"))?);
        }
        let inner = detached(py, || {
            let mut slices: Vec<&[u8]> = Vec::new();
            slices.try_reserve_exact(held.len())?;
            slices.extend(held.iter().map(|b| &**b));
            CoreWordSet::new(&slices, ignore_case)
        })?;
        Ok(WordSet { inner })
    }

    /// The chunk plan this core's searches use: ``[(scan_start, scan_end), ...]`` for
    /// ``n`` bytes and a pattern of ``m`` bytes (see ``kmpsearch._plan``).
    #[pyfunction]
    #[pyo3(signature = (n, m, threads, min_chunk, /))]
    fn plan<'py>(py: Python<'py>, n: u64, m: u64, threads: usize, min_chunk: u64) -> PyResult<Bound<'py, PyList>> {
        let chunks = kmpsearch_core::plan_chunks(n, m, threads, min_chunk).map_err(to_pyerr)?;
        PyList::new(py, chunks.iter().map(|r| (r.start, r.end)))
    }

    /// How many helper threads the shared search pool has in this process (0: none yet).
    #[pyfunction]
    fn pool_threads() -> usize {
        kmpsearch_core::pool_threads()
    }
}
