//! Scoring a redacted log against its corpus by the strict rule: a secret leaks if any 8-byte
//! window of it, or of its base64 (3 offsets), URL or JSON form, survives in the output, as the
//! output is and with its lines joined again (wrap junk taken off). Also the keep-rate (every
//! must-keep token still there, byte for byte) and the collateral: non-secret bytes the output
//! lost, with the clean-up's removals (colour codes, NUL bytes, invalid UTF-8, `\r` redraws)
//! counted apart.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use super::corpus::Corpus;
use super::encode::{self, WINDOW};
use super::segs::Role;

/// Planted and leaked counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Secrets planted.
    pub planted: usize,
    /// Secrets with a window surviving in the output as it is.
    pub leaked: usize,
    /// Secrets with a window surviving once the output's lines are joined again.
    pub leaked_joined: usize,
}

impl Tally {
    /// Share of secrets removed, counting a leak in either view.
    pub fn recall(&self) -> f64 {
        if self.planted == 0 {
            return 1.0;
        }
        1.0 - self.leaked.max(self.leaked_joined) as f64 / self.planted as f64
    }
}

/// The whole score.
#[derive(Debug, Default)]
pub struct Score {
    /// Per secret kind.
    pub by_kind: BTreeMap<&'static str, Tally>,
    /// Per context.
    pub by_context: BTreeMap<&'static str, Tally>,
    /// Every secret.
    pub overall: Tally,
    /// Known values only.
    pub known: Tally,
    /// Must-keep tokens planted and kept.
    pub keep: (usize, usize),
    /// Bytes of secret planted.
    pub secret_bytes: usize,
    /// Non-secret text bytes missing from the output.
    pub collateral: usize,
    /// Clean-up bytes (colour codes, NUL bytes, invalid UTF-8, redraws) missing.
    pub cleanup: usize,
    /// What leaked: kind, context, variant and the text around the leak.
    pub leaks: Vec<String>,
    /// Must-keep tokens lost.
    pub lost: Vec<String>,
}

fn windows(bytes: &[u8]) -> HashSet<u64> {
    bytes
        .windows(WINDOW)
        .map(|w| u64::from_le_bytes(w.try_into().unwrap_or_default()))
        .collect()
}

/// The output's lines with the wrap junk (blanks, `\r`, `|` and box borders) around each line
/// taken off and the lines joined again.
pub fn joined(out: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(out);
    let junk: &[char] = &[' ', '\t', '|', '│', '┃', '║', '\r'];
    let mut v = Vec::with_capacity(out.len());
    for line in text.split('\n') {
        v.extend_from_slice(line.trim_matches(junk).as_bytes());
    }
    v
}

/// Every form a needle is searched in.
fn forms(needle: &[u8]) -> Vec<Vec<u8>> {
    match std::str::from_utf8(needle) {
        Ok(s) => encode::known_forms(s),
        Err(_) => vec![needle.to_vec()],
    }
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    memchr::memmem::find_iter(hay, needle).count()
}

