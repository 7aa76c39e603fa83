//! Unit tests: one per rule of the excerpt builder.

use super::*;

/// A log of `n` plain filler lines, each different in its words (not only in numbers).
fn filler(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "building module {} of the project with some words\n",
                letters(i)
            )
        })
        .collect()
}

/// `i` written in letters: `a`, `b`, ..., `ba`, ...
fn letters(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (i % 26) as u8);
        i /= 26;
        if i == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

fn kept(e: &Excerpt, line: u64) -> bool {
    e.manifest
        .ranges
        .iter()
        .any(|r| r.first <= line && line <= r.last)
}

fn build(text: &str, budget: usize) -> Excerpt {
    excerpt(text.as_bytes(), budget).expect("budget")
}

#[test]
fn small_logs_are_sent_whole() {
    let log = "a\nb\nerror: c\n";
    let e = build(log, 4096);
    assert_eq!(e.text, log);
    assert!(e.is_whole());
    assert_eq!(e.manifest.total_lines, 3);
}

#[test]
fn budgets_below_the_minimum_are_refused() {
    assert_eq!(Builder::new(&[10]).err(), Some(Error::BudgetTooSmall(10)));
    assert_eq!(Builder::new(&[]).err(), Some(Error::NoBudget));
}

#[test]
fn the_text_fits_the_budget_and_always_ends_with_the_last_lines() {
    let log = format!("{}the very last line\n", filler(2000));
    for budget in [1024, 4096, 8192, 65536] {
        let e = build(&log, budget);
        assert!(e.text.len() <= budget, "{budget}: {}", e.text.len());
        assert!(e.text.ends_with("the very last line\n"));
        assert!(kept(&e, 2001));
        assert!(e.manifest.omitted_lines > 0);
    }
}

#[test]
fn an_early_error_and_its_context_are_kept() {
    let log = format!(
        "{}before the error\nerror: something broke at x.c:3\nnote: detail of it\n{}",
        filler(100),
        filler(3000)
    );
    let e = build(&log, 8192);
    assert!(e.text.contains("error: something broke at x.c:3\n"));
    assert!(e.text.contains("before the error\n"), "context before");
    assert!(e.text.contains("note: detail of it\n"), "context after");
    assert!(e.text.contains("lines omitted"));
}

#[test]
fn the_line_that_starts_a_stack_trace_and_the_cause_above_it() {
    let mut log = filler(500);
    log.push_str("Running the service test\njava.lang.IllegalStateException: boom\n");
    for i in 0..200 {
        let f = letters(i);
        log.push_str(&format!(
            "\tat com.example.Frame{f}.call(Frame{f}.java:{i})\n"
        ));
    }
    log.push_str(
        "Caused by: java.io.IOException: disk full\n\tat com.example.Io.write(Io.java:1)\n",
    );
    log.push_str(&filler(400));
    let e = build(&log, 8192);
    assert!(e.text.contains("java.lang.IllegalStateException: boom\n"));
    assert!(e.text.contains("Running the service test\n"));
    assert!(
        e.text
            .contains("\tat com.example.Framea.call(Framea.java:0)\n")
    );
    assert!(
        e.text
            .contains("Caused by: java.io.IOException: disk full\n")
    );
    assert!(e.text.contains("frames omitted"), "{}", e.text);
}

#[test]
fn repeated_lines_collapse_to_one_with_a_count() {
    let mut log = filler(3000);
    for i in 0..70 {
        log.push_str(&format!(
            "2022-06-02T15:14:50.{i:07}Z ##[error]register.go:{i}:2: fetch failed\n"
        ));
    }
    log.push_str(&filler(50));
    let e = build(&log, 8192);
    assert!(
        e.text.contains("register.go:0:2: fetch failed [×70]\n"),
        "{}",
        e.text
    );
    let r = e
        .manifest
        .ranges
        .iter()
        .find(|r| r.collapsed_lines == 69)
        .expect("range");
    assert_eq!(r.last - r.first, 69);
}

#[test]
fn lines_alike_but_for_paths_collapse_too() {
    let mut log = filler(3000);
    for f in [
        "scheme/register.go",
        "dynamic/interface.go",
        "rest/client.go",
    ] {
        log.push_str(&format!(
            "##[error]../mod/k8s.io/client-go@v0.23.4/{f}:22:2: k8s.io/api@v0.23.4: Get failed\n"
        ));
    }
    log.push_str(&filler(20));
    let e = build(&log, 8192);
    assert!(
        e.text
            .contains("scheme/register.go:22:2: k8s.io/api@v0.23.4: Get failed [×3]\n")
    );
}

