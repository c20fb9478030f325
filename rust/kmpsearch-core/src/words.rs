//! Many words in one pass: [`WordSet`].

use std::fs::File;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::ops::Range;
use std::path::Path;

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Input, MatchKind, Span};

use crate::batch::{self, Batch, BatchWant, FileScan, Scratch};
use crate::filter_rule::{choose_filter, FilterKind};
use crate::lazy::Lazy;
use crate::pool::run_chunks;
use crate::tuning::{SEGMENT, STRIDE3_MAX_GROUPS, TEDDY_CRATE_MAX_PATTERNS};
use crate::{plan_chunks, try_push, try_vec, Error, Options, ReadAt, Scan, Simd};

/// Teddy looks for each word's first (at most) this many bytes; the rest is verified
/// with the budgeted verification of the fast scan.
const TEDDY_PREFIX: usize = 16;
/// Multiplier of the start filter's hash (Knuth's golden ratio constant, odd).
const MUL: u32 = 0x9E37_79B1;
/// Multiplier of the exact prefix table's hash (odd).
const MUL2: u32 = 0x85EB_CA77;

/// ASCII letters folded to lower case; every other byte unchanged.
static LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = if i >= b'A' as usize && i <= b'Z' as usize { i as u8 + 32 } else { i as u8 };
        i += 1;
    }
    t
};

/// The first slot of `key` in an exact table of `cap` slots (a power of two).
#[inline(always)]
fn slot_hash(key: u32, cap: usize) -> usize {
    key.wrapping_mul(MUL2).checked_shr(32u32.saturating_sub(cap.trailing_zeros())).unwrap_or(0) as usize
}

/// Where the (masked) window `x` lives in the start filter, a blocked Bloom filter of
/// `2^fbits` bits with two bits per window: of the window's multiplicative hash, the top
/// `fbits - 5` bits pick the 32-bit word, the next 5 and the 5 after them the two bits in
/// it. One memory access per window, and about a tenth of the false positives of one bit
/// per window at the same size. One multiply and shifts by the same amount in every
/// lane: the same arithmetic runs 8 lanes wide in `next_hits_avx2` (as in the C core).
#[inline(always)]
fn bloom(x: u32, fbits: u32) -> (usize, u32, u32) {
    let h = x.wrapping_mul(MUL);
    ((h >> (37 - fbits)) as usize, (h >> (32 - fbits)) & 31, (h >> (27 - fbits)) & 31)
}

/// Whether the filter `bits` of `2^fbits` bits is well formed (what `bloom` needs).
#[inline(always)]
fn filter_ok(bits: &[u32], fbits: u32) -> bool {
    (12..=22).contains(&fbits) && bits.len() == 1 << (fbits - 5)
}

/// The 4 bytes at `p` (little-endian), zero-padded past the end of `w`.
#[inline(always)]
fn load4(w: &[u8], p: usize) -> u32 {
    match w.get(p..p + 4) {
        Some(b) => u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        None => {
            let mut b = [0u8; 4];
            for (d, s) in b.iter_mut().zip(w.get(p..).unwrap_or(&[])) {
                *d = *s;
            }
            u32::from_le_bytes(b)
        }
    }
}

/// Most candidate starts verified in one batch (see [`WordSet::verify_batch`]).
const BATCH: usize = 64;

/// Candidate starts of the start filter, ascending, waiting for their verification.
struct Hits {
    n: usize,
    pos: [usize; BATCH],
}

impl Hits {
    /// Whether a filter step (at most 16 starts) might not fit any more.
    #[inline(always)]
    fn full(&self) -> bool {
        self.n > BATCH - 16
    }

    /// The starts of the windows in `mask` (bit `j`: the window of the start `p + S j`),
    /// each standing for `S` starts.
    #[inline(always)]
    fn push<const S: usize>(&mut self, p: usize, mut mask: u32) {
        while mask != 0 {
            let q = p + S * mask.trailing_zeros() as usize;
            for d in 0..S {
                if let Some(slot) = self.pos.get_mut(self.n) {
                    *slot = q + d;
                    self.n += 1;
                }
            }
            mask &= mask - 1;
        }
    }
}

/// The start filter over the starts `p, p + S, p + 2S, ...` below `end`: each one whose
/// window -- the masked 4 bytes at `start + S - 1` -- passes the Bloom filter `bits` goes
/// to `hits`, until `hits` is [full](Hits::full) or every start was examined; returns the
/// next start to examine (at or past `end`: all were). Stride `S = 1`: the window at each
/// start. Stride `S = 2`: the window at `p + 1` stands for the starts `p` and `p + 1`
/// (every word has its windows at offsets 0 and 1 in the filter), so half the windows
/// are hashed, and both starts go to `hits`. Needs `end + S + 2 <= w.len()`. Kept out
/// of line: the hot loop of the fast word scan, with everything in registers.
#[inline(never)]
fn next_hits<const S: usize>(
    w: &[u8],
    mut p: usize,
    end: usize,
    bits: &[u32],
    hmask: u32,
    fbits: u32,
    hits: &mut Hits,
) -> usize {
    if end + S + 2 > w.len() || !filter_ok(bits, fbits) || !(S == 1 || S == 2) {
        return end; // never: the callers keep these
    }
    let ptr = w.as_ptr();
    let test = |x: u32| -> u32 {
        let (i, b1, b2) = bloom(x & hmask, fbits);
        // SAFETY: i < 2^(fbits - 5) == bits.len() (checked above)
        let word = unsafe { *bits.get_unchecked(i) };
        (word >> b1) & (word >> b2) & 1
    };
    // 4 windows per step, their probes ORed (hits are rare)
    if S == 1 {
        // from one 8-byte load: needs p + 8 <= w.len(); p + 4 <= end and end + 3 <=
        // w.len() give p + 7 <= w.len(), so stop one start earlier
        while p + 5 <= end {
            // SAFETY: p + 8 <= end + 3 <= w.len()
            let v = u64::from_le(unsafe { std::ptr::read_unaligned(ptr.add(p) as *const u64) });
            let m =
                test(v as u32) | test((v >> 8) as u32) << 1 | test((v >> 16) as u32) << 2 | test((v >> 24) as u32) << 3;
            if m != 0 {
                hits.push::<S>(p, m);
                if hits.full() {
                    return p + 4;
                }
            }
            p += 4;
        }
    } else {
        // the windows at p + 1, 3, 5, 7 from an 8-byte load at p + 1 and a 4-byte one at
        // p + 7: needs p + 11 <= w.len()
        while p + 8 <= end {
            // SAFETY: p + 11 < p + 8 + 4 <= end + 4 <= w.len()
            let v = u64::from_le(unsafe { std::ptr::read_unaligned(ptr.add(p + 1) as *const u64) });
            let y = u32::from_le(unsafe { std::ptr::read_unaligned(ptr.add(p + 7) as *const u32) });
            let m = test(v as u32) | test((v >> 16) as u32) << 1 | test((v >> 32) as u32) << 2 | test(y) << 3;
            if m != 0 {
                hits.push::<S>(p, m);
                if hits.full() {
                    return p + 8;
                }
            }
            p += 8;
        }
    }
    while p < end {
        // SAFETY: p + S - 1 + 4 <= end + S + 2 <= w.len()
        let x = u32::from_le(unsafe { std::ptr::read_unaligned(ptr.add(p + S - 1) as *const u32) });
        if test(x) != 0 {
            hits.push::<S>(p, 1);
            if hits.full() {
                return p + S;
            }
        }
        p += S;
    }
    p
}

