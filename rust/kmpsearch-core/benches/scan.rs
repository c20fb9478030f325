//! Scan speed on a corpus file, against one memchr pass over the same bytes:
//! `KMPSEARCH_CORPUS=/path cargo bench -p kmpsearch-core --bench scan` (skipped without it).
use std::time::{Duration, Instant};

use kmpsearch_core::{Options, Pattern, Scan};

fn median(runs: usize, mut f: impl FnMut() -> u64) -> (Duration, u64) {
    let r = f();
    let mut ts: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    ts.sort();
    (ts[runs / 2], r)
}

fn main() {
    let Ok(path) = std::env::var("KMPSEARCH_CORPUS") else {
        eprintln!("set KMPSEARCH_CORPUS to a corpus file to run this benchmark");
        return;
    };
    let needle = std::env::var("KMPSEARCH_NEEDLE").unwrap_or_else(|_| "3J1".into());
    let hay = std::fs::read(&path).unwrap();
    let (base, _) = median(7, || memchr::memchr(0xff, &hay).map_or(0, |p| p as u64));
    println!("memchr(0xff) over {} MiB: {base:?}", hay.len() >> 20);
    let pat = Pattern::new(needle.as_bytes()).unwrap();
    for threads in [1, 2] {
        let o = Options::default().threads(threads).scan(Scan::Fast);
        let (t, r) = median(7, || pat.count(&hay, &o).unwrap());
        println!("fast threads={threads}: {t:?} ({:.2}x memchr, {r} matches)", t.as_secs_f64() / base.as_secs_f64());
    }
    let file = std::fs::File::open(&path).unwrap();
    for block in [64 << 10, 256 << 10, 1 << 20, 4 << 20] {
        for threads in [1, 2] {
            let o = Options::default().threads(threads).block_size(block);
            let (t, r) = median(5, || pat.count_file(&file, &o).unwrap());
            println!("file fast block={:4} KiB threads={threads}: {t:?} ({r} matches)", block >> 10);
        }
    }
    let (t, r) = median(3, || pat.count(&hay, &Options::default().scan(Scan::Textbook)).unwrap());
    println!("textbook threads=1: {t:?} ({r} matches)");
}
