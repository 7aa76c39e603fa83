//! Choosing the part of a failed CI log that explains the failure, within a byte budget.
//!
//! Exlogare sends a failed job's log to a root-cause service. When the log is bigger than the
//! budget, a fixed head and tail loses the explaining lines more often than keeping the tail
//! alone; this crate keeps, in order of priority, the last lines, error and failure lines with
//! the context around them, the line that starts a stack trace and the cause above it,
//! test-runner failure summaries, the failing command and its exit code, the failing GitLab
//! section, and then as much of the end of the log as still fits. Repeated lines (alike but for
//! numbers) collapse to one with `×N`, very long lines are cut in the middle, and CI
//! boilerplate and passing tests are the first to go. A [`Manifest`] says what was kept, why,
//! and how much was left out.
//!
//! It works in one streaming pass with bounded memory: each line is classified as it arrives
//! ([`classify`]), the last few lines sit in a small ring where later lines can still raise
//! their priority (the line before a stack trace, the context before an error), and older lines
//! go to a store bounded by the largest budget that drops the lowest-priority, oldest line
//! first. Memory is about the largest budget, whatever the log's size. Characters that could
//! mislead a model (bidi overrides, zero-width and control characters) are replaced by visible
//! markers and counted ([`neutral`]).
//!
//! Plain Rust with no wasm dependency, like `exlogare-redact`; the guest component binds it.
//! Fuzzed by `fuzz/fuzz_targets/excerpt_stream.rs` (no panic, each excerpt within its budget,
//! manifest ranges in order, the same result whatever the piece boundaries).

pub mod classify;
pub mod neutral;
mod store;

use std::collections::{BTreeSet, VecDeque};

use classify::{Class, Classifier, strip_timestamp};
pub use neutral::Neutralised;
use store::{Kept, Store, Stored};
#[cfg(test)]
use store::{Order, UNIT_COST};

/// The smallest budget accepted, in bytes: room for the last lines and a few markers.
pub const MIN_BUDGET: usize = 1024;

/// The default size of the failure excerpt sent in the metadata.
pub const DEFAULT_EXCERPT_BYTES: usize = 8 << 10;

/// Lines longer than this are cut in the middle (their start is kept).
pub const MAX_LINE_BYTES: usize = 1024;

/// How much of a cut line's start is kept.
const CUT_KEEP: usize = 768;

/// A line is held up to this many bytes while it is being read; the rest only counts.
const LINE_CAP: usize = 64 << 10;

/// Lines kept in the ring where later lines may still raise their priority.
const RING: usize = 16;

/// Lines (or runs of alike lines) at the end that are always kept.
const LAST_LINES: usize = 8;

/// The size assumed for an omission marker while choosing (the real ones are shorter).
const MARKER_EST: usize = 72;

/// Why the builder could not be made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A budget below [`MIN_BUDGET`].
    #[error("a budget of {0} bytes is too small; the excerpt needs at least {MIN_BUDGET} bytes")]
    BudgetTooSmall(usize),
    /// No budget at all.
    #[error("no budget was given")]
    NoBudget,
}

/// Why a range of lines was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The whole log fitted.
    Whole,
    /// The last lines of the log, always kept.
    LastLines,
    /// An error or failure line.
    Error,
    /// The cause of an exception (`Caused by:`).
    Cause,
    /// The line that starts a stack trace, or the first and last frames of one.
    StackTrace,
    /// A test runner's failure summary or a build tool's failure verdict.
    TestSummary,
    /// A failed command's exit code.
    ExitCode,
    /// The last command the job ran before it failed.
    Command,
    /// The failing GitLab section (its header, and its lines as far as they fit).
    Section,
    /// Lines around an error.
    Context,
    /// The end of the log, as far as it fits.
    Tail,
}