/// [`next_hits`] 8 windows (8 `S` starts) at a time: two 16-byte loads (one per 128-bit
/// lane, at the step's first window and `4 S` bytes further) shuffled into 4 windows each,
/// one 8-lane multiply, one gather of the filter's words; the scalar loop finishes.
///
/// # Safety
///
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn next_hits_avx2<const S: usize>(
    w: &[u8],
    mut p: usize,
    end: usize,
    bits: &[u32],
    hmask: u32,
    fbits: u32,
    hits: &mut Hits,
) -> usize {
    use std::arch::x86_64::*;
    if end + S + 2 > w.len() || !filter_ok(bits, fbits) || !(S == 1 || S == 2) {
        return end;
    }
    // per lane, the windows at offsets 0, S, 2S, 3S of its load
    let ctl = if S == 2 {
        _mm256_setr_epi8(0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9)
    } else {
        _mm256_setr_epi8(0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, 0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6)
    };
    let vh = _mm256_set1_epi32(hmask as i32);
    let mul = _mm256_set1_epi32(MUL as i32);
    let v31 = _mm256_set1_epi32(31);
    let sh_word = _mm_cvtsi32_si128(37 - fbits as i32);
    let sh_b1 = _mm_cvtsi32_si128(32 - fbits as i32);
    let sh_b2 = _mm_cvtsi32_si128(27 - fbits as i32);
    let ptr = w.as_ptr();
    let table = bits.as_ptr() as *const i32;
    // a step reads w[p + S - 1 .. p + S - 1 + 4 S + 16)
    while p + 8 * S <= end && p + 5 * S + 15 <= w.len() {
        // SAFETY: p + 5 S + 15 <= w.len(); every gathered index is < 2^(fbits - 5) == bits.len()
        let v = unsafe {
            _mm256_loadu2_m128i(ptr.add(p + 5 * S - 1) as *const __m128i, ptr.add(p + S - 1) as *const __m128i)
        };
        let h = _mm256_mullo_epi32(_mm256_and_si256(_mm256_shuffle_epi8(v, ctl), vh), mul);
        let words = unsafe { _mm256_i32gather_epi32::<4>(table, _mm256_srl_epi32(h, sh_word)) };
        let b1 = _mm256_and_si256(_mm256_srl_epi32(h, sh_b1), v31);
        let b2 = _mm256_and_si256(_mm256_srl_epi32(h, sh_b2), v31);
        let t = _mm256_and_si256(_mm256_srlv_epi32(words, b1), _mm256_srlv_epi32(words, b2));
        let mask = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(t)));
        if mask != 0 {
            hits.push::<S>(p, mask as u32);
            if hits.full() {
                return p + 8 * S;
            }
        }
        p += 8 * S;
    }
    next_hits::<S>(w, p, end, bits, hmask, fbits, hits)
}

/// Ask for the cache line of `x` (nothing on other targets).
#[inline(always)]
fn prefetch<T>(x: Option<&T>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = x {
        // SAFETY: a prefetch has no effect but on the caches (SSE: every x86_64 has it)
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(x as *const T as *const i8) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// Fold the ASCII upper-case letters among the 4 bytes of `x` to lower case (SWAR).
#[inline(always)]
fn fold4(x: u32) -> u32 {
    let low7 = x & 0x7F7F_7F7F;
    let ge_a = low7.wrapping_add(0x3F3F_3F3F); // high bit: byte >= 'A' (0x41)
    let gt_z = low7.wrapping_add(0x2525_2525); // high bit: byte > 'Z' (0x5A)
    let upper = ge_a & !gt_z & !x & 0x8080_8080;
    x | (upper >> 2)
}

/// Counts of what a compiled [`WordSet`] holds (for benchmarks and tests).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WordSetStats {
    /// Number of words.
    pub words: usize,
    /// Bytes of the words, all together.
    pub word_bytes: usize,
    /// Bytes the Aho-Corasick automaton holds.
    pub automaton_bytes: usize,
    /// Bytes of the fast scan's structures (bitmap, prefix table, Teddy).
    pub filter_bytes: usize,
    /// Bits of the start bitmap (`2^bits`).
    pub bitmap_bits: u32,
    /// Prefix length of the exact prefix table (`min(shortest word, 4)`).
    pub prefix_len: usize,
    /// Stride of the Bloom start filter: 2 when it holds two windows a word and the scan
    /// hashes every other position, else 1.
    pub stride: usize,
    /// Whether the SIMD (Teddy) start filter is used.
    pub teddy: bool,
}

/// A slot of the exact prefix table: a prefix and its group of words, `entries[start..
/// start + len]` (`len == 0`: a free slot). One cache line for both.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    key: u32,
    start: u32,
    len: u32,
}

/// A word as its verification needs it, without touching the word's bytes: the (folded)
/// bytes after its `k`-byte prefix, up to 8, little-endian and zero-padded.
#[derive(Clone, Copy, Debug, Default)]
struct Entry {
    rest: u64,
    id: u32,
    len: u32,
}

/// Fold the ASCII upper-case letters among the 8 bytes of `x` to lower case (SWAR).
#[inline(always)]
fn fold8(x: u64) -> u64 {
    const M: u64 = 0x0101_0101_0101_0101;
    let low7 = x & (0x7F * M);
    let ge_a = low7.wrapping_add(0x3F * M);
    let gt_z = low7.wrapping_add(0x25 * M);
    let upper = ge_a & !gt_z & !x & (0x80 * M);
    x | (upper >> 2)
}

/// The fast scan's structures: a bitmap of hashed `k`-byte prefixes (a filter with false
/// positives), an exact table from each prefix to its group of words (word indices
/// ascending), and for few words a Teddy searcher.
#[derive(Debug)]
struct Filter {
    k: usize,
    /// keeps the first `k` bytes of a little-endian load
    kmask: u32,
    /// 1: the Bloom filter holds each word's window at offset 0 and the scan looks at
    /// every start; 2: it holds the windows at offsets 0 and 1 (every word is longer than
    /// a window) and the scan looks at every other position, each window standing for
    /// the start before it and its own
    stride: usize,
    /// keeps a window's bytes (4, or 3 for 4-byte words with stride 2, or `k` < 4) of a
    /// little-endian load; with ignore_case bit 5 of every byte is cleared too (letters of
    /// both cases hash alike; non-letters pairing up only add false positives)
    hmask: u32,
    /// the Bloom filter has `2^fbits` bits (12 ..= 22)
    fbits: u32,
    bits: Vec<u32>,
    /// whether `next_hits_avx2` may run
    avx2: bool,
    /// exact table of the prefixes, open addressing (at most half full)
    slots: Vec<Slot>,
    /// the words grouped by prefix, indices ascending within a group
    entries: Vec<Entry>,
    teddy: Option<packed::Searcher>,
}

