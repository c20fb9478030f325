//! Knuth-Morris-Pratt search for every occurrence of a byte pattern, overlaps included,
//! in memory or in a file, split across a [rayon] thread pool.
//!
//! This is the core of kmpsearch's Rust backend; it knows nothing of Python (the
//! `kmpsearch-py` crate binds it with PyO3).
//!
//! * One forward scan per chunk with the KMP automaton: the worst case is linear in the
//!   input (`O(n + m)`), whatever the pattern and text (`a`×999 + `b` in a sea of `a`s).
//! * [`Scan::Fast`] (default): while the automaton is in state 0 (no partial match), jump
//!   with SIMD ([`memchr::memmem`]) to the next place the pattern's first bytes occur, then
//!   let the automaton continue. [`Scan::Textbook`]: the plain KMP loop over every byte.
//! * Work is split along [`plan_chunks`], the chunk plan every kmpsearch backend follows;
//!   more than one chunk runs on a [`rayon::ThreadPool`] of exactly that many threads,
//!   built for the call and joined before it returns (one chunk runs on the calling
//!   thread, with no pool at all).
//! * Files are read with positioned reads ([`ReadAt`], `pread` on Unix) into one bounded
//!   buffer per thread, the automaton's state carried from block to block: memory does not
//!   depend on the file's size, nothing is mapped, and a file that shrinks during the
//!   search just ends the scan early (the matches found in what could be read).
//!
//! ```
//! use kmpsearch_core::{Options, Pattern};
//! let pat = Pattern::new(b"aa").unwrap();
//! assert_eq!(pat.find_all(b"aaaa", &Options::default()).unwrap(), vec![0, 1, 2]);
//! assert_eq!(pat.count(b"aaaa", &Options::default().threads(2).min_chunk(1)).unwrap(), 3);
//! ```
#![deny(missing_docs)]

mod plan;
mod read;

use std::fmt;
use std::fs::File;
use std::io;
use std::ops::Range;

use memchr::memmem;
use rayon::prelude::*;

pub use plan::{plan_chunks, DEFAULT_MIN_CHUNK};
pub use read::ReadAt;

/// Default size of the per-thread buffer that file searches read into (1 MiB).
pub const DEFAULT_BLOCK_SIZE: usize = 1 << 20;

/// Default number of leading pattern bytes the [`Scan::Fast`] skip looks for.
///
/// The skip runs a [`memmem::Finder`] over `min(m, DEFAULT_SKIP_LEN)` leading bytes of a
/// pattern of `m` bytes. Each jump lands on a full occurrence of that prefix, so the
/// automaton goes straight to state `min(m, DEFAULT_SKIP_LEN)`; the scan never moves
/// backwards and stays linear. Measured on 1 GiB of random letters, digits and
/// whitespace (`cargo bench -p kmpsearch-core --bench scan`): one byte stops at every
/// occurrence of the first byte and is 5-8x slower than two; 2, 3 and 16 bytes run at
/// memchr speed; a longer prefix only lowers the rate of false candidates.
pub const DEFAULT_SKIP_LEN: usize = 16;

/// How the automaton walks the text. Results never depend on it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scan {
    /// In state 0, jump with a SIMD search ([`memchr::memmem`]) to the next occurrence of
    /// the pattern's first bytes, then continue the automaton.
    #[default]
    Fast,
    /// The textbook KMP loop: the automaton reads every byte.
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

/// How a search is run. Results never depend on these settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Most threads to use (>= 1); the chunk plan may use fewer. Default 1.
    pub threads: usize,
    /// Least number of candidate start positions per chunk (>= 1). Default
    /// [`DEFAULT_MIN_CHUNK`].
    pub min_chunk: u64,
    /// Which scan to run. Default [`Scan::Fast`].
    pub scan: Scan,
    /// Size of each thread's read buffer in file searches (>= 1). Default
    /// [`DEFAULT_BLOCK_SIZE`]. Any pattern length works with any block size.
    pub block_size: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { threads: 1, min_chunk: DEFAULT_MIN_CHUNK, scan: Scan::Fast, block_size: DEFAULT_BLOCK_SIZE }
    }
}

