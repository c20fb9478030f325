//! Word-set tests against a naive reference: every start, every word.

use super::*;
use proptest::prelude::*;
use std::collections::HashMap;
use std::time::Instant;

fn fold(b: &[u8], ignore_case: bool) -> Vec<u8> {
    if ignore_case {
        b.iter().map(u8::to_ascii_lowercase).collect()
    } else {
        b.to_vec()
    }
}

/// Every (start, index) with `words[index]` at `start`, sorted.
fn naive(hay: &[u8], words: &[Vec<u8>], ic: bool) -> Vec<(u64, u32)> {
    let mut by: HashMap<Vec<u8>, Vec<u32>> = HashMap::new();
    for (i, w) in words.iter().enumerate() {
        by.entry(fold(w, ic)).or_default().push(i as u32);
    }
    let longest = words.iter().map(Vec::len).max().unwrap_or(0);
    let mut out = Vec::new();
    for p in 0..hay.len() {
        for l in 1..=longest.min(hay.len() - p) {
            if let Some(ids) = by.get(&fold(&hay[p..p + l], ic)) {
                out.extend(ids.iter().map(|&i| (p as u64, i)));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Distinct words (after folding when `ic`), order kept.
fn distinct(words: Vec<Vec<u8>>, ic: bool) -> Vec<Vec<u8>> {
    let mut seen = std::collections::HashSet::new();
    words.into_iter().filter(|w| !w.is_empty() && seen.insert(fold(w, ic))).collect()
}

const SCANS: [Scan; 2] = [Scan::Fast, Scan::Textbook];

fn opts(threads: usize, min_chunk: u64, scan: Scan, block: usize) -> Options<'static> {
    Options::default().threads(threads).min_chunk(min_chunk).scan(scan).block_size(block)
}

/// A source returning short reads of at most `max` bytes.
struct Short<'a>(&'a [u8], usize);

impl ReadAt for Short<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read_at(&mut buf[..n], offset)
    }
}

fn counts_of(found: &[(u64, u32)], n: usize) -> Vec<u64> {
    let mut c = vec![0u64; n];
    for &(_, i) in found {
        c[i as usize] += 1;
    }
    c
}

/// Check every search of `set` against the reference.
fn check_set(set: &WordSet, hay: &[u8], expected: &[(u64, u32)], o: &Options) {
    let n = set.len();
    let each = counts_of(expected, n);
    assert_eq!(set.find_all(hay, o).unwrap(), expected, "find_all {o:?}");
    assert_eq!(set.count(hay, o).unwrap(), expected.len() as u64, "count {o:?}");
    assert_eq!(set.count_each(hay, o).unwrap(), each, "count_each {o:?}");
    let src = Short(hay, (o.block_size / 3).max(1));
    let len = hay.len() as u64;
    assert_eq!(set.find_all_read_at(&src, len, o).unwrap(), expected, "find_all_read_at {o:?}");
    assert_eq!(set.count_read_at(hay, len, o).unwrap(), expected.len() as u64, "count_read_at {o:?}");
    assert_eq!(set.count_each_read_at(&src, len, o).unwrap(), each, "count_each_read_at {o:?}");
    // with a cancel flag (never set) memory goes in pieces of block_size starts: the same
    let never = std::sync::atomic::AtomicU8::new(0);
    let oc = o.clone().cancel(&never);
    assert_eq!(set.find_all(hay, &oc).unwrap(), expected, "find_all in pieces {o:?}");
    assert_eq!(set.count_each(hay, &oc).unwrap(), each, "count_each in pieces {o:?}");
    let parts: Vec<(u64, u32)> = set.find_all_parts(hay, &oc).unwrap().concat();
    assert_eq!(parts, expected, "find_all_parts {o:?}");
}

#[test]
fn a_set_cancel_flag_stops_the_search() {
    let set = WordSet::new(&[&b"ab"[..], b"b"], false).unwrap();
    let hay = b"ab".repeat(1000);
    let set_flag = std::sync::atomic::AtomicU8::new(1);
    for scan in SCANS {
        let o = opts(2, 1, scan, 16).cancel(&set_flag);
        assert!(matches!(set.count(&hay, &o), Err(Error::Cancelled)));
        assert!(matches!(set.find_all_read_at(&hay[..], 2000, &o), Err(Error::Cancelled)));
    }
}

