//! Known values wrapped across lines.
//!
//! This module exists because real logs break long values: a terminal or `column` wraps at
//! 80/120 columns, `kubectl describe` continues a value on an indented line, a table printer
//! continues a cell on the next row behind its border (`| ... | `). The line passes never see
//! such a value whole. This pass runs first, on the redactor's input: it searches the known
//! needles (every encoding) in the *joined* content of consecutive lines, each line with its
//! wrap junk taken off (trailing blanks, `\r` and borders; leading indentation and borders), so
//! a needle split anywhere, over any number of lines, is found. Its first piece becomes the
//! placeholder and the other pieces are removed, before any rule sees a piece (a known value
//! beats a rule, as within a line).
//!
//! Cost: one newline scan over the output and, per line, two probes of a bitmap of the
//! needles' hashed 4-byte grams. Two lines are *linked* when the end of the first or the start
//! of the second could be part of a needle (every piece of at least 4 bytes of a split needle
//! holds one of its grams, and a needle of 8 bytes or more split in two has such a piece); only
//! runs of linked lines (*chains*) are held back and searched, so ordinary lines pass at the
//! speed of `memchr`.
//!
//! Chunk independence: decisions depend only on complete lines (an incomplete line is held
//! until its newline, or until it is longer than [`MAX_WRAP_LINE`], when it breaks every chain),
//! and every call starts again at the first line of the open chain, which is held (a chain
//! longer than the cap is searched and ended), so what is forwarded is the same whatever the
//! chunking of the input. Nothing is copied but the held lines and the (rare) edited chains.

use crate::known::KnownNeedle;
use crate::newlines::Newlines;
use crate::scan::Engine;
use memchr::memchr;

/// Lines longer than this (bytes) are never part of a wrapped value: wrapping happens at
/// terminal and table widths.
pub(crate) const MAX_WRAP_LINE: usize = 4096;

/// Chains holding more bytes than this are searched and ended (a pathological run of linked
/// lines; a value wrapped exactly across such a cut is not found).
const CHAIN_CAP: usize = 64 * 1024;

/// Bits of the gram hash (the bitmap has `1 << GRAM_BITS` bits: 32 KiB).
const GRAM_BITS: u32 = 18;

/// Bytes per probed gram.
const GRAM: usize = 4;

/// Needles shorter than this are not searched across lines (the link test relies on a piece
/// of at least [`GRAM`] bytes on one side of every break).
const MIN_WRAPPED_NEEDLE: usize = 2 * GRAM;

/// The hashed-gram index of the needles.
#[derive(Clone, Debug)]
pub(crate) struct WrapIndex {
    bits: Box<[u64]>,
    /// Longest needle (bytes).
    max_len: usize,
}

#[inline(always)]
fn gram_hash(g: &[u8]) -> usize {
    let gram = g.first_chunk::<GRAM>().copied().unwrap_or_default();
    hash32(u32::from_le_bytes(gram))
}

#[inline(always)]
fn hash32(x: u32) -> usize {
    (x.wrapping_mul(0x9e37_79b1) >> (32 - GRAM_BITS)) as usize
}

/// The key of a string of 1 to 3 bytes (a short line's content): its bytes and its length in
/// the top byte, so it never equals a 4-byte gram's key by construction, only by hash.
fn short_hash(s: &[u8]) -> usize {
    let mut k = [0u8; 4];
    k[..s.len().min(3)].copy_from_slice(&s[..s.len().min(3)]);
    k[3] = 0x80 | s.len() as u8;
    hash32(u32::from_le_bytes(k))
}

impl WrapIndex {
    /// The index of every gram of every needle long enough to be searched across lines;
    /// `None` when there is none.
    pub(crate) fn new(needles: &[KnownNeedle]) -> Option<WrapIndex> {
        let mut bits = vec![0u64; (1 << GRAM_BITS) / 64].into_boxed_slice();
        let mut max_len = 0;
        for n in needles
            .iter()
            .filter(|n| n.bytes.len() >= MIN_WRAPPED_NEEDLE)
        {
            max_len = max_len.max(n.bytes.len());
            let mut set = |h: usize| bits[h >> 6] |= 1 << (h & 63);
            for w in n.bytes.windows(GRAM) {
                set(gram_hash(w));
            }
            for len in 1..GRAM {
                for w in n.bytes.windows(len) {
                    set(short_hash(w));
                }
            }
        }
        (max_len > 0).then_some(WrapIndex { bits, max_len })
    }