impl Reason {
    /// The name used in the manifest (`error`, `stack-trace`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Reason::Whole => "whole",
            Reason::LastLines => "last-lines",
            Reason::Error => "error",
            Reason::Cause => "cause",
            Reason::StackTrace => "stack-trace",
            Reason::TestSummary => "test-summary",
            Reason::ExitCode => "exit-code",
            Reason::Command => "command",
            Reason::Section => "section",
            Reason::Context => "context",
            Reason::Tail => "tail",
        }
    }
}

/// Kept lines `first..=last` (1-based line numbers of the cleaned, redacted log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    /// First line kept.
    pub first: u64,
    /// Last line kept.
    pub last: u64,
    /// Why.
    pub reason: Reason,
    /// Lines of the range shown only as a repeat (`[×N]`) of the line before them.
    pub collapsed_lines: u64,
    /// Bytes cut from the middle of long lines in the range.
    pub cut_bytes: u64,
}

/// What an excerpt holds, and what it left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The budget the excerpt was chosen for.
    pub budget: u64,
    /// Bytes and lines of the whole log.
    pub total_bytes: u64,
    /// Lines of the whole log (a last line without a line end counts).
    pub total_lines: u64,
    /// The kept ranges, in log order.
    pub ranges: Vec<Range>,
    /// Bytes of the log not sent verbatim: outside every kept range, plus the lines shown only
    /// as repeats and the middles cut from long lines.
    pub omitted_bytes: u64,
    /// Lines of the log outside every kept range.
    pub omitted_lines: u64,
}

/// One chosen excerpt: the text to send, and its manifest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Excerpt {
    /// The kept lines in log order, with a marker where lines were left out; the whole log
    /// (neutralised) when it fits.
    pub text: String,
    /// What was kept and why.
    pub manifest: Manifest,
}

impl Excerpt {
    /// Whether the whole log is in the text.
    pub fn is_whole(&self) -> bool {
        self.manifest.omitted_lines == 0
            && self
                .manifest
                .ranges
                .iter()
                .all(|r| r.reason == Reason::Whole)
    }
}

/// What [`Builder::finish`] returns.
#[derive(Clone, Debug, Default)]
pub struct Finished {
    /// One excerpt per budget, in the order the budgets were given.
    pub excerpts: Vec<Excerpt>,
    /// The suspicious characters replaced.
    pub neutralised: Neutralised,
}

/// One line, or a run of lines alike but for numbers, as it may be sent.
#[derive(Clone, Debug)]
struct Unit {
    seq: u64,
    first: u64,
    last: u64,
    /// Byte offset of the first line in the log.
    offset: u64,
    /// Bytes of the log this unit covers.
    bytes: u64,
    /// Bytes of the log it shows verbatim (its first line, less any cut middle).
    verbatim: u64,
    /// The shown text, ending in `\n`.
    text: String,
    class: Class,
    key: u64,
    cut: u64,
    weight: u32,
    reason: Reason,
    /// Which run of stack frames this frame belongs to (0 for other lines).
    run: u64,
    /// The line whose priority this one has (itself, or the error it is context of).
    anchor: u64,
}

impl Unit {
    /// Gives this line the priority of the line `anchor`, if that is higher than its own.
    fn raise_for(&mut self, weight: u32, reason: Reason, anchor: u64) {
        raise(
            (&mut self.weight, &mut self.reason, &mut self.anchor),
            (weight, reason, anchor),
        );
    }
}

/// Raises a priority `(weight, reason, anchor)` to `to` if that is higher; an equal weight
/// takes the later anchor (a later window's recency) but keeps its own reason.
fn raise(now: (&mut u32, &mut Reason, &mut u64), to: (u32, Reason, u64)) {
    let (weight, reason, anchor) = now;
    if to.0 > *weight {
        *weight = to.0;
        *reason = to.1;
        *anchor = to.2;
    } else if to.0 == *weight && to.2 > *anchor {
        *anchor = to.2;
    }
}

