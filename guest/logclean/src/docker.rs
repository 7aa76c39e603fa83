//! Docker's multiplexed-stream headers.
//!
//! A container's output read from the Docker API without a TTY (`docker logs` through the API,
//! some CI executors' raw service logs) is a sequence of frames: an 8-byte header (stream 1 or
//! 2, three NUL bytes, the payload length as a big-endian u32) then the payload. Once its NUL
//! bytes are dropped the header still leaves a control byte and a length byte before the text
//! (the length byte may be a letter, a newline, anything), which glues onto the first word of
//! the line and hides it from every rule that needs a word boundary. This stage removes the
//! headers from the raw bytes, before UTF-8 decoding. A header opens a framed stream only at
//! the start of a line; then the next header is expected right after each payload, and the
//! stream ends at the first place where none is. The bytes pass through without copying; at
//! most seven bytes (a header cut by a chunk boundary) are held back.

/// The header-removal stage.
#[derive(Debug)]
pub(crate) struct DockerFrames {
    /// Payload bytes of the current frame still to pass, when inside a framed stream.
    remaining: Option<u64>,
    /// Whether the next byte starts a line.
    at_line_start: bool,
    /// A possible header cut by the end of the last chunk.
    cand: [u8; 8],
    cand_len: usize,
    /// Headers removed.
    pub(crate) headers: u64,
}

impl Default for DockerFrames {
    fn default() -> Self {
        DockerFrames {
            remaining: None,
            at_line_start: true,
            cand: [0; 8],
            cand_len: 0,
            headers: 0,
        }
    }
}

/// Whether `bytes` (at most 8) can begin a header.
fn prefix_ok(bytes: &[u8]) -> bool {
    bytes.first().is_some_and(|b| matches!(b, 1 | 2))
        && bytes.iter().skip(1).take(3).all(|&b| b == 0)
}

/// The payload length of a complete header.
fn header_len(h: &[u8]) -> Option<u64> {
    let len: [u8; 4] = h.get(4..8)?.try_into().ok()?;
    prefix_ok(h.get(..4)?).then(|| u64::from(u32::from_be_bytes(len)))
}

/// What is at a position where a header may start.
enum At {
    /// A header: its payload length.
    Header(u64),
    /// Not a header.
    Text,
    /// Too few bytes to tell, and they could begin one.
    Short,
}

fn at(bytes: &[u8]) -> At {
    if bytes.len() >= 8 {
        header_len(&bytes[..8]).map_or(At::Text, At::Header)
    } else if prefix_ok(bytes) {
        At::Short
    } else {
        At::Text
    }
}

impl DockerFrames {
    fn emit(&mut self, bytes: &[u8], sink: &mut impl FnMut(&[u8])) {
        if let Some(&last) = bytes.last() {
            sink(bytes);
            self.at_line_start = last == b'\n';
        }
    }

    fn hold(&mut self, bytes: &[u8]) {
        self.cand[..bytes.len()].copy_from_slice(bytes);
        self.cand_len = bytes.len();
    }

