//! Time WordSet::count on a corpus file: `words_scan FILE N [threads] [scan] [reps]`.
//! The words: N drawn here (4-12 bytes, half cut from FILE), or with `WORDS_FILE=path`
//! the first N lines of that file (one word a line, as bench/wordgen.py writes them);
//! `IGNORE_CASE=1` compiles them with ignore_case; `NO_TEDDY=1`: the bitmap filter. Prints the
//! filter the set uses and its Teddy pass estimate (`filter_rule`).
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).unwrap();
    let n: usize = args[2].parse().unwrap();
    let threads: usize = args.get(3).map_or(1, |a| a.parse().unwrap());
    let scan: kmpsearch_core::Scan = args.get(4).map_or("fast", |s| s.as_str()).parse().unwrap();
    let reps: usize = args.get(5).map_or(3, |a| a.parse().unwrap());
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n\r\x0b\x0c";
    let mut seed = 13u64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    if let Some(path) = std::env::var_os("WORDS_FILE") {
        let text = std::fs::read(path).unwrap();
        words.extend(text.split(|&b| b == b'\n').filter(|w| !w.is_empty()).take(n).map(|w| w.to_vec()));
    }
    while words.len() < n {
        let l = 4 + next() % 9;
        let w: Vec<u8> = if words.len() % 2 == 0 {
            let at = next() % (data.len() - l);
            data[at..at + l].to_vec()
        } else {
            (0..l).map(|_| alphabet[next() % alphabet.len()]).collect()
        };
        if seen.insert(w.clone()) {
            words.push(w);
        }
    }
    let set = kmpsearch_core::WordSet::new(&words, std::env::var_os("IGNORE_CASE").is_some()).unwrap();
    let set = if std::env::var("NO_TEDDY").is_ok() { set.without_teddy() } else { set };
    let folded: Vec<Vec<u8>> = if std::env::var_os("IGNORE_CASE").is_some() {
        words.iter().map(|w| w.to_ascii_lowercase()).collect()
    } else {
        words.clone()
    };
    let folded: Vec<&[u8]> = folded.iter().map(|w| &w[..]).collect();
    let pass = kmpsearch_core::filter_rule::teddy_pass(&folded, std::env::var_os("IGNORE_CASE").is_some());
    println!("filter: {} (Teddy pass estimate {pass:.5})", if set.stats().teddy { "teddy" } else { "bitmap" });
    let o = kmpsearch_core::Options::default().threads(threads).scan(scan);
    let cpu = || {
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    };
    let mut best = f64::MAX;
    for _ in 0..reps {
        let (t, c0) = (Instant::now(), cpu());
        let c = set.count(&data, &o).unwrap();
        let (e, ce) = (t.elapsed().as_secs_f64(), cpu() - c0);
        best = best.min(ce);
        println!(
            "N={n} threads={threads} {scan:?}: wall {e:.4} s, cpu {ce:.4} s ({:.2} GB/s per cpu-s), {c} matches",
            data.len() as f64 / ce / 1e9
        );
    }
    println!("best cpu N={n} {best:.4}");
}