impl Options {
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

    fn validate(&self) -> Result<(), Error> {
        if self.threads == 0 {
            return Err(Error::InvalidArgument("threads must be >= 1"));
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
    /// A bad argument: empty pattern, zero threads, zero `min_chunk` or `block_size`.
    InvalidArgument(&'static str),
    /// Reading the file failed (the error of the failed read; `raw_os_error` is kept).
    Io(io::Error),
    /// Memory for the read buffers or the list of offsets could not be allocated.
    OutOfMemory,
    /// The thread pool could not be started.
    ThreadPool(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidArgument(msg) => f.write_str(msg),
            Error::Io(err) => write!(f, "{err}"),
            Error::OutOfMemory => f.write_str("out of memory"),
            Error::ThreadPool(msg) => write!(f, "could not start the search threads: {msg}"),
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

/// Where the matches of a scan go: a count or a list of offsets.
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
        let v = &mut self.0;
        if v.len() == v.capacity() && v.try_reserve(v.capacity().max(256)).is_err() {
            return false;
        }
        v.push(pos);
        true
    }
    fn add(&mut self, _n: u64) {
        unreachable!("a collector records every offset")
    }
}

/// A compiled pattern: the needle, its KMP failure function and the SIMD finder of its
/// first bytes. Build once, search many times; it is `Send + Sync`.
#[derive(Clone, Debug)]
pub struct Pattern {
    needle: Vec<u8>,
    fail: Vec<usize>,
    skip_len: usize,
    finder: memmem::Finder<'static>,
}

impl Pattern {
    /// Compile `needle` (not empty) with the default skip length ([`DEFAULT_SKIP_LEN`]).
    pub fn new(needle: &[u8]) -> Result<Pattern, Error> {
        Pattern::with_skip_len(needle, DEFAULT_SKIP_LEN)
    }

    /// Compile `needle` (not empty); the fast scan's skip looks for its first
    /// `min(skip_len, needle.len())` bytes (`skip_len >= 1`).
    pub fn with_skip_len(needle: &[u8], skip_len: usize) -> Result<Pattern, Error> {
        if needle.is_empty() {
            return Err(Error::InvalidArgument("needle must not be empty"));
        }
        if skip_len == 0 {
            return Err(Error::InvalidArgument("skip_len must be >= 1"));
        }
        let skip_len = skip_len.min(needle.len());
        Ok(Pattern {
            needle: needle.to_vec(),
            fail: failure(needle),
            skip_len,
            finder: memmem::Finder::new(&needle[..skip_len]).into_owned(),
        })
    }

    /// The pattern's bytes.
    pub fn needle(&self) -> &[u8] {
        &self.needle
    }

    /// The failure function: `failure()[i]` is the length of the longest proper border
    /// (prefix that is also a suffix) of `needle()[..=i]`.
    pub fn failure(&self) -> &[usize] {
        &self.fail
    }

    /// How many leading bytes the fast scan's skip looks for.
    pub fn skip_len(&self) -> usize {
        self.skip_len
    }

    /// Number of occurrences in `haystack`, overlaps included.
    pub fn count(&self, haystack: &[u8], opts: &Options) -> Result<u64, Error> {
        let parts = self.par_memory(haystack, opts, || Counter(0))?;
        Ok(parts.into_iter().map(|c| c.0).sum())
    }

    /// Start offsets of every occurrence in `haystack`, overlaps included, ascending.
    pub fn find_all(&self, haystack: &[u8], opts: &Options) -> Result<Vec<u64>, Error> {
        concat(self.par_memory(haystack, opts, || Collector(Vec::new()))?)
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
        concat(self.par_source(src, len, opts, || Collector(Vec::new()))?)
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

    // --- drivers ------------------------------------------------------------------------

    fn par_memory<S: Sink + Send>(
        &self,
        hay: &[u8],
        opts: &Options,
        sink: impl Fn() -> S + Sync,
    ) -> Result<Vec<S>, Error> {
        opts.validate()?;
        let chunks = plan_chunks(hay.len() as u64, self.needle.len() as u64, opts.threads, opts.min_chunk);
        run_chunks(chunks, |range| {
            let mut s = sink();
            let window = &hay[range.start as usize..range.end as usize];
            match self.run(window, range.start, 0, opts.scan, &mut s) {
                Some(_) => Ok(s),
                None => Err(Error::OutOfMemory),
            }
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
        let chunks = plan_chunks(len, self.needle.len() as u64, opts.threads, opts.min_chunk);
        run_chunks(chunks, |range| {
            let mut s = sink();
            self.scan_source(src, range, opts, &mut s)?;
            Ok(s)
        })
    }

    /// Scan the bytes `range` of `src` block by block, carrying the automaton's state.
    fn scan_source<R: ReadAt + ?Sized, S: Sink>(
        &self,
        src: &R,
        range: Range<u64>,
        opts: &Options,
        sink: &mut S,
    ) -> Result<(), Error> {
        let size = (opts.block_size as u64).min(range.end - range.start) as usize;
        let mut buf = Vec::new();
        buf.try_reserve_exact(size).map_err(|_| Error::OutOfMemory)?;
        buf.resize(size, 0u8);
        let mut pos = range.start;
        let mut state = 0;
        while pos < range.end {
            let want = (buf.len() as u64).min(range.end - pos) as usize;
            let got = match src.read_at(&mut buf[..want], pos) {
                Ok(0) => break, // the source ended early (truncated): keep what was found
                Ok(got) => got.min(want),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(Error::Io(err)),
            };
            state = self.run(&buf[..got], pos, state, opts.scan, sink).ok_or(Error::OutOfMemory)?;
            pos += got as u64;
        }
        Ok(())
    }

    // --- the automaton ------------------------------------------------------------------

    /// Feed `hay`, whose first byte is at absolute offset `base`, to the automaton in
    /// state `state`; return the state after its last byte (`None`: the sink gave up).
    #[inline]
    fn run<S: Sink>(&self, hay: &[u8], base: u64, state: usize, scan: Scan, sink: &mut S) -> Option<usize> {
        match scan {
            Scan::Textbook => self.scan_textbook(hay, base, state, sink),
            Scan::Fast if self.needle.len() == 1 => self.scan_one_byte(hay, base, sink),
            Scan::Fast => self.scan_fast(hay, base, state, sink),
        }
    }

    // The automaton step is written out in both scans on purpose: one `#[inline(always)]`
    // helper returning the new state measured 1.7x slower on adversarial input (256 MiB of
    // `a`, needle `a`x999 + `b`: 0.92 s against 0.54 s).
    fn scan_textbook<S: Sink>(&self, hay: &[u8], base: u64, mut j: usize, sink: &mut S) -> Option<usize> {
        let needle = &self.needle[..];
        let fail = &self.fail[..];
        let m = needle.len();
        for (i, &c) in hay.iter().enumerate() {
            // invariant: j < m
            while j > 0 && needle[j] != c {
                j = fail[j - 1];
            }
            if needle[j] == c {
                j += 1;
                if j == m {
                    if !sink.hit(base + i as u64 + 1 - m as u64) {
                        return None;
                    }
                    j = fail[m - 1];
                }
            }
        }
        Some(j)
    }

    /// The fast scan of a one-byte pattern: the automaton has one state, so it is memchr.
    fn scan_one_byte<S: Sink>(&self, hay: &[u8], base: u64, sink: &mut S) -> Option<usize> {
        let b = self.needle[0];
        if S::COUNT_ONLY {
            sink.add(memchr::memchr_iter(b, hay).count() as u64);
        } else {
            for i in memchr::memchr_iter(b, hay) {
                if !sink.hit(base + i as u64) {
                    return None;
                }
            }
        }
        Some(0)
    }

    fn scan_fast<S: Sink>(&self, hay: &[u8], base: u64, mut j: usize, sink: &mut S) -> Option<usize> {
        let needle = &self.needle[..];
        let fail = &self.fail[..];
        let m = needle.len();
        let l = self.skip_len;
        let len = hay.len();
        // a full occurrence of the l-byte prefix can only start before `tail`
        let tail = len.saturating_sub(l - 1);
        let mut i = 0;
        while i < len {
            if j == 0 && i < tail {
                // No partial match is pending, so no match starts before the next
                // occurrence of the prefix: jump there, the automaton then being in
                // state l (it would read exactly those l bytes from state 0).
                match self.finder.find(&hay[i..]) {
                    Some(off) => {
                        let p = i + off;
                        i = p + l;
                        j = l;
                        if j == m {
                            if !sink.hit(base + p as u64) {
                                return None;
                            }
                            j = fail[m - 1];
                        }
                    }
                    // the last l-1 bytes may begin a match that ends in the next block:
                    // the automaton reads them
                    None => i = tail,
                }
                continue;
            }
            let c = hay[i];
            while j > 0 && needle[j] != c {
                j = fail[j - 1];
            }
            if needle[j] == c {
                j += 1;
                if j == m {
                    if !sink.hit(base + i as u64 + 1 - m as u64) {
                        return None;
                    }
                    j = fail[m - 1];
                }
            }
            i += 1;
        }
        Some(j)
    }
}

/// The KMP failure function of a non-empty `needle`: entry `i` is the length of the
/// longest proper border of `needle[..=i]`.
pub fn failure(needle: &[u8]) -> Vec<usize> {
    let mut fail = vec![0; needle.len()];
    let mut k = 0;
    for i in 1..needle.len() {
        let c = needle[i];
        while k > 0 && needle[k] != c {
            k = fail[k - 1];
        }
        if needle[k] == c {
            k += 1;
        }
        fail[i] = k;
    }
    fail
}

/// Run `work` on every chunk: on the calling thread for one chunk, otherwise on a rayon
/// pool of exactly as many threads as chunks (never the global pool).
///
/// The pool lives for this call only, and its threads are joined before it returns
/// (`build_scoped`): no thread outlives a search, so a later `fork()` finds none and
/// concurrent callers never share workers. Building and joining costs about 70 µs for
/// 2 threads and 260 µs for 8 here (`cargo bench -p kmpsearch-core`), against at least
/// `min_chunk` positions of work per thread.
fn run_chunks<T: Send>(
    chunks: Vec<Range<u64>>,
    work: impl Fn(Range<u64>) -> Result<T, Error> + Sync,
) -> Result<Vec<T>, Error> {
    if chunks.len() <= 1 {
        return chunks.into_iter().map(work).collect();
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(chunks.len())
        .thread_name(|i| format!("kmpsearch-{i}"))
        .build_scoped(
            |thread| thread.run(),
            |pool| pool.install(|| chunks.into_par_iter().with_max_len(1).map(&work).collect()),
        )
        .map_err(|e| Error::ThreadPool(e.to_string()))?
}

fn concat(parts: Vec<Collector>) -> Result<Vec<u64>, Error> {
    let mut parts = parts.into_iter();
    let Some(Collector(mut first)) = parts.next() else {
        return Ok(Vec::new());
    };
    let rest: Vec<Vec<u64>> = parts.map(|c| c.0).collect();
    let extra = rest.iter().map(Vec::len).sum();
    first.try_reserve_exact(extra).map_err(|_| Error::OutOfMemory)?;
    for part in rest {
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
