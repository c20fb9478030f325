//! What a rayon pool built per call would cost (the reason the core keeps one pool and
//! reuses it), against a search of the smallest input that the default chunk plan splits
//! (2 MiB, 2 chunks): `cargo bench -p kmpsearch-core --bench pool`.
use std::time::{Duration, Instant};

use kmpsearch_core::{Options, Pattern, Scan};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    for k in [2usize, 4, 8] {
        let build = time(200, || {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
            pool.install(|| rayon::join(|| (), || ()));
        });
        let scoped = time(200, || {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build_scoped(|t| t.run(), |pool| pool.install(|| rayon::join(|| (), || ())))
                .unwrap();
        });
        let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
        let reuse = time(200, || {
            pool.install(|| rayon::join(|| (), || ()));
        });
        println!("pool of {k}: build+use+drop {build:?}, build_scoped (threads joined) {scoped:?}, reuse {reuse:?}");
    }
    let hay: Vec<u8> = (0..2u64 << 20).map(|i| b"abcdefghij3J"[(i * 2654435761 % 12) as usize]).collect();
    let pat = Pattern::new(b"3J1").unwrap();
    for scan in [Scan::Fast, Scan::Textbook] {
        for threads in [1, 2] {
            let o = Options::default().threads(threads).scan(scan).min_chunk(1 << 19);
            let t = time(100, || {
                std::hint::black_box(pat.count(&hay, &o).unwrap());
            });
            println!("count 2 MiB {scan:?} threads={threads}: {t:?}");
        }
    }
}
