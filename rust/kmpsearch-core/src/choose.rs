//! The matches a search keeps of its candidates (every occurrence, sorted by offset then
//! word index): whole words first, then the match kind's choice -- the core contract's
//! `Options.whole` / `.kind` / `.word_chars` (`python/kmpsearch/_contract.py`), exactly as
//! `kmpsearch._semantics.Chooser` chooses.
//!
//! [`choose`] is one sequential pass over the chunks' candidate lists, compacting each in
//! place: it allocates nothing. A candidate `[s, e)` is a whole word when neither the
//! character that ends at `s` nor the one that starts at `e` is a word character
//! (`word_chars[cp] == 1`), each read as strict UTF-8 (RFC 3629); bytes that are not one
//! valid character are not a word character.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::Error;

/// Which of the (whole-word) candidates are matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Every candidate.
    #[default]
    Overlapping,
    /// Non-overlapping, leftmost; of those at one offset the longest word (the lowest index
    /// among equal lengths).
    LeftmostLongest,
    /// Non-overlapping, leftmost; of those at one offset the lowest word index.
    LeftmostFirst,
}

impl std::str::FromStr for Kind {
    type Err = Error;

    /// Parse `"overlapping"`, `"leftmost-longest"` or `"leftmost-first"`.
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "overlapping" => Ok(Kind::Overlapping),
            "leftmost-longest" => Ok(Kind::LeftmostLongest),
            "leftmost-first" => Ok(Kind::LeftmostFirst),
            _ => {
                Err(Error::InvalidArgument("kind must be \"overlapping\", \"leftmost-longest\" or \"leftmost-first\""))
            }
        }
    }
}

/// What [`choose`] keeps: whole words only (given the table of word characters, one byte
/// per code point, 1 = word character), and the kind.
#[derive(Clone, Copy, Debug, Default)]
pub struct Choice<'a> {
    /// `Some(word_chars)`: keep whole words only.
    pub whole: Option<&'a [u8]>,
    /// The kind's choice among the whole-word candidates.
    pub kind: Kind,
}

impl Choice<'_> {
    /// Whether every candidate is kept (nothing to choose).
    pub fn keeps_all(&self) -> bool {
        self.whole.is_none() && self.kind == Kind::Overlapping
    }
}

/// A candidate match: its start offset and word index.
pub trait Candidate: Copy {
    /// The start offset.
    fn offset(self) -> u64;
    /// The word index (a pattern's: 0).
    fn index(self) -> u32;
}

/// A pattern's match: its offset (word index 0).
impl Candidate for u64 {
    #[inline(always)]
    fn offset(self) -> u64 {
        self
    }
    #[inline(always)]
    fn index(self) -> u32 {
        0
    }
}

/// A word set's match: (offset, word index).
impl Candidate for (u64, u32) {
    #[inline(always)]
    fn offset(self) -> u64 {
        self.0
    }
    #[inline(always)]
    fn index(self) -> u32 {
        self.1
    }
}

/// Candidates between two loads of the cancel flag.
const CANCEL_EVERY: usize = 1 << 22;

/// Keep the chosen matches of the candidates `parts` (the chunks' lists, in order: their
/// concatenation sorted by offset then word index, the candidates of one offset in one
/// list) of `data` (offsets from its start), compacting each list in place; `lengths[i]`
/// is word `i`'s length. `cancel` is looked at every few million candidates
/// ([`Error::Cancelled`]). A candidate out of order, past the data's end or of an unknown
/// word is [`Error::Internal`]. Returns the number kept.
pub fn choose<M: Candidate>(
    data: &[u8],
    lengths: &[usize],
    choice: Choice<'_>,
    parts: &mut [Vec<M>],
    cancel: Option<&AtomicU8>,
) -> Result<u64, Error> {
    let mut end = 0u64; // where the last match kept ends (0: none yet, all offsets >= 0)
    let mut last: Option<u64> = None; // the last offset of the lists before
    let mut kept = 0u64;
    for part in parts.iter_mut() {
        if let (Some(prev), Some(first)) = (last, part.first()) {
            if first.offset() <= prev {
                return Err(Error::Internal("candidates out of order"));
            }
        }
        last = part.last().map(|m| m.offset()).or(last);
        let n = match choice.kind {
            Kind::Overlapping => keep_whole(data, lengths, choice.whole, part, cancel)?,
            _ => keep_leftmost(data, lengths, choice, part, &mut end, cancel)?,
        };
        part.truncate(n);
        kept += n as u64;
    }
    Ok(kept)
}

/// `Err(Cancelled)` once the flag is set.
fn look(cancel: Option<&AtomicU8>) -> Result<(), Error> {
    match cancel {
        Some(flag) if flag.load(Ordering::Relaxed) != 0 => Err(Error::Cancelled),
        _ => Ok(()),
    }
}