fn check(hay: &[u8], words: &[Vec<u8>], ic: bool, threads: usize, min_chunk: u64, block: usize) {
    let expected = naive(hay, words, ic);
    let set = WordSet::new(words, ic).unwrap();
    for scan in SCANS {
        check_set(&set, hay, &expected, &opts(threads, min_chunk, scan, block));
    }
    if set.stats().teddy {
        let set = set.without_teddy();
        check_set(&set, hay, &expected, &opts(threads, min_chunk, Scan::Fast, block));
    }
}

#[test]
fn the_contract_example_and_edges() {
    let set = WordSet::new(&[&b"he"[..], b"she", b"hers"], false).unwrap();
    for scan in SCANS {
        for threads in 1..=4 {
            let o = opts(threads, 1, scan, 3);
            assert_eq!(set.find_all(b"ushers", &o).unwrap(), vec![(1, 1), (2, 0), (2, 2)]);
            assert_eq!(set.count_each(b"ushers", &o).unwrap(), vec![1, 1, 1]);
            assert_eq!(set.find_all(b"", &o).unwrap(), vec![]);
            assert_eq!(set.count(b"h", &o).unwrap(), 0);
            assert_eq!(set.count_each(b"", &o).unwrap(), vec![0, 0, 0]);
            // shorter than the longest word: one chunk, still finds the shorter words
            assert_eq!(set.find_all(b"he", &o).unwrap(), vec![(0, 0)]);
        }
    }
    assert!(matches!(WordSet::new::<&[u8]>(&[], false), Err(Error::InvalidArgument(_))));
    assert!(matches!(WordSet::new(&[&b"a"[..], b""], false), Err(Error::InvalidArgument(_))));
    assert!(matches!(set.count(b"x", &Options::default().threads(0)), Err(Error::InvalidArgument(_))));
    assert!(set.memory_bytes() > 0);
}

#[test]
fn ignore_case_is_ascii_letters_only() {
    let words: Vec<Vec<u8>> = vec![b"[a".to_vec(), b"@B".to_vec(), b"Zz".to_vec(), b"\xc0x".to_vec()];
    let hay = b"{a [A [a `b @b @B zZ ZZ \xe0x \xc0X";
    let expected = vec![(3, 0), (6, 0), (12, 1), (15, 1), (18, 2), (21, 2), (27, 3)];
    assert_eq!(naive(hay, &words, true), expected);
    let set = WordSet::new(&words, true).unwrap();
    for scan in SCANS {
        assert_eq!(set.find_all(hay, &opts(1, 1, scan, 5)).unwrap(), expected);
    }
    for threads in 1..=9 {
        check(hay, &words, true, threads, 1, 4);
    }
    // every byte value against its case partner, in both directions
    let all: Vec<u8> = (0..=255u8).collect();
    for b in 0..=255u8 {
        let words = vec![vec![b, b'!']];
        let hay: Vec<u8> = all.iter().flat_map(|&c| [c, b'!']).collect();
        check(&hay, &words, true, 2, 16, 64);
    }
}

#[test]
fn chains_and_words_inside_words() {
    let chain: Vec<Vec<u8>> = (1..=12).map(|l| vec![b'a'; l]).collect();
    let rev: Vec<Vec<u8>> = chain.iter().rev().cloned().collect();
    let inside: Vec<Vec<u8>> =
        [&b"abcabcab"[..], b"bca", b"cab", b"c", b"abcab", b"bcabcabcabc", b"ca"].iter().map(|w| w.to_vec()).collect();
    let suffixes: Vec<Vec<u8>> = (0..10).map(|i| b"xyzxyzxyzx"[i..].to_vec()).collect();
    let hays =
        [vec![b'a'; 100], b"abcabcabcabcabcabx".repeat(5), b"xyzxyzxyzxyzxyz".repeat(4), b"aaab\x00\xff".repeat(20)];
    for words in [&chain, &rev, &inside, &suffixes] {
        for hay in &hays {
            for threads in [1, 2, 3, 9] {
                for min_chunk in [1, 5, 1000] {
                    check(hay, words, false, threads, min_chunk, 7);
                    check(hay, words, true, threads, min_chunk, 80);
                }
            }
        }
    }
}

