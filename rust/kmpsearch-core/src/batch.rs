//! Many small files in one call: [`Pattern::search_files`](crate::Pattern::search_files)
//! and [`WordSet::search_files`](crate::WordSet::search_files) (a tree's files, each
//! searched whole by one thread).
//!
//! Each file is opened read-only (`O_NONBLOCK`: a FIFO's writer is not waited for;
//! `O_NOCTTY`, `O_CLOEXEC`) and `fstat`ed; a regular file of 1 to `max_size - 1` bytes is
//! read with positioned reads, in blocks of [`Options::block_size`] bytes, into a buffer its
//! thread reuses for all its files, and searched by the file scan of the compiled object
//! (the one a file range's chunk runs), then closed. `options.threads` threads (the calling
//! thread and the shared pool's; a thread that cannot start leaves its files to the others,
//! the calling thread at least) take the next file from a shared counter. What each file
//! gave is its [status](Batch::status), and the results are put in path order.

use std::fs::{File, OpenOptions};
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};

use crate::pool::run_chunks;
use crate::skip::Tuning;
use crate::{try_vec, Error, Options};

/// A file's [status](Batch::status): not a regular file (a FIFO, a device), or one whose
/// size reads as 0 (`/proc` files): the caller reads it as a stream.
pub const STREAM: i64 = -1;
/// A file's [status](Batch::status): `max_size` bytes or more, not read (the caller
/// searches it with every thread, as a file range).
pub const BIG: i64 = -2;

/// What a batch search collects for each file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BatchWant {
    /// The number of matches.
    Count,
    /// The number of matches of each word (a pattern: one).
    Each,
    /// Every match, in the order the file searches give them.
    Matches,
}

/// The result of a batch search of `n` files (`paths` in order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch<M> {
    /// One entry per file: 0 searched; an errno (> 0) when opening, `fstat` or a read
    /// failed (`EISDIR` for a directory); [`STREAM`] or [`BIG`]. A file whose status is
    /// not 0 has no results (counts 0, no matches).
    pub status: Vec<i64>,
    /// The files' results, in path order.
    pub found: BatchFound<M>,
}

/// The results of a batch search, in path order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchFound<M> {
    /// [`BatchWant::Count`]: `n` counts; [`BatchWant::Each`]: `n * words` counts, file by
    /// file (file `i`'s are `[i * words, (i + 1) * words)`).
    Counts(Vec<u64>),
    /// [`BatchWant::Matches`]: file `i`'s matches (sorted, offsets in the file) are
    /// `matches[bounds[i]..bounds[i + 1]]`; `bounds` has `n + 1` entries, the first 0.
    Matches {
        /// Where each file's matches start, and the end.
        bounds: Vec<u64>,
        /// Every file's matches, file after file.
        matches: Vec<M>,
    },
}

/// What a thread reuses from file to file: its read buffer, and a pattern's skip (see
/// [`Tuning`]).
pub(crate) struct Scratch<'n> {
    pub(crate) buf: Vec<u8>,
    pub(crate) tuning: Tuning<'n>,
}

/// A compiled object's search of one whole file, as a chunk of a file range runs it (one
/// thread, `opts.block_size` bytes at a time, with the thread's [`Scratch`]).
/// `Err(Error::Io)`: a read failed (the file's status); any other error ends the batch.
pub(crate) trait FileScan: Sync {
    /// A match: an offset (a pattern), or an offset and a word index (a word set).
    type Match: Copy + Send;
    /// The entries of an "each" result (a pattern: 1).
    fn words(&self) -> usize;
    /// What must be built once before the threads start (a word set's automaton for the
    /// textbook scan).
    fn prepare(&self, opts: &Options) -> Result<(), Error>;
    /// The number of matches in the first `len` bytes of `file`.
    fn count_file<'s>(&'s self, file: &File, len: u64, opts: &Options, scratch: &mut Scratch<'s>)
        -> Result<u64, Error>;
    /// Add the number of matches of each word to `each` (`words()` entries).
    fn each_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut Scratch<'s>,
        each: &mut Vec<u64>,
    ) -> Result<(), Error>;
    /// Append every match, sorted, to `out`.
    fn matches_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut Scratch<'s>,
        out: &mut Vec<Self::Match>,
    ) -> Result<(), Error>;
}

