//! Cutting the input stream into lines and long-line windows, and writing the output.
//!
//! This module exists to make the output independent of how the input was chunked. Complete
//! lines are the unit: a chunk's complete lines are scanned together (one prefilter pass, one
//! known-value pass), and only the last, incomplete line is held back. A line longer than
//! `window + overlap` bytes is never buffered whole: it is processed in windows whose positions
//! depend only on the offset within the line (window `i` accepts matches starting in
//! `[i*window, (i+1)*window)` and sees `overlap` bytes of context on both sides, more than the
//! longest match), so the same windows are used whatever the chunking. PEM blocks are followed
//! by a per-line state machine (`pem.rs`) that never needs to look ahead.

use std::sync::Arc;

use crate::pem::{self, BodyLine, PemState};
use crate::scan::{Cand, Engine, Redaction, resolve};
use crate::wrap::{Src, WrapState};
use crate::{Config, Error};
use memchr::{memchr, memrchr};

/// Window size for long lines, at least this many bytes (grown with the overlap).
const MIN_WINDOW: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// A keyword occurrence: its trigger ([`Engine::wake`]).
    Keyword(usize),
    /// A known value: its end and needle.
    Known(usize, usize),
}

/// A very long line being processed window by window.
#[derive(Debug, Default)]
struct LongLine {
    /// Line offset of `pending[0]`.
    base: usize,
    /// Next window to process.
    next: usize,
    /// Line offset up to which output was written (or skipped inside a redaction).
    pos: usize,
}

/// Streaming redactor. Output is byte-identical whatever the chunk boundaries of the input.
///
/// Memory is bounded by the configuration, not the input: at most one incomplete line of up to
/// `window + overlap` bytes (about 80 KiB with the built-in rules) is held back, and a longer
/// line keeps only its current window.
#[derive(Debug)]
pub struct Redactor {
    engine: Arc<Engine>,
    counts: Vec<u64>,
    pending: Vec<u8>,
    long: Option<LongLine>,
    pem: PemState,
    /// Known values wrapped across lines (a pass over this redactor's own output).
    wrap: WrapState,
    window: usize,
    overlap: usize,
    // Scratch buffers, kept to avoid allocating per line.
    events: Vec<(usize, Ev)>,
    rules: Vec<usize>,
    known: Vec<(usize, usize, usize)>,
    cands: Vec<Cand>,
    reds: Vec<Redaction>,
}

impl Redactor {
    /// Compiles the built-in rules, the user rules and the known values of `config`.
    ///
    /// Fails only on unusable user rules ([`Error::Toml`], [`Error::InvalidRules`]).
    pub fn new(config: &Config) -> Result<Redactor, Error> {
        Ok(Redactor::with_engine(Arc::new(Engine::new(config)?)))
    }

    /// A new redactor (fresh state, counts at zero) for the same configuration, sharing this
    /// one's compiled engine: nothing is built again, and a regex either compiles serves both.
    pub fn with_same_engine(&self) -> Redactor {
        Redactor::with_engine(Arc::clone(&self.engine))
    }

    fn with_engine(engine: Arc<Engine>) -> Redactor {
        let overlap = engine.max_match + 64;
        let window = MIN_WINDOW.max(overlap * 4);
        Redactor {
            counts: vec![0; engine.labels.len()],
            engine,
            pending: Vec::new(),
            long: None,
            pem: PemState::Outside,
            wrap: WrapState::default(),
            window,
            overlap,
            events: Vec::new(),
            rules: Vec::new(),
            known: Vec::new(),
            cands: Vec::new(),
            reds: Vec::new(),
        }
    }

    /// Lines longer than this are processed in windows.
    fn long_threshold(&self) -> usize {
        self.window + self.overlap
    }

