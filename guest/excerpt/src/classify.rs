//! What one log line is: the rules that say which lines explain a failure.
//!
//! Each rule is general (no file names, no project names): it looks for the shapes that CI
//! tools print — compiler and runner error lines, test-runner failure summaries (pytest, cargo
//! test, jest, Maven Surefire, go test, Gradle), stack traces and their causes, exit codes, the
//! commands a job ran, GitLab sections — and for the noise that explains nothing: runner
//! preparation, cache and artifact chatter, dependency downloads, passing tests.

use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, Anchored, Input, MatchKind, StartKind,
};

/// The kind of a line, as far as explaining a failure goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Class {
    /// A GitLab section starts (`--- section NAME ---`, as the clean-up writes it).
    SectionStart(String),
    /// A GitLab section ends (`--- end NAME ---`).
    SectionEnd(String),
    /// CI boilerplate: runner preparation, cache/artifact chatter, downloads,
    /// `Job failed: exit code N`.
    Boilerplate,
    /// A passing test or a success line.
    Pass,
    /// A stack frame (`at x.y(Z.java:1)`, `File "x.py", line 1`, `... 12 more`).
    Frame,
    /// The cause of an exception (`Caused by: ...`, Python's chained-exception lines).
    Cause,
    /// A test runner's failure summary or a build tool's failure verdict.
    Summary,
    /// An exit code or status of a failed command.
    ExitCode,
    /// An error line with a strong marker (`error:`, `[ERROR]`, `##[error]`, `FATAL`,
    /// `Exception`, `panicked at`, ...).
    Error,
    /// A line with a weaker failure word (`cannot`, `not found`, `missing`, ...).
    Weak,
    /// A command the job ran (`$ cmd`, `+ cmd`, `##[group]Run cmd`, `> script`).
    Command,
    /// Anything else.
    Plain,
}

/// The line classifier; build it once, it holds the keyword automata.
pub struct Classifier {
    /// Every keyword list in one automaton, so that a line is searched once.
    all: Option<AhoCorasick>,
    /// [`BOILERPLATE`], as an anchored automaton: one pass over a line's start.
    boilerplate: Option<AhoCorasick>,
    /// [`SUMMARY_PREFIX`], likewise.
    summary_prefix: Option<AhoCorasick>,
}

/// What the keyword search found in a line.
#[derive(Default)]
struct Hits {
    strong: bool,
    weak: bool,
    benign: bool,
    exit: bool,
    /// One of [`SUMMARY_CONTAINS`], with its case.
    summary: bool,
}

/// Whether the keyword found at `start..end` of `text` is a word of its own, not a part of an
/// identifier: `ErrorTest`, `FailureHandler` or `onError` in a class name is not an error, nor
/// is `errors` in `com.example.errors.Foo`. A keyword may start inside a word (`TypeError`,
/// `AssertionFailedError`) but may be followed only by a non-letter or by a lower-case ending
/// (`errors`, `failed`, `failure`).
fn is_word(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let after = bytes.get(end).copied();
    let before = start.checked_sub(1).and_then(|i| bytes.get(i)).copied();
    let ident_after =
        after.is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    let ident_before = before.is_some_and(|b| b == b'_')
        || (before.is_some_and(|b| b.is_ascii_lowercase())
            && bytes[start].is_ascii_uppercase()
            && after.is_some_and(|b| b.is_ascii_alphanumeric()));
    let word_start = bytes[..start]
        .iter()
        .rposition(|b| !b.is_ascii_alphanumeric())
        .map_or(0, |i| i + 1);
    let word_end = bytes[end..]
        .iter()
        .position(|b| !b.is_ascii_alphanumeric())
        .map_or(bytes.len(), |i| end + i);
    let sep = |b: Option<&u8>| matches!(b, Some(b'.' | b'/' | b'\\'));
    let in_path = sep(word_start.checked_sub(1).and_then(|i| bytes.get(i)))
        && sep(bytes.get(word_end))
        && bytes
            .get(word_end + 1)
            .is_some_and(|b| b.is_ascii_alphanumeric());
    !(ident_after || ident_before || in_path)
}

