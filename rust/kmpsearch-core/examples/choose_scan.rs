//! Time the match semantics of a word set against its plain count, process CPU seconds:
//! `choose_scan FILE WORDS_FILE [threads] [reps]` (WORDS_FILE: one word a line). Prints, per
//! round, `count`, `find_all_parts` (the candidates) and the `choose` pass alone for whole
//! words and for leftmost-longest (the table of word characters here: `char::is_alphanumeric`
//! and `_`, close to Python's).
use kmpsearch_core::{choose, Choice, Kind, Options, WordSet};

fn cpu() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let data = std::fs::read(&args[1]).unwrap();
    let text = std::fs::read(&args[2]).unwrap();
    let threads: usize = args.get(3).map_or(1, |a| a.parse().unwrap());
    let reps: usize = args.get(4).map_or(3, |a| a.parse().unwrap());
    let words: Vec<&[u8]> = text.split(|&b| b == b'\n').filter(|w| !w.is_empty()).collect();
    let set = WordSet::new(&words, false).unwrap();
    let o = Options::default().threads(threads);
    let table: Vec<u8> =
        (0..0x11_0000u32).map(|c| char::from_u32(c).is_some_and(|c| c.is_alphanumeric() || c == '_') as u8).collect();
    let lengths = set.lengths().unwrap();
    for _ in 0..reps {
        let t = cpu();
        let n = set.count(&data, &o).unwrap();
        let count = cpu() - t;
        let mut line = format!("count {count:.3} s ({n})");
        for (name, choice) in [
            ("whole", Choice { whole: Some(&table), kind: Kind::Overlapping }),
            ("leftmost-longest", Choice { whole: None, kind: Kind::LeftmostLongest }),
        ] {
            let t = cpu();
            let mut parts = set.find_all_parts(&data, &o).unwrap();
            let found = cpu() - t;
            let t = cpu();
            let kept = choose(&data, &lengths, choice, &mut parts, None).unwrap();
            line += &format!("  | candidates {found:.3} s, choose {name} {:.3} s ({kept})", cpu() - t);
        }
        println!("{line}");
    }
}