/// Weights: higher is kept first; equal weights keep the later anchor, then the later line.
/// What explains a failure is one tier, ordered by the recency of the line that anchors it (an
/// error and its context form one window); weak words a lower tier.
mod weight {
    pub const LAST: u32 = 1000;
    pub const CAUSE: u32 = 600;
    pub const SUMMARY: u32 = 600;
    pub const ERROR: u32 = 600;
    pub const TRACE_START: u32 = 600;
    pub const EXIT: u32 = 600;
    pub const SECTION_HEADER: u32 = 600;
    pub const COMMAND_LAST: u32 = 600;
    pub const CONTEXT: u32 = 600;
    pub const FRAME_EDGE: u32 = 600;
    pub const WEAK: u32 = 350;
    pub const WEAK_CONTEXT: u32 = 350;
    /// The floor of the explaining tiers, and what they fall to far from the end.
    pub const EXPLAINS: u32 = 300;
    pub const FAR: u32 = 200;
    pub const FRAME_MID: u32 = 250;
    pub const SECTION_BODY: u32 = 150;
    pub const PLAIN: u32 = 100;
    pub const SECTION_MARK: u32 = 90;
    pub const PASS: u32 = 20;
    pub const BOILERPLATE: u32 = 5;
}

/// The streaming excerpt builder: push the (redacted) log, then [`Builder::finish`].
pub struct Builder {
    budgets: Vec<usize>,
    max_budget: usize,
    keep_terminal: bool,
    classifier: Classifier,
    /// The raw text while it may still fit the largest budget.
    whole: Option<Vec<u8>>,
    /// `whole`'s buffer once the log outgrew it, kept for the largest excerpt's text: written
    /// there, that text needs no memory beyond what the builder already had.
    spare: Vec<u8>,
    pending: Vec<u8>,
    pending_len: u64,
    offset: u64,
    line_no: u64,
    seq: u64,
    cur: Option<Unit>,
    ring: VecDeque<Unit>,
    store: Store,
    neutralised: Neutralised,
    frame_run: u32,
    runs: u64,
    last_anchor: u64,
    context_weight: u32,
    after_left: u32,
    block_left: u32,
    open_sections: Vec<(String, Unit)>,
    failing_section: Option<(Unit, Option<u64>)>,
    last_command: Option<Unit>,
}

impl Builder {
    /// A builder that chooses one excerpt per budget (in bytes of sent text).
    pub fn new(budgets: &[usize]) -> Result<Builder, Error> {
        if let Some(&small) = budgets.iter().find(|&&b| b < MIN_BUDGET) {
            return Err(Error::BudgetTooSmall(small));
        }
        let max_budget = budgets.iter().copied().max().ok_or(Error::NoBudget)?;
        Ok(Builder {
            budgets: budgets.to_vec(),
            max_budget,
            keep_terminal: false,
            classifier: Classifier::new(),
            whole: Some(Vec::new()),
            spare: Vec::new(),
            pending: Vec::new(),
            pending_len: 0,
            offset: 0,
            line_no: 0,
            seq: 0,
            cur: None,
            ring: VecDeque::new(),
            store: Store::new(max_budget),
            neutralised: Neutralised::default(),
            frame_run: 0,
            runs: 0,
            last_anchor: 0,
            context_weight: weight::CONTEXT,
            after_left: 0,
            block_left: 0,
            open_sections: Vec::new(),
            failing_section: None,
            last_command: None,
        })
    }

    /// Keeps the escape character and carriage returns instead of neutralising them: for a log
    /// whose terminal codes the user asked to keep (`--keep-ansi`).
    pub fn keep_terminal_controls(mut self, keep: bool) -> Builder {
        self.keep_terminal = keep;
        self
    }