/// Scores `out`, the redacted text of `corpus.log`.
pub fn score(corpus: &Corpus, out: &[u8]) -> Score {
    let plain = windows(out);
    let joined_out = joined(out);
    let glued = windows(&joined_out);
    let mut s = Score::default();
    let input = corpus.log.bytes();
    for p in &corpus.plants {
        let mut first: Option<Vec<u8>> = None;
        let mut leaked = false;
        let mut leaked_joined = false;
        for needle in &p.needles {
            s.secret_bytes += needle.len();
            for form in forms(needle) {
                for w in form.windows(WINDOW) {
                    let k = u64::from_le_bytes(w.try_into().unwrap_or_default());
                    if plain.contains(&k) {
                        leaked = true;
                        first.get_or_insert_with(|| w.to_vec());
                    }
                    if glued.contains(&k) {
                        leaked_joined = true;
                        first.get_or_insert_with(|| w.to_vec());
                    }
                }
            }
        }
        for t in [
            s.by_kind.entry(p.kind.name()).or_default(),
            s.by_context.entry(p.context.name()).or_default(),
            &mut s.overall,
        ] {
            t.planted += 1;
            t.leaked += usize::from(leaked);
            t.leaked_joined += usize::from(leaked_joined);
        }
        if p.kind == super::kinds::Kind::Known {
            s.known.planted += 1;
            s.known.leaked += usize::from(leaked);
            s.known.leaked_joined += usize::from(leaked_joined);
        }
        if let Some(w) = first {
            let around = input
                .get(p.offset..input.len().min(p.offset + 160))
                .unwrap_or_default();
            s.leaks.push(format!(
                "{} × {} ({}): window {:?} survived{}; input there: {:?}",
                p.kind.name(),
                p.context.name(),
                p.variant,
                String::from_utf8_lossy(&w),
                if leaked { "" } else { " (joined lines only)" },
                String::from_utf8_lossy(around)
            ));
        }
    }
    let mut tokens: BTreeMap<&str, usize> = BTreeMap::new();
    for k in &corpus.keep {
        *tokens.entry(k.as_str()).or_default() += 1;
    }
    for (token, _) in tokens {
        let want = count(&input, token.as_bytes());
        let have = count(out, token.as_bytes());
        s.keep.0 += 1;
        if have >= want {
            s.keep.1 += 1;
        } else {
            s.lost.push(token.to_string());
        }
    }
    let (collateral, cleanup) = missing(corpus, out);
    s.collateral = collateral;
    s.cleanup = cleanup;
    s
}

/// Text and noise bytes of the log that the output lost. Lines found exactly once in both
/// the log and the output (nearly all: tool output carries fresh random tokens) anchor the
/// alignment, in order (a longest increasing run of them, so a moved line cannot cross);
/// between two anchors the output, placeholders taken out, is matched to the log byte by byte.
fn missing(corpus: &Corpus, out: &[u8]) -> (usize, usize) {
    let mut roles = Vec::with_capacity(corpus.log.len());
    let mut input = Vec::with_capacity(corpus.log.len());
    for (role, bytes) in corpus.log.parts() {
        roles.extend(std::iter::repeat_n(*role, bytes.len()));
        input.extend_from_slice(bytes);
    }
    let mut matched = vec![false; input.len()];
    // Anchors: (output start, input start, length) of lines unique on both sides.
    let lines = |text: &[u8]| -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        let mut at = 0;
        for l in text.split_inclusive(|&b| b == b'\n') {
            v.push((at, l.len()));
            at += l.len();
        }
        v
    };
    let mut seen: std::collections::HashMap<&[u8], (usize, usize, usize)> = Default::default();
    for (at, len) in lines(&input) {
        let e = seen.entry(&input[at..at + len]).or_insert((0, 0, at));
        e.0 += 1;
    }
    for (at, len) in lines(out) {
        if let Some(e) = seen.get_mut(&out[at..at + len]) {
            e.1 += 1;
        }
    }
    let mut anchors: Vec<(usize, usize, usize)> = Vec::new();
    for (at, len) in lines(out) {
        let line = &out[at..at + len];
        if len >= 8
            && let Some(&(1, 1, input_at)) = seen.get(line)
        {
            anchors.push((at, input_at, len));
        }
    }
    let anchors = increasing(&anchors);
    let (mut o, mut i) = (0usize, 0usize);
    for &(oa, ia, len) in anchors
        .iter()
        .chain(std::iter::once(&(out.len(), input.len(), 0)))
    {
        align(&out[o..oa], &input[i..ia], &mut matched[i..ia]);
        matched[ia..ia + len].iter_mut().for_each(|m| *m = true);
        o = oa + len;
        i = ia + len;
    }
    let mut collateral = 0;
    let mut cleanup = 0;
    for (i, m) in matched.iter().enumerate() {
        if !m {
            match roles[i] {
                Role::Text => collateral += 1,
                Role::Noise => cleanup += 1,
                Role::Secret => {}
            }
        }
    }
    (collateral, cleanup)
}

