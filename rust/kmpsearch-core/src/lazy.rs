//! A write-once cell without a lock: the compiled objects' lazily built tables.
//!
//! `OnceLock` (and a `Mutex` around a build) would block a thread that finds another one
//! initialising the cell -- forever in a forked child, whose copy of the cell was taken
//! mid-build by a thread that does not exist there. Here a build runs outside the cell and
//! is published with one compare-and-swap; a thread that loses the race drops its own
//! copy. Nothing ever waits.

use std::fmt;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

pub(crate) struct Lazy<T> {
    ptr: AtomicPtr<T>,
}

impl<T> Lazy<T> {
    pub(crate) const fn new() -> Self {
        Lazy { ptr: AtomicPtr::new(ptr::null_mut()) }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        let p = self.ptr.load(Ordering::Acquire);
        // SAFETY: a non-null pointer was published by `set` from a Box that lives until
        // the cell is dropped (`&self` borrows the cell).
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Publish `value` unless another thread did first; return the published value.
    pub(crate) fn set(&self, value: T) -> &T {
        let mine = Box::into_raw(Box::new(value));
        match self.ptr.compare_exchange(ptr::null_mut(), mine, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: `mine` is now owned by the cell (freed in Drop)
            Ok(_) => unsafe { &*mine },
            Err(theirs) => {
                // SAFETY: `mine` was never shared; `theirs` is published (as in `get`)
                drop(unsafe { Box::from_raw(mine) });
                unsafe { &*theirs }
            }
        }
    }
}

impl<T> Drop for Lazy<T> {
    fn drop(&mut self) {
        let p = *self.ptr.get_mut();
        if !p.is_null() {
            // SAFETY: published by `set` from a Box, dropped once
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

// SAFETY: the cell hands out `&T` to any thread (needs T: Sync) and moves a T built on
// one thread into the cell, dropped on another (needs T: Send).
unsafe impl<T: Send + Sync> Sync for Lazy<T> {}
unsafe impl<T: Send> Send for Lazy<T> {}

impl<T: fmt::Debug> fmt::Debug for Lazy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.get() {
            Some(v) => f.debug_tuple("Lazy").field(v).finish(),
            None => f.write_str("Lazy(<not built>)"),
        }
    }
}