/// What the search thread of one file wrote (relaxed stores: read after the threads have
/// joined).
#[derive(Default)]
struct Slot {
    status: AtomicI64,
    /// the count, or the number of matches
    len: AtomicU64,
    /// the matches: where they start in the vector of the thread that found them
    start: AtomicU64,
    /// the matches: that thread's number
    worker: AtomicU32,
}

/// What a thread found, and what it reuses from file to file.
struct Worker<'n, M> {
    scratch: Scratch<'n>,
    each: Vec<u64>,
    matches: Vec<M>,
}

/// A vector of `len` default values (fallible).
fn try_default_vec<T: Default>(len: usize) -> Result<Vec<T>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(len)?;
    v.resize_with(len, T::default);
    Ok(v)
}

/// An OS error's errno (> 0), or `EINVAL` for a path the system cannot take (a NUL byte),
/// else `EIO`.
fn errno_of(err: &io::Error) -> i64 {
    match err.raw_os_error() {
        Some(code) if code > 0 => i64::from(code),
        _ if err.kind() == io::ErrorKind::InvalidInput => 22,
        _ => 5,
    }
}

/// A file as `fstat` sees it.
enum Kind {
    Dir,
    Regular(u64),
    Other,
}

/// Open `path` read-only without waiting (a FIFO) or taking a terminal.
fn open(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC);
    }
    options.open(path)
}

/// `fstat` of an open file.
#[cfg(unix)]
fn kind(file: &File) -> io::Result<Kind> {
    use std::os::fd::AsRawFd;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: the descriptor is the open file's; fstat fills `st` when it returns 0
    let st = unsafe {
        if libc::fstat(file.as_raw_fd(), st.as_mut_ptr()) != 0 {
            return Err(io::Error::last_os_error());
        }
        st.assume_init()
    };
    Ok(match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFREG => Kind::Regular(u64::try_from(st.st_size).unwrap_or(0)),
        _ => Kind::Other,
    })
}

/// The file's metadata (no `fstat` by that name here).
#[cfg(not(unix))]
fn kind(file: &File) -> io::Result<Kind> {
    let meta = file.metadata()?;
    Ok(if meta.is_dir() {
        Kind::Dir
    } else if meta.is_file() {
        Kind::Regular(meta.len())
    } else {
        Kind::Other
    })
}

/// "Is a directory".
#[cfg(unix)]
const EISDIR: i64 = libc::EISDIR as i64;
#[cfg(not(unix))]
const EISDIR: i64 = 21;

