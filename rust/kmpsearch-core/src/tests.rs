//! Unit and property tests against a naive search (no Python needed).

use super::*;
use proptest::prelude::*;
use std::cell::Cell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

fn naive(hay: &[u8], needle: &[u8]) -> Vec<u64> {
    if needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len()).filter(|&p| &hay[p..p + needle.len()] == needle).map(|p| p as u64).collect()
}

const SCANS: [Scan; 2] = [Scan::Fast, Scan::Textbook];

fn opts(threads: usize, min_chunk: u64, scan: Scan) -> Options<'static> {
    Options::default().threads(threads).min_chunk(min_chunk).scan(scan)
}

/// Check memory and (block-wise) source searches against the naive search.
fn check(hay: &[u8], needle: &[u8], threads: usize, min_chunk: u64, scan: Scan, block: usize) {
    let expected = naive(hay, needle);
    let pat = Pattern::new(needle).unwrap();
    let o = opts(threads, min_chunk, scan).block_size(block);
    assert_eq!(pat.find_all(hay, &o).unwrap(), expected, "find_all {hay:?} {needle:?} {o:?}");
    assert_eq!(pat.count(hay, &o).unwrap(), expected.len() as u64, "count {hay:?} {needle:?} {o:?}");
    let src = Choppy { data: hay, seed: Cell::new(block as u64) };
    assert_eq!(
        pat.find_all_read_at(&Locked(src), hay.len() as u64, &o).unwrap(),
        expected,
        "read_at {hay:?} {needle:?} {o:?}"
    );
    assert_eq!(pat.count_read_at(hay, hay.len() as u64, &o).unwrap(), expected.len() as u64);
    // with a cancel flag (never set) memory goes in pieces of block_size bytes, the state
    // carried across: the same matches
    let never = std::sync::atomic::AtomicU8::new(0);
    let oc = o.clone().cancel(&never);
    assert_eq!(pat.find_all(hay, &oc).unwrap(), expected, "find_all in pieces {o:?}");
    assert_eq!(pat.count(hay, &oc).unwrap(), expected.len() as u64, "count in pieces {o:?}");
    assert_eq!(pat.find_all_parts(hay, &oc).unwrap().concat(), expected, "find_all_parts {o:?}");
}

#[test]
fn a_set_cancel_flag_stops_the_search() {
    let pat = Pattern::new(b"ab").unwrap();
    let hay = b"ab".repeat(1000);
    let set_flag = std::sync::atomic::AtomicU8::new(1);
    for scan in SCANS {
        let o = opts(2, 1, scan).block_size(16).cancel(&set_flag);
        assert!(matches!(pat.count(&hay, &o), Err(Error::Cancelled)));
        assert!(matches!(pat.find_all_read_at(&hay[..], 2000, &o), Err(Error::Cancelled)));
    }
    assert_eq!(Error::Cancelled.to_string(), "the search was cancelled");
}

/// A source that returns short reads and spurious `Interrupted` errors.
struct Choppy<'a> {
    data: &'a [u8],
    seed: Cell<u64>,
}

impl ReadAt for Choppy<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let s = self.seed.get().wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.seed.set(s);
        if s >> 61 == 0 {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let short = (1 + (s >> 33) as usize % buf.len().max(1)).min(buf.len());
        self.data.read_at(&mut buf[..short], offset)
    }
}

/// `Choppy` is not `Sync` (a `Cell`); searches share sources across threads.
struct Locked<'a>(Choppy<'a>);
// SAFETY (test only): the mutex serialises every access to the Cell.
unsafe impl Sync for Locked<'_> {}
static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
impl ReadAt for Locked<'_> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        self.0.read_at(buf, offset)
    }
}

