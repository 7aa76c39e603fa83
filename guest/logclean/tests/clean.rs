//! What the clean-up does to typical CI output, one behaviour per test.

use exlogare_logclean::{Normalizer, Options, Stats, normalize_all};

/// Normalises with every option on and returns the text.
fn clean(input: &[u8]) -> String {
    clean_with(Options::default(), input).0
}

/// Normalises with `options` and returns the text and stats.
fn clean_with(options: Options, input: &[u8]) -> (String, Stats) {
    let (out, stats) = normalize_all(options, input);
    (String::from_utf8(out).expect("output is UTF-8"), stats)
}

/// Every option off: only the always-on steps.
const RAW: Options = Options {
    strip_ansi: false,
    collapse_carriage_returns: false,
    gitlab_sections: false,
};

#[test]
fn plain_text_is_unchanged_with_its_trailing_newlines() {
    for text in [
        "",
        "a",
        "a\n",
        "a\n\n\n",
        "\n",
        "line 1\nline 2",
        "ünï ☃ 😀\n",
    ] {
        assert_eq!(clean(text.as_bytes()), text);
    }
}

#[test]
fn colours_and_cursor_moves_are_removed() {
    let (text, stats) = clean_with(
        Options::default(),
        b"\x1b[32;1m   Compiling\x1b[0m foo\n\x1b[2K\x1b[1Gdone\x1b(B\x1b=\n",
    );
    assert_eq!(text, "   Compiling foo\ndone\n");
    assert_eq!(stats.ansi_sequences, 6);
}

#[test]
fn osc_hyperlinks_and_titles_are_removed() {
    let input =
        b"see \x1b]8;;https://example.invalid/x\x1b\\the docs\x1b]8;;\x1b\\ \x1b]0;title\x07ok\n";
    assert_eq!(clean(input), "see the docs ok\n");
}

#[test]
fn an_unterminated_osc_ends_at_the_line_end() {
    assert_eq!(clean(b"a\x1b]0;never ends\nnext line\n"), "a\nnext line\n");
}

#[test]
fn a_lone_escape_is_dropped_and_the_text_kept() {
    assert_eq!(clean(b"a\x1b\nb\x1b"), "a\nb");
    assert_eq!(clean("x\x1bé".as_bytes()), "xé");
}

#[test]
fn progress_bars_keep_their_last_state() {
    assert_eq!(clean(b"10%\r50%\r100%\ndone\n"), "100%\ndone\n");
    // A trailing `\r` redraws nothing: the last non-empty state stays.
    assert_eq!(clean(b"10%\r100%\r\n"), "100%\n");
    assert_eq!(clean(b"10%\r100%\r"), "100%");
    assert_eq!(clean(b"\r\r\n"), "\n");
}

#[test]
fn crlf_is_an_ordinary_line_end() {
    assert_eq!(clean(b"a\r\nb\r\n\r\n"), "a\nb\n\n");
}

#[test]
fn carriage_returns_are_kept_when_not_collapsing() {
    let options = Options {
        collapse_carriage_returns: false,
        ..Options::default()
    };
    assert_eq!(clean_with(options, b"1\r2\r\n").0, "1\r2\r\n");
}

#[test]
fn gitlab_sections_become_headers() {
    let log = b"\x1b[0Ksection_start:1700000000:prepare_executor\r\x1b[0K\x1b[0K\x1b[36;1mPreparing the \"shell\" executor\x1b[0;m\n\
Using Shell executor...\n\
\x1b[0Ksection_end:1700000000:prepare_executor\r\x1b[0K\n\
section_start:1700000001:build_script[collapsed=true]\r\x1b[0KBuilding\n\
make: *** [all] Error 2\n\
section_end:1700000002:build_script\r\x1b[0K\n";
    assert_eq!(
        clean(log),
        "--- section prepare_executor ---\n\
Preparing the \"shell\" executor\n\
Using Shell executor...\n\
--- end prepare_executor ---\n\
--- section build_script ---\n\
Building\n\
make: *** [all] Error 2\n\
--- end build_script ---\n"
    );
}

#[test]
fn a_section_marker_after_a_progress_line_starts_a_new_line() {
    assert_eq!(
        clean(b"50%\rsection_end:1:dl\r\x1b[0K\n"),
        "50%\n--- end dl ---\n"
    );
}

#[test]
fn section_markers_are_kept_when_asked() {
    let options = Options {
        gitlab_sections: false,
        ..Options::default()
    };
    // Without section handling the marker is just a redrawn line.
    assert_eq!(
        clean_with(options, b"section_start:1:a\r\x1b[0KHeader\n").0,
        "Header\n"
    );
}

#[test]
fn sections_work_with_escape_codes_kept() {
    let options = Options {
        strip_ansi: false,
        ..Options::default()
    };
    assert_eq!(
        clean_with(options, b"\x1b[0Ksection_start:1:a\r\x1b[0KHeader\n").0,
        "--- section a ---\n\x1b[0KHeader\n"
    );
}

#[test]
fn everything_off_keeps_the_terminal_codes() {
    let input = b"\x1b[31mred\x1b[0m\r\nsection_start:1:a\r\n";
    let (text, stats) = clean_with(RAW, input);
    assert_eq!(text.as_bytes(), input);
    assert_eq!(stats.ansi_sequences, 0);
}

#[test]
fn invalid_utf8_is_replaced_and_counted() {
    let (text, stats) = clean_with(Options::default(), b"a\xffb\xe2\x82c\xf0\x9f\x98");
    assert_eq!(text, "a\u{FFFD}b\u{FFFD}c\u{FFFD}");
    assert_eq!(stats.invalid_utf8_bytes, 6);
    assert_eq!(stats.bytes_in, 9);
}

#[test]
fn nul_bytes_are_removed_and_counted() {
    let (text, stats) = clean_with(Options::default(), b"\0a\0\0b\x1b[\x003m\n");
    assert_eq!(text, "ab\n");
    assert_eq!(stats.nul_bytes, 4);
    assert_eq!(stats.ansi_sequences, 1);
}

#[test]
fn a_huge_line_without_newline_is_not_held() {
    let mut normalizer = Normalizer::new(Options::default());
    let chunk = vec![b'x'; 64 * 1024];
    let mut out = Vec::new();
    let (mut fed, mut written) = (0, 0);
    for _ in 0..160 {
        normalizer.push(&chunk, &mut out);
        fed += chunk.len();
        written += out.len();
        // What is still held is at most one segment.
        assert!(fed - written <= exlogare_logclean::DEFAULT_LINE_CAP);
        out.clear();
    }
    normalizer.finish(&mut out);
    assert!(out.len() <= exlogare_logclean::DEFAULT_LINE_CAP);
}

#[test]
fn a_huge_progress_line_is_bounded_too() {
    let mut normalizer = Normalizer::with_line_cap(Options::default(), 1024);
    let mut out = Vec::new();
    let mut written = 0;
    for i in 0..100_000 {
        let piece = format!("\r{i:>8} of 100000");
        normalizer.push(piece.as_bytes(), &mut out);
        written += out.len();
        out.clear();
    }
    normalizer.finish(&mut out);
    // Only the last state of the line is written, at the end.
    assert_eq!(written, 0);
    assert_eq!(out, b"   99999 of 100000");
}
