//! Every occurrence of a byte pattern ([`Pattern`], Knuth-Morris-Pratt) or of many words
//! at once ([`WordSet`], Aho-Corasick), overlaps included, in memory or in a file, split
//! across a reused pool of threads.
//!
//! This is the core of kmpsearch's Rust backend; it knows nothing of Python (the
//! `kmpsearch-py` crate binds it with PyO3).
//!
//! * [`Scan::Textbook`]: the plain automaton reading every byte (KMP for a pattern,
//!   Aho-Corasick for a word set).
//! * [`Scan::Fast`] (default): for a pattern, the KMP automaton jumping ahead, whenever
//!   no partial match is pending, with a SIMD search (memchr's packed pair) of the two
//!   needle bytes rarest in the text (sampled); for a word set,
//!   a filter on the words' first bytes plus exact verification, with a budgeted
//!   fallback to the automaton (see [`WordSet`]). Both stay linear in the input.
//! * Work is split along [`plan_chunks`], the chunk plan every kmpsearch backend follows;
//!   chunk 0 runs on the calling thread and the others on a process-wide pool that is
//!   reused from call to call (see [`pool_threads`] and the `pool` module: size policy,
//!   `fork()`, thread start failure).
//! * Files are read with positioned reads ([`ReadAt`], `pread` on Unix) into one bounded
//!   buffer per thread: memory does not depend on the file's size, nothing is mapped, and
//!   a file that shrinks during the search just ends the scan early (the matches found in
//!   what could be read).
//! * Every allocation whose size depends on the input is fallible ([`Error::OutOfMemory`]),
//!   and nothing here panics on any input.
//!
//! ```
//! use kmpsearch_core::{Options, Pattern, WordSet};
//! let pat = Pattern::new(b"aa").unwrap();
//! assert_eq!(pat.find_all(b"aaaa", &Options::default()).unwrap(), vec![0, 1, 2]);
//! assert_eq!(pat.count(b"aaaa", &Options::default().threads(2).min_chunk(1)).unwrap(), 3);
//! let words = WordSet::new(&[&b"he"[..], b"she", b"hers"], false).unwrap();
//! assert_eq!(words.find_all(b"ushers", &Options::default()).unwrap(), vec![(1, 1), (2, 0), (2, 2)]);
//! ```
#![deny(missing_docs)]

pub mod batch;
pub mod choose;
pub mod filter_rule;
mod lazy;
mod plan;
mod pool;
mod read;
mod skip;
pub mod tuning;
mod words;

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use lazy::Lazy;
use skip::{Skip, Tuning};

pub use batch::{Batch, BatchFound, BatchWant};
pub use choose::{choose, Candidate, Choice, Kind};
pub use plan::{plan_chunks, DEFAULT_MIN_CHUNK};
pub use pool::{pool_threads, MAX_POOL_THREADS};
pub use read::ReadAt;
pub use tuning::{HUGE_FROM, MAX_THREADS};
pub use words::{WordSet, WordSetStats};

use pool::run_chunks;

/// Default size of the per-thread buffer that file searches read into (1 MiB).
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// How the automaton walks the text. Results never depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scan {
    /// The accelerated scan: SIMD skip to the needle's rarest bytes / filter of the
    /// words' starts.
    #[default]
    Fast,
    /// The textbook automaton (KMP, Aho-Corasick) reading every byte.
    Textbook,
}

impl Scan {
    /// The name kmpsearch uses for this scan: `"fast"` or `"textbook"`.
    pub fn name(self) -> &'static str {
        match self {
            Scan::Fast => "fast",
            Scan::Textbook => "textbook",
        }
    }
}

impl std::str::FromStr for Scan {
    type Err = Error;

    /// Parse `"fast"` or `"textbook"`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "fast" => Ok(Scan::Fast),
            "textbook" => Ok(Scan::Textbook),
            _ => Err(Error::InvalidArgument("scan must be \"fast\" or \"textbook\"")),
        }
    }
}

/// The SIMD level of a search's own vector code. Results never depend on it: tests force
/// each level to check that every one of them gives the same answers.
///
/// A forced level the CPU lacks runs the best one below it (as in kmpsearch's C library):
/// [`Simd::Avx2`] on a CPU without AVX2 runs [`Simd::Sse2`], the x86-64 baseline; off
/// x86-64 every level is [`Simd::Scalar`]. What it controls: the single pattern's skip
/// ([`Skip`]: memchr's AVX2 or SSE2 packed-pair finder, or the portable one) and the
/// one-byte pattern's offset blocks. What it cannot control: memchr's own `memchr` /
/// `memchr_iter` (the portable finder's byte search, one-byte counts) and aho-corasick's
/// Teddy pick their SIMD inside those crates, at run time, with no way to force it. In a
/// word set's fast scan: the bitmap filter's AVX2 loop runs at [`Simd::Avx2`] only, and
/// [`Simd::Scalar`] replaces Teddy by the portable bitmap filter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Simd {
    /// The best level this CPU has.
    #[default]
    Auto,
    /// Portable code (and memchr's own dispatch, which cannot be forced).
    Scalar,
    /// SSE2 (x86-64).
    Sse2,
    /// AVX2 (x86-64 with AVX2).
    Avx2,
}