    /// Feeds the next chunk (any bytes; normally UTF-8 text cut at line boundaries, but a line
    /// may arrive in pieces) and appends the redacted text that is now final to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.engine.wrap.is_none() {
            return self.push_lines(chunk, out);
        }
        self.wrapped(chunk, out, false);
    }

    /// Runs the wrapped-value pass over `chunk` and forwards what it plans to the line passes.
    fn wrapped(&mut self, chunk: &[u8], out: &mut Vec<u8>, last: bool) {
        let engine = Arc::clone(&self.engine);
        let Some(index) = &engine.wrap else {
            return;
        };
        self.wrap
            .plan(index, &engine, &mut self.counts, chunk, last);
        let plan = std::mem::take(&mut self.wrap.plan);
        let held = std::mem::take(&mut self.wrap.held);
        let fill = std::mem::take(&mut self.wrap.fill);
        for p in &plan {
            let src = match p.src {
                Src::Held => held.as_slice(),
                Src::Input => chunk,
                Src::Fill => fill.as_slice(),
            };
            self.push_lines(src.get(p.from..p.to).unwrap_or_default(), out);
        }
        self.wrap.plan = plan;
        self.wrap.held = held;
        self.wrap.fill = fill;
        self.wrap.done();
    }

    /// The line passes over one chunk.
    fn push_lines(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let nl = memchr(b'\n', rest);
            if self.long.is_some() {
                match nl {
                    Some(i) => {
                        self.feed_long(&rest[..i], out);
                        self.end_long(out);
                        out.push(b'\n');
                        rest = &rest[i + 1..];
                    }
                    None => {
                        self.feed_long(rest, out);
                        rest = &[];
                    }
                }
                continue;
            }
            match nl {
                Some(_) if self.pending.is_empty() => {
                    let last = memrchr(b'\n', rest).unwrap_or(0);
                    self.process_complete(&rest[..=last], out);
                    rest = &rest[last + 1..];
                }
                Some(i) => {
                    self.feed_partial(&rest[..i], out);
                    if self.long.is_some() {
                        self.end_long(out);
                        out.push(b'\n');
                    } else {
                        self.pending.push(b'\n');
                        let pending = std::mem::take(&mut self.pending);
                        self.process_complete(&pending, out);
                        self.pending = pending;
                        self.pending.clear();
                    }
                    rest = &rest[i + 1..];
                }
                None => {
                    self.feed_partial(rest, out);
                    rest = &[];
                }
            }
        }
    }

    /// Ends the input and appends the rest of the redacted text to `out`. The redactor can be
    /// used again afterwards for a new input (its report keeps counting).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if self.engine.wrap.is_some() {
            self.wrapped(&[], out, true);
        }
        self.finish_lines(out);
    }

    /// Ends the line passes.
    fn finish_lines(&mut self, out: &mut Vec<u8>) {
        if self.long.is_some() {
            self.end_long(out);
        } else if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.process_complete(&pending, out);
            self.pending = pending;
        }
        self.pending.clear();
        self.pem = PemState::Outside;
    }

    /// Redactions so far as (rule name, count), sorted by rule name. Never a value.
    pub fn report(&self) -> Vec<(String, u64)> {
        let mut r: Vec<(String, u64)> = self
            .engine
            .labels
            .iter()
            .zip(&self.counts)
            .filter(|(_, c)| **c > 0)
            .map(|(l, c)| (l.report.clone(), *c))
            .collect();
        r.sort();
        r
    }

    /// Adds bytes of an incomplete line (no newline in `data`) in normal mode, switching to
    /// window mode when the line grows past the threshold.
    fn feed_partial(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        while !data.is_empty() {
            if self.long.is_some() {
                self.feed_long(data, out);
                return;
            }
            let room = (self.long_threshold() + 1)
                .saturating_sub(self.pending.len())
                .max(1);
            let take = room.min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() > self.long_threshold() {
                // A line this long is never PEM body: a block open before it ends here.
                self.pem = PemState::Outside;
                self.long = Some(LongLine::default());
                self.feed_long(&[], out);
            }
        }
    }

    /// Adds bytes of a long line (no newline in `data`), processing each window once all its
    /// bytes are there.
    fn feed_long(&mut self, mut data: &[u8], out: &mut Vec<u8>) {
        loop {
            let Some(long) = self.long.as_ref() else {
                return;
            };
            let ready_at = (long.next + 1) * self.window + self.overlap;
            let have = long.base + self.pending.len();
            if have >= ready_at {
                self.long_window(None, out);
                continue;
            }
            if data.is_empty() {
                return;
            }
            let take = (ready_at - have).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
        }
    }

    /// The long line ended (newline or end of input): processes its remaining windows.
    fn end_long(&mut self, out: &mut Vec<u8>) {
        let Some(long) = self.long.as_ref() else {
            return;
        };
        let len = long.base + self.pending.len();
        while self
            .long
            .as_ref()
            .is_some_and(|l| l.next * self.window < len)
        {
            self.long_window(Some(len), out);
        }
        if let Some(long) = self.long.take()
            && long.pos < len
        {
            let from = long.pos.saturating_sub(long.base);
            out.extend_from_slice(self.pending.get(from..).unwrap_or_default());
        }
        self.pending.clear();
    }

    /// Processes the next window of the long line in `pending`; `line_len` is known once the
    /// line has ended.
    fn long_window(&mut self, line_len: Option<usize>, out: &mut Vec<u8>) {
        let Some(mut long) = self.long.take() else {
            return;
        };
        let pending = std::mem::take(&mut self.pending);
        let avail = long.base + pending.len();
        let end = line_len.unwrap_or(usize::MAX).min(avail);
        let i = long.next;
        self.window_at(&pending, long.base, i, end, &mut long.pos, out);
        long.next += 1;
        self.pending = pending;
        // Keep only what the next window needs (its left context).
        let keep_from = (long.next * self.window).saturating_sub(self.overlap);
        let drop = keep_from.saturating_sub(long.base).min(self.pending.len());
        self.pending.drain(..drop);
        long.base += drop;
        self.long = Some(long);
    }

    /// Window `i` of a line of which `data` holds the bytes from line offset `base` up to
    /// `end` (the line's end, or as far as is needed). Writes output up to the window's end.
    fn window_at(
        &mut self,
        data: &[u8],
        base: usize,
        i: usize,
        end: usize,
        pos: &mut usize,
        out: &mut Vec<u8>,
    ) {
        let a0 = i * self.window;
        let a1 = ((i + 1) * self.window).min(end);
        let r0 = a0.saturating_sub(self.overlap);
        let r1 = (a1 + self.overlap).min(end);
        let Some(frag) = data.get(r0 - base..r1 - base) else {
            return;
        };
        self.fragment_redactions(frag, (a0 - r0, a1 - r0));
        let reds = std::mem::take(&mut self.reds);
        for r in &reds {
            let (s, e) = (r.start + r0, r.end + r0);
            if s >= *pos {
                out.extend_from_slice(data.get(*pos - base..s - base).unwrap_or_default());
                out.extend_from_slice(&self.engine.labels[r.label].placeholder);
                self.counts[r.label] += 1;
                *pos = e;
            } else if e > *pos {
                *pos = e;
            }
        }
        self.reds = reds;
        self.reds.clear();
        if *pos < a1 {
            out.extend_from_slice(data.get(*pos - base..a1 - base).unwrap_or_default());
            *pos = a1;
        }
    }

    /// A complete line longer than the threshold, all in memory: the same windows as when it
    /// is streamed.
    fn process_long_complete(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let mut pos = 0;
        let mut i = 0;
        while i * self.window < line.len() {
            self.window_at(line, 0, i, line.len(), &mut pos, out);
            i += 1;
        }
        if pos < line.len() {
            out.extend_from_slice(&line[pos..]);
        }
    }

    /// Redactions (relative to `frag`) found in a fragment scanned on its own.
    fn fragment_redactions(&mut self, frag: &[u8], accept: (usize, usize)) {
        self.rules.clear();
        self.known.clear();
        let (rules, known) = (&mut self.rules, &mut self.known);
        let engine = &self.engine;
        engine.keyword_hits(frag, |p, t| engine.wake(frag, p, t, rules));
        self.engine
            .known
            .for_each(frag, |s, e, n| known.push((s, e, n)));
        self.engine
            .candidates(frag, &mut self.rules, &self.known, &mut self.cands);
        self.reds.clear();
        resolve(&mut self.cands, accept, &mut self.reds);
    }

    /// Writes `line` with the redactions in `self.reds` applied.
    fn emit(&mut self, line: &[u8], out: &mut Vec<u8>) {
        let mut pos = 0;
        for r in &self.reds {
            if r.start >= pos {
                out.extend_from_slice(line.get(pos..r.start).unwrap_or_default());
                out.extend_from_slice(&self.engine.labels[r.label].placeholder);
                self.counts[r.label] += 1;
                pos = r.end;
            } else if r.end > pos {
                pos = r.end;
            }
        }
        out.extend_from_slice(line.get(pos..).unwrap_or_default());
        self.reds.clear();
    }

    /// Complete lines (each ending in a newline, except perhaps the last at end of input).
    fn process_complete(&mut self, buf: &[u8], out: &mut Vec<u8>) {
        let mut events = std::mem::take(&mut self.events);
        events.clear();
        self.engine
            .keyword_hits(buf, |p, t| events.push((p, Ev::Keyword(t))));
        self.engine
            .known
            .for_each(buf, |s, e, n| events.push((s, Ev::Known(e, n))));
        events.sort_unstable_by_key(|&(p, ev)| (p, ev));
        let every_line = !self.engine.always.is_empty();
        let mut cur = 0;
        let mut i = 0;
        while cur < buf.len() {
            let in_block = !matches!(self.pem, PemState::Outside);
            let ls = if in_block || every_line {
                cur
            } else {
                while i < events.len() && events[i].0 < cur {
                    i += 1;
                }
                let Some(&(p, _)) = events.get(i) else { break };
                memrchr(b'\n', &buf[cur..p]).map_or(cur, |x| cur + x + 1)
            };
            let le = memchr(b'\n', &buf[ls..]).map_or(buf.len(), |x| ls + x);
            let next = if le < buf.len() { le + 1 } else { le };
            out.extend_from_slice(&buf[cur..ls]);
            while i < events.len() && events[i].0 < ls {
                i += 1;
            }
            let first_event = i;
            while i < events.len() && events[i].0 < le {
                i += 1;
            }
            let line = &buf[ls..le];
            if in_block && self.block_line(line, le < buf.len(), out) {
                // Consumed as PEM body (written or dropped with its newline).
                cur = next;
                continue;
            }
            self.line(line, &events[first_event..i], ls, out);
            if le < buf.len() {
                out.push(b'\n');
            }
            cur = next;
        }
        out.extend_from_slice(buf.get(cur..).unwrap_or_default());
        self.events = events;
    }

    /// A line inside a PEM block. Returns true when the line was consumed as body.
    fn block_line(&mut self, line: &[u8], has_newline: bool, out: &mut Vec<u8>) -> bool {
        if let PemState::Base64 { width } = self.pem {
            return self.base64_line(line, width);
        }
        let PemState::Inside {
            prefix_shape,
            placed,
        } = &mut self.pem
        else {
            return false;
        };
        let class = if line.len() > self.window + self.overlap {
            BodyLine::NotBody
        } else {
            pem::classify(line, prefix_shape)
        };
        match class {
            BodyLine::Body(s, e) => {
                if !*placed {
                    *placed = true;
                    let label = self.engine.rule_label[self.engine.pem_rule.unwrap_or(0)];
                    // The prefix (a timestamp, an indent) is scanned like any text.
                    let prefix = &line[..s];
                    self.fragment_redactions(prefix, (0, prefix.len()));
                    self.emit(prefix, out);
                    out.extend_from_slice(&self.engine.labels[label].placeholder);
                    self.counts[label] += 1;
                    out.extend_from_slice(&line[e..]);
                    if has_newline {
                        out.push(b'\n');
                    }
                }
                true
            }
            BodyLine::Keep => false,
            BodyLine::End | BodyLine::NotBody => {
                self.pem = PemState::Outside;
                false
            }
        }
    }

    /// Whether one of `self.reds` is a base64-encoded PEM value running to the end of `line`
    /// without its padding: the value goes on on the next lines.
    fn base64_value_open(&self, line: &[u8]) -> bool {
        let Some(label) = self
            .engine
            .pem_base64_rule
            .map(|r| self.engine.rule_label[r])
        else {
            return false;
        };
        let end = pem::trim_end_ansi(line).len();
        self.reds
            .iter()
            .any(|r| r.label == label && r.end == end && line[..end].last() != Some(&b'='))
    }

    /// A line after a base64-encoded PEM value that ran to the end of its line: a line that
    /// continues the value is removed whole. Returns true when the line was consumed.
    fn base64_line(&mut self, line: &[u8], width: Option<usize>) -> bool {
        let class = if line.len() > 4096 {
            BodyLine::NotBody
        } else {
            pem::classify_base64(line, width)
        };
        let BodyLine::Body(s, e) = class else {
            self.pem = PemState::Outside;
            return false;
        };
        let width = width.or(Some(e - s));
        self.pem = if pem::base64_last(line, (s, e), width) {
            PemState::Outside
        } else {
            PemState::Base64 { width }
        };
        true
    }

    /// One complete line (without its newline) with its prefilter and known-value events.
    fn line(&mut self, line: &[u8], events: &[(usize, Ev)], ls: usize, out: &mut Vec<u8>) {
        if line.len() > self.long_threshold() {
            self.process_long_complete(line, out);
            return;
        }
        self.rules.clear();
        self.known.clear();
        for &(p, ev) in events {
            match ev {
                Ev::Keyword(t) => self.engine.wake(line, p - ls, t, &mut self.rules),
                Ev::Known(e, n) => self.known.push((p - ls, e - ls, n)),
            }
        }
        if self.rules.is_empty() && self.known.is_empty() && self.engine.always.is_empty() {
            out.extend_from_slice(line);
            return;
        }
        let pem_check = self
            .engine
            .pem_rule
            .is_some_and(|p| self.rules.contains(&p));
        self.engine
            .candidates(line, &mut self.rules, &self.known, &mut self.cands);
        resolve(&mut self.cands, (0, line.len()), &mut self.reds);
        let base64_open = self.base64_value_open(line);
        self.emit(line, out);
        if pem_check && let Some(prefix) = pem::begin_line(line) {
            self.pem = pem::open(line, prefix);
        } else if base64_open {
            self.pem = PemState::Base64 { width: None };
        }
    }
}

/// Redacts a whole buffer at once: the same result as any chunking through [`Redactor`].
/// Returns the redacted text and the report.
#[allow(clippy::type_complexity)]
pub fn redact_all(config: &Config, input: &[u8]) -> Result<(Vec<u8>, Vec<(String, u64)>), Error> {
    let mut r = Redactor::new(config)?;
    let mut out = Vec::with_capacity(input.len() + input.len() / 16);
    r.push(input, &mut out);
    r.finish(&mut out);
    Ok((out, r.report()))
}