/// Words of a failed command's exit status (matched case-insensitively).
const EXIT: &[&str] = &[
    "exit code",
    "exit status",
    "exited with",
    "returned non-zero",
    "non-zero exit",
    "status code",
];

/// Words that mark an error line (matched case-insensitively).
const STRONG: &[&str] = &[
    "error",
    "fail",
    "fatal",
    "exception",
    "panic",
    "traceback",
    "assertion",
    "segmentation fault",
    "core dumped",
    "npm err!",
    "killed",
    "aborted",
    "✗",
    "✖",
    "✕",
    "●",
];

/// Weaker failure words (matched case-insensitively).
const WEAK: &[&str] = &[
    "cannot ",
    "can't ",
    "could not",
    "couldn't",
    "unable to",
    "not found",
    "no such file",
    "denied",
    "timed out",
    "timeout",
    "undefined",
    "unresolved",
    "does not exist",
    "mismatch",
    "unexpected",
    "invalid",
    "missing",
    "expected",
    "refused",
    "conflict",
    "warning: ",
];

/// Text that looks like an error word but reports success (matched case-insensitively).
const NOT_ERROR: &[&str] = &[
    "failures: 0, errors: 0",
    " 0 errors",
    " 0 failed",
    "0 failures",
    "-werror",
    "error_prone",
    "errorprone",
    "no errors",
    "failfast",
    "fail-fast",
    "fail_fast",
    "allow_failure",
    "ignore-errors",
];

/// Prefixes (after any timestamp and indentation) of CI boilerplate.
const BOILERPLATE: &[&str] = &[
    "Running with gitlab-runner",
    "Preparing the \"",
    "Preparing environment",
    "Using docker executor",
    "Using Docker executor",
    "Using Kubernetes",
    "Using Shell",
    "Pulling docker image",
    "Using docker image",
    "Using effective pull policy",
    "Running on runner-",
    "Running on ",
    "Getting source from Git",
    "Fetching changes",
    "Initialized empty Git repository",
    "Reinitialized existing Git repository",
    "Created fresh repository",
    "Skipping Git submodules",
    "Restoring cache",
    "Checking cache for",
    "Successfully extracted cache",
    "Saving cache",
    "Creating cache",
    "Uploading artifacts",
    "Downloading artifacts",
    "Cleaning up project directory",
    "Cleaning up file based variables",
    "Executing \"step_script\"",
    "ERROR: Job failed: exit code",
    "Job failed: exit code",
    "Job succeeded",
    "Downloading from ",
    "Downloaded from ",
    "Downloading: ",
    "Downloaded: ",
    "Progress (",
    "go: downloading",
    "go: finding",
    "go: extracting",
    "[WS-CLEANUP]",
    "Sending e-mails",
    "##[group]",
    "##[endgroup]",
    "Uploading: ",
    "Uploaded: ",
    "npm WARN deprecated",
    "Collecting ",
    "Downloading ",
    "Requirement already satisfied",
    "Get:",
    "Hit:",
    "Unpacking ",
    "Setting up ",
    "Selecting previously unselected",
    "Preparing to unpack",
    "Receiving objects",
    "Resolving deltas",
    "Compressing objects",
    "remote: ",
    "Updating files:",
    "Compiling ",
    "Fresh ",
    "Downloaded ",
];

/// Prefixes of a test runner's failure summary or a build's failure verdict.
const SUMMARY_PREFIX: &[&str] = &[
    "--- FAIL",
    "FAIL\t",
    "FAIL ",
    "FAILED ",
    "failures:",
    "test result: FAILED",
    "Tests run:",
    "[ERROR] Tests run:",
    "[ERROR] Failures:",
    "[ERROR] Errors:",
    "Failed tests:",
    "Tests in error:",
    "Results :",
    "* What went wrong:",
    "BUILD FAILED",
    "BUILD FAILURE",
    "[INFO] BUILD FAILURE",
    "Tests:",
    "Test Suites:",
    "FAILURE: Build failed",
];

