//! Many words in one pass: [`WordSet`].

use std::fs::File;
use std::io;
use std::ops::Range;

use aho_corasick::{packed, AhoCorasick, AhoCorasickBuilder, Input, MatchKind, Span};

use crate::lazy::Lazy;
use crate::pool::run_chunks;
use crate::{plan_chunks, try_push, try_vec, Error, Options, ReadAt, Scan};

/// Owned start positions per segment of the fast scan (the unit of its budget and of
/// its fallback to the automaton); at least the longest word.
const SEGMENT: usize = 64 << 10;
/// Most words the SIMD (Teddy) start filter takes; beyond, the scalar bitmap filter.
const TEDDY_MAX: usize = 64;
/// Multiplier of the prefix hashes (Knuth's golden ratio constant, odd).
const MUL: u32 = 0x9E37_79B1;

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

/// Second multiplier of the start filter's hash (odd).
const MUL2: u32 = 0x85EB_CA6B;

/// Where the (masked) 4 bytes `x` live in the start filter, a blocked Bloom filter with
/// two bits per prefix: the 32-bit word `idx` (bits 15.. of one multiplicative hash) and
/// in it the bits `b1`, `b2` (the top 10 bits of another). One memory access per start,
/// and about a tenth of the false positives of one bit per prefix at the same size.
/// Fixed shifts only: the same arithmetic runs 8 lanes wide in `next_hit_avx2`.
#[inline(always)]
fn bloom(x: u32, wmask: u32) -> (usize, u32, u32) {
    let (h1, h2) = (x.wrapping_mul(MUL), x.wrapping_mul(MUL2));
    (((h1 >> 15) & wmask) as usize, h2 >> 27, (h2 >> 22) & 31)
}

/// The first start in `p..end` whose masked 4 bytes pass the Bloom filter `bits`, or
/// `end`. Needs `end + 3 <= w.len()`. Kept out of line: the hot loop of the fast word
/// scan, with everything in registers, 4 starts per 8-byte load.
#[inline(never)]
fn next_hit(w: &[u8], mut p: usize, end: usize, bits: &[u32], hmask: u32, wmask: u32) -> usize {
    if end + 3 > w.len() || bits.len() < wmask as usize + 1 {
        return end; // never: the callers keep both
    }
    let ptr = w.as_ptr();
    let test = |x: u32| -> bool {
        let (i, b1, b2) = bloom(x & hmask, wmask);
        // SAFETY: i <= wmask < bits.len() (checked above)
        let word = unsafe { *bits.get_unchecked(i) };
        (word >> b1) & (word >> b2) & 1 != 0
    };
    // 4 starts from one 8-byte load: needs p + 8 <= w.len(); p + 4 <= end and
    // end + 3 <= w.len() give p + 7 <= w.len(), so stop one start earlier
    while p + 5 <= end {
        // SAFETY: p + 8 <= end + 3 <= w.len()
        let v = u64::from_le(unsafe { std::ptr::read_unaligned(ptr.add(p) as *const u64) });
        if test(v as u32) {
            return p;
        }
        if test((v >> 8) as u32) {
            return p + 1;
        }
        if test((v >> 16) as u32) {
            return p + 2;
        }
        if test((v >> 24) as u32) {
            return p + 3;
        }
        p += 4;
    }
    while p < end {
        // SAFETY: p + 4 <= end + 3 <= w.len()
        let x = u32::from_le(unsafe { std::ptr::read_unaligned(ptr.add(p) as *const u32) });
        if test(x) {
            return p;
        }
        p += 1;
    }
    end
}

/// [`next_hit`] 8 starts at a time: one 16-byte load shuffled into the 8 windows of 4
/// bytes, two 8-lane multiplies, one gather of the filter's words.
///
/// # Safety
///
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn next_hit_avx2(w: &[u8], mut p: usize, end: usize, bits: &[u32], hmask: u32, wmask: u32) -> usize {
    use std::arch::x86_64::*;
    if end + 3 > w.len() || bits.len() < wmask as usize + 1 {
        return end;
    }
    let shuf = _mm256_setr_epi8(
        0, 1, 2, 3, 1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6, 4, 5, 6, 7, 5, 6, 7, 8, 6, 7, 8, 9, 7, 8, 9, 10,
    );
    let vh = _mm256_set1_epi32(hmask as i32);
    let m1 = _mm256_set1_epi32(MUL as i32);
    let m2 = _mm256_set1_epi32(MUL2 as i32);
    let vw = _mm256_set1_epi32(wmask as i32);
    let v31 = _mm256_set1_epi32(31);
    let ptr = w.as_ptr();
    let table = bits.as_ptr() as *const i32;
    while p + 8 <= end && p + 16 <= w.len() {
        // SAFETY: p + 16 <= w.len(); every gathered index is <= wmask < bits.len()
        let v = unsafe { _mm_loadu_si128(ptr.add(p) as *const __m128i) };
        let x = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_broadcastsi128_si256(v), shuf), vh);
        let h1 = _mm256_mullo_epi32(x, m1);
        let h2 = _mm256_mullo_epi32(x, m2);
        let idx = _mm256_and_si256(_mm256_srli_epi32::<15>(h1), vw);
        let words = unsafe { _mm256_i32gather_epi32::<4>(table, idx) };
        let b1 = _mm256_srli_epi32::<27>(h2);
        let b2 = _mm256_and_si256(_mm256_srli_epi32::<22>(h2), v31);
        let t = _mm256_and_si256(_mm256_srlv_epi32(words, b1), _mm256_srlv_epi32(words, b2));
        let mask = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32::<31>(t)));
        if mask != 0 {
            return p + mask.trailing_zeros() as usize;
        }
        p += 8;
    }
    next_hit(w, p, end, bits, hmask, wmask)
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
    /// Prefix length of the start filter (`min(shortest word, 4)`).
    pub prefix_len: usize,
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
    /// `kmask`, and with ignore_case bit 5 of every byte cleared (letters of both cases
    /// hash alike; non-letters pairing up only add false positives)
    hmask: u32,
    /// the Bloom filter has `wmask + 1` 32-bit words (a power of two)
    wmask: u32,
    bits: Vec<u32>,
    /// whether `next_hit_avx2` may run
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
///   [`aho_corasick::packed`]) for up to 64 words, else a bitmap indexed by a
///   multiplicative hash of the 4 bytes at each position -- and each candidate is
///   verified exactly against the words with that prefix (an exact hash table of
///   prefixes -> word indices, ascending), so matches come out already sorted. The
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

