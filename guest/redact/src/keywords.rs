//! Finding every rule keyword in a chunk of log, fast natively and in wasm.
//!
//! This module exists because the keyword scan touches every byte of the log. aho-corasick's
//! own Teddy has SSSE3/AVX2 paths only; in wasm its automaton walks one byte at a time, which
//! made the keyword scan the slowest part of the guest. [`KeywordFinder`] is the same idea
//! (Teddy: nibble masks looked up with a byte shuffle, a four-byte fingerprint, eight buckets
//! of keywords) written once over a small 16-byte vector trait with three implementations:
//! wasm `simd128` (`i8x16.swizzle`, the relaxed one where the guest is built with
//! `relaxed-simd`), x86-64 SSSE3 (`pshufb`, chosen at run time) and a
//! portable one. Native and guest builds thus run the same algorithm, and the unit tests check
//! the portable and SSSE3 vectors against a brute-force search. ASCII case is folded in the
//! masks and in verification, so the data is never copied to lower case.

/// Shortest keyword the finder takes.
pub(crate) const MIN_KEYWORD: usize = 3;
/// Bytes of fingerprint; a shorter keyword's bucket accepts any byte past its end.
const FINGERPRINT: usize = 4;
const LANES: usize = 16;

/// The operations the scan needs on 16 bytes at a time.
trait Vector: Copy {
    /// Loads `hay[at..at + 16]`; the caller guarantees the range is in bounds.
    fn load(hay: &[u8], at: usize) -> Self;
    fn splat(byte: u8) -> Self;
    fn from_array(bytes: [u8; LANES]) -> Self;
    fn and(self, other: Self) -> Self;
    /// Each byte shifted right by 4 (its high nibble).
    fn high_nibbles(self) -> Self;
    /// `table[idx[i]]` for each lane; every index is below 16.
    fn lookup(table: Self, idx: Self) -> Self;
    /// Bit `i` set when lane `i` is not zero.
    fn nonzero_lanes(self) -> u16;
    fn to_array(self) -> [u8; LANES];
}

/// The portable vector: plain arrays, which the compiler vectorises where it can.
// The wasm `simd128` build never needs it (the native tests still cover it).
#[cfg_attr(
    all(target_family = "wasm", target_feature = "simd128"),
    allow(dead_code)
)]
#[derive(Clone, Copy)]
struct Portable([u8; LANES]);

impl Vector for Portable {
    #[inline(always)]
    fn load(hay: &[u8], at: usize) -> Self {
        let mut b = [0u8; LANES];
        b.copy_from_slice(&hay[at..at + LANES]);
        Portable(b)
    }
    #[inline(always)]
    fn splat(byte: u8) -> Self {
        Portable([byte; LANES])
    }
    #[inline(always)]
    fn from_array(bytes: [u8; LANES]) -> Self {
        Portable(bytes)
    }
    #[inline(always)]
    fn and(self, o: Self) -> Self {
        Portable(std::array::from_fn(|i| self.0[i] & o.0[i]))
    }
    #[inline(always)]
    fn high_nibbles(self) -> Self {
        Portable(self.0.map(|b| b >> 4))
    }
    #[inline(always)]
    fn lookup(table: Self, idx: Self) -> Self {
        Portable(idx.0.map(|i| table.0[usize::from(i & 15)]))
    }
    #[inline(always)]
    fn nonzero_lanes(self) -> u16 {
        self.0
            .iter()
            .enumerate()
            .fold(0, |m, (i, &b)| m | (u16::from(b != 0) << i))
    }
    #[inline(always)]
    fn to_array(self) -> [u8; LANES] {
        self.0
    }
}

#[cfg(target_arch = "x86_64")]
mod ssse3 {
    use super::{LANES, Vector};
    use core::arch::x86_64::*;

    /// The x86-64 SSSE3 vector (`pshufb`); only used after a runtime check for SSSE3.
    #[derive(Clone, Copy)]
    pub(super) struct Ssse3(__m128i);