    /// Takes the next piece of the log; pieces may be cut anywhere.
    pub fn push(&mut self, mut text: &[u8]) {
        if let Some(whole) = &mut self.whole {
            let len = whole.len() + text.len();
            if len <= self.max_budget {
                if len > whole.capacity() {
                    // Doubling, but never past the budget.
                    let cap = (whole.capacity() * 2).max(len).min(self.max_budget);
                    whole.reserve_exact(cap - whole.len());
                }
                whole.extend_from_slice(text);
            } else if let Some(mut buffer) = self.whole.take() {
                buffer.clear();
                self.spare = buffer;
            }
        }
        while let Some(nl) = memchr::memchr(b'\n', text) {
            let (line, rest) = text.split_at(nl + 1);
            if self.pending_len == 0 {
                // The whole line is in this piece: no copy.
                let held = utf8(&line[..line.len().min(LINE_CAP)]);
                self.line(&held, line.len() as u64);
            } else {
                self.take_partial(line);
                self.end_line();
            }
            text = rest;
        }
        self.take_partial(text);
    }

    fn take_partial(&mut self, part: &[u8]) {
        self.pending_len += part.len() as u64;
        let room = LINE_CAP.saturating_sub(self.pending.len());
        self.pending
            .extend_from_slice(&part[..part.len().min(room)]);
    }

    fn end_line(&mut self) {
        let raw = std::mem::take(&mut self.pending);
        let len = std::mem::take(&mut self.pending_len);
        let text = utf8(&raw);
        self.line(&text, len);
        // Keep the buffer for the next line cut between pieces.
        let mut raw = raw;
        raw.clear();
        self.pending = raw;
    }

    /// One whole line (with its line end, if any) of `len` bytes in the log.
    fn line(&mut self, raw: &str, len: u64) {
        self.line_no += 1;
        let offset = self.offset;
        self.offset += len;
        let body = raw
            .strip_suffix('\n')
            .map(|s| s.strip_suffix('\r').unwrap_or(s))
            .unwrap_or(raw);
        let mut text = String::with_capacity(body.len() + 1);
        neutral::neutralise_into(body, &mut text, &mut self.neutralised, self.keep_terminal);
        let mut cut = 0;
        if text.len() > MAX_LINE_BYTES {
            let mut end = CUT_KEEP;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            cut = len.saturating_sub(end as u64);
            text.truncate(end);
            text.push_str(&format!(" [… exlogare: {cut} bytes of this line cut …]"));
        } else if len > LINE_CAP as u64 {
            cut = len - LINE_CAP as u64;
        }
        let key = line_key(&text);
        // A line alike the run before it but for numbers, times or paths joins the run; it is
        // of the same kind (the classifier looks at words, not at numbers), so it is not
        // classified again. Section markers never join.
        if let Some(cur) = &mut self.cur
            && cur.key == key
            && !matches!(cur.class, Class::SectionStart(_) | Class::SectionEnd(_))
        {
            cur.last = self.line_no;
            cur.bytes += len;
            cur.cut += cut;
            return;
        }
        let class = self.classifier.classify(&text);
        text.push('\n');
        let next = Unit {
            seq: 0,
            first: self.line_no,
            last: self.line_no,
            offset,
            bytes: len,
            verbatim: len.saturating_sub(cut),
            text,
            class,
            key,
            cut,
            weight: 0,
            reason: Reason::Tail,
            run: 0,
            anchor: 0,
        };
        if let Some(done) = self.cur.replace(next) {
            self.emit(done);
        }
    }

