//! Line assembly: carriage-return collapse, section headers, bounded memory.
//!
//! Progress bars redraw one line many times with `\r`; a log keeps every state, which buries
//! the useful lines. This module sees the text one line at a time and keeps only what a terminal
//! would finally have shown: the last non-empty `\r`-separated state (`\r\n` is an ordinary line
//! end). It is also where GitLab section markers are recognised, since a marker is exactly a
//! segment ended by `\r`.
//!
//! A line is held only while it may still be redrawn. Lines that contain no `\r` are copied
//! straight to the output; a pending line never grows past the cap: when its current segment
//! would, the segment is written out as it is and the line goes on from an empty state. That
//! point depends only on the text, never on chunk boundaries.

use memchr::{memchr, memrchr};

use crate::section;

/// The smallest cap that still fits any UTF-8 character.
const MIN_CAP: usize = 4;

/// The line being assembled and what to do with it.
#[derive(Debug)]
pub(crate) struct Lines {
    /// Keep only the last state of a line redrawn with `\r`.
    collapse: bool,
    /// Replace GitLab section markers with readable headers.
    sections: bool,
    /// Bound on the current segment, in bytes.
    cap: usize,
    /// The current segment: text since the line start or the last `\r`.
    cur: Vec<u8>,
    /// The last non-empty finished segment of this line (only when collapsing).
    kept: Vec<u8>,
    /// Part of this line was already written out (a long segment, or text before a `\r` when
    /// not collapsing).
    line_emitted: bool,
    /// This line began with a section marker, whose header already ended with a newline.
    after_marker: bool,
}

impl Lines {
    /// Makes an empty line state.
    pub(crate) fn new(collapse: bool, sections: bool, cap: usize) -> Self {
        Lines {
            collapse,
            sections,
            cap: cap.max(MIN_CAP),
            cur: Vec::new(),
            kept: Vec::new(),
            line_emitted: false,
            after_marker: false,
        }
    }

    /// Takes text with no `\r` (it may hold `\n`), starting and ending on character boundaries.
    pub(crate) fn text(&mut self, run: &[u8], out: &mut Vec<u8>) {
        let Some(first) = memchr(b'\n', run) else {
            self.append(run, out);
            return;
        };
        self.append(&run[..first], out);
        self.end_line(out);
        let rest = &run[first + 1..];
        // Whole lines with no `\r` in them are final as they are.
        match memrchr(b'\n', rest) {
            Some(last) => {
                out.extend_from_slice(&rest[..=last]);
                self.append(&rest[last + 1..], out);
            }
            None => self.append(rest, out),
        }
    }

    /// Takes a carriage return.
    pub(crate) fn carriage_return(&mut self, out: &mut Vec<u8>) {
        if self.sections
            && let Some(header) = section::header(&self.cur)
        {
            self.marker(&header, out);
            return;
        }
        if self.collapse {
            if !self.cur.is_empty() {
                std::mem::swap(&mut self.kept, &mut self.cur);
                self.cur.clear();
            }
        } else {
            out.extend_from_slice(&self.cur);
            out.push(b'\r');
            self.cur.clear();
            self.line_emitted = true;
        }
    }

    /// Ends the input: writes what the unfinished last line shows, without adding a newline.
    pub(crate) fn finish(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(self.visible());
        self.reset();
    }

    /// Adds text with no line break to the current segment, writing it out whenever it would
    /// grow past the cap.
    fn append(&mut self, mut run: &[u8], out: &mut Vec<u8>) {
        while !run.is_empty() {
            let room = self.cap.saturating_sub(self.cur.len());
            if run.len() <= room {
                self.cur.extend_from_slice(run);
                return;
            }
            let mut take = floor_char_boundary(run, room);
            if take == 0 && self.cur.is_empty() {
                // Unreachable with a cap of at least 4 bytes; never loop forever regardless.
                take = run.len().min(MIN_CAP);
            }
            self.cur.extend_from_slice(&run[..take]);
            out.extend_from_slice(&self.cur);
            self.cur.clear();
            self.kept.clear();
            self.line_emitted = true;
            run = &run[take..];
        }
    }

    /// Ends a line at `\n`.
    fn end_line(&mut self, out: &mut Vec<u8>) {
        let visible = self.visible();
        // A marker line whose header was written and that shows nothing else: its newline is
        // the header's.
        if !(visible.is_empty() && self.after_marker && !self.line_emitted) {
            out.extend_from_slice(visible);
            out.push(b'\n');
        }
        self.reset();
    }

    /// Writes a section header in place of the marker in the current segment.
    fn marker(&mut self, header: &[u8], out: &mut Vec<u8>) {
        if self.collapse && !self.kept.is_empty() {
            out.extend_from_slice(&self.kept);
            self.line_emitted = true;
        }
        if self.line_emitted {
            out.push(b'\n');
        }
        out.extend_from_slice(header);
        out.push(b'\n');
        self.reset();
        self.after_marker = true;
    }

    /// What the line shows now, not counting what was already written out.
    fn visible(&self) -> &[u8] {
        if self.collapse && self.cur.is_empty() {
            &self.kept
        } else {
            &self.cur
        }
    }

    /// Forgets the current line.
    fn reset(&mut self) {
        self.cur.clear();
        self.kept.clear();
        self.line_emitted = false;
        self.after_marker = false;
    }
}

/// The largest character boundary of `text` at or below `index` (`text` starts on one).
fn floor_char_boundary(text: &[u8], mut index: usize) -> usize {
    while index > 0 && text.get(index).is_some_and(|&b| b & 0xc0 == 0x80) {
        index -= 1;
    }
    index
}