    #[inline(always)]
    fn bit(&self, h: usize) -> bool {
        self.bits[h >> 6] & (1 << (h & 63)) != 0
    }

    /// Whether the content `c` may be part of a needle: its first or last gram is a needle's
    /// gram, or (shorter than a gram) it is a piece of a needle.
    #[inline(always)]
    fn may_hold_piece(&self, c: &[u8], at_end: bool) -> bool {
        if c.len() < GRAM {
            return !c.is_empty() && self.bit(short_hash(c));
        }
        let g = if at_end {
            &c[c.len() - GRAM..]
        } else {
            &c[..GRAM]
        };
        self.bit(gram_hash(g))
    }

    /// Whether a needle could continue from the line with content `x` onto the line with
    /// content `y`. A needle (8 bytes or more) split between them has a piece of at least a
    /// gram on one side, which holds that side's last (or first) gram, or a side is a whole
    /// short line inside the needle.
    #[inline]
    fn linked(&self, x: &[u8], y: &[u8]) -> bool {
        !x.is_empty()
            && !y.is_empty()
            && (self.may_hold_piece(x, true) || self.may_hold_piece(y, false))
    }
}

/// One complete line: logical offsets into the held bytes followed by the new input.
#[derive(Clone, Copy, Debug)]
struct Line {
    /// First byte of the line.
    start: usize,
    /// Content: the line without its leading and trailing wrap junk.
    cs: usize,
    ce: usize,
}

/// Length of the wrap junk character at `s[0]`, if it is one that may lead a continuation line:
/// blanks and table borders.
#[inline]
fn lead_junk(s: &[u8]) -> usize {
    match s.first() {
        Some(b' ' | b'\t' | b'|' | b'\r') => 1,
        Some(0xe2) if matches!(s.get(1..3), Some([0x94, 0x82 | 0x83] | [0x95, 0x91])) => 3,
        _ => 0,
    }
}

/// Length of the wrap junk character ending `s`: blanks, `\r` and borders.
#[inline]
fn trail_junk(s: &[u8]) -> usize {
    match s.last() {
        Some(b' ' | b'\t' | b'|' | b'\r') => 1,
        Some(0x82 | 0x83 | 0x91) if s.len() >= 3 => {
            let t = &s[s.len() - 3..];
            usize::from(matches!(t, [0xe2, 0x94, 0x82 | 0x83] | [0xe2, 0x95, 0x91])) * 3
        }
        _ => 0,
    }
}

/// Bytes that may start a junk character at the start of a line ([`lead_junk`]).
const LEAD_JUNK: [bool; 256] = byte_set(b" \t|\r\xe2");
/// Bytes that may end a junk character at the end of a line ([`trail_junk`]).
const TRAIL_JUNK: [bool; 256] = byte_set(b" \t|\r\x82\x83\x91");

const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut set = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        set[bytes[i] as usize] = true;
        i += 1;
    }
    set
}

/// The content bounds of `line` (relative to it). Inlined into the line loop: most lines
/// neither start nor end with junk, which two table lookups tell.
#[inline(always)]
fn content(line: &[u8]) -> (usize, usize) {
    match (line.first(), line.last()) {
        (Some(&first), Some(&last))
            if !LEAD_JUNK[usize::from(first)] && !TRAIL_JUNK[usize::from(last)] =>
        {
            (0, line.len())
        }
        _ => trimmed(line),
    }
}

/// [`content`] for a line that may start or end with junk.
#[inline(never)]
fn trimmed(line: &[u8]) -> (usize, usize) {
    let mut cs = 0;
    while cs < line.len() {
        let n = lead_junk(&line[cs..]);
        if n == 0 {
            break;
        }
        cs += n;
    }
    let mut ce = line.len();
    while ce > cs {
        let n = trail_junk(&line[cs..ce]);
        if n == 0 {
            break;
        }
        ce -= n;
    }
    (cs, ce)
}

/// The held bytes followed by the new input, addressed as one sequence. Lines never straddle
/// the two, except a line too long to take part in a wrap.
#[derive(Clone, Copy)]
struct Two<'a> {
    a: &'a [u8],
    b: &'a [u8],
}

impl<'a> Two<'a> {
    fn len(&self) -> usize {
        self.a.len() + self.b.len()
    }

