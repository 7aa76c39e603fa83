//! Arbitrary log bytes, split at arbitrary points, through the excerpt builder with two
//! budgets: it must not panic, each excerpt must fit its budget and end with the log's last
//! line, the manifest's ranges must be in order and inside the log, and the result must not
//! depend on where the pieces were cut.
//!
//! Input layout: byte 0 picks how many cut points follow (as u16 pairs), byte 1 the small
//! budget (1-16 KiB), then the log bytes.
//!
//! Run: `cargo +nightly fuzz run excerpt_stream -- -max_total_time=120`.
#![no_main]

use exlogare_excerpt::{Builder, Finished};
use libfuzzer_sys::fuzz_target;

fn build(budgets: &[usize], pieces: &[&[u8]]) -> Finished {
    let mut builder = Builder::new(budgets).expect("budgets are above the minimum");
    for piece in pieces {
        builder.push(piece);
    }
    builder.finish()
}

fuzz_target!(|data: &[u8]| {
    let [n, small, rest @ ..] = data else { return };
    let n = usize::from(*n % 8);
    if rest.len() < n * 2 {
        return;
    }
    let (cut_bytes, log) = rest.split_at(n * 2);
    let small = 1024 * (1 + usize::from(*small % 16));
    let budgets = [small, 64 << 10];
    let mut cuts: Vec<usize> = cut_bytes
        .chunks(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])) % (log.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut at = 0;
    for cut in cuts {
        pieces.push(&log[at..cut]);
        at = cut;
    }
    pieces.push(&log[at..]);

    let whole = build(&budgets, &[log]);
    let chunked = build(&budgets, &pieces);
    for (w, c) in whole.excerpts.iter().zip(&chunked.excerpts) {
        assert_eq!(w, c, "the pieces changed the excerpt");
    }
    assert_eq!(whole.neutralised, chunked.neutralised);
    for (excerpt, &budget) in whole.excerpts.iter().zip(&budgets) {
        assert!(
            excerpt.text.len() <= budget,
            "{} > {budget}",
            excerpt.text.len()
        );
        let m = &excerpt.manifest;
        assert_eq!(m.total_bytes, log.len() as u64);
        let mut next = 1;
        for r in &m.ranges {
            assert!(r.first >= next && r.first <= r.last && r.last <= m.total_lines);
            next = r.last + 1;
        }
        if let Some(last) = m.ranges.last() {
            assert_eq!(last.last, m.total_lines, "the last line is always kept");
        }
    }
});
