//! Which start filter the fast word scan uses: the rule shared by kmpsearch's three cores
//! (the Cython core's `teddy_masks` / `ws_teddy`, the C core's), here as [`choose_filter`].

use crate::tuning::{TEDDY_CRATE_MAX_PATTERNS, TEDDY_MAX_PASS, TEDDY_MAX_WORDS};

/// The start filter of a word set's fast scan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// Teddy: SIMD nibble masks over the words' first bytes, 8 buckets.
    Teddy,
    /// The hashed bitmap (blocked Bloom filter) of the words' first bytes.
    Bitmap,
}

/// The filter for a set of `words` (folded to lower case when `ignore_case`): Teddy iff
/// there are at most [`TEDDY_CRATE_MAX_PATTERNS`] words (the crate's Teddy keeps 8 buckets
/// up to there; the other cores' own Teddy up to [`TEDDY_MAX_WORDS`]) and [`teddy_pass`]
/// is at most [`TEDDY_MAX_PASS`]; else the bitmap.
pub fn choose_filter(words: &[&[u8]], ignore_case: bool) -> FilterKind {
    if words.len() <= TEDDY_CRATE_MAX_PATTERNS && teddy_pass(words, ignore_case) <= TEDDY_MAX_PASS {
        FilterKind::Teddy
    } else {
        FilterKind::Bitmap
    }
}

/// The estimated share of text positions that pass Teddy's masks for `words` (at most
/// [`TEDDY_MAX_WORDS`] of them, folded when `ignore_case`; more: 1.0), computed as the
/// C core's `teddy_pass` does, over the masks the crate's Teddy installs: the words sorted,
/// cut into 8 runs (buckets, word `i` of `n` in bucket `8 i / n`); at each of the first
/// `m` = min(4, shortest word) positions a bucket allows the low and the high nibble of its
/// words' byte there (both cases of a letter when `ignore_case`); the estimate is the sum
/// over the buckets of the chance that `m` bytes drawn uniformly from printable ASCII and
/// whitespace (9-13, 32-126) pass the bucket, at most 1.
pub fn teddy_pass(words: &[&[u8]], ignore_case: bool) -> f64 {
    let n = words.len();
    if n == 0 || n > TEDDY_MAX_WORDS {
        return 1.0;
    }
    let mut sorted: [&[u8]; TEDDY_MAX_WORDS] = [&[]; TEDDY_MAX_WORDS];
    for (d, w) in sorted.iter_mut().zip(words) {
        *d = w;
    }
    let sorted = &mut sorted[..n];
    sorted.sort_unstable();
    let m = sorted.iter().map(|w| w.len()).min().unwrap_or(0).min(4);
    // lo[t][v]: the buckets allowing low nibble v at position t; hi: the high nibble
    let (mut lo, mut hi) = ([[0u8; 16]; 4], [[0u8; 16]; 4]);
    for (i, w) in sorted.iter().enumerate() {
        let bit = 1u8 << (i * 8 / n);
        for (t, &c) in w[..m].iter().enumerate() {
            let upper = (ignore_case && c.is_ascii_lowercase()).then(|| c.to_ascii_uppercase());
            for c in std::iter::once(c).chain(upper) {
                lo[t][usize::from(c & 15)] |= bit;
                hi[t][usize::from(c >> 4)] |= bit;
            }
        }
    }
    let text = || (9u8..=13).chain(32..=126);
    let ntext = text().count() as f64;
    let share: f64 = (0..8)
        .map(|b| {
            (0..m)
                .map(|t| {
                    let pass =
                        text().filter(|&v| (lo[t][usize::from(v & 15)] & hi[t][usize::from(v >> 4)]) >> b & 1 != 0);
                    pass.count() as f64 / ntext
                })
                .product::<f64>()
        })
        .sum();
    share.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_passes_one_window_in_a_million() {
        // one word, one bucket: each of its 3 bytes is 1 of the 100 text bytes
        assert!((teddy_pass(&[b"abc"], false) - 1e-6).abs() < 1e-12);
        // both cases of each letter ('a' and 'A' share the low nibble): 2 of 100 per position
        assert!((teddy_pass(&[b"abc"], true) - 8e-6).abs() < 1e-12);
        // a 1-byte word: one position
        assert!((teddy_pass(&[b"a"], false) - 0.01).abs() < 1e-12);
        // the masks cover min(4, shortest word) bytes: a fifth byte adds nothing
        assert!((teddy_pass(&[b"abcde"], false) - 1e-8).abs() < 1e-14);
        assert_eq!(teddy_pass(&[b"abcd", b"abcdxyz"], false), teddy_pass(&[b"abcd", b"abcdwvu"], false));
    }

    #[test]
    fn the_rule() {
        let few: [&[u8]; 3] = [b"alpha", b"beta", b"gamma"];
        assert_eq!(choose_filter(&few, false), FilterKind::Teddy);
        // short words pass too much: 8 one-byte words are 8 x 1/100 of the text
        let short: Vec<&[u8]> = [b"a", b"b", b"c", b"d", b"e", b"f", b"g", b"h"].iter().map(|w| &w[..]).collect();
        assert!(teddy_pass(&short, false) > TEDDY_MAX_PASS);
        assert_eq!(choose_filter(&short, false), FilterKind::Bitmap);
        // more than TEDDY_MAX_WORDS words: always the bitmap
        let many: Vec<Vec<u8>> = (0..TEDDY_MAX_WORDS + 1).map(|i| format!("w{i:05}").into_bytes()).collect();
        let many: Vec<&[u8]> = many.iter().map(|w| &w[..]).collect();
        assert_eq!(teddy_pass(&many, false), 1.0);
        assert_eq!(choose_filter(&many, false), FilterKind::Bitmap);
        // at most TEDDY_CRATE_MAX_PATTERNS: words sharing their first bytes keep the masks
        // selective, words spread over many first bytes do not; more: the crate's Teddy has
        // 16 buckets, the bitmap
        assert_eq!(choose_filter(&many[..TEDDY_CRATE_MAX_PATTERNS], false), FilterKind::Teddy);
        assert!(teddy_pass(&many[..TEDDY_CRATE_MAX_PATTERNS + 1], false) <= TEDDY_MAX_PASS);
        assert_eq!(choose_filter(&many[..TEDDY_CRATE_MAX_PATTERNS + 1], false), FilterKind::Bitmap);
        let spread: Vec<Vec<u8>> = (0..TEDDY_CRATE_MAX_PATTERNS)
            .map(|i| vec![33 + i as u8, 33 + (i * 5 % 90) as u8, 33 + (i * 11 % 90) as u8])
            .collect();
        let spread: Vec<&[u8]> = spread.iter().map(|w| &w[..]).collect();
        assert!(teddy_pass(&spread, false) > TEDDY_MAX_PASS);
        assert_eq!(choose_filter(&spread, false), FilterKind::Bitmap);
        // the estimate does not depend on the words' order
        let rev: Vec<&[u8]> = few.iter().rev().copied().collect();
        assert_eq!(teddy_pass(&rev, true), teddy_pass(&few, true));
    }
}