/// A compiled set of words: every occurrence of every word, overlapping ones included.
///
/// * Matches are `(start offset, word index)`, sorted by offset then by index, and all
///   of them are reported: in `ushers`, the words `he`, `she`, `hers` give
///   `(1, 1), (2, 0), (2, 2)`.
/// * `ignore_case`: ASCII letters only (`A`-`Z` == `a`-`z`, as `grep -i` in the C locale);
///   every other byte compares exactly (`[` and `{`, `@` and `` ` `` differ).
/// * [`Scan::Textbook`]: the Aho-Corasick automaton of the [`aho_corasick`] crate
///   (`MatchKind::Standard`, overlapping search, no prefilter) reading every byte.
/// * [`Scan::Fast`]: every match starts with one of the words' `k`-byte prefixes
///   (`k = min(shortest word, 4)`). A filter finds the candidate starts -- Teddy (SIMD,
///   [`aho_corasick::packed`]) for up to 64 words, else a blocked Bloom filter of hashed
///   windows (as the C core's) -- and each candidate is verified exactly against the
///   words with that prefix (an exact hash table of prefixes -> word indices, ascending),
///   so matches come out already sorted. The Bloom filter has stride 2 when every word is
///   longer than its window (4 bytes when the words have 5 or more, 3 bytes for 4-byte
///   words in case-sensitive sets of at most 1,024 prefixes): each word enters it with
///   its windows at offsets 0 and 1, and the scan hashes only the window at every other
///   position, which stands for the start before it and its own (both verified on a
///   hit): half the hashing and gathers per byte. Else stride 1: the `k`-byte window at every start. The
///   candidates are verified in batches of up to 64 (the exact table's slots, then the
///   words' entries prefetched first, so cache misses of large sets overlap). The
///   verification work is counted per segment of 64 KiB of starts; past a budget (4x the
///   segment + a constant) the rest of the segment goes to the automaton, and the next
///   segments too (1, 2, 4 ... 64 of them) before the filter is tried again: the scan
///   stays linear whatever the text and the words (e.g. `a`x100000 with words `a`..`a`^40).
/// * Threads: the chunk plan of [`plan_chunks`] with `m = min(longest word, n)`; chunk
///   `i` owns the starts `[start_i, start_{i+1})` (the last one every start up to `n`)
///   and keeps only the matches starting there.
/// * Files: each chunk is read in blocks of owned starts (at least the longest word),
///   each block's buffer beginning with the previous block's last `longest - 1` bytes.
///
/// Build once (100,000 words: well under a second), search many times from many threads
/// at once: it is `Send + Sync` and immutable.
#[derive(Debug)]
pub struct WordSet {
    ignore_case: bool,
    /// the words, concatenated (folded to lower case when `ignore_case`)
    text: Vec<u8>,
    /// word `i` is `text[offs[i]..offs[i + 1]]`
    offs: Vec<usize>,
    shortest: usize,
    longest: usize,
    /// the automaton, built by the first search that needs it (see [`WordSet::automaton`])
    ac: Lazy<AhoCorasick>,
    filter: Filter,
}

/// Where the matches of a word-set scan go.
trait WSink {
    /// Record word `id` at absolute offset `pos`; `false`: out of memory, stop.
    fn hit(&mut self, pos: u64, id: u32) -> bool;
    /// Where the matches of an automaton run (out of order) begin.
    fn mark(&self) -> usize {
        0
    }
    /// Put the matches recorded since `mark` in (offset, index) order.
    fn sort_from(&mut self, _mark: usize) {}
}

struct WCount(u64);

impl WSink for WCount {
    #[inline(always)]
    fn hit(&mut self, _pos: u64, _id: u32) -> bool {
        self.0 += 1;
        true
    }
}

struct WEach(Vec<u64>);

impl WSink for WEach {
    #[inline(always)]
    fn hit(&mut self, _pos: u64, id: u32) -> bool {
        if let Some(c) = self.0.get_mut(id as usize) {
            *c += 1;
        }
        true
    }
}

struct WCollect(Vec<(u64, u32)>);

impl WSink for WCollect {
    #[inline(always)]
    fn hit(&mut self, pos: u64, id: u32) -> bool {
        try_push(&mut self.0, (pos, id))
    }
    fn mark(&self) -> usize {
        self.0.len()
    }
    fn sort_from(&mut self, mark: usize) {
        if let Some(tail) = self.0.get_mut(mark..) {
            if !tail.windows(2).all(|w| w[0] <= w[1]) {
                tail.sort_unstable();
            }
        }
    }
}

impl FileScan for WordSet {
    type Match = (u64, u32);

    fn words(&self) -> usize {
        self.len()
    }

    fn prepare(&self, opts: &Options) -> Result<(), Error> {
        if opts.scan == Scan::Textbook {
            self.automaton()?; // once, before the threads need it
        }
        Ok(())
    }

    fn count_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut Scratch<'s>,
    ) -> Result<u64, Error> {
        let mut s = WCount(0);
        self.scan_file(file, len, opts, &mut s, &mut scratch.buf)?;
        Ok(s.0)
    }

    fn each_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut Scratch<'s>,
        each: &mut Vec<u64>,
    ) -> Result<(), Error> {
        let mut s = WEach(std::mem::take(each));
        let done = self.scan_file(file, len, opts, &mut s, &mut scratch.buf);
        *each = s.0;
        done
    }

    fn matches_file<'s>(
        &'s self,
        file: &File,
        len: u64,
        opts: &Options,
        scratch: &mut Scratch<'s>,
        out: &mut Vec<(u64, u32)>,
    ) -> Result<(), Error> {
        let mut s = WCollect(std::mem::take(out));
        let done = self.scan_file(file, len, opts, &mut s, &mut scratch.buf);
        *out = s.0;
        done
    }
}

/// An upper bound of the memory the automaton's construction may take, in bytes:
/// checked (reserved, then freed) before building it, because the `aho_corasick` crate
/// allocates infallibly (an allocation failure there would abort the process). `matches`:
/// a bound of the entries of its states' match lists ([`WordSet::match_entries`]).
pub(crate) fn automaton_estimate(words: usize, bytes: usize, matches: usize) -> usize {
    // measured peak: ~40 B per trie state (<= bytes + 1) plus ~40 B per word, ~12 B per
    // match entry (the non-contiguous NFA's list and the final automaton's); x4 margin
    bytes
        .saturating_add(words)
        .saturating_add(1024)
        .saturating_mul(160)
        .saturating_add(matches.saturating_mul(48))
        .saturating_add(4 << 20)
}

/// Most steps [`WordSet::dfa_build_steps`] may bound for the automaton's kind to be left to
/// the `aho_corasick` crate (a DFA for up to 100 words): beyond, the contiguous NFA.
const DFA_BUILD_STEPS: u64 = 1 << 24;

fn probe(bytes: usize) -> Result<(), Error> {
    let mut v: Vec<u8> = Vec::new();
    v.try_reserve_exact(bytes)?;
    Ok(())
}

