//! Generated log text that remembers which of its bytes are secret, so the scorer can check
//! that those bytes left and that every other byte stayed. Contexts (wraps, prefixes, colour
//! codes, NUL bytes) are applied by inserting text into it, never by editing secret bytes.

/// What a run of bytes is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Log text that must reach the output (modulo the clean-up of ANSI codes, NUL bytes,
    /// invalid UTF-8 and `\r` redraws).
    Text,
    /// Bytes of a planted secret (and the wrap junk or NUL bytes inserted inside one).
    Secret,
    /// Bytes the log clean-up is expected to remove or replace (colour codes, NUL bytes,
    /// invalid UTF-8, redrawn `\r` states, docker stream headers): not collateral when gone.
    Noise,
}

/// A sequence of runs of bytes, each text or secret.
#[derive(Clone, Debug, Default)]
pub struct Segs {
    parts: Vec<(Role, Vec<u8>)>,
}

/// The byte written in place of every secret byte in the reference copy of a file.
pub const SECRET_MARK: u8 = 0x01;

impl Segs {
    /// An empty sequence.
    pub fn new() -> Segs {
        Segs::default()
    }

    /// A sequence of one text run.
    pub fn of_text(text: impl AsRef<[u8]>) -> Segs {
        let mut s = Segs::new();
        s.text(text);
        s
    }

    /// Appends text.
    pub fn text(&mut self, text: impl AsRef<[u8]>) -> &mut Self {
        self.push(Role::Text, text.as_ref())
    }

    /// Appends secret bytes.
    /// Appends bytes the clean-up may change.
    pub fn noise(&mut self, noise: impl AsRef<[u8]>) -> &mut Self {
        self.push(Role::Noise, noise.as_ref())
    }

    /// The runs with their roles.
    pub fn parts(&self) -> &[(Role, Vec<u8>)] {
        &self.parts
    }

    pub fn secret(&mut self, secret: impl AsRef<[u8]>) -> &mut Self {
        self.push(Role::Secret, secret.as_ref())
    }

    /// Appends a run, merging it with the last one when the role is the same.
    pub fn push(&mut self, role: Role, bytes: &[u8]) -> &mut Self {
        if bytes.is_empty() {
            return self;
        }
        match self.parts.last_mut() {
            Some((r, b)) if *r == role => b.extend_from_slice(bytes),
            _ => self.parts.push((role, bytes.to_vec())),
        }
        self
    }

    /// Appends another sequence.
    pub fn extend(&mut self, other: &Segs) -> &mut Self {
        for (role, bytes) in &other.parts {
            self.push(*role, bytes);
        }
        self
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.parts.iter().map(|(_, b)| b.len()).sum()
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The bytes of the log.
    pub fn bytes(&self) -> Vec<u8> {
        self.parts
            .iter()
            .flat_map(|(_, b)| b.iter().copied())
            .collect()
    }

    /// The bytes with every secret byte replaced by [`SECRET_MARK`].
    pub fn reference(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        for (role, bytes) in &self.parts {
            match role {
                Role::Text | Role::Noise => out.extend_from_slice(bytes),
                Role::Secret => out.extend(std::iter::repeat_n(SECRET_MARK, bytes.len())),
            }
        }
        out
    }

    /// The number of secret bytes.
    pub fn secret_len(&self) -> usize {
        self.parts
            .iter()
            .filter(|(r, _)| *r == Role::Secret)
            .map(|(_, b)| b.len())
            .sum()
    }

    /// The offsets of the first secret byte and one past the last, if there is any.
    pub fn secret_span(&self) -> Option<(usize, usize)> {
        let mut at = 0;
        let mut span: Option<(usize, usize)> = None;
        for (role, bytes) in &self.parts {
            if *role == Role::Secret {
                let start = span.map_or(at, |(s, _)| s);
                span = Some((start, at + bytes.len()));
            }
            at += bytes.len();
        }
        span
    }

    /// A copy with `insert` texts put in at the given offsets (sorted or not; offsets past the
    /// end go at the end). Text inserted inside a secret run splits it.
    pub fn insert(&self, inserts: &[(usize, Vec<u8>)]) -> Segs {
        self.insert_as(Role::Text, inserts)
    }

    /// [`Segs::insert`], the inserted bytes taking `role`.
    pub fn insert_as(&self, role_of_inserts: Role, inserts: &[(usize, Vec<u8>)]) -> Segs {
        let mut inserts: Vec<&(usize, Vec<u8>)> = inserts.iter().collect();
        inserts.sort_by_key(|(at, _)| *at);
        let mut out = Segs::new();
        let mut next = inserts.into_iter().peekable();
        let mut at = 0;
        for (role, bytes) in &self.parts {
            let mut from = 0;
            while let Some((pos, text)) = next.peek() {
                if *pos > at + bytes.len() || (*pos == at + bytes.len() && *role == Role::Secret) {
                    break;
                }
                let cut = pos.saturating_sub(at).min(bytes.len());
                out.push(*role, &bytes[from..cut]);
                out.push(role_of_inserts, text);
                from = cut;
                next.next();
            }
            out.push(*role, &bytes[from..]);
            at += bytes.len();
        }
        for (_, text) in next {
            out.push(role_of_inserts, text);
        }
        out
    }

    /// A copy with every run transformed by `f` (keeping its role).
    pub fn map(&self, mut f: impl FnMut(Role, &[u8]) -> Vec<u8>) -> Segs {
        let mut out = Segs::new();
        for (role, bytes) in &self.parts {
            out.push(*role, &f(*role, bytes));
        }
        out
    }

    /// The secret runs, in order.
    pub fn secret_runs(&self) -> Vec<Vec<u8>> {
        self.parts
            .iter()
            .filter(|(r, _)| *r == Role::Secret)
            .map(|(_, b)| b.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserting_inside_a_secret_splits_it_and_keeps_the_marks() {
        let mut s = Segs::of_text("k=");
        s.secret("abcdef").text(";");
        let t = s.insert(&[
            (4, b"\n  ".to_vec()),
            (8, b"!".to_vec()),
            (99, b"$".to_vec()),
        ]);
        assert_eq!(t.bytes(), b"k=ab\n  cdef!;$");
        assert_eq!(t.reference(), b"k=\x01\x01\n  \x01\x01\x01\x01!;$");
        assert_eq!(t.secret_runs(), vec![b"ab".to_vec(), b"cdef".to_vec()]);
        assert_eq!(s.secret_span(), Some((2, 8)));
    }
}