    /// `[from, to)`, which must lie in one of the two.
    fn get(&self, from: usize, to: usize) -> &'a [u8] {
        let n = self.a.len();
        if to <= n {
            &self.a[from..to]
        } else if from >= n {
            &self.b[from - n..to - n]
        } else {
            &[]
        }
    }

    fn newline(&self, from: usize) -> Option<usize> {
        let n = self.a.len();
        if from < n
            && let Some(i) = memchr(b'\n', &self.a[from..])
        {
            return Some(from + i);
        }
        let at = from.max(n) - n;
        memchr(b'\n', self.b.get(at..)?).map(|i| n + at + i)
    }
}

/// Where forwarded bytes come from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Src {
    /// The held bytes.
    Held,
    /// The new input.
    Input,
    /// Bytes this pass wrote (placeholders).
    Fill,
}

/// A range of bytes to forward, in order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Piece {
    pub src: Src,
    pub from: usize,
    pub to: usize,
}

/// The pass's state between calls.
#[derive(Debug, Default)]
pub(crate) struct WrapState {
    /// Input not forwarded yet: the open chain's lines and the incomplete last line.
    pub held: Vec<u8>,
    next_held: Vec<u8>,
    /// What to forward, in order, after [`WrapState::plan`].
    pub plan: Vec<Piece>,
    /// Bytes the plan refers to as [`Src::Fill`].
    pub fill: Vec<u8>,
    /// Inside a line longer than [`MAX_WRAP_LINE`] whose start was already forwarded.
    in_long: bool,
    // Scratch.
    chain: Vec<Line>,
    joined: Vec<u8>,
    segs: Vec<(usize, usize, usize)>,
    found: Vec<(usize, usize, usize)>,
    /// Edits found so far in this call: (logical start, end, label, whether it is the first
    /// piece of its value, which gets the placeholder).
    edits: Vec<(usize, usize, usize, bool)>,
}

impl WrapState {
    /// Plans what of `held ++ input` goes on to the line passes now (in `self.plan`, with
    /// wrapped needles edited out) and what stays held. With `last`, the input has ended.
    /// Call [`WrapState::done`] once the plan was forwarded.
    pub(crate) fn plan(
        &mut self,
        index: &WrapIndex,
        engine: &Engine,
        counts: &mut [u64],
        input: &[u8],
        last: bool,
    ) {
        self.plan.clear();
        self.fill.clear();
        self.edits.clear();
        self.next_held.clear();
        let mut offset = 0;
        if self.in_long {
            match memchr(b'\n', input) {
                Some(i) => {
                    self.plan.push(Piece {
                        src: Src::Input,
                        from: 0,
                        to: i + 1,
                    });
                    self.in_long = false;
                    offset = i + 1;
                }
                None => {
                    self.plan.push(Piece {
                        src: Src::Input,
                        from: 0,
                        to: input.len(),
                    });
                    self.in_long = !last;
                    self.next_held = std::mem::take(&mut self.held);
                    return;
                }
            }
        } else if !self.held.is_empty() && !self.held.ends_with(b"\n") {
            // Complete the held incomplete line, so that lines never straddle the two buffers
            // (but a line too long to take part in a wrap).
            let line_len =
                self.held.len() - memchr::memrchr(b'\n', &self.held).map_or(0, |i| i + 1);
            let room = (MAX_WRAP_LINE + 1).saturating_sub(line_len);
            offset = match memchr(b'\n', input) {
                Some(i) if i < room => i + 1,
                _ => room.min(input.len()),
            };
            self.held.extend_from_slice(&input[..offset]);
        }
        self.scan(index, engine, counts, input, offset, last);
    }

    /// Makes the held bytes those the last plan kept.
    pub(crate) fn done(&mut self) {
        std::mem::swap(&mut self.held, &mut self.next_held);
        self.next_held.clear();
    }

