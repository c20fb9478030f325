//! Batch searches of files ([`Pattern::search_files`], [`WordSet::search_files`]) against
//! the search of each file on its own.

use super::batch::{BIG, STREAM};
use super::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh directory under the system's temporary one, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!(
            "kmpsearch-core-batch-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn lcg(seed: &mut u64) -> u64 {
    *seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *seed >> 33
}

const MAX_SIZE: u64 = 20_000;

/// A batch of generated files: regular ones of random text over `alphabet` (some with
/// `plant` written in), empty, missing, a directory, a FIFO, one of `MAX_SIZE - 1` bytes
/// and ones of `MAX_SIZE` bytes and more; each with the status a batch gives it.
fn files(dir: &std::path::Path, seed: u64, alphabet: &[u8], plant: &[u8]) -> Vec<(PathBuf, i64)> {
    let mut seed = seed;
    let mut out = Vec::new();
    let regular = |name: &str, len: usize, seed: &mut u64| {
        let mut data: Vec<u8> = (0..len).map(|_| alphabet[lcg(seed) as usize % alphabet.len()]).collect();
        if len >= plant.len() && lcg(seed) % 2 == 0 {
            for _ in 0..1 + lcg(seed) % 5 {
                let at = lcg(seed) as usize % (len - plant.len() + 1);
                data[at..at + plant.len()].copy_from_slice(plant);
            }
        }
        let path = dir.join(name);
        std::fs::write(&path, &data).unwrap();
        let status = if len == 0 {
            STREAM
        } else if len as u64 >= MAX_SIZE {
            BIG
        } else {
            0
        };
        (path, status)
    };
    for k in 0..24 {
        let len = match k % 6 {
            0 => lcg(&mut seed) as usize % 8,
            1 | 2 => lcg(&mut seed) as usize % 300,
            3 => lcg(&mut seed) as usize % 3000,
            4 => 16_000 + lcg(&mut seed) as usize % 3000, // a skip's whole sample
            _ => lcg(&mut seed) as usize % 1000,
        };
        out.push(regular(&format!("f{k}"), len, &mut seed));
    }
    out.push(regular("empty", 0, &mut seed));
    out.push(regular("just-below", MAX_SIZE as usize - 1, &mut seed));
    out.push(regular("max", MAX_SIZE as usize, &mut seed));
    out.push(regular("above", MAX_SIZE as usize + 5000, &mut seed));
    out.push((dir.join("missing"), 2)); // ENOENT
    out.push((dir.join("f1").join("below-a-file"), 20)); // ENOTDIR
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    out.push((sub, 21)); // EISDIR
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        out.push((fifo, STREAM)); // opened without waiting for a writer
        out.push((PathBuf::from(std::ffi::OsStr::from_bytes(b"nul\0inside")), 22)); // EINVAL
        out.push((PathBuf::from("/dev/null"), STREAM)); // a device
    }
    // shuffled, and a file twice
    for i in (1..out.len()).rev() {
        out.swap(i, lcg(&mut seed) as usize % (i + 1));
    }
    let again = out[3].clone();
    out.insert(7, again);
    out
}

/// A batch result checked against the search of each file on its own: its statuses are
/// `want`'s, and file by file, its matches (or counts) are those of `one(path)`.
fn check<M: Copy + PartialEq + std::fmt::Debug>(
    got: Batch<M>,
    files: &[(PathBuf, i64)],
    want: BatchWant,
    words: usize,
    one: impl Fn(&PathBuf) -> Vec<M>,
    index: impl Fn(M) -> usize,
    what: &str,
) {
    let expected_status: Vec<i64> = files.iter().map(|f| f.1).collect();
    assert_eq!(got.status, expected_status, "{what}");
    let per_file: Vec<Vec<M>> = files.iter().map(|(p, st)| if *st == 0 { one(p) } else { Vec::new() }).collect();
    match (want, got.found) {
        (BatchWant::Count, BatchFound::Counts(counts)) => {
            assert_eq!(counts, per_file.iter().map(|m| m.len() as u64).collect::<Vec<_>>(), "{what}");
        }
        (BatchWant::Each, BatchFound::Counts(counts)) => {
            let mut expected = vec![0u64; files.len() * words];
            for (i, ms) in per_file.iter().enumerate() {
                for &m in ms {
                    expected[i * words + index(m)] += 1;
                }
            }
            assert_eq!(counts, expected, "{what}");
        }
        (BatchWant::Matches, BatchFound::Matches { bounds, matches }) => {
            assert_eq!(bounds.len(), files.len() + 1, "{what}");
            assert_eq!(bounds[0], 0);
            for (i, ms) in per_file.iter().enumerate() {
                assert_eq!(&matches[bounds[i] as usize..bounds[i + 1] as usize], &ms[..], "{what} file {i}");
            }
            assert_eq!(*bounds.last().unwrap() as usize, matches.len(), "{what}");
        }
        (want, found) => panic!("{what}: {want:?} gave {found:?}"),
    }
}

