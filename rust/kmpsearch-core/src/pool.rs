//! The process-wide pool of search threads, reused from call to call.
//!
//! * **Size policy**: one pool, grown on demand to the largest number of helper threads
//!   any search asked for (`chunks - 1`: chunk 0 always runs on the calling thread),
//!   capped at [`MAX_POOL_THREADS`]. A smaller request uses the pool as it is; a larger
//!   one replaces it with a bigger pool (the old one ends its threads once the searches
//!   still using it are done). Idle threads sleep on a futex and cost no CPU. Concurrent
//!   searches share the pool: their chunks queue when they ask for more threads than are
//!   idle, which changes only the timing, never the results.
//! * **fork()**: a child process inherits the pool's memory but none of its threads.
//!   The pool remembers the pid that built it; a search in a process with another pid
//!   forgets the stale pool without touching it (no drop, no join: `mem::forget`) and
//!   builds a new one. The lock that guards the pool is taken by a `pthread_atfork`
//!   *prepare* handler and released in the parent and the child, so a fork can never
//!   copy it in the locked state (it is held only for a few instructions, or while a
//!   pool is built, never while searching).
//! * **Thread start failure** (`EAGAIN`, an address-space limit): when the pool cannot be
//!   built, a larger request keeps using the existing smaller pool, and with no pool at
//!   all every chunk runs on the calling thread, one after the other -- the rule of every
//!   kmpsearch core: a search never fails because threads could not be started.

use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::Error;

/// Most helper threads the shared pool ever has (a search of 256 chunks: chunk 0 on the
/// caller, 255 on the pool).
pub const MAX_POOL_THREADS: usize = 255;

struct Entry {
    pid: u32,
    size: usize,
    pool: Arc<rayon::ThreadPool>,
}

static POOL: Mutex<Option<Entry>> = Mutex::new(None);

fn lock() -> MutexGuard<'static, Option<Entry>> {
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(unix)]
mod atfork {
    use std::cell::RefCell;
    use std::sync::{MutexGuard, Once};

    use super::Entry;

    thread_local! {
        static HELD: RefCell<Option<MutexGuard<'static, Option<Entry>>>> = const { RefCell::new(None) };
    }

    extern "C" fn prepare() {
        let guard = super::lock();
        HELD.with(|held| *held.borrow_mut() = Some(guard));
    }

    extern "C" fn release() {
        // the forking thread is the one that ran `prepare` (in the child, the only thread)
        let _ = HELD.try_with(|held| held.borrow_mut().take());
    }

    pub(super) fn register() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            // SAFETY: the handlers are `extern "C"` functions without arguments that only
            // take and release a lock that no thread holds across a fork or a callback.
            // A failure (ENOMEM) only leaves the lock unprotected against a fork.
            unsafe {
                libc::pthread_atfork(Some(prepare), Some(release), Some(release));
            }
        });
    }
}

#[cfg(not(unix))]
mod atfork {
    pub(super) fn register() {}
}

/// The shared pool with at least `helpers` threads if it can be had (see the module
/// doc), a smaller one if a bigger one cannot be started, or `None`.
fn pool_for(helpers: usize) -> Option<Arc<rayon::ThreadPool>> {
    let want = helpers.clamp(1, MAX_POOL_THREADS);
    #[cfg(test)]
    if tests::NO_POOL.load(std::sync::atomic::Ordering::Relaxed) {
        return None;
    }
    atfork::register();
    let pid = std::process::id();
    let mut slot = lock();
    if slot.as_ref().is_some_and(|e| e.pid != pid) {
        // a forked child: the threads of this pool do not exist here. Never drop it
        // (dropping would signal, and could wait on, threads of the parent).
        std::mem::forget(slot.take());
    }
    if let Some(e) = slot.as_ref() {
        if e.size >= want {
            return Some(Arc::clone(&e.pool));
        }
    }
    let built = rayon::ThreadPoolBuilder::new().num_threads(want).thread_name(|i| format!("kmpsearch-{i}")).build();
    match built {
        Ok(pool) => {
            let pool = Arc::new(pool);
            // the old pool (if any) ends its threads when its last search returns
            *slot = Some(Entry { pid, size: want, pool: Arc::clone(&pool) });
            Some(pool)
        }
        Err(_) => slot.as_ref().map(|e| Arc::clone(&e.pool)),
    }
}

/// How many helper threads the shared pool has in this process now (0: none yet).
pub fn pool_threads() -> usize {
    let slot = lock();
    match slot.as_ref() {
        Some(e) if e.pid == std::process::id() => e.size,
        _ => 0,
    }
}

/// Run `work(i, chunk)` for every chunk and return the results in chunk order.
///
/// Chunk 0 runs on the calling thread, the others on the shared pool (see the module
/// doc); one chunk, or no pool to be had, runs everything on the calling thread. The
/// first error in chunk order is returned (after every chunk has finished).
pub(crate) fn run_chunks<T: Send>(
    chunks: &[Range<u64>],
    work: impl Fn(usize, Range<u64>) -> Result<T, Error> + Sync,
) -> Result<Vec<T>, Error> {
    let k = chunks.len();
    let mut slots: Vec<Option<Result<T, Error>>> = Vec::new();
    slots.try_reserve_exact(k).map_err(|_| Error::OutOfMemory)?;
    slots.resize_with(k, || None);
    let pool = if k > 1 { pool_for(k - 1) } else { None };
    match pool {
        Some(pool) => {
            let work = &work;
            pool.in_place_scope(|scope| {
                let (first, rest) = slots.split_at_mut(1);
                for (i, slot) in rest.iter_mut().enumerate() {
                    let range = chunks[i + 1].clone();
                    scope.spawn(move |_| *slot = Some(work(i + 1, range)));
                }
                first[0] = Some(work(0, chunks[0].clone()));
            });
        }
        None => {
            for (i, slot) in slots.iter_mut().enumerate() {
                *slot = Some(work(i, chunks[i].clone()));
            }
        }
    }
    let mut out = Vec::new();
    out.try_reserve_exact(k).map_err(|_| Error::OutOfMemory)?;
    for slot in slots {
        match slot {
            Some(Ok(v)) => out.push(v),
            Some(Err(e)) => return Err(e),
            None => return Err(Error::Internal("a chunk did not run")),
        }
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::atomic::AtomicBool;

    /// Tests set this to act as if no thread could be started (the calling-thread
    /// fallback); searches running meanwhile in other tests only lose their threads.
    pub(crate) static NO_POOL: AtomicBool = AtomicBool::new(false);
}
