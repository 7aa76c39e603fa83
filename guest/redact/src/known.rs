//! Exact search for known secret values and their encodings.
//!
//! This module exists because known values are the highest-recall signal and need a different
//! search from rules: many exact, case-sensitive needles, every occurrence (overlaps too, so
//! that two needles sharing bytes cannot hide each other). Needles of 6 bytes or more (the
//! usual case: values have at least 8) use one stride filter on hashed 4-byte grams, plain
//! scalar code that compiles well in wasm; shorter ones fall back to `memchr::memmem` (simd128
//! in wasm) for a few needles, else one Aho-Corasick automaton. The same matcher backs the
//! host's [`LeakScanner`].

use crate::KnownSecret;
use crate::encodings::{Encoding, needles_for};
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;

/// One needle: its bytes, whose value it is (index into the known list) and its form.
#[derive(Clone, Debug)]
pub(crate) struct KnownNeedle {
    pub bytes: Vec<u8>,
    pub secret: usize,
    pub encoding: Encoding,
}

#[derive(Clone, Debug)]
enum Search {
    None,
    Automaton(AhoCorasick),
    Finders(Vec<memmem::Finder<'static>>),
    Stride(Box<StrideFilter>),
}

/// One pass for any number of needles, all at least `min` (>= [`STRIDE_MIN_NEEDLE`]) bytes long.
///
/// Every occurrence of a needle covers `min - 3` consecutive starting positions of 4-byte
/// grams, so exactly one of them is a multiple of `stride = min - 3`. The scan looks only at
/// the gram at each multiple of `stride`, hashes it to 16 bits, tests that in a bitmap of the
/// hashes of the grams found in the first `stride` gram positions of the needles, and on a hit
/// compares the needles that hold a gram with that hash at that offset. Each occurrence is
/// found exactly once, overlaps included. Plain scalar code, which compiles well in wasm, where
/// Aho-Corasick loses its SIMD prefilter and one `memmem` pass per needle adds up. (Byte pairs
/// instead of hashed grams made a longer stride but many false hits on ordinary log text.)
#[derive(Clone, Debug)]
struct StrideFilter {
    stride: usize,
    /// Bit `h` set when some needle holds a gram hashing to `h` at an offset below `stride`.
    bitmap: Box<[u64; 1 << 10]>,
    /// `(hash, needle, offset)`, sorted by hash.
    entries: Vec<(u16, u32, u32)>,
}

/// Shortest needle the stride filter accepts (its stride is this minus three).
const STRIDE_MIN_NEEDLE: usize = 6;

/// Bytes of the grams the stride filter probes.
const GRAM: usize = 4;

/// The 16-bit hash of the gram at the start of `bytes` (at least [`GRAM`] bytes long).
#[inline(always)]
fn gram_hash(bytes: &[u8]) -> u16 {
    let gram = bytes.first_chunk::<GRAM>().copied().unwrap_or_default();
    hash_word(u32::from_le_bytes(gram))
}

/// The 16-bit hash of a gram read as a little-endian word.
#[inline(always)]
fn hash_word(word: u32) -> u16 {
    (word.wrapping_mul(0x9e37_79b1) >> 16) as u16
}

impl StrideFilter {
    fn new(needles: &[KnownNeedle]) -> Option<StrideFilter> {
        let min = needles.iter().map(|n| n.bytes.len()).min()?;
        if min < STRIDE_MIN_NEEDLE || needles.len() > u32::MAX as usize {
            return None;
        }
        let stride = min - (GRAM - 1);
        let mut bitmap = Box::new([0u64; 1 << 10]);
        let mut entries = Vec::new();
        for (i, n) in needles.iter().enumerate() {
            for off in 0..stride {
                let h = gram_hash(&n.bytes[off..]);
                bitmap[usize::from(h >> 6)] |= 1 << (h & 63);
                entries.push((h, i as u32, off as u32));
            }
        }
        entries.sort_unstable();
        entries.dedup();
        Some(StrideFilter {
            stride,
            bitmap,
            entries,
        })
    }

    fn for_each(
        &self,
        needles: &[KnownNeedle],
        hay: &[u8],
        mut f: impl FnMut(usize, usize, usize),
    ) {
        let stride = self.stride;
        let mut check = |t: usize| {
            let h = gram_hash(&hay[t..]);
            let from = self.entries.partition_point(|e| e.0 < h);
            for &(p, i, off) in &self.entries[from..] {
                if p != h {
                    break;
                }
                let Some(q) = t.checked_sub(off as usize) else {
                    continue;
                };
                let needle = &needles[i as usize].bytes;
                if hay.get(q..q + needle.len()) == Some(needle.as_slice()) {
                    f(q, q + needle.len(), i as usize);
                }
            }
        };
        let mut t = 0;
        while let Some(hit) = self.next_hit(hay, t) {
            check(hit);
            t = hit + stride;
        }
    }