/// The batch search of `paths` (see the module doc): the driver of
/// [`Pattern::search_files`](crate::Pattern::search_files) and
/// [`WordSet::search_files`](crate::WordSet::search_files).
pub(crate) fn search_files<T: FileScan + ?Sized, P: AsRef<Path> + Sync>(
    searcher: &T,
    paths: &[P],
    max_size: u64,
    want: BatchWant,
    opts: &Options,
) -> Result<Batch<T::Match>, Error> {
    opts.validate()?;
    let n = paths.len();
    let words = searcher.words();
    let slots: Vec<Slot> = try_default_vec(n)?;
    let each: Vec<AtomicU64> = if want == BatchWant::Each {
        try_default_vec(n.checked_mul(words).ok_or(Error::OutOfMemory)?)?
    } else {
        Vec::new()
    };
    let mut outs = Vec::new();
    if n > 0 {
        searcher.prepare(opts)?;
        let threads = opts.threads.min(n);
        let workers: Vec<Range<u64>> = try_vec(threads, 0..0)?;
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false); // a thread failed: the others take no more files
        outs = run_chunks(&workers, |w, _| {
            let mut worker = Worker {
                scratch: Scratch { buf: Vec::new(), tuning: Tuning::new() },
                each: if want == BatchWant::Each { try_vec(words, 0u64)? } else { Vec::new() },
                matches: Vec::new(),
            };
            let done = (|| {
                while !stop.load(Ordering::Relaxed) {
                    opts.check_cancel()?;
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let (Some(path), Some(slot)) = (paths.get(i), slots.get(i)) else { break };
                    let status =
                        search_one(searcher, path.as_ref(), max_size, want, opts, &mut worker, w, i, slot, &each)?;
                    slot.status.store(status, Ordering::Relaxed);
                }
                Ok(())
            })();
            if done.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            done.map(|()| worker.matches)
        })?;
    }
    let mut status = Vec::new();
    status.try_reserve_exact(n)?;
    status.extend(slots.iter().map(|s| s.status.load(Ordering::Relaxed)));
    let found = match want {
        BatchWant::Count => {
            let mut counts = Vec::new();
            counts.try_reserve_exact(n)?;
            counts.extend(slots.iter().map(|s| s.len.load(Ordering::Relaxed)));
            BatchFound::Counts(counts)
        }
        BatchWant::Each => {
            let mut counts = Vec::new();
            counts.try_reserve_exact(each.len())?;
            counts.extend(each.iter().map(|c| c.load(Ordering::Relaxed)));
            BatchFound::Counts(counts)
        }
        BatchWant::Matches => {
            let mut bounds = Vec::new();
            bounds.try_reserve_exact(n + 1)?;
            bounds.push(0u64);
            let mut total = 0u64;
            for s in &slots {
                total += s.len.load(Ordering::Relaxed);
                bounds.push(total);
            }
            let matches = if outs.iter().filter(|out| !out.is_empty()).count() <= 1 {
                // the matches were found by one thread, which took its files in path order
                outs.into_iter().find(|out| !out.is_empty()).unwrap_or_default()
            } else {
                let mut all = Vec::new();
                all.try_reserve_exact(usize::try_from(total).map_err(|_| Error::OutOfMemory)?)?;
                for s in &slots {
                    let len = s.len.load(Ordering::Relaxed) as usize;
                    if len > 0 {
                        let start = s.start.load(Ordering::Relaxed) as usize;
                        let part = outs
                            .get(s.worker.load(Ordering::Relaxed) as usize)
                            .and_then(|out| out.get(start..start + len))
                            .ok_or(Error::Internal("batch matches"))?;
                        all.extend_from_slice(part);
                    }
                }
                all
            };
            BatchFound::Matches { bounds, matches }
        }
    };
    Ok(Batch { status, found })
}

/// Open, `fstat`, search and close file `i` on thread `w`: its status (its results in
/// `slot`, `each` or the thread's matches). An error other than a failed open, `fstat` or
/// read ends the batch.
#[allow(clippy::too_many_arguments)]
fn search_one<'s, T: FileScan + ?Sized>(
    searcher: &'s T,
    path: &Path,
    max_size: u64,
    want: BatchWant,
    opts: &Options,
    worker: &mut Worker<'s, T::Match>,
    w: usize,
    i: usize,
    slot: &Slot,
    each: &[AtomicU64],
) -> Result<i64, Error> {
    let file = match open(path) {
        Ok(file) => file,
        Err(err) => return Ok(errno_of(&err)),
    };
    let len = match kind(&file) {
        Err(err) => return Ok(errno_of(&err)),
        Ok(Kind::Dir) => return Ok(EISDIR),
        Ok(Kind::Other | Kind::Regular(0)) => return Ok(STREAM),
        Ok(Kind::Regular(len)) if len >= max_size => return Ok(BIG),
        Ok(Kind::Regular(len)) => len,
    };
    let start = worker.matches.len();
    let done = match want {
        BatchWant::Count => {
            searcher.count_file(&file, len, opts, &mut worker.scratch).map(|c| slot.len.store(c, Ordering::Relaxed))
        }
        BatchWant::Each => {
            worker.each.fill(0);
            searcher.each_file(&file, len, opts, &mut worker.scratch, &mut worker.each).and_then(|()| {
                let words = worker.each.len();
                let out = each.get(i * words..(i + 1) * words).ok_or(Error::Internal("batch counts"))?;
                for (o, &c) in out.iter().zip(&worker.each) {
                    o.store(c, Ordering::Relaxed);
                }
                Ok(())
            })
        }
        BatchWant::Matches => {
            searcher.matches_file(&file, len, opts, &mut worker.scratch, &mut worker.matches).map(|()| {
                slot.len.store((worker.matches.len() - start) as u64, Ordering::Relaxed);
                slot.start.store(start as u64, Ordering::Relaxed);
                slot.worker.store(w as u32, Ordering::Relaxed);
            })
        }
    };
    match done {
        Ok(()) => Ok(0),
        Err(Error::Io(err)) => {
            worker.matches.truncate(start);
            Ok(errno_of(&err))
        }
        Err(err) => Err(err),
    }
}