const WANTS: [BatchWant; 3] = [BatchWant::Count, BatchWant::Each, BatchWant::Matches];
const SCANS: [Scan; 2] = [Scan::Fast, Scan::Textbook];

fn batch_opts(threads: usize, scan: Scan, block: usize) -> Options<'static> {
    Options::default().threads(threads).scan(scan).block_size(block)
}

#[test]
fn pattern_batches_give_each_files_own_search() {
    let dir = TempDir::new("pattern");
    for (seed, needle, alphabet) in [
        (1u64, &b"ab"[..], &b"abc"[..]),
        (2, b"a", b"ab"),
        (3, b"abcab", b"abc"),
        (4, b"aaaaaaaaab", b"a"),
        (5, &[b'x'; 40][..], b"xy"),
    ] {
        let sub = dir.0.join(format!("s{seed}"));
        std::fs::create_dir(&sub).unwrap();
        let files = files(&sub, seed, alphabet, needle);
        let paths: Vec<&PathBuf> = files.iter().map(|f| &f.0).collect();
        let pat = Pattern::new(needle).unwrap();
        let one = |p: &PathBuf| pat.find_all_file(&File::open(p).unwrap(), &Options::default()).unwrap();
        for threads in 1..=4 {
            for block in [1, 7, 4096, DEFAULT_BLOCK_SIZE] {
                for scan in SCANS {
                    for want in WANTS {
                        let o = batch_opts(threads, scan, block);
                        let what = format!("{needle:?} {o:?} {want:?}");
                        let got = pat.search_files(&paths, MAX_SIZE, want, &o).unwrap();
                        check(got, &files, want, 1, one, |_| 0, &what);
                    }
                }
            }
        }
    }
}

#[test]
fn word_set_batches_give_each_files_own_search() {
    let dir = TempDir::new("words");
    type Set<'a> = (&'a [&'a [u8]], bool, &'a [u8]); // words, ignore_case, the files' alphabet
    let sets: [Set; 4] = [
        (&[b"ab", b"b", b"abc"], false, b"abc"),
        (&[b"aB", b"bA", b"c"], true, b"abAB"),
        (&[b"xyzzy", b"zzy", b"yzz", b"xyzzyxyzzy"], false, b"xyz"),
        (&[b"a", b"aa", b"aaa", b"aaaa"], false, b"ab"),
    ];
    for (seed, (words, ignore_case, alphabet)) in sets.into_iter().enumerate() {
        let sub = dir.0.join(format!("s{seed}"));
        std::fs::create_dir(&sub).unwrap();
        let files = files(&sub, 10 + seed as u64, alphabet, words[0]);
        let paths: Vec<&PathBuf> = files.iter().map(|f| &f.0).collect();
        let set = WordSet::new(words, ignore_case).unwrap();
        let one = |p: &PathBuf| set.find_all_file(&File::open(p).unwrap(), &Options::default()).unwrap();
        for threads in 1..=4 {
            for block in [1, 7, 4096, DEFAULT_BLOCK_SIZE] {
                for scan in SCANS {
                    for want in WANTS {
                        let o = batch_opts(threads, scan, block);
                        let what = format!("{words:?} {o:?} {want:?}");
                        let got = set.search_files(&paths, MAX_SIZE, want, &o).unwrap();
                        check(got, &files, want, words.len(), one, |m| m.1 as usize, &what);
                    }
                }
            }
        }
    }
}

#[test]
fn every_simd_level_and_no_pool_give_the_same_batch() {
    let dir = TempDir::new("simd");
    let files = files(&dir.0, 99, b"abc", b"abcab");
    let paths: Vec<&PathBuf> = files.iter().map(|f| &f.0).collect();
    let pat = Pattern::new(b"abcab").unwrap();
    let set = WordSet::new(&[&b"abc"[..], b"ca", b"bcab"], false).unwrap();
    let base = pat.search_files(&paths, MAX_SIZE, BatchWant::Matches, &Options::default()).unwrap();
    let base_set = set.search_files(&paths, MAX_SIZE, BatchWant::Matches, &Options::default()).unwrap();
    for simd in [Simd::Auto, Simd::Scalar, Simd::Sse2, Simd::Avx2] {
        let o = batch_opts(3, Scan::Fast, 5).simd(simd);
        assert_eq!(pat.search_files(&paths, MAX_SIZE, BatchWant::Matches, &o).unwrap(), base, "{simd:?}");
        assert_eq!(set.search_files(&paths, MAX_SIZE, BatchWant::Matches, &o).unwrap(), base_set, "{simd:?}");
    }
    // no thread can be started: every file on the caller
    pool::tests::NO_POOL.store(true, Ordering::SeqCst);
    let alone = pat.search_files(&paths, MAX_SIZE, BatchWant::Matches, &batch_opts(4, Scan::Fast, 64));
    let alone_set = set.search_files(&paths, MAX_SIZE, BatchWant::Matches, &batch_opts(4, Scan::Fast, 64));
    pool::tests::NO_POOL.store(false, Ordering::SeqCst);
    assert_eq!(alone.unwrap(), base);
    assert_eq!(alone_set.unwrap(), base_set);
    // max_size 0 and 1: every non-empty regular file is big
    for max_size in [0, 1] {
        let got = pat.search_files(&paths, max_size, BatchWant::Count, &Options::default()).unwrap();
        for (st, (_, want)) in got.status.iter().zip(&files) {
            assert_eq!(*st, if *want == 0 { BIG } else { *want });
        }
    }
}