    /// The first position from `t` on (`t` plus a multiple of the stride) whose gram is in the
    /// bitmap. Its own small function, never inlined: inlined into the large line pass, the
    /// guest's compiled loop kept its values on the stack and reloaded them at every probe.
    #[inline(never)]
    fn next_hit(&self, hay: &[u8], mut t: usize) -> Option<usize> {
        let stride = self.stride;
        let bitmap = &*self.bitmap;
        let bit = |gram: &[u8; GRAM]| {
            let h = usize::from(hash_word(u32::from_le_bytes(*gram)));
            (bitmap[h >> 6] >> (h & 63)) & 1
        };
        // Four probes per step, one branch for all four: hits are rare, and in wasm every loop
        // iteration also pays an interruption check. The window ends with the fourth gram.
        let span = 3 * stride + GRAM;
        while let Some(window) = hay.get(t..t + span) {
            let (Some(a), Some(b), Some(c), Some(d)) = (
                window.first_chunk::<GRAM>(),
                window.get(stride..).and_then(<[u8]>::first_chunk::<GRAM>),
                window
                    .get(2 * stride..)
                    .and_then(<[u8]>::first_chunk::<GRAM>),
                window.last_chunk::<GRAM>(),
            ) else {
                break;
            };
            let hits = bit(a) | bit(b) << 1 | bit(c) << 2 | bit(d) << 3;
            if hits != 0 {
                return Some(t + hits.trailing_zeros() as usize * stride);
            }
            t += 4 * stride;
        }
        while let Some(gram) = hay.get(t..).and_then(<[u8]>::first_chunk::<GRAM>) {
            if bit(gram) != 0 {
                return Some(t);
            }
            t += stride;
        }
        None
    }
}

/// Finds every occurrence of every needle.
#[derive(Clone, Debug)]
pub(crate) struct KnownMatcher {
    pub needles: Vec<KnownNeedle>,
    search: Search,
    max_len: usize,
}

/// With this many needles or fewer, wasm builds search with `memmem` (simd128) rather than
/// Aho-Corasick (no SIMD prefilter in wasm). Native builds always use Aho-Corasick (Teddy).
const MEMMEM_MAX_NEEDLES: usize = 48;

fn use_memmem(needles: usize) -> bool {
    cfg!(target_family = "wasm") && needles <= MEMMEM_MAX_NEEDLES
}

impl KnownMatcher {
    /// Builds the needles of every value at least `min_len` bytes long (after trimming).
    pub fn new(known: &[KnownSecret], min_len: usize) -> KnownMatcher {
        let mut needles: Vec<KnownNeedle> = Vec::new();
        for (i, k) in known.iter().enumerate() {
            for n in needles_for(&k.value, min_len) {
                if needles.iter().any(|o| o.bytes == n.bytes) {
                    continue;
                }
                needles.push(KnownNeedle {
                    bytes: n.bytes,
                    secret: i,
                    encoding: n.encoding,
                });
            }
        }
        let max_len = needles.iter().map(|n| n.bytes.len()).max().unwrap_or(0);
        let search = if needles.is_empty() {
            Search::None
        } else if let Some(filter) = StrideFilter::new(&needles) {
            Search::Stride(Box::new(filter))
        } else if use_memmem(needles.len()) {
            Search::Finders(
                needles
                    .iter()
                    .map(|n| memmem::Finder::new(&n.bytes).into_owned())
                    .collect(),
            )
        } else {
            match AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(needles.iter().map(|n| &n.bytes))
                .or_else(|_| {
                    AhoCorasick::builder()
                        .match_kind(MatchKind::Standard)
                        .build(needles.iter().map(|n| &n.bytes))
                }) {
                Ok(ac) => Search::Automaton(ac),
                Err(_) => Search::Finders(
                    needles
                        .iter()
                        .map(|n| memmem::Finder::new(&n.bytes).into_owned())
                        .collect(),
                ),
            }
        };
        KnownMatcher {
            needles,
            search,
            max_len,
        }
    }