impl WordSet {
    /// Compile `words` (at least one, none empty, at most `u32::MAX`; they should be
    /// distinct -- after ASCII case folding when `ignore_case` -- as the Python frontend
    /// makes them: a duplicate is reported under each of its indices).
    pub fn new<W: AsRef<[u8]>>(words: &[W], ignore_case: bool) -> Result<WordSet, Error> {
        if words.is_empty() {
            return Err(Error::InvalidArgument("words must not be empty"));
        }
        if u32::try_from(words.len()).is_err() {
            return Err(Error::InvalidArgument("too many words"));
        }
        let mut total = 0usize;
        let (mut shortest, mut longest) = (usize::MAX, 0);
        for w in words {
            let l = w.as_ref().len();
            if l == 0 {
                return Err(Error::InvalidArgument("words must not be empty"));
            }
            total = total.checked_add(l).ok_or(Error::OutOfMemory)?;
            shortest = shortest.min(l);
            longest = longest.max(l);
        }
        let mut text = Vec::new();
        text.try_reserve_exact(total)?;
        let mut offs = Vec::new();
        offs.try_reserve_exact(words.len() + 1)?;
        offs.push(0);
        for w in words {
            if ignore_case {
                text.extend(w.as_ref().iter().map(|&b| LOWER[b as usize]));
            } else {
                text.extend_from_slice(w.as_ref());
            }
            offs.push(text.len());
        }
        let mut set = WordSet {
            ignore_case,
            text,
            offs,
            shortest,
            longest,
            ac: Lazy::new(),
            filter: Filter {
                k: 0,
                kmask: 0,
                stride: 1,
                hmask: 0,
                fbits: 12,
                bits: Vec::new(),
                avx2: false,
                slots: Vec::new(),
                entries: Vec::new(),
                teddy: None,
            },
        };
        set.filter = set.build_filter(words)?;
        Ok(set)
    }