impl Simd {
    /// The name kmpsearch uses for this level: `"auto"`, `"scalar"`, `"sse2"` or `"avx2"`.
    pub fn name(self) -> &'static str {
        match self {
            Simd::Auto => "auto",
            Simd::Scalar => "scalar",
            Simd::Sse2 => "sse2",
            Simd::Avx2 => "avx2",
        }
    }

    /// The level a search asking for this one runs on this CPU: never [`Simd::Auto`];
    /// a level the CPU lacks is lowered to the best one it has below it.
    pub fn resolve(self) -> Simd {
        #[cfg(target_arch = "x86_64")]
        {
            match self {
                Simd::Scalar => Simd::Scalar,
                Simd::Sse2 => Simd::Sse2,
                Simd::Auto | Simd::Avx2 if std::is_x86_feature_detected!("avx2") => Simd::Avx2,
                Simd::Auto | Simd::Avx2 => Simd::Sse2,
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Simd::Scalar
        }
    }
}

impl std::str::FromStr for Simd {
    type Err = Error;

    /// Parse `"auto"`, `"scalar"`, `"sse2"` or `"avx2"`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "auto" => Ok(Simd::Auto),
            "scalar" => Ok(Simd::Scalar),
            "sse2" => Ok(Simd::Sse2),
            "avx2" => Ok(Simd::Avx2),
            _ => Err(Error::InvalidArgument("simd must be \"auto\", \"scalar\", \"sse2\" or \"avx2\"")),
        }
    }
}

/// How a search is run. Results never depend on these settings.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    /// Most threads to use (1..=[`MAX_THREADS`]); the chunk plan may use fewer. Default 1.
    pub threads: usize,
    /// Least number of candidate start positions per chunk (>= 1). Default
    /// [`DEFAULT_MIN_CHUNK`].
    pub min_chunk: u64,
    /// Which scan to run. Default [`Scan::Fast`].
    pub scan: Scan,
    /// Size of each thread's read buffer in file searches (>= 1). Default
    /// [`DEFAULT_BLOCK_SIZE`]. Any pattern length works with any block size. With a
    /// [`Options::cancel`] flag, in-memory searches too go in blocks of this many bytes.
    pub block_size: usize,
    /// A flag another thread sets (to nonzero) to stop the search: every thread of the
    /// search loads it (relaxed) before each block it reads or scans, and the search then
    /// ends with [`Error::Cancelled`]. `None`: not cancellable, memory scanned in one go.
    pub cancel: Option<&'a AtomicU8>,
    /// The SIMD level of the search's own vector code ([`Simd`]; tests force each one).
    /// Default [`Simd::Auto`]. Read by the fast scans of [`Pattern`] and [`WordSet`].
    pub simd: Simd,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            threads: 1,
            min_chunk: DEFAULT_MIN_CHUNK,
            scan: Scan::Fast,
            block_size: DEFAULT_BLOCK_SIZE,
            cancel: None,
            simd: Simd::Auto,
        }
    }
}