    /// The next raw chunk; `sink` gets the bytes without headers, in order.
    pub(crate) fn feed(&mut self, chunk: &[u8], sink: &mut impl FnMut(&[u8])) {
        let mut rest = chunk;
        if self.cand_len > 0 {
            let take = (8 - self.cand_len).min(rest.len());
            let mut joined = self.cand;
            joined[self.cand_len..self.cand_len + take].copy_from_slice(&rest[..take]);
            match at(&joined[..self.cand_len + take]) {
                At::Header(len) => {
                    self.cand_len = 0;
                    rest = &rest[take..];
                    self.headers += 1;
                    self.remaining = Some(len);
                }
                At::Short => {
                    self.hold(&joined[..self.cand_len + take]);
                    return;
                }
                At::Text => {
                    let held = self.cand;
                    let n = std::mem::take(&mut self.cand_len);
                    self.emit(&held[..n], sink);
                    self.remaining = None;
                }
            }
        }
        while !rest.is_empty() {
            match self.remaining {
                Some(r) if r > 0 => {
                    let n = usize::try_from(r).unwrap_or(usize::MAX).min(rest.len());
                    self.emit(&rest[..n], sink);
                    rest = &rest[n..];
                    self.remaining = Some(r - n as u64);
                }
                Some(_) => match at(rest) {
                    At::Header(len) => {
                        self.headers += 1;
                        self.remaining = Some(len);
                        rest = &rest[8..];
                    }
                    At::Short => {
                        self.hold(rest);
                        return;
                    }
                    At::Text => self.remaining = None,
                },
                None => {
                    let Some(z) = memchr::memchr(0, rest) else {
                        // A header may begin in the last bytes, after the last newline.
                        let t = match memchr::memrchr(b'\n', rest) {
                            Some(nl) => nl + 1,
                            None if self.at_line_start => 0,
                            None => rest.len(),
                        };
                        if rest.len() - t < 8 && prefix_ok(&rest[t..]) {
                            self.emit(&rest[..t], sink);
                            self.hold(&rest[t..]);
                        } else {
                            self.emit(rest, sink);
                        }
                        return;
                    };
                    let candidate = z >= 1
                        && matches!(rest[z - 1], 1 | 2)
                        && if z == 1 {
                            self.at_line_start
                        } else {
                            rest[z - 2] == b'\n'
                        };
                    if !candidate {
                        self.emit(&rest[..=z], sink);
                        rest = &rest[z + 1..];
                        continue;
                    }
                    let c = z - 1;
                    self.emit(&rest[..c], sink);
                    match at(&rest[c..]) {
                        At::Header(len) => {
                            self.headers += 1;
                            self.remaining = Some(len);
                            rest = &rest[c + 8..];
                        }
                        At::Short => {
                            self.hold(&rest[c..]);
                            return;
                        }
                        At::Text => {
                            self.emit(&rest[c..=z], sink);
                            rest = &rest[z + 1..];
                        }
                    }
                }
            }
        }
    }

    /// Ends the input: a held partial header is text after all.
    pub(crate) fn finish(&mut self, sink: &mut impl FnMut(&[u8])) {
        let held = self.cand;
        let n = std::mem::take(&mut self.cand_len);
        self.emit(&held[..n], sink);
        self.remaining = None;
        self.at_line_start = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(lines: &[&str]) -> Vec<u8> {
        let mut v = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            v.push(if i % 3 == 2 { 2 } else { 1 });
            v.extend_from_slice(&[0, 0, 0]);
            v.extend_from_slice(&(l.len() as u32).to_be_bytes());
            v.extend_from_slice(l.as_bytes());
        }
        v
    }

    fn run(input: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut d = DockerFrames::default();
        let mut out = Vec::new();
        let mut prev = 0;
        for &c in cuts.iter().chain(std::iter::once(&input.len())) {
            let c = c.min(input.len()).max(prev);
            d.feed(&input[prev..c], &mut |b| out.extend_from_slice(b));
            prev = c;
        }
        d.finish(&mut |b| out.extend_from_slice(b));
        out
    }

    #[test]
    fn headers_go_whatever_the_cuts_and_whatever_the_length_bytes() {
        let payloads = [
            "Authorization: Basic dXNlcjpwYXNz\n",
            "x\n",         // length 2
            "123456789\n", // length 10: the length byte is a newline
            "a frame without newline ",
            "ends here\n",
            &"A".repeat(64), // the length byte is `@`
            "\n",
        ];
        let input = frames(&payloads);
        let want: String = payloads.concat();
        for step in 1..12 {
            let cuts: Vec<usize> = (step..input.len()).step_by(step).collect();
            assert_eq!(
                String::from_utf8_lossy(&run(&input, &cuts)),
                want,
                "step {step}"
            );
        }
    }

    #[test]
    fn text_that_only_looks_like_a_header_stays() {
        for input in [
            &b"plain text\nwith \x01\0 inside\n"[..],
            b"\x01\0\0",
            b"\x02\0\0\0\0\0",
            b"line\n\x01",
            b"a\0b\0\0\0\0\0\0\0c\n",
        ] {
            for cut in 0..=input.len() {
                assert_eq!(run(input, &[cut]), input, "{input:?} cut at {cut}");
            }
        }
    }

    #[test]
    fn a_framed_stream_ends_where_no_header_follows() {
        let mut input = frames(&["one\n", "two\n"]);
        input.extend_from_slice(b"plain after\n\x01\0\0\0\0\0\0\x04new\n");
        assert_eq!(run(&input, &[]), b"one\ntwo\nplain after\nnew\n");
    }
}
