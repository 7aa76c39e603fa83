//! Properties over random input: the output never depends on chunk boundaries, is always valid
//! UTF-8, and with every option off is exactly `String::from_utf8_lossy` without NUL bytes.

use exlogare_logclean::{Normalizer, Options, normalize_all};
use proptest::prelude::*;

/// Pieces that exercise every state: escapes, carriage returns, NUL, invalid and split UTF-8,
/// section markers.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(b'a'..=b'e', 1..6),
        2 => Just(b"\n".to_vec()),
        2 => Just(b"\r".to_vec()),
        1 => Just(b"\r\n".to_vec()),
        1 => Just(b"\0".to_vec()),
        2 => Just(b"\x1b".to_vec()),
        1 => Just(b"\x1b[".to_vec()),
        1 => Just(b"\x1b[1;31m".to_vec()),
        1 => Just(b"\x1b[0K".to_vec()),
        1 => Just(b"\x1b]8;;u".to_vec()),
        1 => Just(b"\x1b\\".to_vec()),
        1 => Just(b"\x07".to_vec()),
        1 => Just(b"[;m]()".to_vec()),
        1 => Just("é€😀".as_bytes().to_vec()),
        1 => Just(b"\xe2\x82".to_vec()),
        1 => Just(b"\xf0\x9f".to_vec()),
        1 => Just(b"\x80\xff\xc3".to_vec()),
        1 => Just(b"section_start:17:ab[collapsed=true]".to_vec()),
        1 => Just(b"section_end:17:ab".to_vec()),
        1 => any::<u8>().prop_map(|b| vec![b]),
    ]
}

fn input() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(token(), 0..60).prop_map(|tokens| tokens.concat())
}

fn options() -> impl Strategy<Value = Options> {
    (any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, c, s)| Options {
        strip_ansi: a,
        collapse_carriage_returns: c,
        gitlab_sections: s,
    })
}

/// Normalises `input` cut at `cuts` (positions, any order, out of range ignored).
fn chunked(
    options: Options,
    cap: usize,
    input: &[u8],
    cuts: &[usize],
) -> (Vec<u8>, exlogare_logclean::Stats) {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut normalizer = Normalizer::with_line_cap(options, cap);
    let mut out = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        let mut piece = Vec::new();
        normalizer.push(&input[start..cut], &mut piece);
        assert!(
            std::str::from_utf8(&piece).is_ok(),
            "each push returns UTF-8"
        );
        out.extend_from_slice(&piece);
        start = cut;
    }
    normalizer.finish(&mut out);
    (out, normalizer.stats())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn chunk_boundaries_do_not_matter(
        options in options(),
        cap in 4usize..40,
        input in input(),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let whole = chunked(options, cap, &input, &[]);
        let pieces = chunked(options, cap, &input, &cuts);
        prop_assert_eq!(&whole.0, &pieces.0);
        prop_assert_eq!(whole.1, pieces.1);
        prop_assert!(std::str::from_utf8(&whole.0).is_ok());
        if options.strip_ansi {
            prop_assert!(!whole.0.contains(&0x1b));
        }
        if options.collapse_carriage_returns {
            prop_assert!(!whole.0.contains(&b'\r'));
        }
        prop_assert!(!whole.0.contains(&0));
    }

    #[test]
    fn byte_at_a_time_equals_whole(options in options(), input in input()) {
        let (whole, stats) = normalize_all(options, &input);
        let mut normalizer = Normalizer::new(options);
        let mut out = Vec::new();
        for byte in &input {
            normalizer.push(std::slice::from_ref(byte), &mut out);
        }
        normalizer.finish(&mut out);
        prop_assert_eq!(whole, out);
        prop_assert_eq!(stats, normalizer.stats());
    }

    #[test]
    fn all_off_is_lossy_utf8_without_nul(input in proptest::collection::vec(any::<u8>(), 0..200)) {
        let off = Options { strip_ansi: false, collapse_carriage_returns: false, gitlab_sections: false };
        let (out, stats) = normalize_all(off, &input);
        let expected = String::from_utf8_lossy(&input).replace('\0', "");
        prop_assert_eq!(String::from_utf8(out).unwrap(), expected);
        prop_assert_eq!(stats.nul_bytes, input.iter().filter(|&&b| b == 0).count() as u64);
        prop_assert_eq!(stats.bytes_in, input.len() as u64);
    }

    #[test]
    fn text_without_special_bytes_is_unchanged(text in "[a-zA-Z0-9 .,:é😀\n\t]{0,200}") {
        let (out, stats) = normalize_all(Options::default(), text.as_bytes());
        prop_assert_eq!(String::from_utf8(out).unwrap(), text);
        prop_assert_eq!(stats.invalid_utf8_bytes + stats.nul_bytes + stats.ansi_sequences, 0);
    }
}
