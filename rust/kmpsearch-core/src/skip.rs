//! The fast scan's skip for one pattern: a SIMD "packed pair" prefilter on the two needle
//! bytes that are rarest *in the text being searched*.
//!
//! `memchr::memmem` ranks needle bytes by a fixed table of typical text and, when its
//! prefilter does not apply, runs Two-Way, which on a sea of `a` with the needle
//! `a`x999 + `b` advances one byte per step (about 3 ns a byte here). Sampling the
//! haystack (16 spread blocks of 1 KiB) tells which needle bytes are rare in *this* text:
//! there the pair (`a` at 998, `b` at 999) is never found and the whole chunk is skipped
//! at memchr speed; in uniform random text (`3J1`) any pair is as good as memmem's.
//!
//! The pair's offsets must be at most 255 apart (memchr's `Pair`), so the pair is taken
//! in a window of the needle: the most predictive byte, then the best one within 255
//! positions of it.
//!
//! The SIMD level ([`Simd`], resolved) picks the finder: memchr's AVX2 packed pair, its
//! SSE2 one, or the portable one (`Simd::Scalar`). The portable finder looks for the
//! pair's first byte with `memchr::memchr`, whose own SIMD dispatch memchr does inside
//! itself at run time and no level can force: "scalar" here means no packed-pair vector
//! loop of ours, not a byte-at-a-time search.

use memchr::arch::all::packedpair::{Finder as GenericFinder, Pair};

use crate::Simd;

/// Needles up to this length are verified inside the SIMD loop (memchr's packed pair
/// `find`, as `memmem` does for short needles, but with the pair chosen from the text):
/// the skip then stops only at real matches. Longer needles stop at every candidate and
/// let the automaton verify it (a bounded cost per candidate: the scan stays linear).
const VERIFY_MAX: usize = 16;

/// A candidate finder: [`Skip::find`] returns the leftmost start at or after a position
/// where the needle's two chosen bytes both occur (every match starts at one).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Skip<'n> {
    /// the pair's window starts at this offset of the needle
    offset: usize,
    /// the whole needle, when short enough to be verified in the SIMD loop
    short: Option<&'n [u8]>,
    generic: GenericFinder,
    /// at the AVX2 level (memchr's finder also holds an SSE2 one for shorter haystacks)
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::packedpair::Finder>,
    /// at the SSE2 level
    #[cfg(target_arch = "x86_64")]
    sse2: Option<memchr::arch::x86_64::sse2::packedpair::Finder>,
}

/// Bytes a skip is tuned on, at most: 16 blocks of 1 KiB.
const SAMPLE_BLOCK: usize = 1024;
const SAMPLE_BLOCKS: usize = 16;

/// The byte counts a skip is tuned on: up to 16 blocks of 1 KiB, from one text (a chunk)
/// or gathered over several (a thread's files in a batch, until it is full).
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    hist: [u32; 256],
    bytes: usize,
}

impl Sample {
    pub(crate) fn new() -> Sample {
        Sample { hist: [0; 256], bytes: 0 }
    }

    /// Whether it holds all the bytes a sample takes.
    pub(crate) fn full(&self) -> bool {
        self.bytes >= SAMPLE_BLOCK * SAMPLE_BLOCKS
    }

    /// Count the bytes of `hay` up to what the sample still takes: all of them when they
    /// fit, else as many blocks of 1 KiB as fit, spread over `hay`.
    pub(crate) fn add(&mut self, hay: &[u8]) {
        let room = (SAMPLE_BLOCK * SAMPLE_BLOCKS).saturating_sub(self.bytes);
        let mut count = |part: &[u8]| {
            for &b in part {
                self.hist[b as usize] += 1;
            }
            self.bytes += part.len();
        };
        if hay.len() <= room {
            count(hay);
        } else if room < SAMPLE_BLOCK {
            count(&hay[..room]);
        } else {
            let blocks = room / SAMPLE_BLOCK;
            let step = hay.len() / blocks;
            for k in 0..blocks {
                let start = k * step;
                count(hay.get(start..start + SAMPLE_BLOCK).unwrap_or(&[]));
            }
        }
    }
}

/// The skip of a thread's file scans and the sample it is tuned on: tuned again on the
/// first block of each scan while the sample is not full, then kept. A range's chunk, a
/// fresh one: tuned on its first block; a batch's thread, one for all its files: tuned on
/// the first 16 KiB of their first blocks, not on each small file again.
#[derive(Debug)]
pub(crate) struct Tuning<'n> {
    sample: Sample,
    skip: Option<Skip<'n>>,
}