#[test]
fn empty_and_cancelled_batches() {
    let pat = Pattern::new(b"ab").unwrap();
    let set = WordSet::new(&[&b"ab"[..], b"b"], false).unwrap();
    let none: [&str; 0] = [];
    for want in WANTS {
        let got = pat.search_files(&none, 100, want, &batch_opts(3, Scan::Fast, 10)).unwrap();
        assert!(got.status.is_empty());
        let found = set.search_files(&none, 100, want, &Options::default()).unwrap().found;
        match found {
            BatchFound::Counts(c) => assert!(c.is_empty()),
            BatchFound::Matches { bounds, matches } => assert!(bounds == [0] && matches.is_empty()),
        }
    }
    let dir = TempDir::new("cancel");
    let path = dir.0.join("f");
    std::fs::write(&path, b"ab".repeat(1000)).unwrap();
    let paths = vec![&path; 50];
    let set_flag = std::sync::atomic::AtomicU8::new(1);
    for threads in [1, 2] {
        for want in WANTS {
            let o = batch_opts(threads, Scan::Fast, 16).cancel(&set_flag);
            assert!(matches!(pat.search_files(&paths, 1 << 20, want, &o), Err(Error::Cancelled)));
            assert!(matches!(set.search_files(&paths, 1 << 20, want, &o), Err(Error::Cancelled)));
        }
    }
    // a flag that is never set changes nothing
    let never = std::sync::atomic::AtomicU8::new(0);
    let got = set.search_files(&paths, 1 << 20, BatchWant::Count, &batch_opts(2, Scan::Fast, 16).cancel(&never));
    assert_eq!(got.unwrap().found, BatchFound::Counts(vec![2000; 50]));
    assert!(matches!(
        pat.search_files(&paths, 1 << 20, BatchWant::Count, &batch_opts(0, Scan::Fast, 16)),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_failed_read_is_the_files_status_and_its_results_are_dropped() {
    /// Finds a match at every offset below the file's size, and fails (EIO) on files of
    /// 3 bytes once it has found them.
    struct Failing;
    impl batch::FileScan for Failing {
        type Match = u64;
        fn words(&self) -> usize {
            1
        }
        fn prepare(&self, _opts: &Options) -> Result<(), Error> {
            Ok(())
        }
        fn count_file(&self, f: &File, len: u64, o: &Options, _: &mut batch::Scratch) -> Result<u64, Error> {
            let mut each = vec![0];
            self.each_file(f, len, o, &mut batch::Scratch { buf: Vec::new(), tuning: skip::Tuning::new() }, &mut each)?;
            Ok(each[0])
        }
        fn each_file(
            &self,
            _: &File,
            len: u64,
            _: &Options,
            _: &mut batch::Scratch,
            each: &mut Vec<u64>,
        ) -> Result<(), Error> {
            each[0] += len;
            if len == 3 {
                return Err(Error::Io(io::Error::from_raw_os_error(5)));
            }
            Ok(())
        }
        fn matches_file(
            &self,
            _: &File,
            len: u64,
            _: &Options,
            _: &mut batch::Scratch,
            out: &mut Vec<u64>,
        ) -> Result<(), Error> {
            out.extend(0..len);
            if len == 3 {
                return Err(Error::Io(io::Error::from_raw_os_error(5)));
            }
            Ok(())
        }
    }
    let dir = TempDir::new("failing");
    let sizes = [2usize, 3, 4, 3, 1, 3];
    let paths: Vec<PathBuf> = sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| {
            let path = dir.0.join(format!("f{i}"));
            std::fs::write(&path, vec![b'x'; len]).unwrap();
            path
        })
        .collect();
    let status: Vec<i64> = sizes.iter().map(|&len| if len == 3 { 5 } else { 0 }).collect();
    for threads in 1..=3 {
        let o = Options::default().threads(threads);
        let got = batch::search_files(&Failing, &paths, 100, BatchWant::Count, &o).unwrap();
        assert_eq!(got, Batch { status: status.clone(), found: BatchFound::Counts(vec![2, 0, 4, 0, 1, 0]) });
        let got = batch::search_files(&Failing, &paths, 100, BatchWant::Each, &o).unwrap();
        assert_eq!(got.found, BatchFound::Counts(vec![2, 0, 4, 0, 1, 0]));
        let got = batch::search_files(&Failing, &paths, 100, BatchWant::Matches, &o).unwrap();
        let expected = BatchFound::Matches { bounds: vec![0, 2, 2, 6, 6, 7, 7], matches: vec![0, 1, 0, 1, 2, 3, 0] };
        assert_eq!(got, Batch { status: status.clone(), found: expected }, "threads {threads}");
    }
}