impl<'a> Options<'a> {
    /// Set [`Options::cancel`].
    pub fn cancel(mut self, flag: &'a AtomicU8) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// `Err(Cancelled)` once the cancel flag is set.
    #[inline]
    pub(crate) fn check_cancel(&self) -> Result<(), Error> {
        match self.cancel {
            Some(flag) if flag.load(Ordering::Relaxed) != 0 => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    /// Set [`Options::threads`].
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }
    /// Set [`Options::min_chunk`].
    pub fn min_chunk(mut self, min_chunk: u64) -> Self {
        self.min_chunk = min_chunk;
        self
    }
    /// Set [`Options::scan`].
    pub fn scan(mut self, scan: Scan) -> Self {
        self.scan = scan;
        self
    }
    /// Set [`Options::block_size`].
    pub fn block_size(mut self, block_size: usize) -> Self {
        self.block_size = block_size;
        self
    }
    /// Set [`Options::simd`].
    pub fn simd(mut self, simd: Simd) -> Self {
        self.simd = simd;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        if self.threads == 0 || self.threads > MAX_THREADS {
            return Err(Error::InvalidArgument("threads must be in 1..=256"));
        }
        if self.min_chunk == 0 {
            return Err(Error::InvalidArgument("min_chunk must be >= 1"));
        }
        if self.block_size == 0 {
            return Err(Error::InvalidArgument("block_size must be >= 1"));
        }
        Ok(())
    }
}

/// What can go wrong in a search.
#[derive(Debug)]
pub enum Error {
    /// A bad argument: empty pattern or word, zero threads, zero `min_chunk` or `block_size`.
    InvalidArgument(&'static str),
    /// Reading the file failed (the error of the failed read; `raw_os_error` is kept).
    Io(io::Error),
    /// Memory for a table, a buffer or the list of matches could not be allocated.
    OutOfMemory,
    /// A bug: an invariant did not hold (reported instead of panicking).
    Internal(&'static str),
    /// The [`Options::cancel`] flag was set: the search stopped early.
    Cancelled,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(msg) => f.write_str(msg),
            Error::Io(err) => write!(f, "{err}"),
            Error::OutOfMemory => f.write_str("out of memory"),
            Error::Internal(msg) => write!(f, "internal error: {msg}"),
            Error::Cancelled => f.write_str("the search was cancelled"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(err) => Some(err),
            _ => None,
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::Io(err)
    }
}

impl From<std::collections::TryReserveError> for Error {
    fn from(_: std::collections::TryReserveError) -> Self {
        Error::OutOfMemory
    }
}

/// A vector of `len` copies of `value`, or [`Error::OutOfMemory`].
pub(crate) fn try_vec<T: Clone>(len: usize, value: T) -> Result<Vec<T>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)?;
    v.resize(len, value);
    Ok(v)
}

/// The first `len` bytes of `buf`, grown (fallibly, zero-filled) when it is shorter: a read
/// buffer reused from one scan to the next.
pub(crate) fn buffer(buf: &mut Vec<u8>, len: usize) -> Result<&mut [u8], Error> {
    if buf.len() < len {
        buf.try_reserve(len - buf.len())?;
        buf.resize(len, 0);
    }
    buf.get_mut(..len).ok_or(Error::Internal("buffer"))
}

/// Append to a vector, growing it fallibly (doubling); `false` when memory ran out.
#[inline(always)]
pub(crate) fn try_push<T>(v: &mut Vec<T>, x: T) -> bool {
    if v.len() == v.capacity() && !grow(v) {
        return false;
    }
    v.push(x);
    true
}

/// The size of a transparent huge page (x86-64, and arm64 with 4 KiB pages).
const HUGE_PAGE: usize = 2 << 20;

/// Double `v`'s capacity (at least 256 more), fallibly; `false` when memory ran out.
///
/// A big result vector is written once from start to end, and with 4 KiB pages the first
/// touch of each page costs more than the scan that fills it (15.8 M offsets = 126 MB =
/// 31,000 page faults, ~60 ms on a VM). So from [`HUGE_FROM`] up the vector moves to a
/// fresh allocation that the kernel is asked to back with huge pages (THP in "madvise"
/// mode, the usual default, uses them only where asked) before the old elements are moved
/// in: the moves of a doubling vector add up to less than its final size (old and new are
/// held at once while it moves).
#[cold]
#[inline(never)]
fn grow<T>(v: &mut Vec<T>) -> bool {
    let more = v.capacity().max(256);
    let huge = v.capacity().checked_add(more).and_then(|c| c.checked_mul(std::mem::size_of::<T>()));
    if cfg!(target_os = "linux") && huge.is_some_and(|bytes| bytes >= HUGE_FROM) {
        let mut fresh: Vec<T> = Vec::new();
        if fresh.try_reserve_exact(v.capacity() + more).is_ok() {
            advise_huge(fresh.as_mut_ptr().cast(), fresh.capacity() * std::mem::size_of::<T>());
            fresh.append(v);
            *v = fresh;
            return true;
        }
    }
    v.try_reserve(more).is_ok() || v.try_reserve(1).is_ok()
}

/// Bit `k` set where `block[k] == b` (`block` is 64 bytes long).
#[inline(always)]
fn byte_mask64(block: &[u8], b: u8) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        assert!(block.len() >= 64);
        let p = block.as_ptr() as *const __m128i;
        // SAFETY: SSE2 is part of x86_64; the four unaligned loads read block[0..64].
        unsafe {
            let v = _mm_set1_epi8(b as i8);
            let m = |k: usize| _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(p.add(k)), v)) as u16 as u64;
            m(0) | m(1) << 16 | m(2) << 32 | m(3) << 48
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        byte_mask64_scalar(block, b)
    }
}