    /// Longest needle in bytes.
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Whether there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// Calls `f(start, end, needle index)` for every occurrence of every needle in `hay`
    /// (overlapping occurrences included), in no particular order.
    pub fn for_each(&self, hay: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        match &self.search {
            Search::None => {}
            Search::Stride(filter) => filter.for_each(&self.needles, hay, f),
            Search::Automaton(ac) => {
                for m in ac.find_overlapping_iter(hay) {
                    f(m.start(), m.end(), m.pattern().as_usize());
                }
            }
            Search::Finders(finders) => {
                for (i, finder) in finders.iter().enumerate() {
                    let len = finder.needle().len();
                    // Overlapping occurrences of one needle: restart one byte after each hit.
                    let mut at = 0;
                    while let Some(p) = hay.get(at..).and_then(|h| finder.find(h)) {
                        f(at + p, at + p + len, i);
                        at += p + 1;
                    }
                }
            }
        }
    }

    /// The occurrence that starts first (the longest of those), if any.
    pub fn first(&self, hay: &[u8]) -> Option<(usize, usize, usize)> {
        let mut best: Option<(usize, usize, usize)> = None;
        self.for_each(hay, |s, e, i| {
            if best.is_none_or(|(bs, be, _)| s < bs || (s == bs && e > be)) {
                best = Some((s, e, i));
            }
        });
        best
    }
}

/// Where a known value was found by [`LeakScanner::find`]: whose value (its name, never the
/// value) and in which form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leak {
    /// The [`KnownSecret::name`] of the value found.
    pub name: String,
    /// The form it was found in.
    pub encoding: Encoding,
}

/// The host's leak check: searches bytes about to leave for any known value or its encodings.
///
/// It searches for exactly the needles the redactor removes, so anything it finds in
/// redacted output is a bug (or a value that reached the payload another way).
#[derive(Clone, Debug)]
pub struct LeakScanner {
    matcher: KnownMatcher,
    names: Vec<String>,
}

impl LeakScanner {
    /// Builds a scanner for `known` values at least `min_secret_len` bytes long (trimmed).
    pub fn new(known: &[KnownSecret], min_secret_len: usize) -> LeakScanner {
        LeakScanner {
            matcher: KnownMatcher::new(known, min_secret_len),
            names: known.iter().map(|k| k.name.clone()).collect(),
        }
    }

    /// The first leak in `haystack` (the occurrence starting first), if any.
    pub fn find(&self, haystack: &[u8]) -> Option<Leak> {
        let (_, _, i) = self.matcher.first(haystack)?;
        let n = self.matcher.needles.get(i)?;
        Some(Leak {
            name: self.names.get(n.secret).cloned().unwrap_or_default(),
            encoding: n.encoding,
        })
    }

    /// Longest needle in bytes (callers scanning a stream keep this many bytes minus one of
    /// overlap between pieces).
    pub fn max_needle_len(&self) -> usize {
        self.matcher.max_len()
    }

    /// Whether there is nothing to look for (no known value was long enough).
    pub fn is_empty(&self) -> bool {
        self.matcher.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(needles: &[KnownNeedle], hay: &[u8]) -> Vec<(usize, usize, usize)> {
        let mut out = Vec::new();
        for (i, n) in needles.iter().enumerate() {
            for q in 0..hay.len() {
                if hay[q..].starts_with(&n.bytes) {
                    out.push((q, q + n.bytes.len(), i));
                }
            }
        }
        out.sort_unstable();
        out
    }

    /// The stride filter finds exactly the occurrences a naive search finds, overlaps and
    /// repetitive needles included, on random text over a tiny alphabet (many near misses).
    #[test]
    fn stride_filter_finds_every_occurrence() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..300 {
            let alphabet: &[u8] = if round % 2 == 0 { b"ab" } else { b"abc-=" };
            let mut word = |len: usize| -> Vec<u8> {
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                    .collect()
            };
            let count = 1 + round % 5;
            let needles: Vec<KnownNeedle> = (0..count)
                .map(|k| KnownNeedle {
                    bytes: word(STRIDE_MIN_NEEDLE + (k * 3 + round) % 9),
                    secret: k,
                    encoding: Encoding::Raw,
                })
                .collect();
            let hay = word(50 + round * 7);
            let filter = StrideFilter::new(&needles).expect("needles are long enough");
            let mut got = Vec::new();
            filter.for_each(&needles, &hay, |s, e, i| got.push((s, e, i)));
            got.sort_unstable();
            assert_eq!(got, naive(&needles, &hay), "round {round}");
        }
    }

    #[test]
    fn short_needles_use_another_search() {
        let needles = vec![KnownNeedle {
            bytes: b"abcde".to_vec(),
            secret: 0,
            encoding: Encoding::Raw,
        }];
        assert!(StrideFilter::new(&needles).is_none());
    }
}
