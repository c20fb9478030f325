//! Time a word set with one very long word: `long_word WHAT MiB...`, the words `x`^L and
//! `a`, the text `a` + `x`^L (both words occur once). WHAT:
//! * `build`: `WordSet::new`, then `automaton()` (the lazy build of the first search);
//! * `textbook` / `fast`: the first count of a fresh set (with a cancel flag, never set,
//!   as the Python binding passes one: memory in blocks of 1 MiB);
//! * `dfa` / `contiguous` / `noncontiguous` / `auto`: the `aho_corasick` crate's build of
//!   that kind alone (as `WordSet::automaton` configures it).
//!
//! `cargo run --release -p kmpsearch-core --example long_word -- build 1 2 4 5 8 10 20`
use std::sync::atomic::AtomicU8;
use std::time::Instant;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use kmpsearch_core::{Options, Scan, WordSet};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let what = args.get(1).map_or("build", |s| s.as_str());
    for mib in &args[2..] {
        let len = (mib.parse::<f64>().unwrap() * (1 << 20) as f64) as usize;
        let words = [vec![b'x'; len], b"a".to_vec()];
        let t = Instant::now();
        let detail = match what {
            "build" => {
                let set = WordSet::new(&words, false).unwrap();
                let new = t.elapsed().as_secs_f64();
                set.automaton().unwrap();
                format!("new {new:.3} s, {} bytes", set.memory_bytes())
            }
            "textbook" | "fast" => {
                let set = WordSet::new(&words, false).unwrap();
                let mut hay = b"a".to_vec();
                hay.extend(std::iter::repeat_n(b'x', len));
                let never = AtomicU8::new(0);
                let o = Options::default().scan(what.parse::<Scan>().unwrap()).cancel(&never);
                let c = set.count(&hay, &o).unwrap();
                assert_eq!(c, 2);
                format!("count {c}, automaton built: {}", set.automaton_built())
            }
            kind => {
                let kind = match kind {
                    "dfa" => Some(AhoCorasickKind::DFA),
                    "contiguous" => Some(AhoCorasickKind::ContiguousNFA),
                    "noncontiguous" => Some(AhoCorasickKind::NoncontiguousNFA),
                    _ => None,
                };
                let ac = AhoCorasick::builder()
                    .match_kind(MatchKind::Standard)
                    .prefilter(false)
                    .kind(kind)
                    .build(&words)
                    .unwrap();
                format!("{:?}, {} bytes", ac.kind(), ac.memory_usage())
            }
        };
        println!("{what} {mib} MiB: {:.3} s ({detail})", t.elapsed().as_secs_f64());
    }
}