/// [`byte_mask64`] in portable code (the [`Simd::Scalar`] level).
fn byte_mask64_scalar(block: &[u8], b: u8) -> u64 {
    block[..64].iter().enumerate().fold(0u64, |mask, (k, &c)| mask | u64::from(c == b) << k)
}

/// Ask for transparent huge pages over the whole 2 MiB pages of `[p, p + bytes)` (advice
/// only: nothing depends on it being followed).
pub fn advise_huge(p: *mut u8, bytes: usize) {
    #[cfg(target_os = "linux")]
    {
        let lo = (p as usize).next_multiple_of(HUGE_PAGE);
        let hi = (p as usize).saturating_add(bytes) / HUGE_PAGE * HUGE_PAGE;
        if hi > lo {
            // SAFETY: advice about pages of an allocation this process owns; it changes no
            // contents and no mapping.
            unsafe { libc::madvise(lo as *mut libc::c_void, hi - lo, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (p, bytes);
}

/// Where the matches of a pattern scan go: a count or a list of offsets.
trait Sink {
    /// Whether only the number of matches is wanted (lets one-byte patterns use a
    /// vectorised count).
    const COUNT_ONLY: bool;
    /// Record a match starting at absolute offset `pos`; `false` stops the scan
    /// (allocation failure).
    fn hit(&mut self, pos: u64) -> bool;
    /// Record `n` matches whose offsets are not wanted (only when `COUNT_ONLY`).
    fn add(&mut self, n: u64);
}

struct Counter(u64);

impl Sink for Counter {
    const COUNT_ONLY: bool = true;
    #[inline(always)]
    fn hit(&mut self, _pos: u64) -> bool {
        self.0 += 1;
        true
    }
    #[inline(always)]
    fn add(&mut self, n: u64) {
        self.0 += n;
    }
}

struct Collector(Vec<u64>);

impl Sink for Collector {
    const COUNT_ONLY: bool = false;
    #[inline(always)]
    fn hit(&mut self, pos: u64) -> bool {
        try_push(&mut self.0, pos)
    }
    fn add(&mut self, _n: u64) {
        // never called: COUNT_ONLY is false
    }
}

/// An index of the failure table: `u32` for needles under 4 GiB (half the memory).
trait Idx: Copy + Send + Sync {
    fn from_usize(v: usize) -> Self;
    fn ix(self) -> usize;
}

impl Idx for u32 {
    #[inline(always)]
    fn from_usize(v: usize) -> Self {
        v as u32
    }
    #[inline(always)]
    fn ix(self) -> usize {
        self as usize
    }
}

impl Idx for usize {
    #[inline(always)]
    fn from_usize(v: usize) -> Self {
        v
    }
    #[inline(always)]
    fn ix(self) -> usize {
        self
    }
}

#[derive(Clone, Debug)]
enum FailTable {
    Small(Vec<u32>),
    Large(Vec<usize>),
}

/// The KMP failure function of a non-empty `needle` (fallible allocation).
fn failure_in<F: Idx>(needle: &[u8]) -> Result<Vec<F>, Error> {
    let mut fail = try_vec(needle.len(), F::from_usize(0))?;
    let mut k = 0usize;
    for i in 1..needle.len() {
        let c = needle[i];
        while k > 0 && needle[k] != c {
            k = fail[k - 1].ix();
        }
        if needle[k] == c {
            k += 1;
        }
        fail[i] = F::from_usize(k);
    }
    Ok(fail)
}

/// The automaton's state carried from one block of a file to the next.
#[derive(Clone, Copy, Debug, Default)]
struct ScanState {
    /// KMP state: bytes of the needle matched so far (`< m`).
    j: usize,
    /// Fast scan: automaton steps since the last match or jump (see `scan_fast`).
    run: usize,
}

/// A compiled pattern: the needle and (built at its first search that needs it) its KMP
/// failure table. Build once, search many times, from many threads: it is
/// `Send + Sync`, and the lazily built table is published without a lock (a thread that
/// races another builds its own copy and drops it; nothing waits, even in a forked child).
#[derive(Debug)]
pub struct Pattern {
    needle: Vec<u8>,
    fail: Lazy<FailTable>,
}

impl Pattern {
    /// Compile `needle` (not empty). Only the needle is copied; the failure table
    /// (4 bytes per needle byte) is built by the first search whose input is at least
    /// as long as the needle.
    pub fn new(needle: &[u8]) -> Result<Pattern, Error> {
        if needle.is_empty() {
            return Err(Error::InvalidArgument("needle must not be empty"));
        }
        let mut copy = Vec::new();
        copy.try_reserve_exact(needle.len())?;
        copy.extend_from_slice(needle);
        Ok(Pattern { needle: copy, fail: Lazy::new() })
    }

    /// The pattern's bytes.
    pub fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// The failure function: entry `i` is the length of the longest proper border
    /// (prefix that is also a suffix) of `needle()[..=i]`.
    pub fn failure(&self) -> Result<Vec<usize>, Error> {
        failure_in::<usize>(&self.needle)
    }

    /// Bytes this pattern holds now (the needle, and the failure table once built).
    pub fn memory_bytes(&self) -> usize {
        let table = match self.fail.get() {
            Some(FailTable::Small(v)) => v.capacity() * 4,
            Some(FailTable::Large(v)) => v.capacity() * std::mem::size_of::<usize>(),
            None => 0,
        };
        std::mem::size_of::<Self>() + self.needle.capacity() + table
    }

    fn fail_table(&self) -> Result<&FailTable, Error> {
        if let Some(t) = self.fail.get() {
            return Ok(t);
        }
        let table = if u32::try_from(self.needle.len()).is_ok() {
            FailTable::Small(failure_in::<u32>(&self.needle)?)
        } else {
            FailTable::Large(failure_in::<usize>(&self.needle)?)
        };
        Ok(self.fail.set(table))
    }

    /// Number of occurrences in `haystack`, overlaps included.
    pub fn count(&self, haystack: &[u8], opts: &Options) -> Result<u64, Error> {
        let parts = self.par_memory(haystack, opts, || Counter(0))?;
        Ok(parts.into_iter().map(|c| c.0).sum())
    }

    /// Start offsets of every occurrence in `haystack`, overlaps included, ascending.
    pub fn find_all(&self, haystack: &[u8], opts: &Options) -> Result<Vec<u64>, Error> {
        concat(self.par_memory(haystack, opts, || Collector(Vec::new()))?.into_iter().map(|c| c.0))
    }

    /// [`Pattern::find_all`] as one ascending vector per chunk of the plan, in order (their
    /// concatenation is `find_all`'s result): for a caller that copies the offsets anyway.
    pub fn find_all_parts(&self, haystack: &[u8], opts: &Options) -> Result<Vec<Vec<u64>>, Error> {
        Ok(self.par_memory(haystack, opts, || Collector(Vec::new()))?.into_iter().map(|c| c.0).collect())
    }

    /// [`Pattern::find_all_read_at`] as one vector per chunk (see [`Pattern::find_all_parts`]).
    pub fn find_all_parts_read_at<R: ReadAt + Sync + ?Sized>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
    ) -> Result<Vec<Vec<u64>>, Error> {
        Ok(self.par_source(src, len, opts, || Collector(Vec::new()))?.into_iter().map(|c| c.0).collect())
    }

    /// Number of occurrences in the first `len` bytes of `src` (a file: use
    /// [`Pattern::count_file`]), read with positioned reads into bounded buffers.
    ///
    /// If `src` ends before `len` bytes (a file truncated during the search), each chunk's
    /// scan stops where its reads end: the result counts the matches in what was read.
    pub fn count_read_at<R: ReadAt + Sync + ?Sized>(&self, src: &R, len: u64, opts: &Options) -> Result<u64, Error> {
        let parts = self.par_source(src, len, opts, || Counter(0))?;
        Ok(parts.into_iter().map(|c| c.0).sum())
    }

    /// Start offsets of every occurrence in the first `len` bytes of `src`, ascending; as
    /// [`Pattern::count_read_at`].
    pub fn find_all_read_at<R: ReadAt + Sync + ?Sized>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
    ) -> Result<Vec<u64>, Error> {
        concat(self.par_source(src, len, opts, || Collector(Vec::new()))?.into_iter().map(|c| c.0))
    }

    /// Number of occurrences in `file`, from offset 0 to its size when the search starts.
    /// The file's own position is neither used nor changed (on Unix); it is not mapped.
    pub fn count_file(&self, file: &File, opts: &Options) -> Result<u64, Error> {
        let len = file.metadata()?.len();
        self.count_read_at(file, len, opts)
    }

    /// Byte offsets of every occurrence in `file`, ascending; as [`Pattern::count_file`].
    pub fn find_all_file(&self, file: &File, opts: &Options) -> Result<Vec<u64>, Error> {
        let len = file.metadata()?.len();
        self.find_all_read_at(file, len, opts)
    }

    /// Search many files in one call, each whole on one thread, `opts.threads` files at a
    /// time (see the [`batch`] module): each file's status ([`batch::STREAM`] for one that
    /// is not regular or reads as empty, [`batch::BIG`] for one of `max_size` bytes or more,
    /// an errno when it cannot be opened or read, 0 searched) and, in path order, its count
    /// or its offsets. A file that turns out shorter than its size gives the matches in
    /// what could be read. Errors: [`Error::Cancelled`] (the flag is looked at before each
    /// file and each block), [`Error::OutOfMemory`], [`Error::InvalidArgument`].
    pub fn search_files<P: AsRef<Path> + Sync>(
        &self,
        paths: &[P],
        max_size: u64,
        want: BatchWant,
        opts: &Options,
    ) -> Result<Batch<u64>, Error> {
        batch::search_files(self, paths, max_size, want, opts)
    }

    // --- drivers ------------------------------------------------------------------------

    /// The scan of one chunk of a file: the bytes `range` of `src`, on this thread, into
    /// `buf`; no table is built when the range is shorter than the needle.
    fn scan_file<'s, R: ReadAt + ?Sized, S: Sink>(
        &'s self,
        src: &R,
        range: Range<u64>,
        opts: &Options,
        sink: &mut S,
        scratch: &mut batch::Scratch<'s>,
    ) -> Result<(), Error> {
        if (self.needle.len() as u64) > range.end - range.start {
            return Ok(());
        }
        let fail = self.fail_table()?;
        self.scan_source(fail, src, range, opts, sink, &mut scratch.buf, &mut scratch.tuning)
    }

    fn par_memory<S: Sink + Send>(
        &self,
        hay: &[u8],
        opts: &Options,
        sink: impl Fn() -> S + Sync,
    ) -> Result<Vec<S>, Error> {
        opts.validate()?;
        if self.needle.len() > hay.len() {
            return Ok(Vec::new()); // before any table is built
        }
        let chunks = plan_chunks(hay.len() as u64, self.needle.len() as u64, opts.threads, opts.min_chunk)?;
        let fail = self.fail_table()?;
        let level = opts.simd.resolve();
        run_chunks(&chunks, |_, range| {
            let mut s = sink();
            let window = hay.get(range.start as usize..range.end as usize).ok_or(Error::Internal("chunk"))?;
            let mut st = ScanState::default();
            let skip = Skip::new(&self.needle, window, level);
            // with a cancel flag: blocks of block_size bytes, the state carried across
            let step = if opts.cancel.is_some() { opts.block_size } else { window.len().max(1) };
            for (i, piece) in window.chunks(step).enumerate() {
                opts.check_cancel()?;
                let base = range.start + (i * step) as u64;
                if !self.run(fail, skip.as_ref(), piece, base, &mut st, opts.scan, level, &mut s) {
                    return Err(Error::OutOfMemory);
                }
            }
            Ok(s)
        })
    }

    fn par_source<R: ReadAt + Sync + ?Sized, S: Sink + Send>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
        sink: impl Fn() -> S + Sync,
    ) -> Result<Vec<S>, Error> {
        opts.validate()?;
        if self.needle.len() as u64 > len {
            return Ok(Vec::new());
        }
        let chunks = plan_chunks(len, self.needle.len() as u64, opts.threads, opts.min_chunk)?;
        let fail = self.fail_table()?;
        run_chunks(&chunks, |_, range| {
            let mut s = sink();
            self.scan_source(fail, src, range, opts, &mut s, &mut Vec::new(), &mut Tuning::new())?;
            Ok(s)
        })
    }

    /// Scan the bytes `range` of `src` block by block, carrying the automaton's state, read
    /// into `buf` (grown to the block's size if shorter, kept for the caller's next scan),
    /// the fast scan's skip from `tuning` (see [`Tuning`]: tuned on the first block).
    #[allow(clippy::too_many_arguments)]
    fn scan_source<'s, R: ReadAt + ?Sized, S: Sink>(
        &'s self,
        fail: &FailTable,
        src: &R,
        range: Range<u64>,
        opts: &Options,
        sink: &mut S,
        buf: &mut Vec<u8>,
        tuning: &mut Tuning<'s>,
    ) -> Result<(), Error> {
        let size = (opts.block_size as u64).min(range.end - range.start) as usize;
        let buf = buffer(buf, size)?;
        let mut pos = range.start;
        let mut st = ScanState::default();
        let mut first = true;
        let level = opts.simd.resolve();
        while pos < range.end {
            opts.check_cancel()?;
            let want = (buf.len() as u64).min(range.end - pos) as usize;
            let got = match src.read_at(&mut buf[..want], pos) {
                Ok(0) => break, // the source ended early (truncated): keep what was found
                Ok(got) => got.min(want),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(Error::Io(err)),
            };
            if first && opts.scan == Scan::Fast {
                tuning.first_block(&self.needle, &buf[..got], level);
            }
            first = false;
            if !self.run(fail, tuning.skip(), &buf[..got], pos, &mut st, opts.scan, level, sink) {
                return Err(Error::OutOfMemory);
            }
            pos += got as u64;
        }
        Ok(())
    }

    // --- the automaton ------------------------------------------------------------------

    /// Feed `hay`, whose first byte is at absolute offset `base`, to the automaton in
    /// state `st` (updated); `false`: the sink gave up (out of memory).
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn run<S: Sink>(
        &self,
        fail: &FailTable,
        skip: Option<&Skip>,
        hay: &[u8],
        base: u64,
        st: &mut ScanState,
        scan: Scan,
        level: Simd,
        sink: &mut S,
    ) -> bool {
        match (scan, fail, skip) {
            (Scan::Fast, _, _) if self.needle.len() == 1 => self.scan_one_byte(hay, base, level, sink),
            (Scan::Fast, FailTable::Small(f), Some(skip)) => scan_fast(&self.needle, f, skip, hay, base, st, sink),
            (Scan::Fast, FailTable::Large(f), Some(skip)) => scan_fast(&self.needle, f, skip, hay, base, st, sink),
            (_, FailTable::Small(f), _) => scan_textbook(&self.needle, f, hay, base, st, sink),
            (_, FailTable::Large(f), _) => scan_textbook(&self.needle, f, hay, base, st, sink),
        }
    }

    /// The fast scan of a one-byte pattern: the automaton has one state, so it is memchr
    /// (whose SIMD memchr picks itself: `level` cannot force it), and for the offsets
    /// 64-byte blocks by bitmask (SSE2 unless `level` is [`Simd::Scalar`]).
    fn scan_one_byte<S: Sink>(&self, hay: &[u8], base: u64, level: Simd, sink: &mut S) -> bool {
        let b = self.needle[0];
        let portable = level == Simd::Scalar;
        if S::COUNT_ONLY {
            sink.add(memchr::memchr_iter(b, hay).count() as u64);
        } else {
            // memchr to each hit, then 64-byte blocks by bitmask while hits keep coming: a
            // memchr call per hit costs more than the scan when hits are dense (the offsets
            // of `3` in random text, one every 68 bytes: 3x slower than the blocks)
            let mut i = 0;
            while let Some(j) = memchr::memchr(b, &hay[i..]) {
                let mut at = i + j;
                let mut empty = 0;
                while empty < 4 {
                    let Some(block) = hay.get(at..at + 64) else {
                        for (k, _) in hay[at..].iter().enumerate().filter(|&(_, &c)| c == b) {
                            if !sink.hit(base + (at + k) as u64) {
                                return false;
                            }
                        }
                        return true;
                    };
                    let mut mask = if portable { byte_mask64_scalar(block, b) } else { byte_mask64(block, b) };
                    empty = if mask == 0 { empty + 1 } else { 0 };
                    while mask != 0 {
                        if !sink.hit(base + (at + mask.trailing_zeros() as usize) as u64) {
                            return false;
                        }
                        mask &= mask - 1;
                    }
                    at += 64;
                }
                i = at;
            }
        }
        true
    }
}

