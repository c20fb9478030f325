//! Pattern::count on the first SIZE MiB of FILE with 1 and 2 threads, against the memory
//! floor (memchr of an absent byte on 1 and 2 plain threads): `single_scan FILE MIB NEEDLE [reps]`
use std::time::Instant;

fn best(reps: usize, mut f: impl FnMut() -> u64) -> (f64, u64) {
    let mut b = f64::MAX;
    let mut r = 0;
    for _ in 0..reps {
        let t = Instant::now();
        r = f();
        b = b.min(t.elapsed().as_secs_f64());
    }
    (b, r)
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let mut data = std::fs::read(&a[1]).unwrap();
    data.truncate(a[2].parse::<usize>().unwrap() << 20);
    let needle = a[3].as_bytes();
    let reps = a.get(4).map_or(30, |r| r.parse().unwrap());
    let pat = kmpsearch_core::Pattern::new(needle).unwrap();
    for threads in [1, 2] {
        let o = kmpsearch_core::Options::default().threads(threads);
        let (t, c) = best(reps, || pat.count(&data, &o).unwrap());
        println!("count {:?} threads={threads}: best {:.2} ms ({c})", a[3], t * 1e3);
    }
    let (t, _) = best(reps, || memchr::memchr_iter(0xff, &data).count() as u64);
    println!("floor memchr 1 thread: {:.2} ms", t * 1e3);
    let (t, _) = best(reps, || {
        let (x, y) = data.split_at(data.len() / 2);
        std::thread::scope(|s| {
            let h = s.spawn(|| memchr::memchr_iter(0xff, y).count());
            (memchr::memchr_iter(0xff, x).count() + h.join().unwrap()) as u64
        })
    });
    println!("floor memchr 2 threads (spawned per call): {:.2} ms", t * 1e3);
    rayon_floor(&data, reps);
}

#[allow(dead_code)]
fn rayon_floor(data: &[u8], reps: usize) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let (t, _) = best(reps, || {
        let (x, y) = data.split_at(data.len() / 2);
        let mut b = 0;
        let a = pool.in_place_scope(|s| {
            s.spawn(|_| b = memchr::memchr_iter(0xff, y).count());
            memchr::memchr_iter(0xff, x).count()
        });
        (a + b) as u64
    });
    println!("floor memchr 2 threads (rayon in_place_scope, reused pool): {:.2} ms", t * 1e3);
}