    /// Gives a finished unit its priority, raises its neighbours' where it explains them, and
    /// puts it in the ring.
    fn emit(&mut self, mut u: Unit) {
        u.seq = self.seq;
        u.anchor = u.seq;
        self.seq += 1;
        let strong = matches!(
            u.class,
            Class::Error | Class::Cause | Class::Summary | Class::ExitCode
        );
        let (w, r) = match &u.class {
            Class::Error => (weight::ERROR, Reason::Error),
            Class::Cause => (weight::CAUSE, Reason::Cause),
            Class::Summary => (weight::SUMMARY, Reason::TestSummary),
            Class::ExitCode => (weight::EXIT, Reason::ExitCode),
            Class::Weak => (weight::WEAK, Reason::Error),
            // Only the last command is the failing one (raised in `finish`).
            Class::Command => (weight::PLAIN, Reason::Command),
            Class::SectionStart(_) | Class::SectionEnd(_) => (weight::SECTION_MARK, Reason::Tail),
            Class::Frame if self.frame_run < 3 => (weight::FRAME_EDGE, Reason::StackTrace),
            // The middle of a trace: kept before plain lines, after errors and their context.
            Class::Frame => (weight::FRAME_MID, Reason::StackTrace),
            Class::Plain => (weight::PLAIN, Reason::Tail),
            Class::Pass => (weight::PASS, Reason::Tail),
            Class::Boilerplate => (weight::BOILERPLATE, Reason::Tail),
        };
        u.weight = w;
        u.reason = r;

        // Frames: the line before the first one starts the trace, and the line above that is
        // often its cause; the last frame of a long run is kept with the first ones.
        if u.class == Class::Frame {
            if self.frame_run == 0 {
                self.runs += 1;
                let n = self.ring.len();
                let anchor = u.seq;
                if let Some(prev) = self.ring.back_mut() {
                    prev.raise_for(weight::TRACE_START, Reason::StackTrace, anchor);
                }
                if n >= 2
                    && let Some(above) = self.ring.get_mut(n - 2)
                    && above.class != Class::Boilerplate
                {
                    above.raise_for(weight::CONTEXT, Reason::Context, anchor);
                }
                self.last_anchor = anchor;
            }
            self.frame_run += 1;
            u.run = self.runs;
            if self.frame_run <= 3 {
                u.anchor = self.last_anchor;
            }
        } else {
            if self.frame_run > 3 {
                let anchor = self.last_anchor;
                if let Some(prev) = self.ring.back_mut() {
                    prev.raise_for(weight::FRAME_EDGE, Reason::StackTrace, anchor);
                }
            }
            self.frame_run = 0;
        }

        // Context after an error: a few lines, and an indented or boxed block as far as it goes.
        if !strong && u.class != Class::Boilerplate {
            let (w, anchor) = (self.context_weight, self.last_anchor);
            if self.after_left > 0 {
                self.after_left -= 1;
                u.raise_for(w, Reason::Context, anchor);
                // A weak failure line inside an error's window carries the window on.
                if u.class == Class::Weak {
                    self.after_left = 3;
                }
            } else if self.block_left > 0 && is_continuation(&u.text) {
                self.block_left -= 1;
                u.raise_for(w, Reason::Context, anchor);
            } else {
                self.block_left = 0;
            }
        }
        if strong {
            self.after_left = 3;
            self.block_left = 30;
            self.last_anchor = u.seq;
            self.context_weight = weight::CONTEXT;
            let n = self.ring.len();
            for back in 1..=2usize.min(n) {
                if let Some(prev) = self.ring.get_mut(n - back)
                    && prev.class != Class::Boilerplate
                    && prev.class != Class::Pass
                {
                    prev.raise_for(weight::CONTEXT, Reason::Context, u.seq);
                }
            }
        } else if u.class == Class::Weak {
            if self.after_left == 0 {
                self.after_left = 1;
                self.last_anchor = u.seq;
                self.context_weight = weight::WEAK_CONTEXT;
            }
            if let Some(prev) = self.ring.back_mut()
                && prev.class != Class::Boilerplate
                && prev.class != Class::Pass
            {
                prev.raise_for(weight::WEAK_CONTEXT, Reason::Context, u.seq);
            }
        }

        // Sections and commands.
        match &u.class {
            Class::SectionStart(name) if self.open_sections.len() < 64 => {
                self.open_sections.push((name.clone(), u.clone()));
            }
            Class::SectionEnd(name) => {
                if let Some(pos) = self.open_sections.iter().rposition(|(n, _)| n == name) {
                    let (_, header) = self.open_sections.remove(pos);
                    if let Some((failing, end)) = &mut self.failing_section
                        && failing.seq == header.seq
                    {
                        *end = Some(u.seq);
                    }
                    self.open_sections.truncate(pos);
                }
            }
            Class::Command => self.last_command = Some(u.clone()),
            _ => {}
        }
        if strong && let Some((_, header)) = self.open_sections.last() {
            self.failing_section = Some((header.clone(), None));
        }

        self.ring.push_back(u);
        if self.ring.len() > RING
            && let Some(old) = self.ring.pop_front()
        {
            self.store.insert(old);
        }
    }