    /// The scan over `held ++ input[offset..]`.
    fn scan(
        &mut self,
        index: &WrapIndex,
        engine: &Engine,
        counts: &mut [u64],
        input: &[u8],
        offset: usize,
        last: bool,
    ) {
        let held = std::mem::take(&mut self.held);
        let two = Two {
            a: &held,
            b: &input[offset..],
        };
        let total = two.len();
        let n = held.len();
        let mut pos = 0;
        let mut long_tail = false;
        let mut prev: &[u8] = &[];
        self.chain.clear();
        // The held lines, then the new input's lines (found with one `memchr` pass).
        while pos < n {
            let (end, complete) = match two.newline(pos) {
                Some(e) => (e, true),
                None => (total, last),
            };
            if end - pos > MAX_WRAP_LINE {
                self.close(index, engine, counts, two);
                prev = &[];
                if !complete {
                    self.in_long = true;
                    long_tail = true;
                    break;
                }
                pos = end + 1;
                continue;
            }
            if !complete {
                break;
            }
            prev = self.step(index, engine, counts, two, prev, pos, end);
            pos = end + 1;
        }
        if !long_tail && pos >= n && pos < total {
            let b = two.b;
            let base = pos - n;
            for e in Newlines::new(&b[base..]) {
                let (ls, le) = (pos - n, base + e);
                if le - ls > MAX_WRAP_LINE {
                    self.close(index, engine, counts, two);
                    prev = &[];
                } else {
                    prev = self.step(index, engine, counts, two, prev, pos, n + le);
                }
                pos = n + le + 1;
            }
            if pos < total {
                // The incomplete last line (complete if the input has ended).
                let long = total - pos > MAX_WRAP_LINE;
                if long {
                    self.close(index, engine, counts, two);
                    self.in_long = !last;
                    long_tail = !last;
                    pos = total;
                } else if last {
                    self.step(index, engine, counts, two, prev, pos, total);
                    pos = total;
                }
            }
        }
        let pos = pos.min(total);
        let hold_from = if last || long_tail {
            self.close(index, engine, counts, two);
            total
        } else {
            self.chain.first().map_or(pos, |l| l.start).min(total)
        };
        self.chain.clear();
        self.forward(engine, two, hold_from, offset);
        // What stays held: open chains are never searched, so it has no edits.
        let n = held.len();
        if hold_from < n {
            self.next_held.extend_from_slice(&held[hold_from..]);
        }
        self.next_held
            .extend_from_slice(two.b.get(hold_from.max(n) - n..).unwrap_or_default());
        self.held = held;
    }