/// The anchors (sorted by output position) whose input positions form a longest increasing
/// run.
fn increasing(anchors: &[(usize, usize, usize)]) -> Vec<(usize, usize, usize)> {
    // Patience sorting: tails[k] = index of the smallest last input position of a run of k+1.
    let mut tails: Vec<usize> = Vec::new();
    let mut prev = vec![usize::MAX; anchors.len()];
    for (n, a) in anchors.iter().enumerate() {
        let k = tails.partition_point(|&t| anchors[t].1 < a.1);
        if k > 0 {
            prev[n] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(n);
        } else {
            tails[k] = n;
        }
    }
    let mut run = Vec::new();
    let mut at = tails.last().copied().unwrap_or(usize::MAX);
    while at != usize::MAX {
        run.push(anchors[at]);
        at = prev[at];
    }
    run.reverse();
    run
}

/// Marks the bytes of `input` that `out` (a stretch between two anchors) kept: each piece
/// between placeholders is found again from where the last one ended, then matched byte by
/// byte, skipping what the clean-up or a redaction removed.
fn align(out: &[u8], input: &[u8], matched: &mut [bool]) {
    let mut pos = 0usize;
    for (n, piece) in split_placeholders(out).iter().enumerate() {
        if n > 0 && !piece.is_empty() {
            let probe = &piece[..piece.len().min(16)];
            if let Some(at) = memchr::memmem::find(&input[pos..], probe) {
                pos += at;
            }
        }
        for &b in piece.iter() {
            if let Some(at) = memchr::memchr(b, &input[pos..]) {
                matched[pos + at] = true;
                pos += at + 1;
            }
            // Else an inserted byte (U+FFFD for invalid UTF-8): the log position stays.
        }
    }
}

/// The output cut at every `[REDACTED:...]` placeholder.
fn split_placeholders(out: &[u8]) -> Vec<&[u8]> {
    let mut pieces = Vec::new();
    let mut rest = out;
    while let Some(at) = memchr::memmem::find(rest, b"[REDACTED:") {
        pieces.push(&rest[..at]);
        let close = rest[at..]
            .iter()
            .position(|&b| b == b']')
            .map_or(rest.len(), |c| at + c + 1);
        rest = &rest[close..];
    }
    pieces.push(rest);
    pieces
}

impl Score {
    /// The report: recall per kind and per context, known values, keep-rate, collateral.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let row = |t: &mut String, name: &str, x: &Tally| {
            let _ = writeln!(
                t,
                "  {name:<20} {:>5} planted  {:>4} leaked  {:>4} leaked (joined)  recall {:>7.2}%",
                x.planted,
                x.leaked,
                x.leaked_joined,
                100.0 * x.recall()
            );
        };
        let _ = writeln!(t, "by kind:");
        for (k, x) in &self.by_kind {
            row(&mut t, k, x);
        }
        let _ = writeln!(t, "by context:");
        for (k, x) in &self.by_context {
            row(&mut t, k, x);
        }
        let _ = writeln!(t, "totals:");
        row(&mut t, "known values", &self.known);
        row(&mut t, "overall", &self.overall);
        let _ = writeln!(
            t,
            "  keep-rate {:.2}% ({}/{} must-keep tokens)",
            100.0 * self.keep_rate(),
            self.keep.1,
            self.keep.0
        );
        let _ = writeln!(
            t,
            "  collateral {} bytes = {:.3}% of {} secret bytes; clean-up removed {} bytes apart",
            self.collateral,
            100.0 * self.collateral_share(),
            self.secret_bytes,
            self.cleanup
        );
        for l in self.leaks.iter().take(40) {
            let _ = writeln!(t, "  LEAK {l}");
        }
        for l in self.lost.iter().take(20) {
            let _ = writeln!(t, "  LOST {l:?}");
        }
        t
    }

    /// Must-keep tokens kept, as a share.
    pub fn keep_rate(&self) -> f64 {
        if self.keep.0 == 0 {
            return 1.0;
        }
        self.keep.1 as f64 / self.keep.0 as f64
    }

    /// Collateral bytes as a share of the secret bytes.
    pub fn collateral_share(&self) -> f64 {
        self.collateral as f64 / self.secret_bytes.max(1) as f64
    }
}