/// Move the whole-word candidates of `part` to its front (in order); their number.
fn keep_whole<M: Candidate>(
    data: &[u8],
    lengths: &[usize],
    whole: Option<&[u8]>,
    part: &mut [M],
    cancel: Option<&AtomicU8>,
) -> Result<usize, Error> {
    let mut w = 0;
    for i in 0..part.len() {
        if i % CANCEL_EVERY == CANCEL_EVERY - 1 {
            look(cancel)?;
        }
        let m = part[i];
        part[w] = m; // written always, kept by moving on (no branch on the outcome)
        w += usize::from(is_kept(data, lengths, whole, m)?.is_some());
    }
    Ok(w)
}

/// Move the leftmost-longest / leftmost-first matches of `part` to its front (in order),
/// after the whole-word test; `end`: where the last match kept ends (updated); their number.
fn keep_leftmost<M: Candidate>(
    data: &[u8],
    lengths: &[usize],
    choice: Choice<'_>,
    part: &mut [M],
    end: &mut u64,
    cancel: Option<&AtomicU8>,
) -> Result<usize, Error> {
    let (mut w, mut i, n) = (0, 0, part.len());
    let mut next_look = CANCEL_EVERY;
    while i < n {
        if i >= next_look {
            look(cancel)?;
            next_look = i + CANCEL_EVERY;
        }
        // the candidates at `off`; none can be kept when it is before `end`
        let off = part[i].offset();
        let mut best: Option<(M, usize)> = None;
        while i < n && part[i].offset() == off {
            let m = part[i];
            i += 1;
            if off < *end || (choice.kind == Kind::LeftmostFirst && best.is_some()) {
                continue;
            }
            if let Some(len) = is_kept(data, lengths, choice.whole, m)? {
                if best.is_none_or(|(_, b)| len > b) {
                    best = Some((m, len)); // the first, or a longer word
                }
            }
        }
        if let Some((m, len)) = best {
            part[w] = m;
            w += 1;
            *end = off + len as u64;
        }
    }
    Ok(w)
}

/// The length of candidate `m`'s word when it passes the whole-word test (`whole`: the
/// table of word characters), else `None`.
#[inline(always)]
fn is_kept<M: Candidate>(data: &[u8], lengths: &[usize], whole: Option<&[u8]>, m: M) -> Result<Option<usize>, Error> {
    let len = *lengths.get(m.index() as usize).ok_or(Error::Internal("word index"))?;
    let s = usize::try_from(m.offset()).map_err(|_| Error::Internal("offset"))?;
    let e = s.checked_add(len).filter(|&e| e <= data.len()).ok_or(Error::Internal("candidate past the end"))?;
    match whole {
        Some(table) if word_before(data, s, table) | word_after(data, e, table) => Ok(None),
        _ => Ok(Some(len)),
    }
}

/// Number of matches of each of `words` words in `parts` (a word index out of range is
/// [`Error::Internal`]).
pub fn count_each<M: Candidate>(parts: &[Vec<M>], words: usize) -> Result<Vec<u64>, Error> {
    let mut each = crate::try_vec(words, 0u64)?;
    for m in parts.iter().flatten() {
        *each.get_mut(m.index() as usize).ok_or(Error::Internal("word index"))? += 1;
    }
    Ok(each)
}

/// Whether `cp` is a word character of `table`.
#[inline(always)]
fn word_char(table: &[u8], cp: u32) -> bool {
    table.get(cp as usize) == Some(&1)
}

/// The code point of `bytes` when they are exactly one strict UTF-8 character of 2 to 4
/// bytes (no overlong form, no surrogate, nothing above U+10FFFF).
fn decode(bytes: &[u8]) -> Option<u32> {
    let (&lead, rest) = bytes.split_first()?;
    // the second byte's range depends on the lead byte; later ones are 0x80..=0xBF
    let (size, lo, hi) = match lead {
        0xC2..=0xDF => (2, 0x80, 0xBF),
        0xE0 => (3, 0xA0, 0xBF),
        0xE1..=0xEC | 0xEE..=0xEF => (3, 0x80, 0xBF),
        0xED => (3, 0x80, 0x9F),
        0xF0 => (4, 0x90, 0xBF),
        0xF1..=0xF3 => (4, 0x80, 0xBF),
        0xF4 => (4, 0x80, 0x8F),
        _ => return None,
    };
    if bytes.len() != size || !(lo..=hi).contains(&rest[0]) || !rest[1..].iter().all(|&b| is_cont(b)) {
        return None;
    }
    let lead_bits = u32::from(lead) & (0x7F >> size);
    Some(rest.iter().fold(lead_bits, |cp, &b| cp << 6 | u32::from(b & 0x3F)))
}

#[inline(always)]
fn is_cont(b: u8) -> bool {
    (0x80..0xC0).contains(&b)
}

