//! The tuning constants shared by kmpsearch's three cores, one `pub const` a line: the same
//! names and values as `c/src/tuning.h` and `cython/_tuning.pxi` (a test reads the three
//! files and compares them). Measurements behind them: rust/README.md.

/// Most threads a search takes (the Python frontend caps `threads` there too).
pub const MAX_THREADS: usize = 256;
/// Owned start positions per segment of the fast word scan (the unit of its budget and of
/// its fallback to the automaton); at least the longest word.
pub const SEGMENT: usize = 64 << 10;
/// Most words the Teddy start filter takes (8 buckets); beyond, the bitmap filter.
pub const TEDDY_MAX_WORDS: usize = 64;
/// Teddy is chosen only while its estimated pass rate is at most this (see `filter_rule`).
pub const TEDDY_MAX_PASS: f64 = 0.003;
/// Most patterns aho-corasick's Teddy puts in 8 buckets (above: 16 buckets, slower than the
/// bitmap filter); this core's Teddy takes at most this many words or case variants.
pub const TEDDY_CRATE_MAX_PATTERNS: usize = 32;
/// Most prefix groups of 4-byte words for which the bitmap filter uses 3-byte windows with
/// stride 2 (case-sensitive sets only); beyond, stride 1.
pub const STRIDE3_MAX_GROUPS: usize = 1024;
/// From this many bytes up, a result buffer is advised huge pages before it is written.
pub const HUGE_FROM: usize = 16 << 20;
