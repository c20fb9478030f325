//! The chunk plan shared by every kmpsearch backend (see `python/kmpsearch/_plan.py`).

use std::ops::Range;

use crate::Error;

/// Default least number of candidate start positions per chunk (1 MiB): smaller inputs
/// are searched as one chunk on the calling thread, because starting a thread costs
/// more than scanning a few kilobytes.
pub const DEFAULT_MIN_CHUNK: u64 = 1 << 20;

/// Split a search of a needle of `m` bytes over `n` bytes into chunks, exactly as every
/// kmpsearch backend does.
///
/// ```text
/// if m > n: no chunks (no match is possible)
/// P = n - m + 1                                  candidate start positions
/// k = max(1, min(threads, P / min_chunk))        chunks, i.e. threads actually used
/// chunk i (0 <= i < k) owns start positions [P*i/k, P*(i+1)/k)
///         and scans the bytes               [P*i/k, P*(i+1)/k + m - 1)
/// ```
///
/// Each returned range is the bytes chunk `i` scans: its own start positions plus
/// `m - 1` bytes of overlap. A match found inside a chunk's window starts inside the
/// chunk's own positions, so each match is found by exactly one chunk, and concatenating
/// the chunks' results in order gives ascending offsets.
///
/// Word sets use the same plan with `m = min(longest word, n)` (see [`crate::WordSet`]).
///
/// # Errors
///
/// [`Error::InvalidArgument`] if `m`, `threads` or `min_chunk` is zero;
/// [`Error::OutOfMemory`] if the list of chunks cannot be allocated.
///
/// ```
/// use kmpsearch_core::plan_chunks;
/// assert_eq!(plan_chunks(10, 3, 2, 1).unwrap(), vec![0..6, 4..10]);
/// assert_eq!(plan_chunks(10, 3, 4, 4).unwrap(), vec![0..6, 4..10]); // 8 positions, at least 4 each
/// assert_eq!(plan_chunks(2, 3, 2, 1).unwrap(), vec![]);
/// ```
pub fn plan_chunks(n: u64, m: u64, threads: usize, min_chunk: u64) -> Result<Vec<Range<u64>>, Error> {
    if m == 0 || threads == 0 || min_chunk == 0 {
        return Err(Error::InvalidArgument("plan_chunks needs m, threads and min_chunk >= 1"));
    }
    if m > n {
        return Ok(Vec::new());
    }
    let positions = n - m + 1;
    let k = (threads as u64).min(positions / min_chunk).max(1);
    let mut chunks = Vec::new();
    chunks.try_reserve_exact(usize::try_from(k).map_err(|_| Error::OutOfMemory)?)?;
    // 128-bit products: positions * i does not fit in 64 bits for files over 2^56 bytes
    let bound = |i: u64| (u128::from(positions) * u128::from(i) / u128::from(k)) as u64;
    chunks.extend((0..k).map(|i| bound(i)..bound(i + 1) + (m - 1)));
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_chunks(n: u64, m: u64, threads: usize, min_chunk: u64) -> Vec<Range<u64>> {
        super::plan_chunks(n, m, threads, min_chunk).unwrap()
    }

    #[test]
    fn matches_the_python_examples() {
        assert_eq!(plan_chunks(10, 3, 2, 1), vec![0..6, 4..10]);
        assert_eq!(plan_chunks(10, 3, 4, 4), vec![0..6, 4..10]);
        assert_eq!(plan_chunks(2, 3, 2, 1), Vec::<Range<u64>>::new());
        assert_eq!(plan_chunks(0, 1, 1, 1), Vec::<Range<u64>>::new());
        assert_eq!(plan_chunks(3, 3, 8, 1), vec![0..3]);
    }

    #[test]
    fn default_min_chunk_keeps_small_inputs_on_one_chunk() {
        assert_eq!(plan_chunks(1 << 20, 3, 8, DEFAULT_MIN_CHUNK), vec![0..(1 << 20)]);
        assert_eq!(plan_chunks(2 << 20, 1, 8, DEFAULT_MIN_CHUNK).len(), 2);
    }

    #[test]
    fn covers_every_position_once_for_huge_inputs() {
        let n = u64::MAX - 7;
        let chunks = plan_chunks(n, 5, 7, 1);
        assert_eq!(chunks.len(), 7);
        assert_eq!(chunks[0].start, 0);
        assert_eq!(chunks[6].end, n);
        for w in chunks.windows(2) {
            assert_eq!(w[0].end - 4, w[1].start);
        }
        // near 2^63 and 2^64, with 256 threads and min_chunk 1 or huge
        for n in [(1u64 << 63) - 1, 1 << 63, (1 << 63) + 1, u64::MAX - 1, u64::MAX] {
            for m in [1u64, 2, 1000, n / 2, n] {
                for (threads, min_chunk) in
                    [(1, 1), (7, 1), (256, 1), (256, 1 << 62), (256, (1 << 63) - 1), (3, u64::MAX)]
                {
                    let chunks = plan_chunks(n, m, threads, min_chunk);
                    let p = u128::from(n - m + 1);
                    let k = (threads as u128).min(p / u128::from(min_chunk)).max(1);
                    assert_eq!(chunks.len() as u128, k);
                    for (i, c) in chunks.iter().enumerate() {
                        let i = i as u128;
                        assert_eq!(u128::from(c.start), p * i / k);
                        assert_eq!(u128::from(c.end), p * (i + 1) / k + u128::from(m) - 1);
                    }
                    assert_eq!(chunks.last().unwrap().end, n);
                }
            }
        }
        assert!(matches!(super::plan_chunks(5, 0, 1, 1), Err(Error::InvalidArgument(_))));
        assert!(matches!(super::plan_chunks(5, 1, 0, 1), Err(Error::InvalidArgument(_))));
        assert!(matches!(super::plan_chunks(5, 1, 1, 0), Err(Error::InvalidArgument(_))));
    }
}