    // SAFETY (every method): SSE2 is part of x86-64; `_mm_shuffle_epi8` needs SSSE3, which
    // `KeywordFinder` checks at run time before it calls the scan that uses this type, and that
    // scan is compiled with SSSE3 enabled (these methods are inlined into it). Loads and stores
    // are unaligned and within the 16 bytes they are given.
    impl Vector for Ssse3 {
        #[inline(always)]
        fn load(hay: &[u8], at: usize) -> Self {
            let bytes = &hay[at..at + LANES];
            Ssse3(unsafe { _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>()) })
        }
        #[inline(always)]
        fn splat(byte: u8) -> Self {
            Ssse3(unsafe { _mm_set1_epi8(byte as i8) })
        }
        #[inline(always)]
        fn from_array(b: [u8; LANES]) -> Self {
            Ssse3(unsafe { _mm_loadu_si128(b.as_ptr().cast::<__m128i>()) })
        }
        #[inline(always)]
        fn and(self, o: Self) -> Self {
            Ssse3(unsafe { _mm_and_si128(self.0, o.0) })
        }
        #[inline(always)]
        fn high_nibbles(self) -> Self {
            Ssse3(unsafe { _mm_and_si128(_mm_srli_epi16(self.0, 4), _mm_set1_epi8(0x0f)) })
        }
        #[inline(always)]
        fn lookup(table: Self, idx: Self) -> Self {
            Ssse3(unsafe { _mm_shuffle_epi8(table.0, idx.0) })
        }
        #[inline(always)]
        fn nonzero_lanes(self) -> u16 {
            let zero = unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(self.0, _mm_setzero_si128())) };
            !(zero as u16)
        }
        #[inline(always)]
        fn to_array(self) -> [u8; LANES] {
            let mut out = [0u8; LANES];
            unsafe { _mm_storeu_si128(out.as_mut_ptr().cast::<__m128i>(), self.0) };
            out
        }
    }
}

#[cfg(all(target_family = "wasm", target_feature = "simd128"))]
mod simd128 {
    use super::{LANES, Vector};
    use core::arch::wasm32::*;

    /// The wasm `simd128` vector.
    #[derive(Clone, Copy)]
    pub(super) struct Simd(v128);

    impl Vector for Simd {
        #[inline(always)]
        fn load(hay: &[u8], at: usize) -> Self {
            let bytes = &hay[at..at + LANES];
            // SAFETY: `bytes` is exactly 16 readable bytes; `v128_load` has no alignment
            // requirement in wasm.
            Simd(unsafe { v128_load(bytes.as_ptr().cast::<v128>()) })
        }
        #[inline(always)]
        fn splat(byte: u8) -> Self {
            Simd(u8x16_splat(byte))
        }
        #[inline(always)]
        fn from_array(b: [u8; LANES]) -> Self {
            Simd(u8x16(
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                b[13], b[14], b[15],
            ))
        }
        #[inline(always)]
        fn and(self, o: Self) -> Self {
            Simd(v128_and(self.0, o.0))
        }
        #[inline(always)]
        fn high_nibbles(self) -> Self {
            Simd(u8x16_shr(self.0, 4))
        }
        #[inline(always)]
        fn lookup(table: Self, idx: Self) -> Self {
            // Indices are nibbles (0..=15), where the relaxed swizzle is deterministic and
            // becomes one `pshufb` on x86-64 (the strict one needs a saturating add first).
            #[cfg(target_feature = "relaxed-simd")]
            return Simd(i8x16_relaxed_swizzle(table.0, idx.0));
            #[cfg(not(target_feature = "relaxed-simd"))]
            return Simd(u8x16_swizzle(table.0, idx.0));
        }
        #[inline(always)]
        fn nonzero_lanes(self) -> u16 {
            !i8x16_bitmask(i8x16_eq(self.0, u8x16_splat(0)))
        }
        #[inline(always)]
        fn to_array(self) -> [u8; LANES] {
            let mut out = [0u8; LANES];
            // SAFETY: `out` is 16 writable bytes; `v128_store` has no alignment requirement.
            unsafe { v128_store(out.as_mut_ptr().cast::<v128>(), self.0) };
            out
        }
    }
}

/// The first (up to) 4 bytes of `bytes` as a little-endian word, and the mask of the bytes
/// present.
#[inline(always)]
fn prefix_word(bytes: &[u8]) -> (u32, u32) {
    // The usual case, one load (a variable-length copy is a `memcpy` call in wasm).
    if let Some(&word) = bytes.first_chunk::<4>() {
        return (u32::from_le_bytes(word), u32::MAX);
    }
    let n = bytes.len().min(4);
    let mut b = [0u8; 4];
    b[..n].copy_from_slice(&bytes[..n]);
    let mask = if n == 4 {
        u32::MAX
    } else {
        (1u32 << (8 * n)) - 1
    };
    (u32::from_le_bytes(b), mask)
}