#[test]
fn words_longer_than_chunks_and_blocks() {
    let hay: Vec<u8> = b"abaabaababaab".iter().cycle().take(300).copied().collect();
    let words: Vec<Vec<u8>> = vec![hay[5..60].to_vec(), hay[0..40].to_vec(), b"ab".to_vec(), hay[100..101].to_vec()];
    let words = distinct(words, false);
    for threads in 1..=9 {
        for block in [1, 2, 39, 40, 41, 80] {
            check(&hay, &words, false, threads, 1, block);
        }
    }
}

#[test]
fn nul_and_high_bytes() {
    let words: Vec<Vec<u8>> =
        vec![b"\x00".to_vec(), b"\x00\x00\xff".to_vec(), b"\xff\xff".to_vec(), b"\xff\x00\x00\x00\x00".to_vec()];
    let hay = b"\x00\x00\xff\xff\x00\x00\x00\x00\xff".repeat(7);
    for threads in [1, 4] {
        check(&hay, &words, false, threads, 3, 5);
        check(&hay, &words, true, threads, 3, 5);
    }
    // the prefix 0xffffffff (the exact table's empty key) and 0x00000000
    let mut words: Vec<Vec<u8>> =
        vec![b"\xff\xff\xff\xff".to_vec(), b"\xff\xff\xff\xffa".to_vec(), b"\0\0\0\0".to_vec()];
    words.extend((0..70).map(|i| format!("w{i:04}").into_bytes())); // past Teddy: the bitmap
    let hay = b"\xff\xff\xff\xff\xffa\0\0\0\0\0w0042\xff".repeat(9);
    for threads in [1, 3] {
        check(&hay, &words, false, threads, 2, 7);
        check(&hay, &words, true, threads, 2, 7);
        check(&hay, &words[..3], false, threads, 2, 7);
    }
}

#[test]
fn truncated_source_gives_the_matches_read() {
    let hay = b"she sells sea shells; he hers ushers".repeat(30);
    let words: Vec<Vec<u8>> = [&b"he"[..], b"she", b"hers", b"sea", b"s"].iter().map(|w| w.to_vec()).collect();
    let set = WordSet::new(&words, false).unwrap();
    for cut in [0, 1, 2, 50, 333, hay.len() - 1] {
        let expected = naive(&hay[..cut], &words, false);
        for scan in SCANS {
            for threads in [1, 2, 5] {
                for block in [1, 3, 64] {
                    let o = opts(threads, 10, scan, block);
                    let claimed = hay.len() as u64 + 17;
                    assert_eq!(set.find_all_read_at(&hay[..cut], claimed, &o).unwrap(), expected);
                    assert_eq!(set.count_read_at(&hay[..cut], claimed, &o).unwrap(), expected.len() as u64);
                }
            }
        }
    }
    // a file truncated after its size was taken
    let path = std::env::temp_dir().join(format!("kmpsearch-core-words-{}", std::process::id()));
    std::fs::write(&path, &hay).unwrap();
    let f = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    f.set_len(401).unwrap();
    let expected = naive(&hay[..401], &words, false);
    assert_eq!(set.find_all_read_at(&f, hay.len() as u64, &opts(3, 10, Scan::Fast, 64)).unwrap(), expected);
    assert_eq!(set.find_all_file(&f, &opts(3, 10, Scan::Textbook, 64)).unwrap(), expected);
    std::fs::remove_file(path).unwrap();
}

#[test]
fn io_errors_keep_their_errno() {
    struct Broken;
    impl ReadAt for Broken {
        fn read_at(&self, _buf: &mut [u8], _offset: u64) -> io::Result<usize> {
            Err(io::Error::from_raw_os_error(5))
        }
    }
    let set = WordSet::new(&[&b"ab"[..]], false).unwrap();
    for threads in [1, 2] {
        match set.count_read_at(&Broken, 100, &opts(threads, 1, Scan::Fast, 10)) {
            Err(Error::Io(e)) => assert_eq!(e.raw_os_error(), Some(5)),
            other => panic!("expected an io error, got {other:?}"),
        }
    }
}