impl batch::FileScan for Pattern {
    type Match = u64;

    fn words(&self) -> usize {
        1
    }

    fn prepare(&self, _opts: &Options) -> Result<(), Error> {
        Ok(()) // the failure table: by the first file at least as long as the needle
    }

    fn count_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut batch::Scratch<'s>,
    ) -> Result<u64, Error> {
        let mut s = Counter(0);
        self.scan_file(file, 0..len, opts, &mut s, scratch)?;
        Ok(s.0)
    }

    fn each_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut batch::Scratch<'s>,
        each: &mut Vec<u64>,
    ) -> Result<(), Error> {
        let n = batch::FileScan::count_file(self, file, len, opts, scratch)?;
        let first = each.first_mut().ok_or(Error::Internal("each"))?;
        *first += n;
        Ok(())
    }

    fn matches_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut batch::Scratch<'s>,
        out: &mut Vec<u64>,
    ) -> Result<(), Error> {
        let mut s = Collector(std::mem::take(out));
        let done = self.scan_file(file, 0..len, opts, &mut s, scratch);
        *out = s.0;
        done
    }
}

// The automaton step is written out in both scans on purpose: one `#[inline(always)]`
// helper returning the new state measured 1.7x slower on adversarial input (256 MiB of
// `a`, needle `a`x999 + `b`: 0.92 s against 0.54 s).
fn scan_textbook<F: Idx, S: Sink>(
    needle: &[u8],
    fail: &[F],
    hay: &[u8],
    base: u64,
    st: &mut ScanState,
    sink: &mut S,
) -> bool {
    let m = needle.len();
    if m == 0 || fail.len() != m {
        return false;
    }
    let mut j = st.j;
    for (i, &c) in hay.iter().enumerate() {
        // invariant: j < m
        while j > 0 && needle[j] != c {
            j = fail[j - 1].ix();
        }
        if needle[j] == c {
            j += 1;
            if j == m {
                if !sink.hit(base + i as u64 + 1 - m as u64) {
                    return false;
                }
                j = fail[m - 1].ix();
            }
        }
    }
    st.j = j;
    true
}