/// ASCII upper-case letters of a 4-byte word to lower case, other bytes unchanged (SWAR).
#[inline(always)]
fn ascii_lower_word(x: u32) -> u32 {
    const ONES: u32 = 0x0101_0101;
    let seven = x & (ONES * 0x7f);
    // High bit of each byte set when its low 7 bits are >= b'A', and when they are > b'Z'.
    let ge_a = seven + ONES * (0x80 - u32::from(b'A'));
    let gt_z = seven + ONES * (0x7f - u32::from(b'Z'));
    let upper = ge_a & !gt_z & !x & (ONES * 0x80);
    x | (upper >> 2)
}

/// Rough relative frequency of each byte in CI log text (English words, paths, numbers): what
/// the bucket assignment optimises for. Uniform random bytes would rate a bucket of common
/// lower-case letters as cheap as one of rare ones, and the scan would stop at most words.
fn log_byte_weight(b: u8) -> f64 {
    const LOWER: [f64; 26] = [
        65.0, 12.0, 28.0, 34.0, 100.0, 18.0, 16.0, 40.0, 60.0, 2.0, 8.0, 35.0, 24.0, 58.0, 60.0,
        20.0, 1.0, 50.0, 55.0, 75.0, 24.0, 9.0, 12.0, 3.0, 12.0, 1.0,
    ];
    match b {
        b'a'..=b'z' => LOWER[usize::from(b - b'a')],
        b'A'..=b'Z' => LOWER[usize::from(b - b'A')] / 8.0,
        b' ' => 140.0,
        b'0'..=b'9' => 10.0,
        b'.' | b'/' | b'-' | b'_' | b':' | b'=' | b'\n' => 10.0,
        0x21..=0x7e => 3.0,
        _ => 0.2,
    }
}

/// Weights of log bytes by (high nibble, low nibble), and their total.
struct ByteWeights {
    by_nibbles: [[f64; 16]; 16],
    total: f64,
}

impl ByteWeights {
    fn new() -> ByteWeights {
        let mut by_nibbles = [[0.0; 16]; 16];
        for b in 0..=255u8 {
            by_nibbles[usize::from(b >> 4)][usize::from(b & 15)] = log_byte_weight(b);
        }
        let total = by_nibbles.iter().flatten().sum();
        ByteWeights { by_nibbles, total }
    }

    /// The weight of the bytes with a high nibble in `hi` and a low nibble in `lo`.
    fn of(&self, lo: u16, hi: u16) -> f64 {
        if (lo, hi) == (u16::MAX, u16::MAX) {
            return self.total;
        }
        let mut sum = 0.0;
        let mut his = hi;
        while his != 0 {
            let row = &self.by_nibbles[his.trailing_zeros() as usize];
            his &= his - 1;
            let mut los = lo;
            while los != 0 {
                sum += row[los.trailing_zeros() as usize];
                los &= los - 1;
            }
        }
        sum
    }
}

/// Per fingerprint byte: the (low nibble, high nibble) bit sets a bucket's members allow.
type NibbleSets = [(u16, u16); FINGERPRINT];

/// The nibble sets of keywords (both ASCII cases); a keyword shorter than the fingerprint
/// allows every byte past its end.
fn nibble_sets<'a>(members: impl IntoIterator<Item = &'a [u8]>) -> NibbleSets {
    let mut sets = [(0u16, 0u16); FINGERPRINT];
    for k in members {
        for (pos, (lo, hi)) in sets.iter_mut().enumerate() {
            let Some(&c) = k.get(pos) else {
                (*lo, *hi) = (u16::MAX, u16::MAX);
                continue;
            };
            for v in [c, c.to_ascii_uppercase()] {
                *lo |= 1 << (v & 15);
                *hi |= 1 << (v >> 4);
            }
        }
    }
    sets
}

/// The union of two buckets' nibble sets.
fn union(a: &NibbleSets, b: &NibbleSets) -> NibbleSets {
    std::array::from_fn(|pos| (a[pos].0 | b[pos].0, a[pos].1 | b[pos].1))
}