    /// The Aho-Corasick automaton, built now if no search has needed it yet.
    ///
    /// Building it is most of the cost of a large set (100,000 words: ~0.5 s, ~9 MiB),
    /// and the fast scan only needs it on adversarial text, so [`WordSet::new`] leaves
    /// it to the first textbook search or fast-scan fallback. It is published without a
    /// lock: threads that need it at the same moment each build one and all but the first
    /// drop theirs (no thread ever waits on another, so a fork in the middle of a build
    /// cannot leave a child waiting forever). Its memory is checked first (reserved and
    /// freed): the `aho_corasick` crate allocates infallibly.
    pub fn automaton(&self) -> Result<&AhoCorasick, Error> {
        if let Some(ac) = self.ac.get() {
            return Ok(ac);
        }
        probe(automaton_estimate(self.len(), self.text.len(), self.match_entries()?))?;
        let build = |kind| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .ascii_case_insensitive(self.ignore_case)
                .prefilter(false)
                .kind(kind)
                .build((0..self.len()).map(|i| self.word(i)))
        };
        // the crate's own choice tries a DFA first, whose construction walks the failure
        // links from every state for every byte class: quadratic in the length of a
        // repetitive word (`x`^L). The contiguous NFA is built in linear time; too many
        // states for it: the non-contiguous one the crate would fall back to.
        let ac = if self.dfa_build_steps() <= DFA_BUILD_STEPS {
            build(None)
        } else {
            build(Some(AhoCorasickKind::ContiguousNFA)).or_else(|_| build(Some(AhoCorasickKind::NoncontiguousNFA)))
        }
        .map_err(|_| Error::InvalidArgument("too many words for the automaton"))?;
        Ok(self.ac.set(ac))
    }

    /// An upper bound of the entries of the automaton's match lists. The crate copies into
    /// each state the words its failure state lists, so a state lists every word that is
    /// a suffix of its path: of distinct words at most one of each length, so a state at
    /// depth `i` lists at most `m D(i)` words (`D(i)`: the distinct word lengths up to `i`;
    /// `m`: the most copies of one word, from equal (length, hash) pairs: a collision only
    /// makes the bound larger). Summed over each word's states, depths 1 ..= its length.
    /// (`a`, `aa` ... `a`^k with `a`^L: about k L entries for k (k + 1) / 2 + L bytes.)
    pub(crate) fn match_entries(&self) -> Result<usize, Error> {
        let n = self.len();
        let mut keys: Vec<(usize, u64)> = Vec::new();
        keys.try_reserve_exact(n)?;
        keys.extend((0..n).map(|i| {
            let w = self.word(i);
            let mut h = DefaultHasher::new();
            w.hash(&mut h);
            (w.len(), h.finish())
        }));
        keys.sort_unstable();
        let copies = keys.chunk_by(|a, b| a == b).map(<[_]>::len).max().unwrap_or(1);
        // the distinct lengths d (ascending) and the sums of the d before each one: for a
        // word of length l, D(1) + ... + D(l) is the sum of l + 1 - d over the d <= l
        let mut lens: Vec<usize> = Vec::new();
        lens.try_reserve_exact(n)?;
        lens.extend(keys.iter().map(|k| k.0));
        lens.dedup();
        let mut before: Vec<usize> = Vec::new();
        before.try_reserve_exact(lens.len() + 1)?;
        before.push(0);
        for &d in &lens {
            before.push(before.last().map_or(d, |&b| b.saturating_add(d)));
        }
        let per_copy = keys.iter().fold(0usize, |sum, &(l, _)| {
            let j = lens.partition_point(|&d| d <= l);
            let depths = j.saturating_mul(l + 1).saturating_sub(before[j]);
            sum.saturating_add(depths)
        });
        Ok(per_copy.saturating_mul(copies))
    }

    /// An upper bound of the steps of the `aho_corasick` crate's DFA construction: for
    /// each state of the trie and each byte class a walk along the failure links, at most
    /// the state's depth long. The states of a word are at depths 1 ..= its length (fewer
    /// when words share a prefix); the byte classes are at most 2 per byte in the words
    /// (both cases of a letter with ignore_case) plus 1.
    fn dfa_build_steps(&self) -> u64 {
        let mut seen = [false; 256];
        for &b in &self.text {
            seen[b as usize] = true;
            if self.ignore_case {
                seen[b.to_ascii_uppercase() as usize] = true;
            }
        }
        let bytes = seen.iter().filter(|&&s| s).count() as u64;
        let classes = (2 * bytes + 1).min(256);
        let depths = (0..self.len()).fold(0u64, |sum, i| {
            let l = self.word(i).len() as u64;
            sum.saturating_add(l.saturating_mul(l + 1) / 2)
        });
        depths.saturating_mul(classes)
    }

    /// Whether the automaton has been built (see [`WordSet::automaton`]).
    pub fn automaton_built(&self) -> bool {
        self.ac.get().is_some()
    }

    fn word(&self, id: usize) -> &[u8] {
        match (self.offs.get(id), self.offs.get(id + 1)) {
            (Some(&a), Some(&b)) => self.text.get(a..b).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The (folded) `k`-byte prefix of word `id` as a little-endian key.
    fn key_of(&self, id: usize, k: usize) -> u32 {
        let w = self.word(id);
        let mut b = [0u8; 4];
        for (d, s) in b.iter_mut().zip(w.iter().take(k)) {
            *d = *s;
        }
        u32::from_le_bytes(b)
    }

    fn build_filter<W: AsRef<[u8]>>(&self, words: &[W]) -> Result<Filter, Error> {
        let n = words.len();
        let k = self.shortest.min(4);
        let kmask = if k == 4 { u32::MAX } else { (1u32 << (8 * k)) - 1 };
        // (key, id) sorted: groups of words sharing a prefix, indices ascending
        let mut pairs: Vec<(u32, u32)> = Vec::new();
        pairs.try_reserve_exact(n)?;
        pairs.extend((0..n).map(|i| (self.key_of(i, k), i as u32)));
        pairs.sort_unstable();
        let mut entries = Vec::new();
        entries.try_reserve_exact(n)?;
        entries.extend(pairs.iter().map(|&(_, id)| {
            let w = self.word(id as usize);
            let mut rest = [0u8; 8];
            for (d, s) in rest.iter_mut().zip(w.iter().skip(k)) {
                *d = *s;
            }
            Entry { rest: u64::from_le_bytes(rest), id, len: w.len() as u32 }
        }));
        let groups = 1 + pairs.windows(2).filter(|w| w[0].0 != w[1].0).count();
        // the windows: stride 2 needs every word at least one byte longer than a window
        let (stride, win) = if self.shortest >= 5 {
            (2, 4)
        } else if self.shortest == 4 && !self.ignore_case && groups <= STRIDE3_MAX_GROUPS {
            (2, 3)
        } else {
            (1, k)
        };
        let winmask = if win == 4 { u32::MAX } else { (1u32 << (8 * win)) - 1 };
        let hmask = if self.ignore_case { winmask & 0xDFDF_DFDF } else { winmask };
        // exact table: open addressing, at most half full
        let cap = (groups * 2).next_power_of_two().max(16);
        let mut slots = try_vec(cap, Slot::default())?;
        // Bloom filter: 64 bits per window (~0.15% false positives), 2^12 .. 2^22 bits
        // (512 B .. 512 KiB). Past L1 its gathers cost more, but fewer false positives save
        // more (10,000 words: 2^20 bits measured ~10% faster than 2^19)
        let windows = groups.saturating_mul(stride);
        let log2 = |x: usize| x.max(1).checked_next_power_of_two().map_or(usize::BITS - 1, |v| v.trailing_zeros());
        let bbits = log2(windows.saturating_mul(64)).clamp(12, 22);
        let mut bits = try_vec(1usize << (bbits - 5), 0u32)?;
        let mut i = 0;
        while i < pairs.len() {
            let key = pairs[i].0;
            let mut j = i + 1;
            while j < pairs.len() && pairs[j].0 == key {
                j += 1;
            }
            let mut h = slot_hash(key, cap);
            while slots[h].len != 0 {
                h = (h + 1) & (cap - 1);
            }
            slots[h] = Slot { key, start: i as u32, len: (j - i) as u32 };
            // each word's windows at offsets 0 .. stride (the words are folded already)
            for &(_, id) in &pairs[i..j] {
                let word = self.word(id as usize);
                for o in 0..stride {
                    let (w, b1, b2) = bloom(load4(word, o) & hmask, bbits);
                    bits[w] |= (1u32 << b1) | (1u32 << b2);
                }
            }
            i = j;
        }
        let teddy = match self.filter_kind()? {
            FilterKind::Teddy => self.build_teddy(words, &pairs, k),
            FilterKind::Bitmap => None,
        };
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::is_x86_feature_detected!("avx2") && std::env::var_os("KMPSEARCH_RUST_NO_AVX2").is_none();
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        Ok(Filter { k, kmask, stride, hmask, fbits: bbits, bits, avx2, slots, entries, teddy })
    }

    /// The start filter [`choose_filter`] picks for the (folded) words.
    fn filter_kind(&self) -> Result<FilterKind, Error> {
        if self.len() > TEDDY_CRATE_MAX_PATTERNS {
            return Ok(FilterKind::Bitmap);
        }
        let mut words: Vec<&[u8]> = Vec::new();
        words.try_reserve_exact(self.len())?;
        words.extend((0..self.len()).map(|i| self.word(i)));
        Ok(choose_filter(&words, self.ignore_case))
    }

    /// Teddy over the words' first [`TEDDY_PREFIX`] bytes (exact case), or with
    /// ignore_case over every case variant of the distinct prefixes when there are at most
    /// [`TEDDY_CRATE_MAX_PATTERNS`] of them. (Over whole words, Teddy would compare a long
    /// word at every start that begins like it before returning: `x`^L in a text of
    /// `x`^(L-1) `y` costs L per byte.)
    fn build_teddy<W: AsRef<[u8]>>(&self, words: &[W], pairs: &[(u32, u32)], k: usize) -> Option<packed::Searcher> {
        let mut b = packed::Config::new().match_kind(packed::MatchKind::LeftmostFirst).builder();
        if !self.ignore_case {
            b.extend(words.iter().map(|w| w.as_ref().get(..TEDDY_PREFIX).unwrap_or(w.as_ref())));
            return b.build();
        }
        let mut variants: Vec<[u8; 4]> = Vec::new();
        let mut last = None;
        for &(key, _) in pairs {
            if last == Some(key) {
                continue;
            }
            last = Some(key);
            let p = key.to_le_bytes();
            let letters: Vec<usize> = (0..k).filter(|&i| p[i].is_ascii_lowercase()).collect();
            if variants.len() + (1usize << letters.len()) > TEDDY_CRATE_MAX_PATTERNS {
                return None;
            }
            for mask in 0..(1u32 << letters.len()) {
                let mut v = p;
                for (bit, &i) in letters.iter().enumerate() {
                    if mask & (1 << bit) != 0 {
                        v[i] = v[i].to_ascii_uppercase();
                    }
                }
                variants.push(v);
            }
        }
        b.extend(variants.iter().map(|v| &v[..k]));
        b.build()
    }

    /// The same set without the SIMD (Teddy) start filter: the scalar bitmap filter is
    /// used instead (to measure what Teddy brings; results are the same).
    #[doc(hidden)]
    pub fn without_teddy(mut self) -> WordSet {
        self.filter.teddy = None;
        self
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.offs.len().saturating_sub(1)
    }

    /// The words' lengths in bytes, by word index.
    pub fn lengths(&self) -> Result<Vec<usize>, Error> {
        let mut out = Vec::new();
        out.try_reserve_exact(self.len())?;
        out.extend(self.offs.windows(2).map(|w| w[1] - w[0]));
        Ok(out)
    }

    /// Always `false`: a word set has at least one word.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Length of the longest word.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// Length of the shortest word.
    pub fn shortest(&self) -> usize {
        self.shortest
    }

    /// Whether ASCII letters match either case.
    pub fn ignore_case(&self) -> bool {
        self.ignore_case
    }

    /// Bytes the compiled set holds: the words, the automaton and the fast scan's filter.
    pub fn memory_bytes(&self) -> usize {
        let s = self.stats();
        std::mem::size_of::<Self>() + s.word_bytes + self.offs.capacity() * 8 + s.automaton_bytes + s.filter_bytes
    }

    /// What the compiled set holds.
    pub fn stats(&self) -> WordSetStats {
        let f = &self.filter;
        WordSetStats {
            words: self.len(),
            word_bytes: self.text.capacity(),
            automaton_bytes: self.ac.get().map_or(0, AhoCorasick::memory_usage),
            filter_bytes: f.bits.capacity() * 4
                + f.slots.capacity() * std::mem::size_of::<Slot>()
                + f.entries.capacity() * std::mem::size_of::<Entry>()
                + f.teddy.as_ref().map_or(0, |t| t.memory_usage()),
            bitmap_bits: f.fbits,
            prefix_len: f.k,
            stride: f.stride,
            teddy: f.teddy.is_some(),
        }
    }

    // --- public searches -----------------------------------------------------------------

    /// Total number of matches in `haystack` (every word, overlaps included).
    pub fn count(&self, haystack: &[u8], opts: &Options) -> Result<u64, Error> {
        Ok(self.par_memory(haystack, opts, || Ok(WCount(0)))?.iter().map(|c| c.0).sum())
    }

    /// Number of matches of each word in `haystack` (`len()` counts, by word index).
    pub fn count_each(&self, haystack: &[u8], opts: &Options) -> Result<Vec<u64>, Error> {
        let parts = self.par_memory(haystack, opts, || Ok(WEach(try_vec(self.len(), 0u64)?)))?;
        sum_each(parts, self.len())
    }

    /// Every match in `haystack` as `(start offset, word index)`, sorted.
    pub fn find_all(&self, haystack: &[u8], opts: &Options) -> Result<Vec<(u64, u32)>, Error> {
        crate::concat(self.par_memory(haystack, opts, || Ok(WCollect(Vec::new())))?.into_iter().map(|c| c.0))
    }

    /// [`WordSet::find_all`] as one sorted vector per chunk of the plan, in order (their
    /// concatenation is `find_all`'s result): for a caller that copies the matches anyway.
    pub fn find_all_parts(&self, haystack: &[u8], opts: &Options) -> Result<Vec<Vec<(u64, u32)>>, Error> {
        Ok(self.par_memory(haystack, opts, || Ok(WCollect(Vec::new())))?.into_iter().map(|c| c.0).collect())
    }

    /// [`WordSet::find_all_read_at`] as one vector per chunk (see [`WordSet::find_all_parts`]).
    pub fn find_all_parts_read_at<R: ReadAt + Sync + ?Sized>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
    ) -> Result<Vec<Vec<(u64, u32)>>, Error> {
        Ok(self.par_source(src, len, opts, || Ok(WCollect(Vec::new())))?.into_iter().map(|c| c.0).collect())
    }

    /// Total number of matches in the first `len` bytes of `src`, read with positioned
    /// reads into bounded buffers. A source that ends early (a file truncated during the
    /// search) gives the matches in what could be read, with no error.
    pub fn count_read_at<R: ReadAt + Sync + ?Sized>(&self, src: &R, len: u64, opts: &Options) -> Result<u64, Error> {
        Ok(self.par_source(src, len, opts, || Ok(WCount(0)))?.iter().map(|c| c.0).sum())
    }

    /// Number of matches of each word in the first `len` bytes of `src`; as
    /// [`WordSet::count_read_at`].
    pub fn count_each_read_at<R: ReadAt + Sync + ?Sized>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
    ) -> Result<Vec<u64>, Error> {
        let parts = self.par_source(src, len, opts, || Ok(WEach(try_vec(self.len(), 0u64)?)))?;
        sum_each(parts, self.len())
    }

    /// Every match in the first `len` bytes of `src`, sorted; as
    /// [`WordSet::count_read_at`].
    pub fn find_all_read_at<R: ReadAt + Sync + ?Sized>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
    ) -> Result<Vec<(u64, u32)>, Error> {
        crate::concat(self.par_source(src, len, opts, || Ok(WCollect(Vec::new())))?.into_iter().map(|c| c.0))
    }

    /// Total number of matches in `file` (from offset 0 to its size now), read with
    /// positioned reads (its position neither used nor moved on Unix), never mapped.
    pub fn count_file(&self, file: &File, opts: &Options) -> Result<u64, Error> {
        self.count_read_at(file, file.metadata()?.len(), opts)
    }

    /// Every match in `file`, sorted; as [`WordSet::count_file`].
    pub fn find_all_file(&self, file: &File, opts: &Options) -> Result<Vec<(u64, u32)>, Error> {
        self.find_all_read_at(file, file.metadata()?.len(), opts)
    }

    /// Search many files in one call, each whole on one thread, `opts.threads` files at a
    /// time, as [`Pattern::search_files`](crate::Pattern::search_files): each file's status
    /// and, in path order, its count, the count of each word (`len()` entries a file) or its
    /// matches `(offset, word index)`.
    pub fn search_files<P: AsRef<Path> + Sync>(
        &self,
        paths: &[P],
        max_size: u64,
        want: BatchWant,
        opts: &Options,
    ) -> Result<Batch<(u64, u32)>, Error> {
        batch::search_files(self, paths, max_size, want, opts)
    }

    // --- drivers -------------------------------------------------------------------------

    /// The scan of one chunk of a file: every start of the bytes `0..len` of `src`, on this
    /// thread, into `buf`.
    fn scan_file<R: ReadAt + ?Sized, S: WSink>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
        sink: &mut S,
        buf: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if len == 0 {
            return Ok(());
        }
        self.scan_source(src, 0..len, len, opts, sink, buf)
    }

    /// The chunks and each chunk's owned starts (absolute).
    fn plan(&self, n: u64, opts: &Options) -> Result<Vec<(Range<u64>, u64)>, Error> {
        opts.validate()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let m = (self.longest as u64).min(n);
        let chunks = plan_chunks(n, m, opts.threads, opts.min_chunk)?;
        let mut out = Vec::new();
        out.try_reserve_exact(chunks.len())?;
        for (i, c) in chunks.iter().enumerate() {
            let own_end = chunks.get(i + 1).map_or(n, |next| next.start);
            out.push((c.clone(), own_end));
        }
        Ok(out)
    }

    fn par_memory<S: WSink + Send>(
        &self,
        hay: &[u8],
        opts: &Options,
        sink: impl Fn() -> Result<S, Error> + Sync,
    ) -> Result<Vec<S>, Error> {
        let plan = self.plan(hay.len() as u64, opts)?;
        let ranges: Vec<Range<u64>> = plan_ranges(&plan)?;
        if opts.scan == Scan::Textbook && !ranges.is_empty() {
            self.automaton()?; // once, before the threads need it
        }
        run_chunks(&ranges, |i, range| {
            let own_end = plan.get(i).map_or(range.end, |p| p.1);
            let mut s = sink()?;
            if opts.cancel.is_none() {
                let window = hay.get(range.start as usize..range.end as usize).ok_or(Error::Internal("chunk"))?;
                let own = 0..(own_end - range.start) as usize;
                self.scan_window(window, range.start, own, opts, &mut s)?;
                return Ok(s);
            }
            // with a cancel flag: the owned starts in blocks of block_size (at least the
            // longest word, as the blocks of a file), each with the longest - 1 bytes after
            // it (the automaton restarts at each: the same matches)
            let step = opts.block_size.max(self.longest) as u64;
            let mut a = range.start;
            while a < own_end {
                opts.check_cancel()?;
                let b = a.saturating_add(step).min(own_end);
                let end = b.saturating_add(self.longest as u64 - 1).min(range.end);
                let piece = hay.get(a as usize..end as usize).ok_or(Error::Internal("piece"))?;
                self.scan_window(piece, a, 0..(b - a) as usize, opts, &mut s)?;
                a = b;
            }
            Ok(s)
        })
    }

    fn par_source<R: ReadAt + Sync + ?Sized, S: WSink + Send>(
        &self,
        src: &R,
        len: u64,
        opts: &Options,
        sink: impl Fn() -> Result<S, Error> + Sync,
    ) -> Result<Vec<S>, Error> {
        let plan = self.plan(len, opts)?;
        let ranges: Vec<Range<u64>> = plan_ranges(&plan)?;
        if opts.scan == Scan::Textbook && !ranges.is_empty() {
            self.automaton()?;
        }
        run_chunks(&ranges, |i, range| {
            let own_end = plan.get(i).map_or(range.end, |p| p.1);
            let mut s = sink()?;
            self.scan_source(src, range, own_end, opts, &mut s, &mut Vec::new())?;
            Ok(s)
        })
    }

    /// Read the chunk `range` (owning the starts `[range.start, own_end)`) in blocks, into
    /// `buf` (grown to the blocks' size if shorter, kept for the caller's next scan).
    fn scan_source<R: ReadAt + ?Sized, S: WSink>(
        &self,
        src: &R,
        range: Range<u64>,
        own_end: u64,
        opts: &Options,
        sink: &mut S,
        buf: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let span = range.end - range.start;
        let block = (opts.block_size.max(self.longest) as u64).min(span) as usize;
        let extra = self.longest - 1;
        let cap = (block as u64).saturating_add(extra as u64).min(span) as usize;
        let buf = crate::buffer(buf, cap)?;
        // buf[..filled] holds the bytes [base, base + filled)
        let (mut base, mut filled) = (range.start, 0usize);
        let mut own_a = range.start;
        while own_a < own_end {
            opts.check_cancel()?;
            let own_b = own_a.saturating_add(block as u64).min(own_end);
            let need_end = own_b.saturating_add(extra as u64).min(range.end);
            // drop the bytes before own_a, keep the rest at the front
            let drop = (own_a - base) as usize;
            if drop > 0 {
                buf.copy_within(drop.min(filled)..filled, 0);
                filled = filled.saturating_sub(drop);
                base = own_a;
            }
            let need = (need_end - base) as usize;
            let mut eof = false;
            while filled < need {
                match src.read_at(&mut buf[filled..need], base + filled as u64) {
                    Ok(0) => {
                        eof = true;
                        break;
                    }
                    Ok(got) => filled += got.min(need - filled),
                    Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                    Err(err) => return Err(Error::Io(err)),
                }
            }
            let end = base + filled as u64;
            // at the end of what can be read, every start left is this block's
            let own_stop = if eof { own_end.min(end) } else { own_b.min(end) };
            if own_stop > own_a {
                let own = 0..(own_stop - base) as usize;
                self.scan_window(&buf[..filled], base, own, opts, sink)?;
            }
            if eof {
                break;
            }
            own_a = own_b;
        }
        Ok(())
    }

    // --- scans ---------------------------------------------------------------------------

    /// Report every match that starts in `own` (indices into `w`) and ends within `w`;
    /// `w[0]` is at absolute offset `base`.
    fn scan_window<S: WSink>(
        &self,
        w: &[u8],
        base: u64,
        own: Range<usize>,
        opts: &Options,
        sink: &mut S,
    ) -> Result<(), Error> {
        match opts.scan {
            Scan::Textbook => self.scan_automaton(w, base, own, sink),
            Scan::Fast => self.scan_fast(w, base, own, opts.simd.resolve(), sink),
        }
    }

    /// The automaton from its start state at `own.start`: exactly the matches starting
    /// there or later; keep those starting before `own.end`.
    fn scan_automaton<S: WSink>(&self, w: &[u8], base: u64, own: Range<usize>, sink: &mut S) -> Result<(), Error> {
        if own.start >= own.end || own.start >= w.len() {
            return Ok(());
        }
        let ac = self.automaton()?;
        let end = own.end.saturating_add(self.longest - 1).min(w.len());
        let mark = sink.mark();
        let iter = ac
            .try_find_overlapping_iter(Input::new(w).range(own.start..end))
            .map_err(|_| Error::Internal("overlapping search"))?;
        for m in iter {
            if m.start() < own.end && !sink.hit(base + m.start() as u64, m.pattern().as_u32()) {
                return Err(Error::OutOfMemory);
            }
        }
        sink.sort_from(mark);
        Ok(())
    }

    /// The fast scan, segment by segment, with the budgeted fallback to the automaton.
    /// `level` (resolved): the bitmap filter's AVX2 loop only at [`Simd::Avx2`]; Teddy
    /// (aho-corasick's, SIMD only, its own dispatch) at any level but [`Simd::Scalar`],
    /// which runs the portable bitmap filter instead.
    fn scan_fast<S: WSink>(&self, w: &[u8], base: u64, own: Range<usize>, level: Simd, sink: &mut S) -> Result<(), Error> {
        let avx2 = self.filter.avx2 && level == Simd::Avx2;
        let teddy = if level == Simd::Scalar { None } else { self.filter.teddy.as_ref() };
        let seg_len = SEGMENT.max(self.longest);
        let (mut backoff, mut level) = (0u32, 0u32);
        let mut a = own.start;
        while a < own.end {
            let b = a.saturating_add(seg_len).min(own.end);
            if backoff > 0 {
                backoff -= 1;
                self.scan_automaton(w, base, a..b, sink)?;
            } else {
                let budget = 4 * (b - a) + 4096;
                let res = match teddy {
                    Some(t) => self.filter_teddy(t, w, base, a..b, budget, sink),
                    None => self.filter_bitmap(w, base, a..b, budget, avx2, sink),
                };
                match res {
                    Ok(()) => level = 0,
                    Err(Some(p)) => {
                        self.scan_automaton(w, base, p..b, sink)?;
                        backoff = 1 << level;
                        level = (level + 1).min(6);
                    }
                    Err(None) => return Err(Error::OutOfMemory),
                }
            }
            a = b;
        }
        Ok(())
    }

    /// The exact table's first slot for `key`.
    #[inline(always)]
    fn slot_of(&self, key: u32) -> usize {
        slot_hash(key, self.filter.slots.len())
    }

    /// The words whose (exact, folded) prefix is `key`, ascending (empty: none), looked
    /// up from the slot `h`.
    #[inline(always)]
    fn group_from(&self, key: u32, mut h: usize) -> &[Entry] {
        let f = &self.filter;
        let mask = f.slots.len().wrapping_sub(1);
        loop {
            match f.slots.get(h) {
                Some(s) if s.len != 0 && s.key == key => {
                    return f.entries.get(s.start as usize..(s.start + s.len) as usize).unwrap_or(&[]);
                }
                Some(s) if s.len != 0 => h = (h + 1) & mask,
                _ => return &[],
            }
        }
    }

    /// Verify every word with the (exact, folded) prefix `key` at `p`; add the work done
    /// to `work`. `false`: out of memory.
    #[inline(always)]
    fn verify<S: WSink>(&self, w: &[u8], base: u64, p: usize, key: u32, work: &mut usize, sink: &mut S) -> bool {
        let group = self.group_from(key, self.slot_of(key));
        self.verify_group(w, base, p, group, work, sink)
    }

    /// Verify the candidate starts of `hits` below `end`, in order: first each one's slot
    /// of the exact table is prefetched, then each one's group of words, then they are
    /// compared, so that the cache misses of a large set overlap instead of following
    /// one another. `false`: out of memory.
    #[inline(never)]
    fn verify_batch<S: WSink>(
        &self,
        w: &[u8],
        base: u64,
        hits: &Hits,
        end: usize,
        work: &mut usize,
        sink: &mut S,
    ) -> bool {
        let f = &self.filter;
        let n = hits.n.min(BATCH);
        let mut keys = [0u32; BATCH];
        let mut groups: [&[Entry]; BATCH] = [&[]; BATCH];
        for (&p, key) in hits.pos[..n].iter().zip(&mut keys) {
            *key = self.exact_key(load4(w, p));
            prefetch(f.slots.get(self.slot_of(*key)));
        }
        for (&key, g) in keys[..n].iter().zip(&mut groups) {
            *g = self.group_from(key, self.slot_of(key));
            prefetch(g.first());
        }
        for (&p, g) in hits.pos[..n].iter().zip(&groups) {
            if p < end && !self.verify_group(w, base, p, g, work, sink) {
                return false;
            }
        }
        true
    }

    /// Verify the words of `group` (those with the prefix at `p`) at `p`; add the work
    /// done to `work`. `false`: out of memory.
    #[inline(always)]
    fn verify_group<S: WSink>(
        &self,
        w: &[u8],
        base: u64,
        p: usize,
        group: &[Entry],
        work: &mut usize,
        sink: &mut S,
    ) -> bool {
        *work += 1;
        if group.is_empty() {
            return true; // a false positive of the filter
        }
        let k = self.filter.k;
        let avail = w.len().saturating_sub(p);
        // the text's (folded) bytes after the prefix, up to 8, zero-padded
        let mut text8 = match w.get(p + k..p + k + 8) {
            Some(b) => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
            None => {
                let mut b = [0u8; 8];
                for (d, s) in b.iter_mut().zip(w.get(p + k..).unwrap_or(&[])) {
                    *d = *s;
                }
                u64::from_le_bytes(b)
            }
        };
        if self.ignore_case {
            text8 = fold8(text8);
        }
        for e in group {
            let len = e.len as usize;
            *work += 1;
            if len > avail {
                continue;
            }
            let head = (len - k).min(8);
            let m8 = if head == 8 { u64::MAX } else { (1u64 << (8 * head)) - 1 };
            if text8 & m8 != e.rest {
                continue;
            }
            if len > k + 8 {
                // the bytes past the first k + 8
                *work += len - k - 8;
                let text = &w[p + k + 8..p + len];
                let word = self.word(e.id as usize).get(k + 8..).unwrap_or(&[]);
                let equal = if self.ignore_case {
                    text.iter().zip(word).all(|(&t, &c)| LOWER[t as usize] == c)
                } else {
                    text == word
                };
                if !equal {
                    continue;
                }
            }
            if !sink.hit(base + p as u64, e.id) {
                return false;
            }
        }
        true
    }

    #[inline(always)]
    fn exact_key(&self, x: u32) -> u32 {
        let x = x & self.filter.kmask;
        if self.ignore_case {
            fold4(x)
        } else {
            x
        }
    }

    /// The Bloom filter over the starts `seg`: `Err(Some(p))` when the budget ran out
    /// (starts before `p` done), `Err(None)` out of memory.
    fn filter_bitmap<S: WSink>(
        &self,
        w: &[u8],
        base: u64,
        seg: Range<usize>,
        budget: usize,
        avx2: bool,
        sink: &mut S,
    ) -> Result<(), Option<usize>> {
        if self.filter.stride == 2 {
            self.filter_windows::<2, S>(w, base, seg, budget, avx2, sink)
        } else {
            self.filter_windows::<1, S>(w, base, seg, budget, avx2, sink)
        }
    }

    /// [`WordSet::filter_bitmap`] with stride `T`: the candidates of [`next_hits`] are
    /// verified in batches (with stride 2, each hit's start and the next one); the last
    /// starts, whose window would reach past `w`, are verified directly (fewer than
    /// `T + 3`).
    #[inline(always)]
    fn filter_windows<const T: usize, S: WSink>(
        &self,
        w: &[u8],
        base: u64,
        seg: Range<usize>,
        budget: usize,
        avx2: bool,
        sink: &mut S,
    ) -> Result<(), Option<usize>> {
        let f = &self.filter;
        let mut work = 0usize;
        let mut hits = Hits { n: 0, pos: [0; BATCH] };
        // the starts whose window (4 bytes at start + T - 1) can be loaded
        let fast_end = seg.end.min(w.len().saturating_sub(T + 2));
        let mut p = seg.start;
        while p < fast_end {
            hits.n = 0;
            p = if avx2 {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `avx2` only where `f.avx2`, set only when the CPU has AVX2
                unsafe {
                    next_hits_avx2::<T>(w, p, fast_end, &f.bits, f.hmask, f.fbits, &mut hits)
                }
                #[cfg(not(target_arch = "x86_64"))]
                next_hits::<T>(w, p, fast_end, &f.bits, f.hmask, f.fbits, &mut hits)
            } else {
                next_hits::<T>(w, p, fast_end, &f.bits, f.hmask, f.fbits, &mut hits)
            };
            // (a start p + 1 of stride 2 at fast_end < seg.end has its 4 bytes: fast_end
            // + 4 <= w.len(); one at seg.end is not this segment's)
            if !self.verify_batch(w, base, &hits, seg.end, &mut work, sink) {
                return Err(None);
            }
            if work > budget {
                return Err(Some(p.min(seg.end)));
            }
        }
        // past fast_end (or one start further: the filter covered it)
        p = p.max(fast_end);
        // the last starts: fewer than T + 3 bytes left, at least k
        let last = seg.end.min((w.len() + 1).saturating_sub(f.k));
        while p < last {
            if !self.verify(w, base, p, self.exact_key(load4(w, p)), &mut work, sink) {
                return Err(None);
            }
            p += 1;
        }
        Ok(())
    }

    /// The Teddy filter over the starts `seg`; as [`WordSet::filter_bitmap`].
    fn filter_teddy<S: WSink>(
        &self,
        t: &packed::Searcher,
        w: &[u8],
        base: u64,
        seg: Range<usize>,
        budget: usize,
        sink: &mut S,
    ) -> Result<(), Option<usize>> {
        let k = self.filter.k;
        let end = seg.end.saturating_add(self.longest - 1).min(w.len());
        let mut work = 0usize;
        let mut p = seg.start;
        while p < seg.end && p < end {
            let Some(m) = t.find_in(&w[..end], Span::from(p..end)) else { break };
            let s = m.start();
            if s >= seg.end {
                break;
            }
            let mut b = [0u8; 4];
            for (d, x) in b.iter_mut().zip(w[s..].iter().take(k)) {
                *d = *x;
            }
            if !self.verify(w, base, s, self.exact_key(u32::from_le_bytes(b)), &mut work, sink) {
                return Err(None);
            }
            p = s + 1;
            if work > budget {
                return Err(Some(p));
            }
        }
        Ok(())
    }
}

fn plan_ranges(plan: &[(Range<u64>, u64)]) -> Result<Vec<Range<u64>>, Error> {
    let mut v = Vec::new();
    v.try_reserve_exact(plan.len())?;
    v.extend(plan.iter().map(|p| p.0.clone()));
    Ok(v)
}

fn sum_each(parts: Vec<WEach>, n: usize) -> Result<Vec<u64>, Error> {
    let mut parts = parts.into_iter();
    let Some(WEach(mut total)) = parts.next() else {
        return try_vec(n, 0u64);
    };
    for WEach(part) in parts {
        for (t, c) in total.iter_mut().zip(part) {
            *t += c;
        }
    }
    Ok(total)
}
