//! Time the compilation of N random words: `cargo run --release --example compile_words -- 100000`
use std::time::Instant;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n";
    let mut seed = 7u64;
    let mut next = || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let words: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let l = 4 + next() % 9;
            (0..l).map(|_| alphabet[next() % alphabet.len()]).collect()
        })
        .collect();
    for dd in [0usize, 1, 2, 3, 4] {
        let t = Instant::now();
        let ac = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::Standard)
            .prefilter(false)
            .dense_depth(dd)
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .build(&words)
            .unwrap();
        println!("dense_depth {dd}: {:?} {} bytes", t.elapsed(), ac.memory_usage());
    }
    for ic in [false, true] {
        for kind in [
            None,
            Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA),
            Some(aho_corasick::AhoCorasickKind::ContiguousNFA),
        ] {
            let t = Instant::now();
            let ac = aho_corasick::AhoCorasick::builder()
                .match_kind(aho_corasick::MatchKind::Standard)
                .ascii_case_insensitive(ic)
                .prefilter(false)
                .kind(kind)
                .build(&words)
                .unwrap();
            println!("ic={ic} ac {kind:?}: {:?} {} bytes {:?}", t.elapsed(), ac.memory_usage(), ac.kind());
        }
        let t = Instant::now();
        let set = kmpsearch_core::WordSet::new(&words, ic).unwrap();
        println!("ic={ic} WordSet: {:?} {} bytes {:?}", t.elapsed(), set.memory_bytes(), set.stats());
        let t = Instant::now();
        set.automaton().unwrap();
        println!("ic={ic} + automaton: {:?} {} bytes", t.elapsed(), set.memory_bytes());
    }
}