impl<'n> Tuning<'n> {
    pub(crate) fn new() -> Tuning<'n> {
        Tuning { sample: Sample::new(), skip: None }
    }

    /// The skip for `needle` after the first block `first` of a scan.
    pub(crate) fn first_block(&mut self, needle: &'n [u8], first: &[u8], level: Simd) -> Option<&Skip<'n>> {
        if !self.sample.full() {
            self.sample.add(first);
            self.skip = Skip::tuned(needle, &self.sample, level);
        }
        self.skip.as_ref()
    }

    /// The skip (after [`Tuning::first_block`]).
    pub(crate) fn skip(&self) -> Option<&Skip<'n>> {
        self.skip.as_ref()
    }
}

impl<'n> Skip<'n> {
    /// A skip for `needle` (at least 2 bytes) tuned on the text `hay` (`None` for a
    /// one-byte needle), searching with the finder of the SIMD level `level` (resolved:
    /// [`Simd::resolve`]; `Auto` is taken as the best level of the CPU).
    pub(crate) fn new(needle: &'n [u8], hay: &[u8], level: Simd) -> Option<Skip<'n>> {
        let mut sample = Sample::new();
        sample.add(hay);
        Skip::tuned(needle, &sample, level)
    }

    /// A skip for `needle` tuned on the byte counts `sample`, as [`Skip::new`].
    pub(crate) fn tuned(needle: &'n [u8], sample: &Sample, level: Simd) -> Option<Skip<'n>> {
        let m = needle.len();
        if m < 2 {
            return None;
        }
        let hist = &sample.hist;
        let rank = |i: usize| hist[needle[i] as usize];
        // the most predictive byte; among equals the last one (a match needs the whole
        // needle, so a late byte found means the candidate is nearer its end)
        let mut r1 = 0;
        for i in 1..m {
            if rank(i) <= rank(r1) {
                r1 = i;
            }
        }
        let (lo, hi) = (r1.saturating_sub(255), (r1 + 255).min(m - 1));
        // the second: the rarest within reach, a byte other than the first's if equal
        let key = |i: usize| (rank(i), needle[i] == needle[r1]);
        let mut r2 = if r1 == lo { lo + 1 } else { lo };
        for i in lo..=hi {
            if i != r1 && key(i) < key(r2) {
                r2 = i;
            }
        }
        let offset = if m <= 256 { 0 } else { r1.min(r2) };
        let window = &needle[offset..(offset + 256).min(m)];
        let pair = Pair::with_indices(window, (r1 - offset) as u8, (r2 - offset) as u8)?;
        #[cfg(target_arch = "x86_64")]
        let level = level.resolve();
        #[cfg(not(target_arch = "x86_64"))]
        let _ = level;
        Some(Skip {
            offset,
            short: if m <= VERIFY_MAX { Some(needle) } else { None },
            generic: GenericFinder::with_pair(window, pair)?,
            // with_pair: None when the CPU lacks the feature (resolve already lowered it)
            #[cfg(target_arch = "x86_64")]
            avx2: if level == Simd::Avx2 {
                memchr::arch::x86_64::avx2::packedpair::Finder::with_pair(window, pair)
            } else {
                None
            },
            #[cfg(target_arch = "x86_64")]
            sse2: if level == Simd::Sse2 {
                memchr::arch::x86_64::sse2::packedpair::Finder::with_pair(window, pair)
            } else {
                None
            },
        })
    }

    /// The leftmost start `p >= q` of `hay` where the needle's pair of bytes occurs
    /// (both inside `hay`), or `None`: then no occurrence of the needle lying wholly in
    /// `hay` starts at `q` or later.
    #[inline]
    pub(crate) fn find(&self, hay: &[u8], q: usize) -> Option<usize> {
        let h = hay.get(q.checked_add(self.offset)?..)?;
        #[cfg(target_arch = "x86_64")]
        if let Some(f) = &self.avx2 {
            if h.len() >= f.min_haystack_len() {
                return match self.short {
                    // offset 0: the window is the whole needle
                    Some(needle) => f.find(h, needle),
                    None => f.find_prefilter(h),
                }
                .map(|t| q + t);
            }
        }
        #[cfg(target_arch = "x86_64")]
        if let Some(f) = &self.sse2 {
            if h.len() >= f.min_haystack_len() {
                return match self.short {
                    Some(needle) => f.find(h, needle),
                    None => f.find_prefilter(h),
                }
                .map(|t| q + t);
            }
        }
        self.generic.find_prefilter(h).map(|t| q + t)
    }
}