/// An upper bound of the memory the automaton's construction may take, in bytes:
/// checked (reserved, then freed) before building it, because the `aho_corasick` crate
/// allocates infallibly (an allocation failure there would abort the process).
fn automaton_estimate(words: usize, bytes: usize) -> usize {
    // measured peak: ~40 B per trie state (<= bytes + 1) plus ~40 B per word; x4 margin
    bytes.saturating_add(words).saturating_add(1024).saturating_mul(160).saturating_add(4 << 20)
}

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
                hmask: 0,
                wmask: 0,
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
        probe(automaton_estimate(self.len(), self.text.len()))?;
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(self.ignore_case)
            .prefilter(false)
            .build((0..self.len()).map(|i| self.word(i)))
            .map_err(|_| Error::InvalidArgument("too many words for the automaton"))?;
        Ok(self.ac.set(ac))
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
        let hmask = if self.ignore_case { kmask & 0xDFDF_DFDF } else { kmask };
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
        // exact table: open addressing, at most half full
        let cap = (groups * 2).next_power_of_two().max(16);
        let mut slots = try_vec(cap, Slot::default())?;
        let tbits = cap.trailing_zeros();
        // Bloom filter: ~32 bits per prefix, 2^12..2^22 bits (512 B .. 512 KiB)
        let bbits = ((groups * 32).next_power_of_two().trailing_zeros()).clamp(12, 22);
        let mut bits = try_vec(1usize << (bbits - 5), 0u32)?;
        let wmask = (1u32 << (bbits - 5)) - 1;
        let mut i = 0;
        while i < pairs.len() {
            let key = pairs[i].0;
            let mut j = i + 1;
            while j < pairs.len() && pairs[j].0 == key {
                j += 1;
            }
            let mut h = (key.wrapping_mul(MUL) >> (32 - tbits)) as usize;
            while slots[h].len != 0 {
                h = (h + 1) & (cap - 1);
            }
            slots[h] = Slot { key, start: i as u32, len: (j - i) as u32 };
            let (w, b1, b2) = bloom(key & hmask, wmask);
            bits[w] |= (1u32 << b1) | (1u32 << b2);
            i = j;
        }
        let teddy = if n <= TEDDY_MAX { self.build_teddy(words, &pairs, k) } else { None };
        #[cfg(target_arch = "x86_64")]
        let avx2 = std::is_x86_feature_detected!("avx2") && std::env::var_os("KMPSEARCH_RUST_NO_AVX2").is_none();
        #[cfg(not(target_arch = "x86_64"))]
        let avx2 = false;
        Ok(Filter { k, kmask, hmask, wmask, bits, avx2, slots, entries, teddy })
    }

    /// Teddy over the words themselves (exact case), or with ignore_case over every case
    /// variant of the distinct prefixes when there are at most 64 of them.
    fn build_teddy<W: AsRef<[u8]>>(&self, words: &[W], pairs: &[(u32, u32)], k: usize) -> Option<packed::Searcher> {
        let mut b = packed::Config::new().match_kind(packed::MatchKind::LeftmostFirst).builder();
        if !self.ignore_case {
            b.extend(words.iter().map(|w| w.as_ref()));
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
            if variants.len() + (1usize << letters.len()) > TEDDY_MAX {
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
            bitmap_bits: (f.wmask as u64 + 1).trailing_zeros() + 5,
            prefix_len: f.k,
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

    // --- drivers -------------------------------------------------------------------------

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
                self.scan_window(window, range.start, own, opts.scan, &mut s)?;
                return Ok(s);
            }
            // with a cancel flag: the owned starts in blocks of block_size, each with the
            // longest - 1 bytes after it (the automaton restarts at each: the same matches)
            let step = opts.block_size as u64;
            let mut a = range.start;
            while a < own_end {
                opts.check_cancel()?;
                let b = a.saturating_add(step).min(own_end);
                let end = b.saturating_add(self.longest as u64 - 1).min(range.end);
                let piece = hay.get(a as usize..end as usize).ok_or(Error::Internal("piece"))?;
                self.scan_window(piece, a, 0..(b - a) as usize, opts.scan, &mut s)?;
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
            self.scan_source(src, range, own_end, opts, &mut s)?;
            Ok(s)
        })
    }

    /// Read the chunk `range` (owning the starts `[range.start, own_end)`) in blocks.
    fn scan_source<R: ReadAt + ?Sized, S: WSink>(
        &self,
        src: &R,
        range: Range<u64>,
        own_end: u64,
        opts: &Options,
        sink: &mut S,
    ) -> Result<(), Error> {
        let span = range.end - range.start;
        let block = (opts.block_size.max(self.longest) as u64).min(span) as usize;
        let extra = self.longest - 1;
        let cap = (block as u64).saturating_add(extra as u64).min(span) as usize;
        let mut buf = try_vec(cap, 0u8)?;
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
                self.scan_window(&buf[..filled], base, own, opts.scan, sink)?;
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
        scan: Scan,
        sink: &mut S,
    ) -> Result<(), Error> {
        match scan {
            Scan::Textbook => self.scan_automaton(w, base, own, sink),
            Scan::Fast => self.scan_fast(w, base, own, sink),
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
    fn scan_fast<S: WSink>(&self, w: &[u8], base: u64, own: Range<usize>, sink: &mut S) -> Result<(), Error> {
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
                let res = match &self.filter.teddy {
                    Some(t) => self.filter_teddy(t, w, base, a..b, budget, sink),
                    None => self.filter_bitmap(w, base, a..b, budget, sink),
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

    /// Verify every word with the (exact, folded) prefix `key` at `p`; add the work done
    /// to `work`. `false`: out of memory.
    #[inline(always)]
    fn verify<S: WSink>(&self, w: &[u8], base: u64, p: usize, key: u32, work: &mut usize, sink: &mut S) -> bool {
        let f = &self.filter;
        *work += 1;
        let mask = f.slots.len().wrapping_sub(1);
        let mut h = (key.wrapping_mul(MUL) >> (32 - f.slots.len().trailing_zeros())) as usize;
        let slot = loop {
            match f.slots.get(h) {
                Some(s) if s.len != 0 && s.key == key => break *s,
                Some(s) if s.len != 0 => h = (h + 1) & mask,
                _ => return true,
            }
        };
        let group = f.entries.get(slot.start as usize..(slot.start + slot.len) as usize).unwrap_or(&[]);
        let k = f.k;
        let avail = w.len() - p; // p < w.len()
                                 // the text's (folded) bytes after the prefix, up to 8, zero-padded
        let mut b = [0u8; 8];
        for (d, s) in b.iter_mut().zip(w.get(p + k..).unwrap_or(&[])) {
            *d = *s;
        }
        let mut text8 = u64::from_le_bytes(b);
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

    /// The scalar filter over the starts `seg`: `Err(Some(p))` when the budget ran out
    /// (starts before `p` done), `Err(None)` out of memory.
    fn filter_bitmap<S: WSink>(
        &self,
        w: &[u8],
        base: u64,
        seg: Range<usize>,
        budget: usize,
        sink: &mut S,
    ) -> Result<(), Option<usize>> {
        let f = &self.filter;
        let mut work = 0usize;
        // starts whose 4 bytes can be loaded
        let fast_end = seg.end.min(w.len().saturating_sub(3));
        let mut p = seg.start;
        while p < fast_end {
            p = if f.avx2 {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `avx2` is set only when the CPU has AVX2
                unsafe {
                    next_hit_avx2(w, p, fast_end, &f.bits, f.hmask, f.wmask)
                }
                #[cfg(not(target_arch = "x86_64"))]
                next_hit(w, p, fast_end, &f.bits, f.hmask, f.wmask)
            } else {
                next_hit(w, p, fast_end, &f.bits, f.hmask, f.wmask)
            };
            if p >= fast_end {
                break;
            }
            let x = u32::from_le_bytes([w[p], w[p + 1], w[p + 2], w[p + 3]]);
            if !self.verify(w, base, p, self.exact_key(x), &mut work, sink) {
                return Err(None);
            }
            p += 1;
            if work > budget {
                return Err(Some(p));
            }
        }
        p = p.max(fast_end);
        // the last starts: fewer than 4 bytes left, at least k
        let last = seg.end.min((w.len() + 1).saturating_sub(f.k));
        while p < last {
            let mut b = [0u8; 4];
            for (d, s) in b.iter_mut().zip(&w[p..]) {
                *d = *s;
            }
            let x = u32::from_le_bytes(b);
            if !self.verify(w, base, p, self.exact_key(x), &mut work, sink) {
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