    /// Ends the log and chooses one excerpt per budget.
    pub fn finish(mut self) -> Finished {
        if !self.pending.is_empty() || self.pending_len > 0 {
            let raw = std::mem::take(&mut self.pending);
            let len = std::mem::take(&mut self.pending_len);
            let text = String::from_utf8_lossy(&raw).into_owned();
            self.line(&text, len);
        }
        if let Some(done) = self.cur.take() {
            self.emit(done);
        }
        let total_bytes = self.offset;
        let total_lines = self.line_no;

        // Everything still known, by sequence number.
        let mut units = std::mem::take(&mut self.store).into_kept();
        // The ring holds the newest lines, after every stored one.
        units.extend(self.ring.drain(..));
        // The last lines, always; the last command; the failing section.
        // Near the end even boilerplate is worth its bytes: it says how the job ended, and
        // keeping it keeps the end of the log in one piece.
        for (i, u) in units.values_mut().rev().enumerate() {
            if i < LAST_LINES {
                u.raise(weight::LAST, Reason::LastLines);
            } else if i < 4 * LAST_LINES {
                u.raise(weight::PLAIN, Reason::Tail);
            } else {
                break;
            }
        }
        if let Some(cmd) = self.last_command.take()
            && let Some(u) = units.entry(cmd)
        {
            u.raise(weight::COMMAND_LAST, Reason::Command);
        }
        let failing = match self.failing_section.take() {
            Some(f) => Some(f),
            None => self.open_sections.pop().map(|(_, h)| (h, None)),
        };
        if let Some((header, end)) = failing {
            let (from, to) = (header.seq, end.unwrap_or(u64::MAX));
            if let Some(u) = units.entry(header) {
                u.raise(weight::SECTION_HEADER, Reason::Section);
            }
            for u in units.range_mut(from + 1, to) {
                if u.weight >= weight::PLAIN {
                    u.raise(weight::SECTION_BODY, Reason::Section);
                }
            }
        }

        let mut excerpts = Vec::with_capacity(self.budgets.len());
        let mut spare = String::from_utf8(std::mem::take(&mut self.spare)).unwrap_or_default();
        for &budget in &self.budgets {
            let buffer = if budget == self.max_budget {
                std::mem::take(&mut spare)
            } else {
                String::new()
            };
            let whole = self.whole.as_deref().and_then(|w| {
                if w.len() > budget {
                    return None;
                }
                let text = neutralise_whole(w, self.keep_terminal);
                (text.len() <= budget).then_some(text)
            });
            let excerpt = match whole {
                Some(text) => Excerpt {
                    text,
                    manifest: Manifest {
                        budget: budget as u64,
                        total_bytes,
                        total_lines,
                        ranges: if total_lines == 0 {
                            Vec::new()
                        } else {
                            vec![Range {
                                first: 1,
                                last: total_lines,
                                reason: Reason::Whole,
                                collapsed_lines: 0,
                                cut_bytes: 0,
                            }]
                        },
                        omitted_bytes: 0,
                        omitted_lines: 0,
                    },
                },
                None => choose(&units, budget, total_bytes, total_lines, buffer),
            };
            excerpts.push(excerpt);
        }
        Finished {
            excerpts,
            neutralised: self.neutralised,
        }
    }
}

