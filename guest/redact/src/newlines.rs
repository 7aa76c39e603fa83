//! Every newline of a buffer, found 64 bytes at a time.
//!
//! This module exists because the wrapped-value pass (`wrap.rs`) visits every line of the log.
//! Calling `memchr` once per line pays its set-up for every 60-odd bytes (and, in the guest, a
//! call and the epoch checks at its entry and loops). [`Newlines`] compares 64 bytes at a time
//! with the newline byte (wasm `simd128`, x86-64 SSE2, or a portable loop), keeps the result as
//! a bit mask and walks its set bits, in a loop that inlines into its caller.

/// Bytes per block (bits of the mask).
const BLOCK: usize = 64;

/// The offsets of every `\n` in a buffer, in order.
pub(crate) struct Newlines<'a> {
    hay: &'a [u8],
    /// Offset of the block `mask` describes.
    base: usize,
    /// The newlines of that block not returned yet: bit `i` is `hay[base + i]`.
    mask: u64,
}

impl<'a> Newlines<'a> {
    /// The newlines of `hay`.
    #[inline]
    pub(crate) fn new(hay: &'a [u8]) -> Newlines<'a> {
        Newlines {
            hay,
            base: 0,
            mask: block_mask(hay, 0),
        }
    }
}

impl Iterator for Newlines<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            self.base += BLOCK;
            if self.base >= self.hay.len() {
                return None;
            }
            self.mask = block_mask(self.hay, self.base);
        }
        let i = self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(self.base + i)
    }
}

/// The newline mask of `hay[at..at + 64]`, or of what is left of `hay` from `at`.
#[inline(always)]
fn block_mask(hay: &[u8], at: usize) -> u64 {
    let rest = hay.get(at..).unwrap_or_default();
    match rest.first_chunk::<BLOCK>() {
        Some(block) => full_mask(block),
        None => scalar_mask(rest),
    }
}

/// The newline mask of at most 64 bytes, one byte at a time.
#[inline(always)]
fn scalar_mask(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .take(BLOCK)
        .enumerate()
        .fold(0, |m, (i, &b)| m | (u64::from(b == b'\n') << i))
}

/// The newline mask of 64 bytes.
#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
#[inline(always)]
fn full_mask(block: &[u8; BLOCK]) -> u64 {
    use core::arch::wasm32::*;
    let nl = u8x16_splat(b'\n');
    let mut mask = 0u64;
    for (i, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: `lane` is exactly 16 readable bytes; `v128_load` has no alignment
        // requirement in wasm.
        let v = unsafe { v128_load(lane.as_ptr().cast::<v128>()) };
        mask |= u64::from(i8x16_bitmask(i8x16_eq(v, nl))) << (16 * i);
    }
    mask
}

/// The newline mask of 64 bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn full_mask(block: &[u8; BLOCK]) -> u64 {
    use core::arch::x86_64::*;
    let mut mask = 0u64;
    // SAFETY: SSE2 is part of x86-64; every load is unaligned and reads exactly the 16 bytes
    // of `lane`.
    unsafe {
        let nl = _mm_set1_epi8(b'\n' as i8);
        for (i, lane) in block.chunks_exact(16).enumerate() {
            let v = _mm_loadu_si128(lane.as_ptr().cast::<__m128i>());
            let bits = _mm_movemask_epi8(_mm_cmpeq_epi8(v, nl)) as u16;
            mask |= u64::from(bits) << (16 * i);
        }
    }
    mask
}

/// The newline mask of 64 bytes.
#[cfg(not(any(
    target_arch = "x86_64",
    all(target_family = "wasm", target_feature = "simd128")
)))]
#[inline(always)]
fn full_mask(block: &[u8; BLOCK]) -> u64 {
    scalar_mask(block)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn expected(hay: &[u8]) -> Vec<usize> {
        memchr::memchr_iter(b'\n', hay).collect()
    }

    #[test]
    fn edges_of_blocks() {
        for len in [0, 1, 15, 16, 63, 64, 65, 127, 128, 129, 200] {
            for nl in [0, 1, 15, 16, 62, 63, 64, 65, 127, 128] {
                let mut hay = vec![b'a'; len];
                if nl < len {
                    hay[nl] = b'\n';
                }
                assert_eq!(Newlines::new(&hay).collect::<Vec<_>>(), expected(&hay));
            }
            let all = vec![b'\n'; len];
            assert_eq!(Newlines::new(&all).collect::<Vec<_>>(), expected(&all));
        }
    }

    proptest! {
        #[test]
        fn same_as_memchr(hay in proptest::collection::vec(
            prop_oneof![Just(b'\n'), Just(b'\r'), Just(0x8a_u8), any::<u8>()], 0..700)) {
            prop_assert_eq!(Newlines::new(&hay).collect::<Vec<_>>(), expected(&hay));
        }

        #[test]
        fn from_any_offset(hay in proptest::collection::vec(
            prop_oneof![3 => Just(b'x'), 1 => Just(b'\n')], 0..300), from in 0usize..300) {
            let from = from.min(hay.len());
            prop_assert_eq!(
                Newlines::new(&hay[from..]).collect::<Vec<_>>(),
                expected(&hay[from..])
            );
        }
    }
}