/// The fast scan: the KMP automaton, which jumps ahead with [`Skip`] (a SIMD search of
/// the two needle bytes rarest in this text) whenever no partial match is pending.
///
/// In state 0 at `i`, [`Skip::find`] gives the leftmost candidate `p >= i` where both
/// chosen bytes sit at their offsets; no match starts in `i..p`, so the automaton goes on
/// from `p` in state 0. It also jumps when it has read `m` bytes without a match, from
/// `i - j`, where the pending partial match begins (no match can start earlier, KMP's
/// invariant): the at most `j < m` bytes read again are paid for by the `m` steps before,
/// so the scan stays linear. On adversarial input (1 GiB of `a`, needle `a`x999 + `b`)
/// the pair (`a`, `b`) never occurs and the chunk is skipped at memchr speed.
///
/// When no candidate is left in `hay` (a block of a file), the state to carry into the
/// next block is that of the automaton run over the last `m - 1` bytes from state 0 (a
/// pending partial match starts at or after the jump point and within those bytes).
fn scan_fast<F: Idx, S: Sink>(
    needle: &[u8],
    fail: &[F],
    skip: &Skip,
    hay: &[u8],
    base: u64,
    st: &mut ScanState,
    sink: &mut S,
) -> bool {
    let m = needle.len();
    if m == 0 || fail.len() != m {
        return false;
    }
    let len = hay.len();
    let (mut i, mut j, mut run) = (0usize, st.j, st.run);
    while i < len {
        if (j == 0 || run >= m) && j <= i {
            let q = i - j;
            match skip.find(hay, q) {
                Some(p) if p < len => {
                    // no match starts in q..p. A quick look at the needle's first (up to
                    // 8) bytes rules out most false candidates at O(1) each; otherwise
                    // the automaton goes on from p in state 0 (and reads at least the
                    // byte at p before the next jump).
                    let head = m.min(8);
                    j = 0;
                    run = 0;
                    if hay.get(p..p + head).is_some_and(|h| h != &needle[..head]) {
                        i = p + 1;
                        continue;
                    }
                    i = p;
                }
                _ => {
                    // no occurrence starts at q or later within hay: the state at the end
                    i = q.max(len.saturating_sub(m - 1));
                    j = 0;
                    while i < len {
                        let c = hay[i];
                        while j > 0 && needle[j] != c {
                            j = fail[j - 1].ix();
                        }
                        if needle[j] == c {
                            j += 1; // j < m: a match here would have been a candidate
                        }
                        i += 1;
                    }
                    run = 0;
                    break;
                }
            }
        }
        let c = hay[i];
        while j > 0 && needle[j] != c {
            j = fail[j - 1].ix();
        }
        if needle[j] == c {
            j += 1;
            if j == m {
                if !sink.hit(base + i as u64 + 1 - m as u64) {
                    return false;
                }
                j = fail[m - 1].ix();
                run = 0;
            }
        }
        run += 1;
        i += 1;
    }
    st.j = j;
    st.run = run;
    true
}