/// How often a bucket lets a position of log text through, roughly: for each fingerprint
/// byte, the weight (see [`log_byte_weight`]) of the bytes whose (low nibble, high nibble)
/// pair the bucket allows, positions taken as independent. An empty bucket costs nothing.
fn bucket_cost(weights: &ByteWeights, sets: &NibbleSets) -> f64 {
    let mut cost = 1.0;
    for &(lo, hi) in sets {
        let passed = weights.of(lo, hi);
        cost *= passed / weights.total;
    }
    cost
}

/// Spreads the keywords over 8 buckets so that the sum of the buckets' costs (the false
/// positive rate) stays low: keywords sharing their first two bytes stay together; each group
/// goes to the bucket it makes the least worse, largest groups first, and then a few passes
/// move single groups wherever that clearly lowers the total.
fn assign_buckets(keywords: &[Vec<u8>]) -> [Vec<u32>; 8] {
    let mut groups: Vec<Vec<u32>> = Vec::new();
    for (i, k) in keywords.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|g| keywords[g[0] as usize][..2] == k[..2])
        {
            Some(g) => g.push(i as u32),
            None => groups.push(vec![i as u32]),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.len()));
    let weights = ByteWeights::new();
    let group_sets: Vec<NibbleSets> = groups
        .iter()
        .map(|g| nibble_sets(g.iter().map(|&i| keywords[i as usize].as_slice())))
        .collect();
    let mut place: Vec<Option<usize>> = vec![None; groups.len()];
    let mut bucket_sets = [[(0, 0); FINGERPRINT]; 8];
    let mut bucket_costs = [0.0; 8];
    for pass in 0..3 {
        let mut moved = false;
        for g in 0..groups.len() {
            let from = place[g].take();
            if let Some(f) = from {
                bucket_sets[f] = place
                    .iter()
                    .zip(&group_sets)
                    .filter(|(p, _)| **p == Some(f))
                    .fold([(0, 0); FINGERPRINT], |acc, (_, s)| union(&acc, s));
                bucket_costs[f] = bucket_cost(&weights, &bucket_sets[f]);
            }
            let added: [f64; 8] = std::array::from_fn(|b| {
                bucket_cost(&weights, &union(&bucket_sets[b], &group_sets[g])) - bucket_costs[b]
            });
            let best = (0..8)
                .min_by(|&x, &y| added[x].total_cmp(&added[y]))
                .unwrap_or(0);
            // Only a clear gain moves a group (no endless swaps between equal costs).
            let to = match from {
                Some(f) if added[f] <= added[best] * 1.01 => f,
                _ => best,
            };
            moved |= from.is_some_and(|f| f != to);
            place[g] = Some(to);
            bucket_sets[to] = union(&bucket_sets[to], &group_sets[g]);
            bucket_costs[to] = bucket_cost(&weights, &bucket_sets[to]);
        }
        if pass > 0 && !moved {
            break;
        }
    }
    let mut buckets: [Vec<u32>; 8] = Default::default();
    for (g, b) in groups.into_iter().zip(place) {
        buckets[b.unwrap_or(0)].extend(g);
    }
    buckets
}

/// Finds every occurrence of every keyword in a buffer (ASCII case-insensitive, overlapping
/// ones included). Keywords must be at least [`MIN_KEYWORD`] bytes long.
#[derive(Clone, Debug)]
pub(crate) struct KeywordFinder {
    /// Lower-case keywords, sorted (their indices are what the finder reports).
    keywords: Vec<Vec<u8>>,
    /// The keywords that contain no other: the ones the SIMD scan looks for.
    anchors: Vec<Vec<u8>>,
    /// Per anchor: the keywords confirmed around it, and the anchor's offset in each.
    expand: Vec<Vec<(u32, u32)>>,
    /// Per bucket: each member anchor's first 4 bytes (lower case, little-endian), the mask of
    /// the bytes that count (a 3-byte anchor has 3) and its index: a quick first check.
    prefixes: [Vec<(u32, u32, u32)>; 8],
    /// Per fingerprint byte: bucket bits by low nibble, then by high nibble.
    masks: [([u8; LANES], [u8; LANES]); FINGERPRINT],
    /// Whether this x86-64 CPU has SSSE3 (for `pshufb`).
    #[cfg(target_arch = "x86_64")]
    ssse3: bool,
}