#[test]
fn long_lines_are_cut_keeping_their_start() {
    let long = format!("error: {}\n", "x".repeat(5000));
    let log = format!("{}{long}{}", filler(2000), filler(10));
    let e = build(&log, 8192);
    assert!(e.text.contains("error: xxxx"));
    assert!(e.text.contains("bytes of this line cut"));
    assert!(e.manifest.ranges.iter().any(|r| r.cut_bytes > 4000));
}

#[test]
fn boilerplate_and_passing_tests_go_first() {
    let mut log = String::new();
    for i in 0..300 {
        log.push_str(&format!("test tests::case_{i} ... ok\n"));
        log.push_str(&format!(
            "Downloading from central: https://repo/a{i}.pom\n"
        ));
        log.push_str(&format!("ordinary output line {i}\n"));
    }
    log.push_str("the end\n");
    let e = build(&log, 4096);
    // The last lines are always kept, whatever they are; before them, no noise.
    let before_end = &e.text[..e.text.find("ordinary output line 280").unwrap_or(0)];
    assert!(!before_end.contains("... ok\n"), "{}", e.text);
    assert!(!before_end.contains("Downloading from central"));
    assert!(e.text.contains("ordinary output line 299\n"));
}

#[test]
fn test_runner_summaries_are_kept() {
    let log = format!(
        "{}=================================== FAILURES ===================================\n\
         ____ test_b ____\n    assert 1 == 2\nE   assert 1 == 2\n{}\
         =========================== short test summary info ============================\n\
         FAILED tests/test_a.py::test_b - assert 1 == 2\n{}",
        filler(200),
        filler(1500),
        filler(5)
    );
    let e = build(&log, 4096);
    assert!(
        e.text
            .contains("FAILED tests/test_a.py::test_b - assert 1 == 2\n")
    );
    assert!(e.text.contains("short test summary info"));
    assert!(e.text.contains("= FAILURES ="));
}

#[test]
fn the_failing_command_and_its_exit_code() {
    let log = format!(
        "$ make deps\n{}$ make test\n{}make: *** [Makefile:3: test] Error 2\n",
        filler(100),
        filler(1500)
    );
    let e = build(&log, 4096);
    assert!(e.text.contains("$ make test\n"));
    assert!(!e.text.contains("$ make deps\n"));
    assert!(e.text.contains("make: *** [Makefile:3: test] Error 2\n"));
    let cmd = e
        .manifest
        .ranges
        .iter()
        .find(|r| r.reason == Reason::Command)
        .expect("command");
    assert_eq!(cmd.first, 102);
}

#[test]
fn the_failing_section_is_kept_also_without_its_end() {
    let log = format!(
        "--- section prepare ---\n{}--- end prepare ---\n--- section step_script ---\n{}",
        filler(1000),
        filler(20)
    );
    let e = build(&log, 4096);
    assert!(e.text.contains("--- section step_script ---\n"));
    assert!(!e.text.contains("--- section prepare ---\n"));
    // The whole failing section fits, so all of it is there.
    assert!(kept(&e, 1003) && kept(&e, 1023));
}

#[test]
fn the_section_holding_the_error_is_the_failing_one() {
    let log = format!(
        "--- section build ---\n{}error: compile failed\n--- end build ---\n--- section after ---\n{}--- end after ---\n",
        filler(200),
        filler(1000)
    );
    let e = build(&log, 4096);
    assert!(e.text.contains("--- section build ---\n"));
    assert!(e.text.contains("error: compile failed\n"));
}

#[test]
fn the_manifest_matches_the_text() {
    let mut log = filler(400);
    log.push_str("error: first\n");
    log.push_str(&filler(800));
    log.push_str("FAILED: second\n");
    log.push_str(&filler(30));
    let lines: Vec<&str> = log.lines().collect();
    let e = build(&log, 8192);
    let mut at = 0;
    for r in &e.manifest.ranges {
        assert_eq!(r.collapsed_lines, 0);
        for n in r.first..=r.last {
            let want = format!("{}\n", lines[(n - 1) as usize]);
            let found = e.text[at..].find(&want).expect("line of a range in order");
            at += found + want.len();
        }
    }
    let kept: u64 = e.manifest.ranges.iter().map(|r| r.last - r.first + 1).sum();
    assert_eq!(kept + e.manifest.omitted_lines, e.manifest.total_lines);
    assert_eq!(e.manifest.total_bytes, log.len() as u64);
}