/// The worst cases of the fast scan: the budget sends them to the automaton. A fresh set
/// has no automaton, and a fast scan builds it only for that fallback: a fast scan of a
/// fresh set that leaves it built took the fallback. (How fast they run is the
/// benchmark's business: rust/README.md, "Adversarial sets".)
#[test]
fn adversarial_inputs_fall_back_to_the_automaton() {
    let hay = vec![b'a'; 100_000];
    let words: Vec<Vec<u8>> = (1..=40).map(|l| vec![b'a'; l]).collect();
    let expected_count: u64 = (1..=40u64).map(|l| 100_001 - l).sum();
    for scan in SCANS {
        for threads in [1, 2] {
            let set = WordSet::new(&words, false).unwrap();
            assert!(!set.automaton_built());
            let o = opts(threads, 1000, scan, 4096);
            assert_eq!(set.count(&hay, &o).unwrap(), expected_count);
            assert!(set.automaton_built(), "{scan:?} {threads}: no fallback");
            let each = set.count_each(&hay, &o).unwrap();
            assert_eq!(each, (1..=40u64).map(|l| 100_001 - l).collect::<Vec<_>>());
            let all = set.find_all(&hay, &o).unwrap();
            assert_eq!(all.len() as u64, expected_count);
            assert!(all.windows(2).all(|w| w[0] < w[1]));
            assert_eq!(set.count_read_at(&hay[..], 100_000, &o).unwrap(), expected_count);
        }
    }
    let small = vec![b'a'; 3000];
    check(&small, &words, false, 3, 100, 100);
    check(&small, &words, true, 3, 100, 100);

    // the same with stride 2 (words of 5 bytes and more): both starts of every window
    let words: Vec<Vec<u8>> = (5..=40).map(|l| vec![b'a'; l]).collect();
    let expected_count: u64 = (5..=40u64).map(|l| 100_001 - l).sum();
    for threads in [1, 2] {
        let set = WordSet::new(&words, false).unwrap().without_teddy();
        assert_eq!(set.stats().stride, 2);
        let o = opts(threads, 1000, Scan::Fast, 4096);
        assert_eq!(set.count(&hay, &o).unwrap(), expected_count);
        assert!(set.automaton_built(), "stride 2, {threads}: no fallback");
    }
    check(&small, &words, false, 3, 100, 100);
    check(&small, &words, true, 3, 100, 100);

    // 500 words sharing a 4-byte prefix, text full of that prefix
    let words: Vec<Vec<u8>> = (0..500).map(|i| format!("pref{i:03}").into_bytes()).collect();
    let hay = b"prefpref123pref499".repeat(2000);
    let expected = naive(&hay, &words, false);
    for scan in SCANS {
        for threads in [1, 3] {
            let set = WordSet::new(&words, false).unwrap();
            check_set(&set, &hay, &expected, &opts(threads, 100, scan, 1000));
            assert!(set.automaton_built(), "{scan:?} {threads}: no fallback");
        }
    }
}

/// One word of several MiB beside a short one: the automaton of the textbook scan (and of
/// the fast scan's fallback) is built in time linear in the words' length. (It was the
/// `aho_corasick` crate's DFA, its own choice for up to 100 words, whose construction
/// walks the failure links of `x`^L from every state: quadratic in L, days for this one;
/// rust/README.md has the times.)
#[test]
fn a_word_of_several_mebibytes() {
    let n = 5 << 20;
    let words = [vec![b'x'; n], b"a".to_vec()];
    let mut hay = vec![b'x'; n + 1];
    hay[0] = b'a';
    let never = std::sync::atomic::AtomicU8::new(0);
    let set = WordSet::new(&words, false).unwrap();
    let o = opts(2, 1000, Scan::Textbook, DEFAULT_BLOCK_SIZE);
    assert_eq!(set.find_all(&hay, &o).unwrap(), vec![(0, 1), (1, 0)]);
    assert!(set.stats().automaton_bytes > n);
    // with a cancel flag, as Python searches: blocks of at least the longest word
    assert_eq!(set.count(&hay, &o.cancel(&never)).unwrap(), 2);
    let o = opts(2, 1000, Scan::Fast, DEFAULT_BLOCK_SIZE);
    assert_eq!(set.count(&hay, &o.cancel(&never)).unwrap(), 2);
    // ignore_case (a word of 1 MiB: the old construction took hours already)
    let n = 1 << 20;
    let set = WordSet::new(&[vec![b'X'; n], b"a".to_vec()], true).unwrap();
    let mut hay = vec![b'x'; n + 1];
    hay[0] = b'A';
    let o = opts(1, 1000, Scan::Textbook, DEFAULT_BLOCK_SIZE).cancel(&never);
    assert_eq!(set.count(&hay, &o).unwrap(), 2);
}