    /// One complete line `[start, end)` of `two`, after the line whose content is `prev`:
    /// extends the open chain or starts a new one. Returns the line's content.
    ///
    /// Inlined into the line loop: almost every line of a log links to neither neighbour and
    /// only replaces the open chain's one line; the rest is [`WrapState::extend`].
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn step<'t>(
        &mut self,
        index: &WrapIndex,
        engine: &Engine,
        counts: &mut [u64],
        two: Two<'t>,
        prev: &[u8],
        start: usize,
        end: usize,
    ) -> &'t [u8] {
        let text = two.get(start, end);
        let (cs, ce) = content(text);
        let c = &text[cs..ce];
        let line = Line {
            start,
            cs: start + cs,
            ce: start + ce,
        };
        match self.chain.as_mut_slice() {
            [only] if !index.linked(prev, c) => *only = line,
            _ => self.extend(index, engine, counts, two, prev, c, line, end),
        }
        c
    }

    /// [`WrapState::step`] for a line that links to the previous one, or that follows a chain
    /// of several lines or none.
    #[allow(clippy::too_many_arguments)]
    #[inline(never)]
    fn extend(
        &mut self,
        index: &WrapIndex,
        engine: &Engine,
        counts: &mut [u64],
        two: Two<'_>,
        prev: &[u8],
        c: &[u8],
        line: Line,
        end: usize,
    ) {
        if !self.chain.is_empty() && index.linked(prev, c) {
            self.chain.push(line);
            if end - self.chain[0].start > CHAIN_CAP {
                self.close(index, engine, counts, two);
            }
        } else if self.chain.len() > 1 {
            self.close(index, engine, counts, two);
            self.chain.push(line);
        } else if let Some(only) = self.chain.first_mut() {
            *only = line;
        } else {
            self.chain.push(line);
        }
    }

    /// Plans `[0, to)` of `two` with the edits applied; `offset` is where `two.b` starts in
    /// the caller's input.
    fn forward(&mut self, engine: &Engine, two: Two<'_>, to: usize, offset: usize) {
        let n = two.a.len();
        let plan = &mut self.plan;
        let piece = |from: usize, upto: usize, plan: &mut Vec<Piece>| {
            if from < upto.min(n) {
                plan.push(Piece {
                    src: Src::Held,
                    from,
                    to: upto.min(n),
                });
            }
            if upto > n && upto > from {
                plan.push(Piece {
                    src: Src::Input,
                    from: from.max(n) - n + offset,
                    to: upto - n + offset,
                });
            }
        };
        self.edits
            .sort_unstable_by_key(|e| (e.0, std::cmp::Reverse(e.1)));
        let mut pos = 0;
        for &(a, b, label, first) in &self.edits {
            if b <= pos || a >= to {
                continue;
            }
            piece(pos, a.max(pos), plan);
            if first && a >= pos {
                let placeholder = engine
                    .labels
                    .get(label)
                    .map_or(&[][..], |l| l.placeholder.as_slice());
                let from = self.fill.len();
                self.fill.extend_from_slice(placeholder);
                plan.push(Piece {
                    src: Src::Fill,
                    from,
                    to: self.fill.len(),
                });
            }
            pos = b.min(to);
        }
        piece(pos, to, plan);
    }

    /// The chain ends: searches it when it links lines, and forgets it.
    fn close(&mut self, index: &WrapIndex, engine: &Engine, counts: &mut [u64], two: Two<'_>) {
        if self.chain.len() > 1 {
            self.search(index, engine, counts, two);
        }
        self.chain.clear();
    }

    /// Searches the joined contents of the chain for needles crossing a line break and
    /// records the edits that remove them.
    fn search(&mut self, index: &WrapIndex, engine: &Engine, counts: &mut [u64], two: Two<'_>) {
        let reach = index.max_len.saturating_sub(1);
        self.joined.clear();
        self.segs.clear();
        let n = self.chain.len();
        for (i, l) in self.chain.iter().enumerate() {
            let from = if i == 0 {
                l.ce - (l.ce - l.cs).min(reach)
            } else {
                l.cs
            };
            let to = if i + 1 == n {
                l.ce.min(l.cs + reach)
            } else {
                l.ce
            };
            self.segs.push((self.joined.len(), from, to - from));
            self.joined.extend_from_slice(two.get(from, to));
        }
        self.found.clear();
        let segs = &self.segs;
        let found = &mut self.found;
        engine.known.for_each(&self.joined, |s, e, k| {
            // Only needles that cross a break: the line passes find the others.
            if engine.known.needles[k].bytes.len() >= MIN_WRAPPED_NEEDLE
                && segs[1..].iter().any(|&(v0, _, _)| s < v0 && e > v0)
            {
                found.push((s, e, k));
            }
        });
        if self.found.is_empty() {
            return;
        }
        // Merge overlapping hits into spans of the joined text, each named after its first.
        self.found.sort_unstable();
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        for &(s, e, k) in &self.found {
            match spans.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => spans.push((s, e, engine.known_label.get(k).copied().unwrap_or(0))),
            }
        }
        // Each span's piece on each line: the first becomes the placeholder, the rest go.
        for &(s, e, label) in &spans {
            let mut first = true;
            for &(v0, from, len) in &self.segs {
                let (a, b) = (s.max(v0), e.min(v0 + len));
                if a < b {
                    self.edits
                        .push((from + (a - v0), from + (b - v0), label, first));
                    first = false;
                }
            }
            if let Some(c) = counts.get_mut(label) {
                *c += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_junk_tables_cover_every_junk_character() {
        for b in 0..=255u8 {
            for rest in [&[][..], &[0x94, 0x82], &[0x94, 0x83], &[0x95, 0x91]] {
                let s = [&[b][..], rest].concat();
                if lead_junk(&s) > 0 {
                    assert!(LEAD_JUNK[usize::from(b)], "lead byte {b:#x}");
                }
            }
            for before in [&[][..], &[0xe2, 0x94], &[0xe2, 0x95], b"ab"] {
                let s = [before, &[b][..]].concat();
                if trail_junk(&s) > 0 {
                    assert!(TRAIL_JUNK[usize::from(b)], "trail byte {b:#x}");
                }
            }
        }
        for line in [
            "abc",
            " abc",
            "abc ",
            "│abc",
            "abc│",
            "|a|",
            "\r",
            "x",
            "",
            "║ a ║",
        ] {
            let line = line.as_bytes();
            assert_eq!(content(line), trimmed(line), "{line:?}");
        }
    }

    #[test]
    fn junk_is_taken_off_both_ends() {
        let buf = "  │ | abc def |  \r".as_bytes();
        let (cs, ce) = content(buf);
        assert_eq!(&buf[cs..ce], b"abc def");
        let buf = b"abc\\";
        let (cs, ce) = content(buf);
        assert_eq!(
            &buf[cs..ce],
            b"abc\\",
            "a backslash may be part of a JSON-escaped value"
        );
        let (cs, ce) = content(b"   ");
        assert_eq!(cs, ce);
    }
}
