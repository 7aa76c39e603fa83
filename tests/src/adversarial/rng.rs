//! A small seeded generator (SplitMix64), so a corpus is the same on every machine and every
//! run for one seed, with no dependency whose stream could change between versions.

/// A deterministic pseudo-random stream.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

/// Letters and digits.
pub const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Lower-case hex digits.
pub const HEX: &[u8] = b"0123456789abcdef";
/// The standard base64 alphabet (without padding).
pub const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

impl Rng {
    /// A stream for `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// An independent stream derived from this one and `label` (so adding a draw in one part of
    /// the generator does not shift every other part).
    pub fn fork(&self, label: &str) -> Rng {
        let mut h = self.state;
        for b in label.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        Rng::new(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `len` characters drawn from `alphabet`.
    pub fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }

    /// A random lower-case hex string of `len` digits.
    pub fn hex(&mut self, len: usize) -> String {
        self.string(HEX, len)
    }

    /// A random version number such as `1.24.3`.
    pub fn version(&mut self) -> String {
        format!("{}.{}.{}", self.below(5), self.below(40), self.below(30))
    }

    /// A random UUID (version 4 layout).
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_forks_differ() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.string(ALNUM, 32), b.string(ALNUM, 32));
        let (mut x, mut y) = (a.fork("x"), a.fork("y"));
        assert_ne!(x.next_u64(), y.next_u64());
        assert!(Rng::new(1).below(3) < 3);
    }
}