/// `bytes` as text, invalid UTF-8 replaced (the common, valid case checked the fast way).
fn utf8(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// The whole log, neutralised line by line.
fn neutralise_whole(raw: &[u8], keep_terminal: bool) -> String {
    let text = String::from_utf8_lossy(raw);
    let mut out = String::with_capacity(text.len());
    let mut ignored = Neutralised::default();
    for line in text.split_inclusive('\n') {
        neutral::neutralise_into(line, &mut out, &mut ignored, keep_terminal);
    }
    out
}

/// A hash of the line with its timestamp dropped, every run of digits (and hex digits mixed
/// with them) made one `#`, and every word holding a path (`a/b.go:3:2:`, `k8s.io/api@v1`) made
/// one `#`: lines alike but for numbers, times, ids or paths share a key.
fn line_key(text: &str) -> u64 {
    let body = strip_timestamp(text);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mix = |h: &mut u64, c: u8| {
        *h ^= c as u64;
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    };
    // One pass: the hash before the current word, so that a word found to hold a path can be
    // replaced by `#` when it ends.
    let mut word_start = h;
    let mut path = false;
    let mut in_num = false;
    for &b in body.as_bytes() {
        if b == b' ' {
            if path {
                h = word_start;
                mix(&mut h, b'#');
            }
            mix(&mut h, b' ');
            word_start = h;
            path = false;
            in_num = false;
            continue;
        }
        if path {
            continue;
        }
        if b == b'/' || b == b'\\' {
            path = true;
            continue;
        }
        if b.is_ascii_digit() {
            if !in_num {
                mix(&mut h, b'#');
            }
            in_num = true;
        } else if in_num && b.is_ascii_hexdigit() {
            continue;
        } else {
            in_num = false;
            mix(&mut h, b);
        }
    }
    if path {
        h = word_start;
        mix(&mut h, b'#');
    }
    h
}

/// A line that continues the block above it: indented, boxed (`│`, `|`, `╵`) or quoted.
fn is_continuation(text: &str) -> bool {
    let t = strip_timestamp(text);
    let t = t.strip_prefix("[ERROR]").unwrap_or(t);
    t.starts_with(' ')
        || t.starts_with('\t')
        || t.starts_with('│')
        || t.starts_with('|')
        || t.starts_with('╵')
        || t.starts_with('╷')
        || t.starts_with('>')
        || t.starts_with('^')
        || t.starts_with('~')
}

/// The marker put where lines were left out.
fn marker(first: u64, last: u64, bytes: u64, frames_only: bool) -> String {
    let n = last + 1 - first;
    if frames_only {
        format!("\t... exlogare: {n} frames omitted (lines {first}-{last}) ...\n")
    } else {
        format!("[… exlogare: {n} lines omitted (lines {first}-{last}, {bytes} bytes) …]\n")
    }
}

/// Chooses units within `budget` by priority, and writes the excerpt.
/// `buffer` is reused for the text.
fn choose(
    units: &Kept,
    budget: usize,
    total_bytes: u64,
    total_lines: u64,
    mut buffer: String,
) -> Excerpt {
    // An explaining line far before the end (more than four budgets) is more likely an
    // earlier, recovered problem than the failure: it falls below stack frames.
    let far = total_bytes.saturating_sub(4 * budget as u64);
    let rank = |u: &Stored| {
        let (w, a, s) = u.rank();
        let w = if (weight::EXPLAINS..weight::LAST).contains(&w) && u.offset + u.bytes < far {
            weight::FAR
        } else {
            w
        };
        (w, a, s)
    };
    let mut order: Vec<&Stored> = units.values().collect();
    order.sort_by_key(|u| std::cmp::Reverse(rank(u)));
    let mut chosen: BTreeSet<u64> = BTreeSet::new();
    let mut used = 0usize;
    for u in &order {
        let cost = u.shown_len() + marker_delta(&chosen, u.seq) * MARKER_EST;
        if used + cost <= budget {
            used += cost;
            chosen.insert(u.seq);
        } else if u.weight <= weight::PLAIN {
            // The tail is kept contiguous: once its next line does not fit, it ends there.
            break;
        }
    }
    // The real markers are usually shorter than the estimate; should they be longer, drop the
    // lowest-priority units, enough of them at once to cover the excess, until the text fits.
    let mut lowest_first = order.iter().rev();
    loop {
        let excerpt = write(
            units,
            &chosen,
            used,
            budget,
            total_bytes,
            total_lines,
            buffer,
        );
        if excerpt.text.len() <= budget || chosen.len() <= 1 {
            return excerpt;
        }
        let mut excess = excerpt.text.len() - budget;
        let mut dropped = false;
        for u in lowest_first.by_ref() {
            if chosen.len() > 1 && chosen.remove(&u.seq) {
                dropped = true;
                excess = excess.saturating_sub(u.shown_len());
                if excess == 0 {
                    break;
                }
            }
        }
        if !dropped {
            return excerpt;
        }
        buffer = excerpt.text;
    }
}

/// How many omission markers adding `seq` makes (or saves: 0 when it closes a gap).
fn marker_delta(chosen: &BTreeSet<u64>, seq: u64) -> usize {
    let prev = chosen.range(..seq).next_back().copied();
    let next = chosen.range(seq + 1..).next().copied();
    let gap_before = match prev {
        Some(p) => p + 1 < seq,
        None => seq > 0,
    };
    let gap_after = next.is_some_and(|n| seq + 1 < n);
    let had_gap = match (prev, next) {
        (Some(p), Some(n)) => p + 1 < n,
        (None, Some(n)) => n > 0,
        _ => false,
    };
    (gap_before as usize + gap_after as usize).saturating_sub(had_gap as usize)
}

/// Writes the chosen units in log order with markers in the gaps, and their manifest.
/// `reckoned` is the length choosing reckoned (every marker longer than it is), the text's
/// capacity.
fn write(
    units: &Kept,
    chosen: &BTreeSet<u64>,
    reckoned: usize,
    budget: usize,
    total_bytes: u64,
    total_lines: u64,
    mut text: String,
) -> Excerpt {
    // Sized once (a string grown by doubling would need room for twice the budget).
    text.clear();
    text.reserve_exact(reckoned);
    let mut ranges: Vec<Range> = Vec::new();
    let mut next_line = 1u64;
    let mut next_offset = 0u64;
    let mut kept_bytes = 0u64;
    let mut kept_lines = 0u64;
    let mut prev: Option<&Stored> = None;
    for seq in chosen {
        let Some(u) = units.get(*seq) else { continue };
        if u.first > next_line {
            // Between two frames of the same trace, only frames were left out.
            let frames_only = prev.is_some_and(|p| p.run != 0 && p.run == u.run);
            text.push_str(&marker(
                next_line,
                u.first - 1,
                u.offset.saturating_sub(next_offset),
                frames_only,
            ));
        }
        u.push_shown(&mut text);
        kept_bytes += u64::from(u.verbatim);
        kept_lines += u.last + 1 - u.first;
        match ranges.last_mut() {
            Some(r) if r.reason == u.reason && r.last + 1 == u.first => {
                r.last = u.last;
                r.collapsed_lines += u.repeats();
                r.cut_bytes += u.cut;
            }
            _ => ranges.push(Range {
                first: u.first,
                last: u.last,
                reason: u.reason,
                collapsed_lines: u.repeats(),
                cut_bytes: u.cut,
            }),
        }
        next_line = u.last + 1;
        next_offset = u.offset + u.bytes;
        prev = Some(u);
    }
    if next_line <= total_lines {
        text.push_str(&marker(
            next_line,
            total_lines,
            total_bytes.saturating_sub(next_offset),
            false,
        ));
    }
    Excerpt {
        text,
        manifest: Manifest {
            budget: budget as u64,
            total_bytes,
            total_lines,
            ranges,
            omitted_bytes: total_bytes.saturating_sub(kept_bytes),
            omitted_lines: total_lines.saturating_sub(kept_lines),
        },
    }
}

/// Chooses one excerpt of `budget` bytes from a whole text: a convenience for tests and tools.
pub fn excerpt(text: &[u8], budget: usize) -> Result<Excerpt, Error> {
    let mut b = Builder::new(&[budget])?;
    b.push(text);
    Ok(b.finish().excerpts.pop().unwrap_or_default())
}

#[cfg(test)]
mod tests;
