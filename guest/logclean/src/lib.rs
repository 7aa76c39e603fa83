//! Streaming clean-up of CI logs before redaction.
//!
//! A CI log is raw terminal output: bytes that may not be UTF-8, NUL bytes, colour codes,
//! progress bars redrawn with `\r`, and (on GitLab) section markers. The payload needs readable
//! UTF-8 text, and the redactors after this step need it too. This crate turns the raw bytes into
//! that text, in a stream: chunks may be cut anywhere, the output is byte-for-byte the same
//! whatever the cuts, and memory stays bounded whatever the line lengths.
//!
//! The stages, one module each, in the order bytes flow through them:
//! 1. `docker`: removal of Docker's multiplexed-stream frame headers;
//! 2. `utf8`: lossy UTF-8 decoding (U+FFFD, like `String::from_utf8_lossy`);
//! 3. `scan`: NUL removal and escape-sequence stripping (with the `ansi` state machine);
//! 4. `lines`: carriage-return collapse and GitLab section headers (with `section`).
//!
//! ```
//! use exlogare_logclean::{normalize_all, Options};
//! let (text, stats) = normalize_all(Options::default(), b"\x1b[31mred\x1b[0m 10%\r100%\n");
//! assert_eq!(text, b"100%\n");
//! assert_eq!(stats.ansi_sequences, 2);
//! ```

#![warn(missing_docs)]

mod ansi;
mod docker;
mod lines;
mod scan;
mod section;
mod utf8;

use docker::DockerFrames;
use lines::Lines;
use scan::Scanner;
use utf8::Utf8Decoder;

/// The default bound on a pending line segment, in bytes (see [`Normalizer::with_line_cap`]).
pub const DEFAULT_LINE_CAP: usize = 64 * 1024;

/// What the clean-up does beyond the always-on steps (valid UTF-8, no NUL bytes).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Remove terminal escape sequences: CSI (colours, cursor moves, erases), OSC (titles,
    /// hyperlinks), DCS/SOS/PM/APC strings and two- or three-byte ESC sequences.
    pub strip_ansi: bool,
    /// Keep only the last non-empty state of a line redrawn with `\r`; `\r\n` becomes `\n`.
    pub collapse_carriage_returns: bool,
    /// Replace GitLab `section_start:`/`section_end:` markers with `--- section NAME ---` and
    /// `--- end NAME ---` lines.
    pub gitlab_sections: bool,
}

impl Default for Options {
    /// Everything on: the text a person would want to read.
    fn default() -> Self {
        Options {
            strip_ansi: true,
            collapse_carriage_returns: true,
            gitlab_sections: true,
        }
    }
}

/// What the clean-up changed so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Raw bytes read.
    pub bytes_in: u64,
    /// Bytes of invalid UTF-8 replaced by U+FFFD (one U+FFFD per maximal invalid sequence).
    pub invalid_utf8_bytes: u64,
    /// NUL bytes removed.
    pub nul_bytes: u64,
    /// Escape sequences removed (0 when `strip_ansi` is off).
    pub ansi_sequences: u64,
    /// Docker multiplexed-stream frame headers removed (8 bytes each).
    pub docker_headers: u64,
}

/// A streaming log normaliser: feed it raw chunks, get clean UTF-8 text.
///
/// The concatenated output of every [`push`](Self::push) and the final
/// [`finish`](Self::finish) depends only on the concatenated input, never on where the chunks
/// were cut. Each call's output is valid UTF-8 on its own. Memory is bounded: a line is held
/// only while a `\r` may still redraw it, and never beyond the line cap.
#[derive(Debug)]
pub struct Normalizer {
    docker: DockerFrames,
    decoder: Utf8Decoder,
    scanner: Scanner,
    bytes_in: u64,
}

impl Normalizer {
    /// Makes a normaliser with the default line cap.
    pub fn new(options: Options) -> Self {
        Self::with_line_cap(options, DEFAULT_LINE_CAP)
    }

    /// Makes a normaliser that holds at most `cap` bytes (at least 4) of a pending line segment.
    /// A segment that would grow past it is written out as it is, and the line goes on from an
    /// empty state (so a `\r` after it no longer erases it). Small caps are for tests.
    pub fn with_line_cap(options: Options, cap: usize) -> Self {
        let lines = Lines::new(
            options.collapse_carriage_returns,
            options.gitlab_sections,
            cap,
        );
        Normalizer {
            docker: DockerFrames::default(),
            decoder: Utf8Decoder::default(),
            scanner: Scanner::new(options.strip_ansi, lines),
            bytes_in: 0,
        }
    }

    /// Next chunk of raw bytes; appends clean UTF-8 text that is now final to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        self.bytes_in += chunk.len() as u64;
        out.reserve(chunk.len());
        let Normalizer {
            docker,
            decoder,
            scanner,
            ..
        } = self;
        docker.feed(chunk, &mut |bytes| {
            decoder.feed(bytes, &mut |text| scanner.scan(text, out));
        });
    }

    /// Ends the input; appends the rest of the text to `out`. The normaliser can then be fed a
    /// new stream (its stats keep adding up).
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        let Normalizer {
            docker,
            decoder,
            scanner,
            ..
        } = self;
        docker.finish(&mut |bytes| {
            decoder.feed(bytes, &mut |text| scanner.scan(text, out));
        });
        decoder.finish(&mut |text| scanner.scan(text, out));
        scanner.finish(out);
    }

    /// What was changed so far.
    pub fn stats(&self) -> Stats {
        Stats {
            bytes_in: self.bytes_in,
            invalid_utf8_bytes: self.decoder.invalid_bytes(),
            nul_bytes: self.scanner.nul_bytes,
            ansi_sequences: self.scanner.ansi_sequences,
            docker_headers: self.docker.headers,
        }
    }
}

/// Cleans a whole log held in memory: the same as one [`Normalizer::push`] and
/// [`Normalizer::finish`].
pub fn normalize_all(options: Options, input: &[u8]) -> (Vec<u8>, Stats) {
    let mut normalizer = Normalizer::new(options);
    let mut out = Vec::with_capacity(input.len());
    normalizer.push(input, &mut out);
    normalizer.finish(&mut out);
    (out, normalizer.stats())
}