impl KeywordFinder {
    /// A finder for `keywords` (lower-cased here); `None` when one is shorter than
    /// [`MIN_KEYWORD`] bytes or there are none.
    pub fn new<S: AsRef<str>>(keywords: &[S]) -> Option<KeywordFinder> {
        let mut keywords: Vec<Vec<u8>> = keywords
            .iter()
            .map(|k| k.as_ref().as_bytes().to_ascii_lowercase())
            .collect();
        if keywords.is_empty() || keywords.iter().any(|k| k.len() < MIN_KEYWORD) {
            return None;
        }
        keywords.sort();
        keywords.dedup();
        // Only anchors are scanned for: the keywords that contain no other keyword. Each
        // keyword is then confirmed around one chosen occurrence of one anchor it contains,
        // so it is reported exactly once per occurrence.
        let anchors: Vec<Vec<u8>> = keywords
            .iter()
            .filter(|k| {
                !keywords
                    .iter()
                    .any(|o| o != *k && memchr::memmem::find(k, o).is_some())
            })
            .cloned()
            .collect();
        let mut expand: Vec<Vec<(u32, u32)>> = vec![Vec::new(); anchors.len()];
        for (i, k) in keywords.iter().enumerate() {
            let found = anchors
                .iter()
                .enumerate()
                .find_map(|(a, anchor)| memchr::memmem::find(k, anchor).map(|off| (a, off)));
            if let Some((a, off)) = found {
                expand[a].push((i as u32, off as u32));
            }
        }
        let buckets = assign_buckets(&anchors);
        let mut masks = [([0u8; LANES], [0u8; LANES]); FINGERPRINT];
        for (b, members) in buckets.iter().enumerate() {
            for &i in members {
                let k = &anchors[i as usize];
                for (pos, mask) in masks.iter_mut().enumerate() {
                    match k.get(pos) {
                        Some(&c) => {
                            for v in [c, c.to_ascii_uppercase()] {
                                mask.0[usize::from(v & 15)] |= 1 << b;
                                mask.1[usize::from(v >> 4)] |= 1 << b;
                            }
                        }
                        None => {
                            mask.0.iter_mut().for_each(|m| *m |= 1 << b);
                            mask.1.iter_mut().for_each(|m| *m |= 1 << b);
                        }
                    }
                }
            }
        }
        let prefixes = buckets.clone().map(|members| {
            members
                .iter()
                .map(|&i| {
                    let k = &anchors[i as usize];
                    let (word, mask) = prefix_word(k);
                    (word, mask, i)
                })
                .collect()
        });
        Some(KeywordFinder {
            keywords,
            anchors,
            expand,
            prefixes,
            masks,
            #[cfg(target_arch = "x86_64")]
            ssse3: std::arch::is_x86_feature_detected!("ssse3"),
        })
    }

    /// Calls `f(position, keyword)` for every occurrence of every keyword in `hay`, overlapping
    /// ones included, in no particular order; `keyword` indexes [`KeywordFinder::keywords`].
    pub fn for_each_match(&self, hay: &[u8], mut f: impl FnMut(usize, usize)) {
        self.run(hay, |at, bits| self.verify_all(hay, at, bits, &mut f))
    }

    /// The keywords, lower-cased, deduplicated and sorted.
    pub fn keywords(&self) -> &[Vec<u8>] {
        &self.keywords
    }

