//! The log is streamed: however it is cut into pieces, the body is the same, it parses, and the
//! `log` field is the original text.

mod util;

use exlogare_payload::{JobInput, PayloadWriter};
use proptest::prelude::*;

/// The body with `log` cut at `cuts`.
fn body_cut(log: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (log.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([log.len()]) {
        pieces.push(&log[start..cut]);
        start = cut;
    }
    util::body(
        JobInput {
            env: util::gitlab().env(),
            ..JobInput::default()
        },
        &pieces,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn pieces_do_not_matter_for_text(
        log in "(\\PC|[\\x00-\\x1f\"\\\\\u{7f}])*",
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let whole = body_cut(log.as_bytes(), &[]);
        let cut = body_cut(log.as_bytes(), &cuts);
        prop_assert_eq!(&whole, &cut);
        let json: serde_json::Value = serde_json::from_slice(&whole).expect("JSON");
        prop_assert_eq!(json["log"].as_str(), Some(log.as_str()));
    }

    /// Bytes that are not UTF-8 (a host bug) still give the same, valid JSON.
    #[test]
    fn pieces_do_not_matter_for_bytes(
        log in proptest::collection::vec(any::<u8>(), 0..300),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let whole = body_cut(&log, &[]);
        prop_assert_eq!(&whole, &body_cut(&log, &cuts));
        let json: serde_json::Value = serde_json::from_slice(&whole).expect("JSON");
        let lossy = String::from_utf8_lossy(&log);
        prop_assert_eq!(json["log"].as_str(), Some(lossy.as_ref()));
    }
}

#[test]
fn the_log_is_the_last_field_and_the_head_ends_with_its_quote() {
    let mut writer = PayloadWriter::new(JobInput::default()).unwrap();
    let head = writer.open();
    assert!(head.starts_with(b"{\"provider\":\"generic\",\"project\":\"\","));
    assert!(head.ends_with(b",\"log\":\""));
    assert_eq!(writer.close(), b"\"}");
}

#[test]
fn calls_out_of_order_still_give_one_json_object() {
    let mut writer = PayloadWriter::new(JobInput::default()).unwrap();
    let mut body = writer.log(b"first");
    body.extend(writer.open());
    body.extend(writer.close());
    body.extend(writer.log(b"after close"));
    body.extend(writer.close());
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["log"], "first");
}

#[test]
fn a_large_log_streams() {
    let mut writer = PayloadWriter::new(JobInput::default()).unwrap();
    let mut size = writer.open().len();
    let line = b"error[E0308]: mismatched types \"expected\" \\ found\n".repeat(1000);
    for _ in 0..100 {
        size += writer.log(&line).len();
    }
    size += writer.close().len();
    assert!(size > 100 * line.len());
}