/// A long word among few words (the Teddy filter) and a text where it almost occurs at
/// every start: linear. (Teddy over the whole words compared the long word at each start
/// before returning a candidate: 8 MiB of text times half a 1 MiB word, 4 * 10^12 byte
/// comparisons.)
#[test]
fn a_long_word_in_a_small_set_almost_everywhere() {
    let l = 1 << 20;
    let words = [vec![b'x'; l], b"ab".to_vec()];
    let mut unit = vec![b'x'; l - 1];
    unit.push(b'y');
    let mut hay = unit.repeat(8);
    hay.extend(vec![b'x'; l]);
    hay.extend(b"ab");
    let expected = vec![(8 * l as u64, 0), (9 * l as u64, 1)];
    let set = WordSet::new(&words, false).unwrap();
    assert!(set.stats().teddy);
    for threads in [1, 2] {
        let o = opts(threads, 1000, Scan::Fast, DEFAULT_BLOCK_SIZE);
        assert_eq!(set.find_all(&hay, &o).unwrap(), expected);
        assert_eq!(set.count_each(&hay, &o).unwrap(), vec![1, 1]);
    }
}

/// The memory check before the automaton's construction counts its match lists: each
/// state of the automaton lists the words that are suffixes of its path, which the bound
/// must cover, copies of a word included.
#[test]
fn the_automaton_estimate_covers_its_match_lists() {
    // exact: over the trie's states (the distinct prefixes of the words), the words that
    // are suffixes of each
    fn exact(words: &[Vec<u8>]) -> usize {
        let states: std::collections::HashSet<&[u8]> =
            words.iter().flat_map(|w| (1..=w.len()).map(move |i| &w[..i])).collect();
        states.iter().map(|s| words.iter().filter(|w| s.ends_with(w)).count()).sum()
    }
    let mut seed = 3u64;
    for round in 0..60 {
        let n = 1 + lcg(&mut seed) as usize % 30;
        let mut words: Vec<Vec<u8>> = (0..n)
            .map(|_| (0..1 + lcg(&mut seed) as usize % 12).map(|_| b"ab"[lcg(&mut seed) as usize % 2]).collect())
            .collect();
        if round % 3 == 0 {
            // copies of some words
            let copies: Vec<Vec<u8>> = words.iter().take(1 + round % 4).cloned().collect();
            words.extend(copies);
        }
        let set = WordSet::new(&words, false).unwrap();
        assert!(set.match_entries().unwrap() >= exact(&words), "{words:?}");
    }
    // `a` .. `a`^k and `a`^L: about k L entries (the state `a`^i lists min(i, k) + 1 words)
    let (k, l) = (50usize, 20_000usize);
    let mut words: Vec<Vec<u8>> = (1..=k).map(|i| vec![b'a'; i]).collect();
    words.push(vec![b'a'; l]);
    let entries = exact(&words);
    let bound = WordSet::new(&words, false).unwrap().match_entries().unwrap();
    assert!(entries >= k * (l - k) && bound >= entries && bound <= 2 * entries, "{entries} {bound}");
    // k = 2,000 and L = 10^7 (12 MB of words): about 2 * 10^10 entries, ~0.9 TiB to check
    let mut words: Vec<Vec<u8>> = (1..=2000).map(|i| vec![b'a'; i]).collect();
    words.push(vec![b'a'; 10_000_000]);
    let set = WordSet::new(&words, false).unwrap();
    let bound = set.match_entries().unwrap();
    assert!(bound >= 2000 * (10_000_000 - 2000), "{bound}");
    assert!(words::automaton_estimate(set.len(), set.stats().word_bytes, bound) > 1 << 39);
}