    /// Runs the scan with the best vector this machine has.
    fn run(&self, hay: &[u8], visit: impl FnMut(usize, u8)) {
        #[cfg(all(target_family = "wasm", target_feature = "simd128"))]
        {
            self.scan::<simd128::Simd>(hay, visit)
        }
        #[cfg(target_arch = "x86_64")]
        {
            if self.ssse3 {
                // SAFETY: the CPU has SSSE3 (checked when the finder was built).
                unsafe { self.scan_ssse3(hay, visit) }
            } else {
                self.scan::<Portable>(hay, visit)
            }
        }
        #[cfg(not(any(
            all(target_family = "wasm", target_feature = "simd128"),
            target_arch = "x86_64"
        )))]
        {
            self.scan::<Portable>(hay, visit)
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "ssse3")]
    fn scan_ssse3(&self, hay: &[u8], visit: impl FnMut(usize, u8)) {
        self.scan::<ssse3::Ssse3>(hay, visit)
    }

    /// Bucket bits of the fingerprint at `at` (fewer than 16 positions left).
    fn bits_at(&self, hay: &[u8], at: usize) -> u8 {
        let mut bits = 0xff;
        for (pos, mask) in self.masks.iter().enumerate() {
            // Past the end only keywords shorter than the fingerprint can fit (verified).
            let Some(&c) = hay.get(at + pos) else {
                break;
            };
            bits &= mask.0[usize::from(c & 15)] & mask.1[usize::from(c >> 4)];
        }
        bits
    }

    /// Calls `f(keyword)` for each keyword of the buckets in `bits` that starts at `at`.
    #[inline(always)]
    fn verify_all(&self, hay: &[u8], at: usize, mut bits: u8, mut f: impl FnMut(usize, usize)) {
        let rest = &hay[at..];
        let (word, _) = prefix_word(rest);
        let word = ascii_lower_word(word);
        while bits != 0 {
            let b = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            for &(prefix, mask, a) in &self.prefixes[b] {
                if word & mask != prefix {
                    continue;
                }
                // The prefix word matched the anchor's first (up to) 4 bytes, case folded:
                // only the bytes after them are left to compare.
                let anchor = &self.anchors[a as usize];
                let matched = anchor.len().min(4);
                if !rest
                    .get(matched..anchor.len())
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(&anchor[matched..]))
                {
                    continue;
                }
                for &(k, off) in &self.expand[a as usize] {
                    let kw = &self.keywords[k as usize];
                    if kw.len() == anchor.len() {
                        // The anchor itself (a keyword only contains itself at its length).
                        f(at, k as usize);
                        continue;
                    }
                    let Some(start) = at.checked_sub(off as usize) else {
                        continue;
                    };
                    if hay
                        .get(start..start + kw.len())
                        .is_some_and(|w| w.eq_ignore_ascii_case(kw))
                    {
                        f(start, k as usize);
                    }
                }
            }
        }
    }

    /// The scan: `visit(position, bucket bits)` for each position whose fingerprint matches
    /// some bucket, in order.
    #[inline(always)]
    fn scan<V: Vector>(&self, hay: &[u8], mut visit: impl FnMut(usize, u8)) {
        let tables: [(V, V); FINGERPRINT] = self
            .masks
            .map(|(lo, hi)| (V::from_array(lo), V::from_array(hi)));
        let low = V::splat(15);
        let n = hay.len();
        let mut at = 0;
        while at + LANES + FINGERPRINT - 1 <= n {
            let mut cand = V::splat(0xff);
            for (pos, (lo, hi)) in tables.iter().enumerate() {
                let v = V::load(hay, at + pos);
                let bits = V::lookup(*lo, v.and(low)).and(V::lookup(*hi, v.high_nibbles()));
                cand = cand.and(bits);
            }
            let mut lanes = cand.nonzero_lanes();
            if lanes != 0 {
                let bits = cand.to_array();
                while lanes != 0 {
                    let j = lanes.trailing_zeros() as usize;
                    lanes &= lanes - 1;
                    visit(at + j, bits[j]);
                }
            }
            at += LANES;
        }
        for at in at..n {
            let bits = self.bits_at(hay, at);
            if bits != 0 {
                visit(at, bits);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence of every keyword, by brute force: (position, keyword).
    fn naive_all(finder: &KeywordFinder, hay: &[u8]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        for p in 0..hay.len() {
            for (k, kw) in finder.keywords().iter().enumerate() {
                if hay.len() >= p + kw.len() && hay[p..p + kw.len()].eq_ignore_ascii_case(kw) {
                    out.push((p, k));
                }
            }
        }
        out
    }

    /// The finder with each vector this machine can run: the portable one, and SSSE3 when the
    /// CPU has it (the wasm `simd128` one is covered by the guest's tests).
    fn variants(finder: &KeywordFinder) -> Vec<KeywordFinder> {
        #[allow(unused_mut)]
        let mut portable = finder.clone();
        #[cfg(target_arch = "x86_64")]
        {
            portable.ssse3 = false;
        }
        vec![portable, finder.clone()]
    }

    fn found_all(finder: &KeywordFinder, hay: &[u8]) -> Vec<(usize, usize)> {
        let mut all = Vec::new();
        for f in variants(finder) {
            let mut got = Vec::new();
            f.for_each_match(hay, |p, k| got.push((p, k)));
            got.sort_unstable();
            all.push(got);
        }
        assert_eq!(all[0], all[1], "portable and SIMD scans differ");
        all.swap_remove(0)
    }

    #[test]
    fn word_lowering_matches_bytes() {
        for a in 0..=255u8 {
            for b in [
                0u8, b'@', b'A', b'Z', b'[', b'`', b'a', b'z', b'{', 0x80, 0xc1, 0xda, 0xff,
            ] {
                let w = u32::from_le_bytes([a, b, b.wrapping_add(a), a ^ 0x20]);
                let want = u32::from_le_bytes(w.to_le_bytes().map(|c| c.to_ascii_lowercase()));
                assert_eq!(ascii_lower_word(w), want, "{a:#x} {b:#x}");
            }
        }
    }

    /// Every keyword lands in exactly one bucket, keywords sharing their first two bytes in the
    /// same one; and the cost model rates common log letters above rare ones.
    #[test]
    fn buckets_hold_every_keyword_once() {
        let words: Vec<Vec<u8>> = [
            "token", "tool", "secret", "sec-x", "key", "password", "passwd", "pwd", "ghp_", "gho_",
            "xoxb", "aiza", "akia", "asia", "://", "eyj", "npm_", "sig=",
        ]
        .iter()
        .map(|w| w.as_bytes().to_vec())
        .collect();
        let buckets = assign_buckets(&words);
        let mut seen: Vec<u32> = buckets.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..words.len() as u32).collect::<Vec<_>>());
        let bucket_of = |w: &str| {
            let i = words.iter().position(|k| k == w.as_bytes()).unwrap() as u32;
            buckets.iter().position(|b| b.contains(&i)).unwrap()
        };
        assert_eq!(bucket_of("password"), bucket_of("passwd"));
        assert_eq!(bucket_of("ghp_"), bucket_of("gho_"));
        assert!(buckets.iter().filter(|b| !b.is_empty()).count() > 1);

        let weights = ByteWeights::new();
        let cost = |w: &str| bucket_cost(&weights, &nibble_sets([w.as_bytes()]));
        assert!(
            cost("then") > cost("zqjx"),
            "{} <= {}",
            cost("then"),
            cost("zqjx")
        );
        assert!(
            cost("the") > cost("then"),
            "a 3-byte word passes any 4th byte"
        );
        assert_eq!(bucket_cost(&weights, &[(0, 0); FINGERPRINT]), 0.0);
    }

    #[test]
    fn too_short_keywords_are_refused() {
        assert!(KeywordFinder::new(&["ab", "token"]).is_none());
        assert!(KeywordFinder::new::<&str>(&[]).is_none());
    }

    #[test]
    fn finds_keywords_in_any_case_at_block_edges() {
        let keywords = ["token", "key", "://", "ghp_", "private key"];
        let finder = KeywordFinder::new(&keywords).expect("keywords are long enough");
        for pad in 0..40 {
            let filler = "x".repeat(pad);
            let hay =
                format!("{filler}ToKeN\nnothing here\n{filler}https://h\n{filler}ke\n{filler}KEY");
            assert_eq!(
                found_all(&finder, hay.as_bytes()),
                naive_all(&finder, hay.as_bytes()),
                "pad {pad}"
            );
        }
    }

    /// Random text over a small alphabet (many near misses), random keyword sets: the same
    /// lines as a brute-force search, at the same first positions.
    #[test]
    fn same_lines_as_brute_force() {
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b"aAbBkKeEyY_-:/\n \n";
        for round in 0..400 {
            let mut word = |len: usize| -> String {
                (0..len)
                    .map(|_| {
                        let c = alphabet[(next() % alphabet.len() as u64) as usize];
                        if c == b'\n' { 'a' } else { char::from(c) }
                    })
                    .collect()
            };
            let keywords: Vec<String> = (0..1 + round % 12)
                .map(|i| word(3 + (i + round) % 5))
                .collect();
            let refs: Vec<&str> = keywords.iter().map(String::as_str).collect();
            let hay: Vec<u8> = (0..(round * 13) % 700)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let finder = KeywordFinder::new(&refs).expect("keywords are long enough");
            assert_eq!(
                found_all(&finder, &hay),
                naive_all(&finder, &hay),
                "round {round}"
            );
        }
    }
}