/// One-byte patterns go through memchr and 64-byte bitmask blocks: hits dense and sparse,
/// at every position of a block, runs of empty blocks, tails shorter than a block.
#[test]
fn one_byte_patterns_dense_sparse_and_block_edges() {
    let mut seed = 7u64;
    for len in [0usize, 1, 63, 64, 65, 127, 128, 129, 255, 256, 257, 300, 1000, 4099] {
        for every in [1u64, 2, 3, 17, 64, 65, 200, 1000] {
            let hay: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if (seed >> 33) % every == 0 { b'x' } else { b'a' + ((seed >> 40) % 3) as u8 }
                })
                .collect();
            for threads in [1, 3] {
                check(&hay, b"x", threads, 1, Scan::Fast, 64);
            }
        }
    }
    // a hit in every byte of a block, and only at a block's last byte
    let mut hay = vec![b'x'; 64 * 5 + 7];
    check(&hay, b"x", 1, 1, Scan::Fast, 64);
    hay.iter_mut().enumerate().for_each(|(i, c)| *c = if i % 64 == 63 { b'x' } else { b'.' });
    check(&hay, b"x", 1, 1, Scan::Fast, 64);
}

#[test]
fn failure_function() {
    assert_eq!(failure(b"a").unwrap(), vec![0]);
    assert_eq!(failure(b"aaaa").unwrap(), vec![0, 1, 2, 3]);
    assert_eq!(failure(b"abaab").unwrap(), vec![0, 0, 1, 1, 2]);
    assert_eq!(failure(b"abcabd").unwrap(), vec![0, 0, 0, 1, 2, 0]);
    assert_eq!(Pattern::new(b"aabaa").unwrap().failure().unwrap(), vec![0, 1, 0, 1, 2]);
}

#[test]
fn overlapping_and_edges() {
    for scan in SCANS {
        let o = opts(1, 1, scan);
        assert_eq!(find_all(b"aaaa", b"aa", &o).unwrap(), vec![0, 1, 2]);
        assert_eq!(count(b"aaaa", b"aa", &o).unwrap(), 3);
        assert_eq!(find_all(b"", b"a", &o).unwrap(), Vec::<u64>::new());
        assert_eq!(find_all(b"ab", b"abc", &o).unwrap(), Vec::<u64>::new());
        assert_eq!(find_all(b"abc", b"abc", &o).unwrap(), vec![0]);
        assert_eq!(find_all(b"xxabababx", b"abab", &o).unwrap(), vec![2, 4]);
        assert_eq!(count(b"\x00\xff\x00\xff\x00", b"\x00", &o).unwrap(), 3);
        assert_eq!(find_all(b"\x00\xff\x00\xff\x00", b"\x00", &o).unwrap(), vec![0, 2, 4]);
    }
}

#[test]
fn rejects_bad_arguments() {
    assert!(matches!(Pattern::new(b""), Err(Error::InvalidArgument(_))));
    let pat = Pattern::new(b"a").unwrap();
    for o in [
        Options::default().threads(0),
        Options::default().threads(MAX_THREADS + 1),
        Options::default().min_chunk(0),
        Options::default().block_size(0),
    ] {
        assert!(matches!(pat.count(b"aaa", &o), Err(Error::InvalidArgument(_))));
        assert!(matches!(pat.count_read_at(&b"aaa"[..], 3, &o), Err(Error::InvalidArgument(_))));
    }
    assert_eq!("fast".parse::<Scan>().unwrap(), Scan::Fast);
    assert_eq!("textbook".parse::<Scan>().unwrap().name(), "textbook");
    assert!("quick".parse::<Scan>().is_err());
}

#[test]
fn chunk_boundaries_with_many_threads_and_min_chunks() {
    let hay: Vec<u8> = b"abaabaababaab".iter().cycle().take(500).copied().collect();
    for needle in [&b"a"[..], b"ab", b"aba", b"abaab", b"baababaabab", b"abaabaababaababaabaababaab"] {
        for threads in 1..=9 {
            for min_chunk in [1, 2, 3, 7, 40, 499, 1000] {
                for scan in SCANS {
                    check(&hay, needle, threads, min_chunk, scan, 7);
                }
            }
        }
    }
}