fn lcg(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

#[test]
fn a_hundred_thousand_words() {
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n";
    let mut seed = 7u64;
    let hay: Vec<u8> = (0..200_000).map(|_| alphabet[lcg(&mut seed) as usize % alphabet.len()]).collect();
    let mut words = Vec::new();
    for i in 0..100_000 {
        let len = 4 + lcg(&mut seed) as usize % 9;
        if i % 2 == 0 {
            let at = lcg(&mut seed) as usize % (hay.len() - len);
            words.push(hay[at..at + len].to_vec());
        } else {
            words.push((0..len).map(|_| alphabet[lcg(&mut seed) as usize % alphabet.len()]).collect());
        }
    }
    for ic in [false, true] {
        let words = distinct(words.clone(), ic);
        let t = Instant::now();
        let set = WordSet::new(&words, ic).unwrap();
        let built = t.elapsed();
        assert!(built.as_secs_f64() < 1.0, "100k words compiled in {built:?}");
        assert!(!set.stats().teddy);
        let expected = naive(&hay, &words, ic);
        assert!(expected.len() > 40_000, "{}", expected.len());
        for scan in SCANS {
            for threads in [1, 2, 7] {
                let o = opts(threads, 10_000, scan, 50_000);
                assert_eq!(set.find_all(&hay, &o).unwrap(), expected);
                assert_eq!(set.count_each(&hay, &o).unwrap(), counts_of(&expected, words.len()));
                assert_eq!(set.count_read_at(&hay[..], hay.len() as u64, &o).unwrap(), expected.len() as u64);
            }
        }
    }
}

#[test]
fn teddy_and_bitmap_agree_on_random_text() {
    let mut seed = 11u64;
    let alphabet = b"abcdAB[{@`\x00\xff";
    for round in 0..40 {
        let hay: Vec<u8> = (0..3000).map(|_| alphabet[lcg(&mut seed) as usize % alphabet.len()]).collect();
        let n = 1 + lcg(&mut seed) as usize % 100;
        let words: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                let len = 1 + lcg(&mut seed) as usize % 6;
                let at = lcg(&mut seed) as usize % (hay.len() - len);
                hay[at..at + len].to_vec()
            })
            .collect();
        let ic = round % 2 == 1;
        let words = distinct(words, ic);
        check(&hay, &words, ic, 1 + round % 4, 200, 333);
    }
}

/// Stride 2 of the Bloom filter (every word at least 5 bytes: 4-byte windows; shortest
/// word 4 in a small case-sensitive set: 3-byte windows): words at the very first and last starts of
/// the text, of every chunk and block (odd and even lengths), with and without
/// ignore_case, through Teddy and the bitmap.
#[test]
fn stride_two_first_and_last_starts() {
    let mut seed = 5u64;
    let alphabet = b"abAB[{";
    for round in 0..48 {
        let len = lcg(&mut seed) as usize % 90;
        let hay: Vec<u8> = (0..len).map(|_| alphabet[lcg(&mut seed) as usize % alphabet.len()]).collect();
        let minlen = 4 + round % 2;
        let ic = round % 4 >= 2;
        let mut words: Vec<Vec<u8>> = Vec::new();
        for l in minlen..minlen + 3 {
            if l <= hay.len() {
                words.push(hay[..l].to_vec());
                words.push(hay[hay.len() - l..].to_vec());
            }
            if l + 2 <= hay.len() {
                words.push(hay[1..1 + l].to_vec());
                words.push(hay[hay.len() - l - 1..hay.len() - 1].to_vec());
            }
        }
        // cut at random starts (chunk and block edges fall anywhere), and random ones
        for _ in 0..(if round % 3 == 0 { 80 } else { 6 }) {
            let l = minlen + lcg(&mut seed) as usize % 5;
            if l < hay.len() && lcg(&mut seed) % 2 == 0 {
                let at = lcg(&mut seed) as usize % (hay.len() - l);
                words.push(hay[at..at + l].to_vec());
            } else {
                words.push((0..l).map(|_| alphabet[lcg(&mut seed) as usize % alphabet.len()]).collect());
            }
        }
        words.push(vec![b'x'; minlen]); // the shortest length is minlen
        let words = distinct(words, ic);
        let set = WordSet::new(&words, ic).unwrap();
        // (3-byte windows: case-sensitive only)
        assert_eq!(set.stats().stride, if minlen == 4 && ic { 1 } else { 2 }, "{words:?}");
        assert_eq!(set.shortest(), minlen);
        for (threads, min_chunk, block) in
            [(1, 1, 1), (1, 1, 2), (1, 1, 3), (2, 3, 5), (3, 7, 4), (5, 1, 9), (9, 2, 80)]
        {
            check(&hay, &words, ic, threads, min_chunk, block);
        }
    }
    // 4-byte words in a large set: 3-byte windows would pass too much, stride 1
    let words: Vec<Vec<u8>> = (0..1500u32).map(|i| format!("{i:04}").into_bytes()).collect();
    let set = WordSet::new(&words, false).unwrap();
    assert_eq!((set.stats().stride, set.stats().teddy), (1, false));
    let hay = b"0123x4999a10000".repeat(20);
    check_set(&set, &hay, &naive(&hay, &words, false), &opts(2, 7, Scan::Fast, 13));
}