/// Text inside a summary line (pytest's banners, Gradle's task verdicts).
const SUMMARY_CONTAINS: &[&str] = &[
    "short test summary info",
    "= FAILURES =",
    "= ERRORS =",
    " failed, ",
    " failed in ",
    " FAILED",
    "There were failing tests",
    "There are test failures",
];

impl Default for Classifier {
    fn default() -> Self {
        Classifier::new()
    }
}

impl Classifier {
    /// Builds the keyword automata.
    pub fn new() -> Classifier {
        let words: Vec<&str> = [STRONG, WEAK, NOT_ERROR, EXIT, SUMMARY_CONTAINS].concat();
        let all = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // A DFA: every line is searched (a contiguous NFA made the builder 25% slower).
            .kind(Some(AhoCorasickKind::DFA))
            .build(words)
            .ok();
        // A contiguous NFA, not a DFA: these only look at a line's first few dozen bytes, and
        // a DFA of ~90 prefixes costs more to build (at every start) than it saves.
        let anchored = |words: &[&str]| {
            AhoCorasickBuilder::new()
                .start_kind(StartKind::Anchored)
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(words)
                .ok()
        };
        Classifier {
            all,
            boilerplate: anchored(BOILERPLATE),
            summary_prefix: anchored(SUMMARY_PREFIX),
        }
    }

    /// Whether `text` starts with one of the anchored automaton's words (or, without one,
    /// of `words`).
    fn starts_with_any(ac: &Option<AhoCorasick>, words: &[&str], text: &str) -> bool {
        match ac {
            Some(ac) => ac.is_match(Input::new(text).anchored(Anchored::Yes)),
            None => words.iter().any(|p| text.starts_with(p)),
        }
    }

    /// Searches `text` once for every keyword list.
    fn hits(&self, text: &str) -> Hits {
        let mut hits = Hits::default();
        let Some(ac) = &self.all else { return hits };
        let (s, w, n, e) = (STRONG.len(), WEAK.len(), NOT_ERROR.len(), EXIT.len());
        for m in ac.find_overlapping_iter(text) {
            let id = m.pattern().as_usize();
            if id < s {
                hits.strong |= is_word(text, m.start(), m.end());
            } else if id < s + w {
                hits.weak = true;
            } else if id < s + w + n {
                hits.benign = true;
            } else if id < s + w + n + e {
                hits.exit = true;
            } else {
                // The summary words are matched with their case.
                hits.summary |= SUMMARY_CONTAINS
                    .get(id - (s + w + n + e))
                    .is_some_and(|p| text.get(m.start()..m.end()) == Some(*p));
            }
        }
        hits
    }

    /// What `line` (without its line end) is.
    pub fn classify(&self, line: &str) -> Class {
        let body = strip_timestamp(line);
        let t = body.trim_start();
        if let Some(name) = t
            .strip_prefix("--- section ")
            .and_then(|r| r.strip_suffix(" ---"))
        {
            return Class::SectionStart(name.to_string());
        }
        if let Some(name) = t
            .strip_prefix("--- end ")
            .and_then(|r| r.strip_suffix(" ---"))
        {
            return Class::SectionEnd(name.to_string());
        }
        if is_frame(t) {
            return Class::Frame;
        }
        if t.starts_with("Caused by")
            || t.starts_with("During handling of the above exception")
            || t.starts_with("The above exception was the direct cause")
            || t.starts_with("Suppressed: ")
        {
            return Class::Cause;
        }
        if t.starts_with("##[group]Run ") || t.starts_with("[command]") {
            return Class::Command;
        }
        if Self::starts_with_any(&self.boilerplate, BOILERPLATE, t) {
            return Class::Boilerplate;
        }
        let head = prefix(t, 400);
        if is_pass(head) {
            return Class::Pass;
        }
        let hits = self.hits(head);
        let benign = hits.benign;
        if Self::starts_with_any(&self.summary_prefix, SUMMARY_PREFIX, t) && !benign {
            return Class::Summary;
        }
        if hits.summary && !benign {
            return Class::Summary;
        }
        if t.starts_with("$ ") || t.starts_with("+ ") || t.starts_with("> ") {
            return Class::Command;
        }
        if hits.exit || (t.starts_with("make") && t.contains("*** [")) {
            return Class::ExitCode;
        }
        if !benign && hits.strong {
            return Class::Error;
        }
        if !benign && hits.weak {
            return Class::Weak;
        }
        Class::Plain
    }
}