#[test]
fn needle_longer_than_chunks_and_blocks() {
    let hay = vec![b'a'; 300];
    let needle = vec![b'a'; 50];
    for threads in [1, 2, 5, 9] {
        for block in [1, 3, 49, 50, 51, 1000] {
            for scan in SCANS {
                check(&hay, &needle, threads, 1, scan, block);
            }
        }
    }
}

#[test]
fn adversarial_input_is_linear_enough_for_a_test() {
    // 4 MiB of 'a' and a^999 b: quadratic would be ~4e9 steps, linear is ~8e6
    let hay = vec![b'a'; 4 << 20];
    let mut needle = vec![b'a'; 999];
    needle.push(b'b');
    for scan in SCANS {
        assert_eq!(count(&hay, &needle, &opts(2, 1, scan)).unwrap(), 0);
    }
}

fn temp_file(name: &str, data: &[u8]) -> (std::path::PathBuf, File) {
    static N: AtomicU64 = AtomicU64::new(0);
    let path = std::env::temp_dir().join(format!(
        "kmpsearch-core-{}-{}-{name}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut f = File::create(&path).unwrap();
    f.write_all(data).unwrap();
    drop(f);
    let f = std::fs::OpenOptions::new().read(true).write(true).open(&path).unwrap();
    (path, f)
}

#[test]
fn file_search_across_blocks_and_chunks() {
    let needle = b"<sensitive-word>";
    let mut data = vec![b'x'; 3 * 4096 + 123];
    for off in [0, 4096 - 5, 4096, 2 * 4096 - 1, 6000, data.len() - needle.len()] {
        data[off..off + needle.len()].copy_from_slice(needle);
    }
    let expected = naive(&data, needle);
    let (path, file) = temp_file("blocks", &data);
    let pat = Pattern::new(needle).unwrap();
    for threads in 1..=4 {
        for block in [1, 7, 16, 4096, DEFAULT_BLOCK_SIZE] {
            for scan in SCANS {
                let o = opts(threads, 1000, scan).block_size(block);
                assert_eq!(pat.find_all_file(&file, &o).unwrap(), expected);
                assert_eq!(pat.count_file(&file, &o).unwrap(), expected.len() as u64);
            }
        }
    }
    std::fs::remove_file(path).unwrap();
}

#[test]
fn truncated_file_gives_the_matches_read() {
    let data: Vec<u8> = b"ab".iter().cycle().take(10_000).copied().collect();
    let (path, file) = temp_file("trunc", &data);
    let pat = Pattern::new(b"aba").unwrap();
    // shrink the file after its size was taken: the scan ends where the reads end
    file.set_len(4_001).unwrap();
    for threads in [1, 3] {
        for scan in SCANS {
            let o = opts(threads, 100, scan).block_size(512);
            let found = pat.find_all_read_at(&file, data.len() as u64, &o).unwrap();
            let all = naive(&data[..4_001], b"aba");
            assert_eq!(found, all, "threads {threads} {scan:?}");
            assert_eq!(pat.count_read_at(&file, data.len() as u64, &o).unwrap(), all.len() as u64);
        }
    }
    // truncated to nothing
    file.set_len(0).unwrap();
    assert_eq!(pat.count_read_at(&file, data.len() as u64, &opts(2, 1, Scan::Fast)).unwrap(), 0);
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
    let pat = Pattern::new(b"x").unwrap();
    for threads in [1, 2] {
        match pat.count_read_at(&Broken, 100, &opts(threads, 1, Scan::Fast)) {
            Err(Error::Io(e)) => assert_eq!(e.raw_os_error(), Some(5)),
            other => panic!("expected an io error, got {other:?}"),
        }
    }
    // reading a directory-less, write-only file fails with EBADF
    #[cfg(unix)]
    {
        let (path, _) = temp_file("wronly", b"xxx");
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        match pat.count_file(&f, &Options::default()) {
            Err(Error::Io(e)) => assert_eq!(e.raw_os_error(), Some(9)),
            other => panic!("expected EBADF, got {other:?}"),
        }
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn chunk_0_on_the_caller_the_others_on_the_reused_pool() {
    let caller = std::thread::current().id();
    let seen = std::sync::Mutex::new(Vec::new());
    pool::run_chunks(&plan_chunks(1000, 1, 1, 1).unwrap(), |i, _| {
        seen.lock().unwrap().push((i, std::thread::current().id(), None));
        Ok(())
    })
    .unwrap();
    assert_eq!(seen.lock().unwrap().clone(), vec![(0, caller, None)]);
    for _ in 0..20 {
        seen.lock().unwrap().clear();
        let out = pool::run_chunks(&plan_chunks(1000, 1, 4, 1).unwrap(), |i, r| {
            let t = std::thread::current();
            seen.lock().unwrap().push((i, t.id(), t.name().map(str::to_owned)));
            Ok(r.start)
        })
        .unwrap();
        assert_eq!(out, vec![0, 250, 500, 750]);
        for (i, id, name) in seen.lock().unwrap().iter() {
            assert_eq!(*i == 0, *id == caller);
            if *i > 0 {
                assert!(name.as_deref().is_some_and(|n| n.starts_with("kmpsearch-")), "{name:?}");
            }
        }
    }
    let n = pool_threads();
    assert!((3..=MAX_POOL_THREADS).contains(&n), "{n}");
    // the pool is reused: more searches do not add threads (unless another test grew it)
    let hay = vec![b'a'; 1000];
    let pat = Pattern::new(b"a").unwrap();
    for _ in 0..50 {
        assert_eq!(pat.count(&hay, &opts(4, 1, Scan::Fast)).unwrap(), 1000);
    }
    assert!(pool_threads() >= n);
    // the first error in chunk order wins, after every chunk ran
    let ran = AtomicU64::new(0);
    let err = pool::run_chunks(&plan_chunks(1000, 1, 5, 1).unwrap(), |i, _| {
        ran.fetch_add(1, Ordering::SeqCst);
        if i >= 2 {
            Err(Error::Internal(if i == 2 { "two" } else { "later" }))
        } else {
            Ok(())
        }
    });
    assert!(matches!(err, Err(Error::Internal("two"))));
    assert_eq!(ran.load(Ordering::SeqCst), 5);
}

#[test]
fn no_pool_runs_every_chunk_on_the_caller() {
    pool::tests::NO_POOL.store(true, Ordering::SeqCst);
    let caller = std::thread::current().id();
    let seen = std::sync::Mutex::new(Vec::new());
    let out = pool::run_chunks(&plan_chunks(1000, 1, 8, 1).unwrap(), |i, _| {
        seen.lock().unwrap().push(std::thread::current().id());
        Ok(i)
    });
    pool::tests::NO_POOL.store(false, Ordering::SeqCst);
    assert_eq!(out.unwrap(), (0..8).collect::<Vec<_>>());
    assert!(seen.lock().unwrap().iter().all(|&t| t == caller));
}

#[test]
fn adversarial_single_pattern_fast_scan_is_fast_enough_for_a_test() {
    // the fast scan's hand-over between memmem and the automaton, on inputs where each
    // side alone would be slow: periodic needles in periodic text, long partial matches
    for (hay, needle) in [
        (vec![b'a'; 1 << 20], [vec![b'a'; 500], vec![b'b']].concat()),
        (vec![b'a'; 1 << 20], vec![b'a'; 500]),
        (b"ab".repeat(1 << 19), b"ab".repeat(300)),
        (b"ab".repeat(1 << 19), [b"ab".repeat(300), b"b".to_vec()].concat()),
        ([b"a".repeat(999), b"b".to_vec()].concat().repeat(1000), [b"a".repeat(999), b"ba".to_vec()].concat()),
    ] {
        let expected = naive(&hay, &needle);
        for block in [1000, 1 << 20] {
            check(&hay, &needle, 2, 1000, Scan::Fast, block);
        }
        assert_eq!(count(&hay, &needle, &opts(1, 1, Scan::Fast)).unwrap(), expected.len() as u64);
    }
}

#[test]
fn needle_longer_than_haystack_builds_no_table() {
    let pat = Pattern::new(&vec![b'a'; 1 << 20]).unwrap();
    let before = pat.memory_bytes();
    assert_eq!(pat.count(b"abc", &Options::default()).unwrap(), 0);
    assert_eq!(pat.find_all_read_at(&b"abc"[..], 3, &Options::default()).unwrap(), Vec::<u64>::new());
    assert_eq!(pat.memory_bytes(), before);
    assert_eq!(pat.count(&vec![b'a'; 1 << 20], &Options::default()).unwrap(), 1);
    assert!(pat.memory_bytes() >= before + (4 << 20));
}

fn alphabet() -> impl Strategy<Value = u8> {
    prop::sample::select(vec![b'a', b'b', 0u8, 0xff])
}

fn scan_strategy() -> impl Strategy<Value = Scan> {
    prop::sample::select(SCANS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn matches_naive(
        hay in prop::collection::vec(alphabet(), 0..300),
        needle in prop::collection::vec(alphabet(), 1..9),
        threads in 1usize..10,
        min_chunk in 1u64..41,
        scan in scan_strategy(),
        block in 1usize..40,
    ) {
        check(&hay, &needle, threads, min_chunk, scan, block);
    }

    #[test]
    fn periodic_needles_in_periodic_text(
        unit in prop::sample::select(vec![&b"a"[..], b"ab", b"aab", b"abaab", b"\x00\x00\xff"]),
        reps in 0usize..200,
        needle_len in 1usize..40,
        threads in 1usize..10,
        min_chunk in 1u64..31,
        scan in scan_strategy(),
        block in 1usize..64,
    ) {
        let hay = unit.repeat(reps);
        let needle: Vec<u8> = unit.iter().cycle().take(needle_len).copied().collect();
        check(&hay, &needle, threads, min_chunk, scan, block);
    }

    #[test]
    fn planted_needles_in_random_text(
        hay in prop::collection::vec(prop::sample::select(b"ab3J1 ".to_vec()), 0..2000),
        needle in prop::collection::vec(prop::sample::select(b"ab3J1".to_vec()), 1..24),
        spots in prop::collection::vec(0usize..2000, 0..8),
        threads in 1usize..10,
        min_chunk in 1u64..200,
        scan in scan_strategy(),
        block in 1usize..300,
    ) {
        let mut hay = hay;
        for s in spots {
            if s + needle.len() <= hay.len() {
                hay[s..s + needle.len()].copy_from_slice(&needle);
            }
        }
        check(&hay, &needle, threads, min_chunk, scan, block);
    }

    #[test]
    fn plan_is_a_partition(n in 0u64..5000, m in 1u64..50, threads in 1usize..17, min_chunk in 1u64..300) {
        let chunks = plan_chunks(n, m, threads, min_chunk).unwrap();
        if m > n {
            prop_assert!(chunks.is_empty());
        } else {
            let p = n - m + 1;
            let k = chunks.len() as u64;
            prop_assert_eq!(k, (threads as u64).min(p / min_chunk).max(1));
            prop_assert_eq!(chunks[0].start, 0);
            prop_assert_eq!(chunks.last().unwrap().end, n);
            for (i, c) in chunks.iter().enumerate() {
                prop_assert_eq!(c.start, p * i as u64 / k);
                prop_assert_eq!(c.end, p * (i as u64 + 1) / k + m - 1);
            }
        }
    }

    #[test]
    fn truncated_sources_give_the_matches_in_what_was_read(
        hay in prop::collection::vec(prop::sample::select(b"ab".to_vec()), 0..400),
        needle in prop::collection::vec(prop::sample::select(b"ab".to_vec()), 1..6),
        cut in 0usize..400,
        claimed_extra in 0u64..100,
        threads in 1usize..6,
        min_chunk in 1u64..50,
        scan in scan_strategy(),
        block in 1usize..50,
    ) {
        // the search believes the source has hay.len() + claimed_extra bytes, but only
        // the first `cut` can be read: each chunk keeps the matches within what it read
        let cut = cut.min(hay.len());
        let len = hay.len() as u64 + claimed_extra;
        let pat = Pattern::new(&needle).unwrap();
        let o = opts(threads, min_chunk, scan).block_size(block);
        let found = pat.find_all_read_at(&hay[..cut], len, &o).unwrap();
        prop_assert_eq!(found, naive(&hay[..cut], &needle));
    }
}

#[test]
fn skip_pairs_far_apart_and_unrepresentative_samples() {
    // rare bytes more than 255 apart in the needle; text whose sample (16 spread
    // blocks) does not look like the places where the matches are
    let needle = [b"b".to_vec(), vec![b'a'; 600], b"c".to_vec(), vec![b'a'; 300]].concat();
    let mut hay = vec![b'a'; 200_000];
    for at in [0usize, 1000, 50_000, 123_457, 200_000 - needle.len()] {
        hay[at..at + needle.len()].copy_from_slice(&needle);
    }
    for threads in [1, 2, 3] {
        for block in [100, 4096, 1 << 20] {
            for scan in SCANS {
                check(&hay, &needle, threads, 1000, scan, block);
            }
        }
    }
    // short needles (verified inside the SIMD loop) whose bytes are all common
    let bs = vec![b'b'; 300_000];
    for needle in [&b"bbbbbbba"[..], b"bbbbbbbb", b"bb", b"ab", b"bbbbbbbbbbbbbbbbb"] {
        for threads in [1, 2] {
            check(&bs, needle, threads, 1000, Scan::Fast, 4096);
        }
    }
    let periodic = b"xyz".repeat(70_000);
    for needle in [b"xyzx".to_vec(), b"xyz".repeat(100), [b"xyz".repeat(100), b"q".to_vec()].concat()] {
        check(&periodic, &needle, 2, 1000, Scan::Fast, 5000);
    }
}

/// Every SIMD level (each packed-pair finder, the portable one-byte blocks) gives the
/// naive search's answers; a level the CPU lacks is lowered, never refused.
#[test]
fn every_simd_level_gives_the_same_answers() {
    let levels = [Simd::Auto, Simd::Scalar, Simd::Sse2, Simd::Avx2];
    for level in levels {
        assert_ne!(level.resolve(), Simd::Auto);
        assert_eq!(level.name().parse::<Simd>().unwrap(), level);
    }
    assert!("avx512".parse::<Simd>().is_err());
    #[cfg(target_arch = "x86_64")]
    {
        assert_eq!(Simd::Sse2.resolve(), Simd::Sse2);
        assert_eq!(Simd::Auto.resolve(), Simd::Avx2.resolve());
    }
    let mut seed = 11u64;
    let mut hay: Vec<u8> = (0..20_000)
        .map(|_| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            b"ab3J1\x00\xff"[((seed >> 33) % 7) as usize]
        })
        .collect();
    hay.extend(b"3J1".repeat(40));
    let long = [b"b".to_vec(), vec![b'a'; 300], b"c".to_vec()].concat();
    hay.extend(&long);
    let needles: [&[u8]; 8] = [b"3", b"3J", b"3J1", b"ab", b"\x00\xff", b"aba", b"3J13J13J1", &long];
    for level in levels {
        for needle in needles {
            let expected = naive(&hay, needle);
            let pat = Pattern::new(needle).unwrap();
            for scan in SCANS {
                for (threads, block) in [(1, 1 << 20), (3, 777)] {
                    let o = opts(threads, 97, scan).block_size(block).simd(level);
                    assert_eq!(pat.find_all(&hay, &o).unwrap(), expected, "{level:?} {needle:?} {o:?}");
                    assert_eq!(pat.count(&hay, &o).unwrap(), expected.len() as u64);
                    assert_eq!(pat.find_all_read_at(&hay[..], hay.len() as u64, &o).unwrap(), expected);
                }
            }
        }
    }
}
