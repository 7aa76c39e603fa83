//! The last resort when the service refuses a payload as too large (413): keep the head and
//! the tail of the text that was chosen to be sent, and say how much of the middle was left out.
//! (What is sent in the first place is chosen by the guest's excerpt builder.) Memory stays
//! within the budget whatever the text's size.

use std::collections::VecDeque;

/// Collects redacted text within a byte budget.
pub struct Budget {
    max: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: u64,
}

/// What the budget kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// The start of the log (the whole log when nothing was left out).
    pub head: Vec<u8>,
    /// The end of the log (empty when nothing was left out).
    pub tail: Vec<u8>,
    /// Bytes of redacted text seen in all.
    pub total: u64,
    /// The budget this excerpt was cut for.
    pub max: usize,
}

impl Budget {
    /// A budget of `max` bytes of log text.
    pub fn new(max: usize) -> Budget {
        Budget {
            max,
            head: Vec::new(),
            tail: VecDeque::new(),
            total: 0,
        }
    }

    /// Takes the next piece of redacted text.
    pub fn push(&mut self, mut text: &[u8]) {
        self.total += text.len() as u64;
        let head_cap = self.max / 2;
        if self.head.len() < head_cap {
            let take = (head_cap - self.head.len()).min(text.len());
            self.head.extend_from_slice(&text[..take]);
            text = &text[take..];
        }
        let tail_cap = self.max - head_cap;
        if text.len() >= tail_cap {
            self.tail.clear();
            self.tail.extend(&text[text.len() - tail_cap..]);
        } else {
            self.tail.extend(text);
            if self.tail.len() > tail_cap {
                let excess = self.tail.len() - tail_cap;
                self.tail.drain(..excess);
            }
        }
    }

    /// What was kept.
    pub fn finish(self) -> Excerpt {
        let Budget {
            max,
            mut head,
            tail,
            total,
        } = self;
        let mut tail: Vec<u8> = tail.into();
        if (head.len() + tail.len()) as u64 == total {
            head.extend_from_slice(&tail);
            return Excerpt {
                head,
                tail: Vec::new(),
                total,
                max,
            };
        }
        cut_head(&mut head);
        cut_tail(&mut tail);
        Excerpt {
            head,
            tail,
            total,
            max,
        }
    }
}

/// Ends the head at a line end if there is one in its last quarter, else at a char boundary.
fn cut_head(head: &mut Vec<u8>) {
    let floor = head.len() - head.len() / 4;
    if let Some(pos) = head[floor..].iter().rposition(|&b| b == b'\n') {
        head.truncate(floor + pos + 1);
        return;
    }
    // Drop an incomplete UTF-8 sequence left at the end by the cut.
    let valid = match std::str::from_utf8(head) {
        Ok(_) => head.len(),
        Err(e) => e.valid_up_to(),
    };
    head.truncate(valid);
}

/// Starts the tail after a line end if there is one in its first quarter, else at a char
/// boundary.
fn cut_tail(tail: &mut Vec<u8>) {
    let limit = tail.len() / 4;
    let start = match tail[..limit].iter().position(|&b| b == b'\n') {
        Some(pos) => pos + 1,
        None => tail
            .iter()
            .position(|&b| b & 0xC0 != 0x80)
            .unwrap_or(tail.len()),
    };
    tail.drain(..start);
}

impl Excerpt {
    /// Bytes left out.
    pub fn omitted(&self) -> u64 {
        self.total.saturating_sub(self.kept() as u64)
    }

    /// Bytes of log text kept (head and tail).
    pub fn kept(&self) -> usize {
        self.head.len() + self.tail.len()
    }

    /// The marker put where bytes were left out.
    pub fn marker(&self) -> Vec<u8> {
        if self.omitted() == 0 {
            return Vec::new();
        }
        format!(
            "\n[... exlogare: {} bytes of the log left out here to fit the {}-byte budget; the first and last parts are kept ...]\n",
            self.omitted(),
            self.max
        )
        .into_bytes()
    }

    /// The pieces to send, in order: head, marker, tail (borrowed: the text can be most of
    /// the process's memory, and is not copied to be sent).
    pub fn pieces(&self) -> [std::borrow::Cow<'_, [u8]>; 3] {
        [
            self.head.as_slice().into(),
            self.marker().into(),
            self.tail.as_slice().into(),
        ]
    }

    /// A smaller excerpt of at most `max` bytes of log text, favouring the tail (where
    /// failures are): for a server that refused the payload as too large.
    pub fn shrink(&self, max: usize) -> Excerpt {
        let mut budget = Budget::new(max);
        // Re-feeding head then tail keeps the same head/tail split rule; the omitted middle
        // is accounted for by `total`.
        budget.push(&self.head);
        budget.push(&self.tail);
        let mut shrunk = budget.finish();
        shrunk.total = self.total;
        shrunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(max: usize, pieces: &[&[u8]]) -> Excerpt {
        let mut b = Budget::new(max);
        for p in pieces {
            b.push(p);
        }
        b.finish()
    }

    #[test]
    fn small_logs_are_kept_whole() {
        let e = run(100, &[b"abc\n", b"def\n"]);
        assert_eq!(e.head, b"abc\ndef\n");
        assert!(e.tail.is_empty());
        assert_eq!(e.omitted(), 0);
        assert!(e.marker().is_empty());
    }

    #[test]
    fn big_logs_keep_head_and_tail_and_count_the_rest() {
        let mut log = Vec::new();
        for i in 0..10_000 {
            log.extend_from_slice(format!("line {i:05}\n").as_bytes());
        }
        let e = run(1000, &[&log]);
        assert!(e.head.starts_with(b"line 00000\n"));
        assert!(e.tail.ends_with(b"line 09999\n"));
        assert!(e.head.len() + e.tail.len() <= 1000);
        assert_eq!(
            e.omitted() as usize,
            log.len() - e.head.len() - e.tail.len()
        );
        assert!(e.head.ends_with(b"\n"));
        assert!(String::from_utf8_lossy(&e.marker()).contains(&e.omitted().to_string()));
    }

    proptest! {
        #[test]
        fn pieces_are_valid_utf8_and_a_subsequence(text in "\\PC{0,400}", max in 8usize..200, cuts in proptest::collection::vec(0usize..400, 0..8)) {
            let bytes = text.as_bytes();
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
            points.sort();
            let mut b = Budget::new(max);
            let mut last = 0;
            for p in points { b.push(&bytes[last..p]); last = p; }
            b.push(&bytes[last..]);
            let e = b.finish();
            prop_assert!(std::str::from_utf8(&e.head).is_ok());
            prop_assert!(std::str::from_utf8(&e.tail).is_ok());
            prop_assert!(e.head.len() + e.tail.len() <= max.max(bytes.len().min(max)));
            prop_assert!(bytes.starts_with(&e.head));
            prop_assert!(bytes.ends_with(&e.tail));
            prop_assert_eq!(e.total as usize, bytes.len());
        }
    }
}