#[test]
fn chunk_boundaries_do_not_change_the_result() {
    let log = format!("{}error: x\n{}last", filler(500), filler(500));
    let one = build(&log, 4096);
    let mut b = Builder::new(&[4096]).expect("budget");
    for piece in log.as_bytes().chunks(7) {
        b.push(piece);
    }
    let many = b.finish().excerpts.pop().expect("one");
    assert_eq!(one, many);
    assert!(one.text.ends_with("last\n"));
}

#[test]
fn suspicious_characters_are_neutralised_and_counted() {
    let log = "ok \u{202E}txt.exe\nzero\u{200B}width\nbell\u{7}\n";
    let mut b = Builder::new(&[4096]).expect("budget");
    b.push(log.as_bytes());
    let f = b.finish();
    assert_eq!(
        f.excerpts[0].text,
        "ok <U+202E>txt.exe\nzero<U+200B>width\nbell<U+0007>\n"
    );
    assert_eq!(f.neutralised.total(), 3);
}

#[test]
fn two_budgets_from_one_pass() {
    let log = format!("{}error: boom\n{}", filler(100), filler(3000));
    let mut b = Builder::new(&[1 << 20, 8192]).expect("budgets");
    b.push(log.as_bytes());
    let f = b.finish();
    assert!(f.excerpts[0].is_whole());
    assert_eq!(f.excerpts[0].text, log);
    assert!(!f.excerpts[1].is_whole());
    assert!(f.excerpts[1].text.contains("error: boom\n"));
}

#[test]
fn memory_is_bounded_by_the_budget() {
    let mut b = Builder::new(&[4096]).expect("budget");
    let chunk = filler(1000);
    for _ in 0..200 {
        b.push(chunk.as_bytes());
    }
    assert!(b.store.bytes <= 4096);
    assert!(b.whole.is_none());
    assert!(b.ring.len() <= RING);
}

#[test]
fn a_log_of_tiny_lines_is_bounded_by_line_count_too() {
    // Two-byte lines that never repeat their neighbour: bookkeeping, not text, is the cost.
    let budget = 64 << 10;
    let mut b = Builder::new(&[budget]).expect("budget");
    let chunk = "a\nb\n".repeat(16 << 10);
    for _ in 0..40 {
        b.push(chunk.as_bytes());
    }
    assert!(
        b.store.len <= budget / UNIT_COST,
        "{} lines kept",
        b.store.len
    );
    assert!(b.store.slots.len() <= budget / UNIT_COST + 1);
    let done = b.finish();
    let excerpt = &done.excerpts[0];
    assert!(excerpt.text.len() <= budget);
    assert!(excerpt.text.ends_with("a\nb\n"), "the last lines are kept");
    assert!(excerpt.manifest.omitted_lines > 0);
}

proptest::proptest! {
    /// The store's priority order (queues per weight, a heap for late arrivals) pops exactly
    /// what a sorted set of the same keys would, whatever order the keys come in.
    #[test]
    fn the_store_order_pops_lowest_first_like_a_sorted_set(
        ops in proptest::collection::vec((0u32..4, 0u64..64, proptest::bool::weighted(0.3)), 1..400)
    ) {
        let mut order = Order::default();
        let mut reference = std::collections::BTreeSet::new();
        for (seq, (w, anchor, pop)) in ops.into_iter().enumerate() {
            let seq = seq as u64;
            if pop {
                let got = order.pop();
                let want = reference.pop_first().map(|(_, _, _, slot)| slot);
                proptest::prop_assert_eq!(got, want);
            } else {
                let weight = [5, 100, 350, 600][w as usize];
                order.push(weight, (anchor, seq, seq as usize));
                reference.insert((weight, anchor, seq, seq as usize));
            }
        }
        while let Some((_, _, _, slot)) = reference.pop_first() {
            proptest::prop_assert_eq!(order.pop(), Some(slot));
        }
        proptest::prop_assert_eq!(order.pop(), None);
    }
}
