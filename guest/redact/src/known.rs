//! Exact search for known secret values and their encodings.
//!
//! This module exists because known values are the highest-recall signal and need a different
//! search from rules: many exact, case-sensitive needles, every occurrence (overlaps too, so
//! that two needles sharing bytes cannot hide each other). Natively one Aho-Corasick automaton
//! (with its SIMD prefilter) is fastest; in wasm, where that SIMD path does not exist but
//! `memchr::memmem` has a simd128 one, a handful of needles is searched with one `memmem`
//! finder each. The same matcher backs the host's [`LeakScanner`].

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