/// Whether the character that ends at `pos` is a word character: from `pos - 1`, back
/// over continuation bytes while above 0 and above `pos - 4`; the bytes from there to
/// `pos` must be one character.
fn word_before(data: &[u8], pos: usize, table: &[u8]) -> bool {
    let Some(&b) = pos.checked_sub(1).and_then(|p| data.get(p)) else {
        return false;
    };
    if b < 0x80 {
        return word_char(table, u32::from(b));
    }
    let mut start = pos - 1;
    while start > 0 && pos - start < 4 && is_cont(data[start]) {
        start -= 1;
    }
    data.get(start..pos).and_then(decode).is_some_and(|cp| word_char(table, cp))
}

/// Whether the character that starts at `pos` is a word character (its length from the
/// lead byte; cut by the end of the data: not one).
fn word_after(data: &[u8], pos: usize, table: &[u8]) -> bool {
    let Some(&b) = data.get(pos) else {
        return false;
    };
    if b < 0x80 {
        return word_char(table, u32::from(b));
    }
    let size = match b {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return false,
    };
    data.get(pos..pos + size).and_then(decode).is_some_and(|cp| word_char(table, cp))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of word characters: ASCII letters, digits and `_`, and every non-ASCII code
    /// point that `char::is_alphanumeric` says (close to Python's `str.isalnum`: enough here).
    fn table() -> Vec<u8> {
        (0..0x11_0000u32).map(|cp| char::from_u32(cp).is_some_and(|c| c.is_alphanumeric() || c == '_') as u8).collect()
    }

    /// `std`'s strict decoder as the reference of [`decode`].
    fn std_decode(bytes: &[u8]) -> Option<u32> {
        let s = std::str::from_utf8(bytes).ok()?;
        let mut chars = s.chars();
        let c = chars.next()?;
        (chars.next().is_none() && bytes.len() > 1).then_some(c as u32)
    }

    #[test]
    fn decode_agrees_with_std_on_every_short_sequence() {
        let interesting = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
            0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
        ];
        for &a in &interesting {
            assert_eq!(decode(&[a]), None);
            for &b in &interesting {
                assert_eq!(decode(&[a, b]), std_decode(&[a, b]), "{a:x} {b:x}");
                for &c in &interesting {
                    assert_eq!(decode(&[a, b, c]), std_decode(&[a, b, c]), "{a:x} {b:x} {c:x}");
                    for &d in &interesting {
                        assert_eq!(decode(&[a, b, c, d]), std_decode(&[a, b, c, d]), "{a:x} {b:x} {c:x} {d:x}");
                    }
                }
            }
        }
    }

    fn whole(data: &[u8], s: usize, e: usize) -> bool {
        let t = table();
        !word_before(data, s, &t) && !word_after(data, e, &t)
    }

    #[test]
    fn the_characters_around_a_match() {
        // ASCII, missing neighbours, valid multi-byte word and non-word characters
        assert!(whole(b"a", 0, 1));
        assert!(whole(b" a-", 1, 2));
        assert!(!whole(b"_a", 1, 2));
        assert!(!whole(b"a1", 0, 1));
        assert!(!whole("éa".as_bytes(), 2, 3)); // é before
        assert!(!whole("aΩ".as_bytes(), 0, 1)); // Ω after
        assert!(!whole("中a".as_bytes(), 3, 4));
        assert!(!whole("a𝔘".as_bytes(), 0, 1)); // astral letter after
        assert!(!whole("𝔘a".as_bytes(), 4, 5)); // astral letter before: 4 bytes back
        assert!(whole("\u{a0}a—".as_bytes(), 2, 3)); // NBSP, em dash: not word characters
        assert!(whole("😀a😀".as_bytes(), 4, 5));
        // invalid UTF-8: never a word character
        assert!(whole(b"\x80a\x80", 1, 2)); // lone continuation bytes
        assert!(whole(b"\xc3a\xc3", 1, 2)); // truncated leads
        assert!(whole(b"a\xc3", 0, 1)); // cut by the end of the data
        assert!(whole(b"a\xe4\xb8", 0, 1));
        assert!(whole(b"\xa9a", 1, 2)); // the continuation of a character cut by the start
        assert!(whole(b"\xc0\x80a\xc0\x80", 2, 3)); // overlong
        assert!(whole(b"\xe0\x80\x80a\xe0\x80\x80", 3, 4));
        assert!(whole(b"\xed\xa0\x80a\xed\xa0\x80", 3, 4)); // surrogate
        assert!(whole(b"\xf4\x90\x80\x80a\xf4\x90\x80\x80", 4, 5)); // above U+10FFFF
        assert!(whole(b"\xf5a\xff", 1, 2));
        // é then a stray continuation byte: the bytes before are not one character
        assert!(whole(b"\xc3\xa9\xa9a", 3, 4));
        // four continuation bytes: the step back stops at pos - 4
        assert!(whole(b"\xf0\x9d\x94\x98\x98a", 5, 6));
        assert!(!whole(b"x\xf0\x9d\x94\x98a", 5, 6));
        // ASCII before continuation bytes is not a lead
        assert!(whole(b"a\xa9b", 2, 3));
    }

    /// The candidates of `words` in `data` (every occurrence, sorted), in `chunks` lists.
    fn candidates(data: &[u8], words: &[&[u8]], chunks: usize) -> Vec<Vec<(u64, u32)>> {
        let mut all = Vec::new();
        for s in 0..data.len() {
            for (i, w) in words.iter().enumerate() {
                if data[s..].starts_with(w) {
                    all.push((s as u64, i as u32));
                }
            }
        }
        // split between offsets only
        let mut parts = vec![Vec::new(); chunks.max(1)];
        let per = data.len() / chunks.max(1) + 1;
        for m in all {
            parts[(m.0 as usize / per).min(chunks.max(1) - 1)].push(m);
        }
        parts
    }

    fn chosen(data: &[u8], words: &[&[u8]], whole: bool, kind: Kind, chunks: usize) -> Vec<(u64, u32)> {
        let t = table();
        let lengths: Vec<usize> = words.iter().map(|w| w.len()).collect();
        let mut parts = candidates(data, words, chunks);
        let choice = Choice { whole: whole.then_some(&t[..]), kind };
        let kept = choose(data, &lengths, choice, &mut parts, None).unwrap();
        let out: Vec<(u64, u32)> = parts.into_iter().flatten().collect();
        assert_eq!(kept, out.len() as u64);
        out
    }

    #[test]
    fn the_kinds() {
        let words: &[&[u8]] = &[b"a", b"ab", b"abc", b"bc", b"c"];
        let data = b"abcabc";
        for chunks in [1, 2, 3, 6] {
            assert_eq!(chosen(data, words, false, Kind::LeftmostFirst, chunks), [(0, 0), (1, 3), (3, 0), (4, 3)]);
            assert_eq!(chosen(data, words, false, Kind::LeftmostLongest, chunks), [(0, 2), (3, 2)]);
            assert_eq!(chosen(data, words, false, Kind::Overlapping, chunks).len(), 10);
            // whole words: none is one in "abcabc"
            assert_eq!(chosen(data, words, true, Kind::Overlapping, chunks), []);
        }
        let data = b"abc ab, a c";
        assert_eq!(chosen(data, words, true, Kind::Overlapping, 2), [(0, 2), (4, 1), (8, 0), (10, 4)]);
        assert_eq!(chosen(data, words, true, Kind::LeftmostFirst, 2), [(0, 2), (4, 1), (8, 0), (10, 4)]);
        // whole words are chosen before the kind: "ab" is not one in "abc", "abc" is
        assert_eq!(chosen(b"abc", &[b"ab", b"abc"], true, Kind::LeftmostFirst, 1), [(0, 1)]);
        // the longest, not the first
        assert_eq!(chosen(b"xy", &[b"y", b"xy", b"x", b"yx", b"xy!"], false, Kind::LeftmostLongest, 1), [(0, 1)]);
        // a pattern (u64 candidates, word 0)
        let t = table();
        let mut parts = vec![vec![0u64, 1, 2], vec![3u64]];
        let choice = Choice { whole: None, kind: Kind::LeftmostFirst };
        assert_eq!(choose(b"aaaaa", &[2], choice, &mut parts, None).unwrap(), 2);
        assert_eq!(parts, [vec![0, 2], vec![]]);
        let mut parts = vec![vec![0u64, 3]];
        let choice = Choice { whole: Some(&t[..]), kind: Kind::Overlapping };
        assert_eq!(choose(b"aa aa", &[2], choice, &mut parts, None).unwrap(), 2);
        assert_eq!(count_each(&[vec![(0u64, 1u32), (2, 1)], vec![(5, 0)]], 3).unwrap(), [1, 2, 0]);
    }

    #[test]
    fn bad_candidates_are_errors_not_panics() {
        let choice = Choice::default();
        assert!(matches!(choose(b"ab", &[2], choice, &mut [vec![1u64]], None), Err(Error::Internal(_))));
        assert!(matches!(choose(b"ab", &[1], choice, &mut [vec![(0u64, 1u32)]], None), Err(Error::Internal(_))));
        assert!(matches!(choose(b"ab", &[1], choice, &mut [vec![1u64], vec![0u64]], None), Err(Error::Internal(_))));
        let stop = AtomicU8::new(1);
        let mut parts = vec![vec![0u64; CANCEL_EVERY + 1]];
        assert!(matches!(choose(&[0u8; 4], &[1], choice, &mut parts, Some(&stop)), Err(Error::Cancelled)));
    }
}