/// The first `max` bytes of `s` (at a character boundary).
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// `line` without a leading ISO-8601 timestamp (`2022-06-02T15:14:50.4368262Z `), as GitHub
/// Actions and many tools print.
pub fn strip_timestamp(line: &str) -> &str {
    let b = line.as_bytes();
    if b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ')
        && let Some(sp) = line[10..].find(' ')
    {
        let rest = &line[10 + sp + 1..];
        // `2022-01-01 12:00:00 message`: the time is a second word.
        if b[10] == b' ' {
            return rest.split_once(' ').map_or(rest, |(_, r)| r);
        }
        return rest;
    }
    line
}

/// A stack frame of Java, Kotlin, Scala, JavaScript, Python, Go, Rust or .NET.
fn is_frame(t: &str) -> bool {
    let t = t.strip_prefix("[ERROR]").map_or(t, str::trim_start);
    (t.starts_with("at ") && (t.contains('(') || t.contains('.') || t.contains(':')))
        || (t.starts_with("... ") && t.ends_with(" more"))
        || t.starts_with("File \"")
        || (t.starts_with("at:") && t.len() > 4)
        || (t.len() > 4
            && t.as_bytes()[0].is_ascii_digit()
            && t.contains(": ")
            && t.split(':')
                .next()
                .is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
            && (t.contains("::") || t.contains("0x")))
}