/// The KMP failure function of a non-empty `needle`: entry `i` is the length of the
/// longest proper border of `needle[..=i]`.
pub fn failure(needle: &[u8]) -> Result<Vec<usize>, Error> {
    failure_in::<usize>(needle)
}

/// Concatenate the chunks' lists (fallible).
pub(crate) fn concat<T: Copy>(parts: impl IntoIterator<Item = Vec<T>>) -> Result<Vec<T>, Error> {
    let mut parts = parts.into_iter();
    let Some(mut first) = parts.next() else {
        return Ok(Vec::new());
    };
    for part in parts {
        first.try_reserve_exact(part.len())?;
        first.extend_from_slice(&part);
    }
    Ok(first)
}

/// Number of occurrences of `needle` in `haystack` (overlaps included); a shortcut for
/// [`Pattern::new`] then [`Pattern::count`].
pub fn count(haystack: &[u8], needle: &[u8], opts: &Options) -> Result<u64, Error> {
    Pattern::new(needle)?.count(haystack, opts)
}

/// Start offsets of every occurrence of `needle` in `haystack` (overlaps included),
/// ascending; a shortcut for [`Pattern::new`] then [`Pattern::find_all`].
pub fn find_all(haystack: &[u8], needle: &[u8], opts: &Options) -> Result<Vec<u64>, Error> {
    Pattern::new(needle)?.find_all(haystack, opts)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_batch;
#[cfg(test)]
mod tests_words;
