//! `kmpsearch_rust`: the Python extension module of kmpsearch's Rust backend.
//!
//! A thin PyO3 layer over [`kmpsearch_core`] giving the *core contract* that
//! `kmpsearch._frontend` calls (`compile_pattern`, `compile_words`, `plan`, and the
//! frozen, thread-safe compiled objects). It borrows the caller's buffer without copying
//! it (the buffer protocol), detaches from the interpreter for the whole search (other
//! Python threads run meanwhile; the module declares `gil_used = false`, so it loads on
//! free-threaded builds without re-enabling the GIL), turns the core's errors into Python
//! exceptions, and builds the result lists with fallible allocations (MemoryError).
//! Argument policy (str handling, `threads=None`, de-duplication, ...) lives in the
//! frontend.

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
    use std::mem::ManuallyDrop;
    use std::sync::atomic::{AtomicU8, Ordering};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use kmpsearch_core::{
        advise_huge, Error, Options, Pattern as CorePattern, Scan, Simd, WordSet as CoreWordSet, HUGE_FROM,
    };
    use pyo3::buffer::PyBuffer;
    use pyo3::exceptions::{
        PyKeyboardInterrupt, PyMemoryError, PyOSError, PyRuntimeError, PyTypeError, PyValueError,
    };
    use pyo3::ffi;
    use pyo3::prelude::*;
    use pyo3::pybacked::PyBackedBytes;
    use pyo3::types::PyList;

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

    /// The search options; `flag` is the cancel flag's byte (see [`cancel_flag`]) and
    /// `block` the private `_block` (0: the core's default).
    fn options<'a>(
        threads: usize,
        min_chunk: u64,
        scan: &str,
        simd: &str,
        flag: Option<&'a AtomicU8>,
        block: usize,
    ) -> PyResult<Options<'a>> {
        let scan: Scan = scan.parse().map_err(to_pyerr)?;
        let simd: Simd = simd.parse().map_err(to_pyerr)?;
        let mut opts = Options::default().threads(threads).min_chunk(min_chunk).scan(scan).simd(simd);
        if block != 0 {
            opts = opts.block_size(block);
        }
        opts.cancel = flag;
        Ok(opts)
    }

    /// The first byte of the cancel flag (the frontend's ``bytearray(1)``) as an atomic.
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

    /// A new, empty ``array.array(code)``.
    fn new_array<'py>(py: Python<'py>, code: &str) -> PyResult<Bound<'py, PyAny>> {
        py.import("array")?.getattr("array")?.call1((code,))
    }

    /// Append a copy of `bytes` to the array `arr` (``frombytes`` of a memoryview over the
    /// Rust memory, released before returning; the array grows in place). One copy.
    fn append_bytes(py: Python<'_>, arr: &Bound<'_, PyAny>, bytes: &[u8]) -> PyResult<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        let len = ffi::Py_ssize_t::try_from(bytes.len()).map_err(|_| PyMemoryError::new_err("array too long"))?;
        // SAFETY: a read-only memoryview over `bytes`, which outlives it (released below).
        let view = unsafe {
            let p = ffi::PyMemoryView_FromMemory(bytes.as_ptr() as *mut std::os::raw::c_char, len, ffi::PyBUF_READ);
            if p.is_null() {
                return Err(PyErr::fetch(py));
            }
            Bound::from_owned_ptr(py, p)
        };
        let done = arr.call_method1("frombytes", (&view,));
        view.call_method0("release")?;
        done.map(|_| ())
    }

    /// The bytes of `v` (offsets < 2**63: the bytes of the same i64s).
    fn u64_bytes(v: &[u64]) -> &[u8] {
        // SAFETY: u64 has no padding and any byte is a valid u8.
        unsafe { std::slice::from_raw_parts(v.as_ptr() as *const u8, std::mem::size_of_val(v)) }
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
    /// ``array(code, [7, 8, 9])`` must show its ``buffer_info()`` (address, length) there.
    fn array_layout_ok(py: Python<'_>, code: &str) -> PyResult<bool> {
        let probe = py.import("array")?.getattr("array")?.call1((code, [7, 8, 9]))?;
        let (addr, len): (usize, isize) = probe.call_method0("buffer_info")?.extract()?;
        // SAFETY: reads of fields an array object has (checked against what it says of itself)
        let raw = probe.as_ptr() as *const ArrayObject;
        Ok(unsafe {
            len == 3
                && (*raw).ob_base.ob_size == 3
                && (*raw).ob_item as usize == addr
                && (*raw).allocated >= 3
                && (*raw).ob_exports == 0
        })
    }

    /// A new ``array(code)`` of `n` items whose bytes `fill` writes, in memory allocated for
    /// it (``PyMem_Malloc``, as the array's own) and advised huge pages before the first
    /// write: no copy through ``frombytes`` and ~60 page faults instead of ~31,000 for the
    /// 126 MB of 15.8 M offsets (~60-150 ms here). `None` below `min_bytes` or if the
    /// layout check fails: the caller then appends with ``frombytes``.
    fn filled_array<'py>(
        py: Python<'py>,
        code: &str,
        item: usize,
        n: usize,
        min_bytes: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let bytes = n.checked_mul(item).ok_or_else(|| PyMemoryError::new_err("array too long"))?;
        if bytes == 0 || bytes < min_bytes || !cfg!(target_os = "linux") || !array_layout_ok(py, code)? {
            return Ok(None);
        }
        let len = ffi::Py_ssize_t::try_from(n).map_err(|_| PyMemoryError::new_err("array too long"))?;
        let arr = new_array(py, code)?;
        let raw = arr.as_ptr() as *mut ArrayObject;
        // SAFETY: a fresh empty array (no buffer, no export) of the checked layout; the
        // buffer comes from the allocator the array frees with (PyMem_Free), holds `n`
        // items, every byte written by `fill` before the array is seen by anyone
        unsafe {
            if !(*raw).ob_item.is_null() || (*raw).allocated != 0 || (*raw).ob_exports != 0 {
                return Ok(None);
            }
            let p = ffi::PyMem_Malloc(bytes) as *mut u8;
            if p.is_null() {
                return Err(PyMemoryError::new_err("out of memory"));
            }
            advise_huge(p, bytes);
            fill(std::slice::from_raw_parts_mut(p, bytes));
            (*raw).ob_item = p as *mut std::os::raw::c_char;
            (*raw).allocated = len;
            (*raw).ob_base.ob_size = len;
        }
        Ok(Some(arr))
    }

    /// ``array('q')`` from the chunks' offsets: written in place (see [`filled_array`]), or
    /// one ``frombytes`` copy per chunk.
    fn offsets_array<'py>(py: Python<'py>, parts: &[Vec<u64>]) -> PyResult<Bound<'py, PyAny>> {
        let n = parts.iter().map(Vec::len).sum();
        let fill = |out: &mut [u8]| {
            let mut at = 0;
            for part in parts {
                let b = u64_bytes(part);
                out[at..at + b.len()].copy_from_slice(b);
                at += b.len();
            }
        };
        if let Some(arr) = filled_array(py, "q", 8, n, HUGE_FROM, fill)? {
            return Ok(arr);
        }
        let arr = new_array(py, "q")?;
        for part in parts {
            append_bytes(py, &arr, u64_bytes(part))?;
        }
        Ok(arr)
    }

    /// ``(array('q') offsets, array('i') word indices)`` from the chunks' matches: written
    /// in place (see [`filled_array`]), or each chunk split into two buffers, then copied
    /// into the arrays.
    fn pairs_arrays<'py>(py: Python<'py>, parts: &[Vec<(u64, u32)>]) -> PyResult<Bound<'py, PyAny>> {
        let n = parts.iter().map(Vec::len).sum();
        let pairs = || parts.iter().flatten();
        let offs = filled_array(py, "q", 8, n, HUGE_FROM, |out| {
            for (d, &(p, _)) in out.chunks_exact_mut(8).zip(pairs()) {
                d.copy_from_slice(&p.to_ne_bytes());
            }
        })?;
        if let Some(offsets) = offs {
            let ids = filled_array(py, "i", 4, n, 1, |out| {
                for (d, &(_, i)) in out.chunks_exact_mut(4).zip(pairs()) {
                    d.copy_from_slice(&(i as i32).to_ne_bytes()); // word indices < 2**31
                }
            })?;
            if let Some(ids) = ids {
                return Ok(pyo3::types::PyTuple::new(py, [offsets, ids])?.into_any());
            }
        }
        let (offsets, ids) = (new_array(py, "q")?, new_array(py, "i")?);
        let oom = |_| PyMemoryError::new_err("out of memory");
        for part in parts {
            let mut offs: Vec<u64> = Vec::new();
            let mut idx: Vec<u8> = Vec::new();
            offs.try_reserve_exact(part.len()).map_err(oom)?;
            idx.try_reserve_exact(part.len() * 4).map_err(oom)?;
            for &(p, i) in part {
                offs.push(p);
                idx.extend_from_slice(&(i as i32).to_ne_bytes()); // word indices < 2**31
            }
            append_bytes(py, &offsets, u64_bytes(&offs))?;
            append_bytes(py, &ids, &idx)?;
        }
        Ok(pyo3::types::PyTuple::new(py, [offsets, ids])?.into_any())
    }

    /// Run a search detached from the interpreter. A panic would be a bug (the core does
    /// not panic on any input); as a last resort it becomes a RuntimeError rather than
    /// crossing into Python.
    fn detached<T: Send>(py: Python<'_>, f: impl FnOnce() -> Result<T, Error> + Send) -> PyResult<T> {
        py.detach(|| catch_unwind(AssertUnwindSafe(f)))
            .unwrap_or(Err(Error::Internal("panic in the search")))
            .map_err(to_pyerr)
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

    /// Borrow `fd` as a `File` that is never closed here.
    fn borrow_fd(fd: i32) -> PyResult<ManuallyDrop<File>> {
        if fd < 0 {
            return Err(PyValueError::new_err("fd must be a non-negative file descriptor"));
        }
        #[cfg(unix)]
        {
            use std::os::fd::FromRawFd;
            // SAFETY: ManuallyDrop: the File never closes the caller's descriptor; a closed
            // or invalid descriptor only makes pread fail with EBADF.
            Ok(ManuallyDrop::new(unsafe { File::from_raw_fd(fd) }))
        }
        #[cfg(not(unix))]
        {
            Err(PyOSError::new_err("file descriptor searches need a Unix system"))
        }
    }

    // --- result lists, built with fallible allocations ----------------------------------

    fn new_list(py: Python<'_>, len: usize) -> PyResult<Bound<'_, PyList>> {
        let n = ffi::Py_ssize_t::try_from(len).map_err(|_| PyMemoryError::new_err("list too long"))?;
        // SAFETY: PyList_New returns a new reference or NULL with an exception set.
        unsafe {
            let ptr = ffi::PyList_New(n);
            if ptr.is_null() {
                return Err(PyErr::fetch(py));
            }
            Ok(Bound::from_owned_ptr(py, ptr).cast_into_unchecked())
        }
    }

    fn int(py: Python<'_>, v: u64) -> PyResult<*mut ffi::PyObject> {
        // SAFETY: a new reference or NULL with an exception set.
        let p = unsafe { ffi::PyLong_FromUnsignedLongLong(v) };
        if p.is_null() {
            Err(PyErr::fetch(py))
        } else {
            Ok(p)
        }
    }

    fn pair(py: Python<'_>, a: u64, b: u64) -> PyResult<*mut ffi::PyObject> {
        let (x, y) = (int(py, a)?, int(py, b));
        // SAFETY: new references; on failure the ones made are released.
        unsafe {
            let y = match y {
                Ok(y) => y,
                Err(e) => {
                    ffi::Py_DECREF(x);
                    return Err(e);
                }
            };
            let t = ffi::PyTuple_New(2);
            if t.is_null() {
                ffi::Py_DECREF(x);
                ffi::Py_DECREF(y);
                return Err(PyErr::fetch(py));
            }
            ffi::PyTuple_SET_ITEM(t, 0, x);
            ffi::PyTuple_SET_ITEM(t, 1, y);
            Ok(t)
        }
    }

    /// Entries per slice when a result becomes a list (a few ms of holding the GIL each).
    const LIST_SLICE: usize = 1 << 20;

    /// A list from `items` (exact length), each made by `make` (a new reference), a slice
    /// of [`LIST_SLICE`] items at a time. Between slices the thread detaches for a moment
    /// (threads waiting for the GIL run: the frontend's main thread runs its Ctrl-C
    /// handler there), then a set `cancel` flag stops it with the KeyboardInterrupt of a
    /// cancelled scan.
    fn list_of<'py, T: Clone>(
        py: Python<'py>,
        items: &[T],
        cancel: Option<&AtomicU8>,
        make: impl Fn(Python<'py>, T) -> PyResult<*mut ffi::PyObject>,
    ) -> PyResult<Bound<'py, PyList>> {
        let list = new_list(py, items.len())?;
        for (s, slice) in items.chunks(LIST_SLICE).enumerate() {
            if s > 0 {
                py.detach(|| ());
                if cancel.is_some_and(|flag| flag.load(Ordering::Relaxed) != 0) {
                    return Err(to_pyerr(Error::Cancelled)); // `list` goes with its NULL slots
                }
            }
            for (j, x) in slice.iter().enumerate() {
                let obj = make(py, x.clone())?; // on error `list` is released with its NULL slots
                let i = s * LIST_SLICE + j;
                // SAFETY: `list` is new, not shared, with `items.len()` slots; steals `obj`.
                unsafe { ffi::PyList_SET_ITEM(list.as_ptr(), i as ffi::Py_ssize_t, obj) };
            }
        }
        Ok(list)
    }

    /// Bytes ``[start, start + size)`` of a file as a source whose offset 0 is `start`.
    struct FileRange<'a> {
        file: &'a File,
        start: u64,
    }

    impl kmpsearch_core::ReadAt for FileRange<'_> {
        fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
            let at = self.start.checked_add(offset).ok_or_else(|| io::Error::from_raw_os_error(22))?;
            kmpsearch_core::ReadAt::read_at(self.file, buf, at)
        }
    }

    /// A match whose offset can be moved (from a range's to the file's).
    trait Shift {
        fn shift(&mut self, by: u64);
    }

    impl Shift for u64 {
        fn shift(&mut self, by: u64) {
            *self += by;
        }
    }

    impl Shift for (u64, u32) {
        fn shift(&mut self, by: u64) {
            self.0 += by;
        }
    }

    /// The matches of a range, with file offsets.
    fn shifted<T: Shift>(mut found: Vec<T>, by: u64) -> Vec<T> {
        if by != 0 {
            found.iter_mut().for_each(|x| x.shift(by));
        }
        found
    }

    /// The chunks' matches of a range, with file offsets.
    fn shifted_parts<T: Shift>(parts: Vec<Vec<T>>, by: u64) -> Vec<Vec<T>> {
        parts.into_iter().map(|p| shifted(p, by)).collect()
    }

    // --- the search methods, written once -------------------------------------------------

    /// The `#[pymethods]` block of a compiled object: `$extra` (its own items), then one
    /// method per search. Every search method takes the contract's positional arguments
    /// (``buf`` or ``fd, size``, then ``threads, min_chunk, scan, simd``, ``cancel``) and
    /// the private ``_block``; it makes the options, borrows the buffer or the descriptor,
    /// runs `$search` detached from the interpreter with `$core` the core object, the
    /// haystack (a byte slice, or the file's range: a [`FileRange`] from `$start`, of `$len`
    /// bytes, whose offsets the search adds `$start` to) and `$opts` the options, then turns
    /// the result into Python objects with `$make` (`$py`, `$found`) once the buffer is
    /// released; `$make` sees the options too, under the name `$opts` gave them (the
    /// cancel flag: see [`list_of`]).
    macro_rules! search_methods {
        (
            $ty:ident { $($extra:tt)* }
            memory { $( $(#[$mdoc:meta])* fn $mname:ident -> $mret:ty
                = |$mcore:ident, $mhay:ident, $mopts:ident| $msearch:expr,
                  |$mpy:ident, $mfound:ident| $mmake:expr; )* }
            files { $( $(#[$fdoc:meta])* fn $fname:ident -> $fret:ty
                = |$fcore:ident, $ffile:ident, $fstart:ident, $flen:ident, $fopts:ident| $fsearch:expr,
                  |$fpy:ident, $ffound:ident| $fmake:expr; )* }
        ) => {
            #[pymethods]
            impl $ty {
                $($extra)*
                $(
                    $(#[$mdoc])*
                    #[pyo3(signature = (buf, threads, min_chunk, scan, simd, cancel=None, /, *, _block=0))]
                    #[allow(clippy::too_many_arguments)]
                    fn $mname<'py>(
                        &self,
                        py: Python<'py>,
                        buf: PyBuffer<u8>,
                        threads: usize,
                        min_chunk: u64,
                        scan: &str,
                        simd: &str,
                        cancel: Option<PyBuffer<u8>>,
                        _block: usize,
                    ) -> PyResult<$mret> {
                        let opts = options(threads, min_chunk, scan, simd, cancel_flag(&cancel)?, _block)?;
                        // SAFETY: see bytes_of; `buf` outlives the search.
                        let hay = unsafe { bytes_of(&buf)? };
                        let $mcore = &self.inner;
                        let $mopts = &opts;
                        let $mfound = detached(py, || {
                            let $mhay = hay;
                            $msearch
                        })?;
                        drop(buf);
                        let $mpy = py;
                        $mmake
                    }
                )*
                $(
                    $(#[$fdoc])*
                    #[pyo3(signature = (fd, size, threads, min_chunk, scan, simd, cancel=None, /, *, start=0, _block=0))]
                    #[allow(clippy::too_many_arguments)]
                    fn $fname<'py>(
                        &self,
                        py: Python<'py>,
                        fd: i32,
                        size: u64,
                        threads: usize,
                        min_chunk: u64,
                        scan: &str,
                        simd: &str,
                        cancel: Option<PyBuffer<u8>>,
                        start: u64,
                        _block: usize,
                    ) -> PyResult<$fret> {
                        let opts = options(threads, min_chunk, scan, simd, cancel_flag(&cancel)?, _block)?;
                        if start.checked_add(size).is_none_or(|end| end > i64::MAX as u64) {
                            return Err(PyValueError::new_err("start + size must be at most 2**63-1"));
                        }
                        let file = borrow_fd(fd)?;
                        let range = FileRange { file: &file, start };
                        let $fcore = &self.inner;
                        let $fopts = &opts;
                        let $ffound = detached(py, || {
                            let $ffile = &range;
                            let $fstart = start;
                            let $flen = size;
                            $fsearch
                        })?;
                        let $fpy = py;
                        $fmake
                    }
                )*
            }
        };
    }

    // --- the core contract -----------------------------------------------------------

    /// A compiled pattern (immutable, thread-safe): ``compile_pattern(needle)``.
    ///
    /// Methods take every argument positionally: ``count(buf, threads, min_chunk, scan,
    /// simd)``, ``find_all(...)``, ``count_fd(fd, size, threads, min_chunk, scan, simd)``,
    /// ``find_all_fd(...)``.
    #[pyclass(frozen, module = "kmpsearch_rust")]
    struct Pattern {
        inner: CorePattern,
    }

    search_methods! {
        Pattern {
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
        memory {
            /// Number of occurrences in ``buf`` (overlaps included).
            fn count -> u64 = |p, hay, opts| p.count(hay, opts), |_py, n| Ok(n);
            /// Start offsets of every occurrence in ``buf``, ascending.
            fn find_all -> Bound<'py, PyList> = |p, hay, opts| p.find_all(hay, opts), |py, found| list_of(py, &found, opts.cancel, int);
            /// ``find_all`` as an ``array.array('q')`` (no Python ints).
            fn find_array -> Bound<'py, PyAny> = |p, hay, opts| p.find_all_parts(hay, opts), |py, parts| offsets_array(py, &parts);
        }
        files {
            /// Number of occurrences in the bytes ``[start, start + size)`` of the file open on
            /// ``fd`` (read with ``pread``; its position is neither used nor moved; not
            /// closed). Every fd method searches that range; offsets are file offsets.
            fn count_fd -> u64 = |p, file, _start, len, opts| p.count_read_at(file, len, opts), |_py, n| Ok(n);
            /// Byte offsets of every occurrence in the file open on ``fd``, ascending.
            fn find_all_fd -> Bound<'py, PyList> =
                |p, file, start, len, opts| p.find_all_read_at(file, len, opts).map(|v| shifted(v, start)),
                |py, found| list_of(py, &found, opts.cancel, int);
            /// ``find_all_fd`` as an ``array.array('q')``.
            fn find_array_fd -> Bound<'py, PyAny> =
                |p, file, start, len, opts| p.find_all_parts_read_at(file, len, opts).map(|v| shifted_parts(v, start)),
                |py, parts| offsets_array(py, &parts);
        }
    }

    /// A compiled word set (immutable, thread-safe): ``compile_words(words, ignore_case)``.
    ///
    /// Methods take every argument positionally: ``count``, ``count_each``, ``find_all``
    /// ``(buf, threads, min_chunk, scan, simd)`` and ``count_fd``, ``count_each_fd``,
    /// ``find_all_fd`` ``(fd, size, threads, min_chunk, scan, simd)``.
    #[pyclass(frozen, module = "kmpsearch_rust")]
    struct WordSet {
        inner: CoreWordSet,
    }

    search_methods! {
        WordSet {
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
        memory {
            /// Total number of matches in ``buf`` (every word, overlaps included).
            fn count -> u64 = |w, hay, opts| w.count(hay, opts), |_py, n| Ok(n);
            /// Matches of each word in ``buf``: a list of ``len(words)`` counts.
            fn count_each -> Bound<'py, PyList> = |w, hay, opts| w.count_each(hay, opts),
                |py, counts| list_of(py, &counts, opts.cancel, int);
            /// Every match in ``buf`` as ``(start offset, word index)``, sorted.
            fn find_all -> Bound<'py, PyList> = |w, hay, opts| w.find_all(hay, opts),
                |py, found| list_of(py, &found, opts.cancel, |py, (p, i)| pair(py, p, u64::from(i)));
            /// ``find_all`` as ``(array('q') offsets, array('i') word indices)``.
            fn find_array -> Bound<'py, PyAny> = |w, hay, opts| w.find_all_parts(hay, opts),
                |py, parts| pairs_arrays(py, &parts);
        }
        files {
            /// Total number of matches in the bytes ``[start, start + size)`` of the file open
            /// on ``fd`` (every fd method: that range; offsets are file offsets).
            fn count_fd -> u64 = |w, file, _start, len, opts| w.count_read_at(file, len, opts), |_py, n| Ok(n);
            /// Matches of each word in the file open on ``fd``.
            fn count_each_fd -> Bound<'py, PyList> = |w, file, _start, len, opts| w.count_each_read_at(file, len, opts),
                |py, counts| list_of(py, &counts, opts.cancel, int);
            /// Every match in the file open on ``fd`` as ``(start offset, word index)``, sorted.
            fn find_all_fd -> Bound<'py, PyList> =
                |w, file, start, len, opts| w.find_all_read_at(file, len, opts).map(|v| shifted(v, start)),
                |py, found| list_of(py, &found, opts.cancel, |py, (p, i)| pair(py, p, u64::from(i)));
            /// ``find_all_fd`` as ``(array('q') offsets, array('i') word indices)``.
            fn find_array_fd -> Bound<'py, PyAny> =
                |w, file, start, len, opts| w.find_all_parts_read_at(file, len, opts).map(|v| shifted_parts(v, start)),
                |py, parts| pairs_arrays(py, &parts);
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
        list_of(py, &chunks, None, |py, r| pair(py, r.start, r.end))
    }

    /// How many helper threads the shared search pool has in this process (0: none yet).
    #[pyfunction]
    fn pool_threads() -> usize {
        kmpsearch_core::pool_threads()
    }
}