/// A passing test or a success verdict.
fn is_pass(t: &str) -> bool {
    t.starts_with("--- PASS")
        || t.starts_with("PASS ")
        || t.starts_with("PASS\t")
        || t.starts_with("ok  \t")
        || t.starts_with("ok ")
        || t.starts_with("✓")
        || t.starts_with("√")
        || t.starts_with("[INFO] BUILD SUCCESS")
        || t.starts_with("BUILD SUCCESS")
        || t.ends_with(" PASSED")
        || t.ends_with(" ... ok")
        || t.ends_with(" ok")
        || (t.contains("Tests run:") && t.contains("Failures: 0, Errors: 0"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(line: &str) -> Class {
        Classifier::new().classify(line)
    }

    #[test]
    fn sections() {
        assert_eq!(
            c("--- section build_script ---"),
            Class::SectionStart("build_script".into())
        );
        assert_eq!(
            c("--- end build_script ---"),
            Class::SectionEnd("build_script".into())
        );
    }

    #[test]
    fn boilerplate_comes_first_even_when_it_says_error() {
        assert_eq!(c("ERROR: Job failed: exit code 1"), Class::Boilerplate);
        assert_eq!(
            c("Running with gitlab-runner 16.0.0 (abc)"),
            Class::Boilerplate
        );
        assert_eq!(c("Saving cache for successful job"), Class::Boilerplate);
        assert_eq!(c("Uploading artifacts for failed job"), Class::Boilerplate);
        assert_eq!(
            c("[INFO] Downloading from central: https://repo.maven.apache.org/x.pom"),
            Class::Plain
        );
        assert_eq!(
            c("Downloading from central: https://repo/x.pom"),
            Class::Boilerplate
        );
        assert_eq!(
            c("2022-06-02T15:14:35.2380826Z go: downloading x v1"),
            Class::Boilerplate
        );
    }

    #[test]
    fn error_lines() {
        assert_eq!(
            c("[ERROR] /src/A.java:[71,65] cannot find symbol"),
            Class::Error
        );
        assert_eq!(c("error[E0308]: mismatched types"), Class::Error);
        assert_eq!(
            c("2022-06-02T15:14:50.4Z ##[error]register.go:22:2: Get x"),
            Class::Error
        );
        assert_eq!(c("│ Error: Unsupported argument"), Class::Error);
        assert_eq!(
            c("thread 'main' panicked at src/main.rs:2:5:"),
            Class::Error
        );
        assert_eq!(c("FATAL: Could not checkout 779ff9c"), Class::Error);
        assert_eq!(c("npm ERR! code ELIFECYCLE"), Class::Error);
        assert_eq!(
            c("ls: cannot access 'x': No such file or directory"),
            Class::Weak
        );
    }

    #[test]
    fn success_words_are_not_errors() {
        assert_eq!(
            c("Tests run: 12, Failures: 0, Errors: 0, Skipped: 0"),
            Class::Pass
        );
        assert_eq!(c("Compiled with 0 errors"), Class::Plain);
        assert_eq!(c("gcc -Werror -c x.c"), Class::Plain);
        assert_eq!(c("--- PASS: TestX (0.00s)"), Class::Pass);
        assert_eq!(c("test tests::it_works ... ok"), Class::Pass);
        assert_eq!(c("tests/test_a.py::test_b PASSED"), Class::Pass);
    }

    #[test]
    fn test_runner_summaries() {
        // pytest
        assert_eq!(
            c("=========================== short test summary info ============================"),
            Class::Summary
        );
        assert_eq!(
            c("FAILED tests/test_a.py::test_b - assert 1 == 2"),
            Class::Summary
        );
        assert_eq!(
            c("========= 1 failed, 3 passed in 0.12s ========="),
            Class::Summary
        );
        // cargo test
        assert_eq!(c("failures:"), Class::Summary);
        assert_eq!(
            c("test result: FAILED. 1 passed; 1 failed; 0 ignored"),
            Class::Summary
        );
        // jest
        assert_eq!(
            c("Tests:       1 failed, 4 passed, 5 total"),
            Class::Summary
        );
        // Maven Surefire
        assert_eq!(
            c("[ERROR] Tests run: 5, Failures: 1, Errors: 0, Skipped: 0"),
            Class::Summary
        );
        assert_eq!(c("[ERROR] Failures: "), Class::Summary);
        // go test
        assert_eq!(c("--- FAIL: TestCloud_config (1.67s)"), Class::Summary);
        assert_eq!(c("FAIL\tgithub.com/x/y\t0.1s"), Class::Summary);
        // Gradle
        assert_eq!(c("* What went wrong:"), Class::Summary);
        assert_eq!(c("> Task :app:test FAILED"), Class::Summary);
        assert_eq!(c("BUILD FAILED in 12s"), Class::Summary);
    }

    #[test]
    fn traces_causes_exit_codes_and_commands() {
        assert_eq!(
            c("\tat org.junit.Assert.fail(Assert.java:89)"),
            Class::Frame
        );
        assert_eq!(
            c("    at Object.<anonymous> (test/a.test.js:3:5)"),
            Class::Frame
        );
        assert_eq!(c("  File \"x.py\", line 3, in <module>"), Class::Frame);
        assert_eq!(c("\t... 23 more"), Class::Frame);
        assert_eq!(c("   3: std::panicking::begin_panic::h0123"), Class::Frame);
        assert_eq!(c("Caused by: java.io.IOException: boom"), Class::Cause);
        assert_eq!(
            c("##[error]Process completed with exit code 1."),
            Class::ExitCode
        );
        assert_eq!(
            c("make: *** [Makefile:24: staticcheck] Error 1"),
            Class::ExitCode
        );
        assert_eq!(c("$ cargo test --locked"), Class::Command);
        assert_eq!(c("##[group]Run make test"), Class::Command);
    }

    #[test]
    fn timestamps_are_stripped() {
        assert_eq!(
            strip_timestamp("2022-04-12T19:22:54.9573194Z --- FAIL: T"),
            "--- FAIL: T"
        );
        assert_eq!(strip_timestamp("2022-04-12 19:22:54 hello"), "hello");
        assert_eq!(strip_timestamp("plain"), "plain");
    }
}