fn small_byte() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![b'a', b'b', 0u8, 0xff])
}

fn case_byte() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![b'a', b'A', b'b', b'[', b'{', b'@', b'`'])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn matches_naive(
        hay in prop::collection::vec(small_byte(), 0..200),
        words in prop::collection::vec(prop::collection::vec(small_byte(), 1..7), 1..12),
        threads in 1usize..10,
        min_chunk in 1u64..41,
        block in 1usize..81,
    ) {
        let words = distinct(words, false);
        check(&hay, &words, false, threads, min_chunk, block);
    }

    #[test]
    fn matches_naive_ignoring_case(
        hay in prop::collection::vec(case_byte(), 0..200),
        words in prop::collection::vec(prop::collection::vec(case_byte(), 1..6), 1..12),
        threads in 1usize..10,
        min_chunk in 1u64..41,
        block in 1usize..81,
    ) {
        let words = distinct(words, true);
        check(&hay, &words, true, threads, min_chunk, block);
    }

    #[test]
    fn many_words_use_the_bitmap(
        hay in prop::collection::vec(small_byte(), 0..400),
        words in prop::collection::vec(prop::collection::vec(small_byte(), 1..9), 65..150),
        threads in 1usize..10,
        min_chunk in 1u64..60,
        block in 1usize..81,
        ic in any::<bool>(),
    ) {
        let words = distinct(words, ic);
        check(&hay, &words, ic, threads, min_chunk, block);
    }

    #[test]
    fn stride_two_matches_naive(
        hay in prop::collection::vec(case_byte(), 0..300),
        words in prop::collection::vec(prop::collection::vec(case_byte(), 4..10), 1..90),
        cuts in prop::collection::vec((0usize..300, 4usize..10), 0..30),
        five in any::<bool>(),
        threads in 1usize..10,
        min_chunk in 1u64..41,
        block in 1usize..81,
        ic in any::<bool>(),
    ) {
        // words cut from the text (they occur) and random ones; all of 5+ bytes or not
        let mut words = words;
        words.extend(cuts.iter().filter(|c| c.0 + c.1 <= hay.len()).map(|c| hay[c.0..c.0 + c.1].to_vec()));
        let words: Vec<Vec<u8>> = words.into_iter().filter(|w| !five || w.len() >= 5).collect();
        let words = distinct(words, ic);
        if !words.is_empty() {
            let stride = if ic && words.iter().any(|w| w.len() == 4) { 1 } else { 2 };
            prop_assert_eq!(WordSet::new(&words, ic).unwrap().stats().stride, stride);
            check(&hay, &words, ic, threads, min_chunk, block);
        }
    }

    #[test]
    fn truncated_sources(
        hay in prop::collection::vec(small_byte(), 0..200),
        words in prop::collection::vec(prop::collection::vec(small_byte(), 1..5), 1..8),
        cut in 0usize..200,
        extra in 0u64..50,
        threads in 1usize..6,
        min_chunk in 1u64..30,
        block in 1usize..81,
        fast in any::<bool>(),
    ) {
        let words = distinct(words, false);
        let cut = cut.min(hay.len());
        let set = WordSet::new(&words, false).unwrap();
        let o = opts(threads, min_chunk, if fast { Scan::Fast } else { Scan::Textbook }, block);
        let found = set.find_all_read_at(&Short(&hay[..cut], block), hay.len() as u64 + extra, &o).unwrap();
        prop_assert_eq!(found, naive(&hay[..cut], &words, false));
    }
}
