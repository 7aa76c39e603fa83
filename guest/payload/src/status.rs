//! Job status values, made comparable across providers.
//!
//! Each CI system spells a job's outcome its own way (`failure`, `FAILURE`, `Failed`, an exit
//! code). The host gates on the status (`--when failed,canceled`), and the server groups by it,
//! so this module turns every spelling into one vocabulary: `success`, `failed`, `canceled`,
//! `timedout`, `skipped`, `unstable`, `succeeded_with_issues`; anything else is kept in lower
//! case.

/// Normalises a status word (`Failure`, `cancelled`, `SucceededWithIssues`, ...).
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let word: String = raw
        .trim()
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    let canonical = match word.as_str() {
        "" => return None,
        "success" | "succeeded" | "successful" | "passed" | "pass" | "ok" => "success",
        "failed" | "failure" | "fail" | "error" | "errored" | "broken" => "failed",
        "canceled" | "cancelled" | "aborted" | "abort" | "cancel" => "canceled",
        "timedout" | "timeout" => "timedout",
        "skipped" | "notbuilt" => "skipped",
        "unstable" => "unstable",
        "succeededwithissues" | "partiallysucceeded" => "succeeded_with_issues",
        _ => return Some(raw.trim().to_lowercase()),
    };
    Some(canonical.to_string())
}

/// Reads a command's exit code: `0` is `success`, any other integer `failed`.
pub(crate) fn from_exit_code(raw: &str) -> Option<String> {
    let code: i64 = raw.trim().parse().ok()?;
    Some(if code == 0 { "success" } else { "failed" }.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        for (raw, want) in [
            ("failed", "failed"),
            ("FAILURE", "failed"),
            ("Canceled", "canceled"),
            ("cancelled", "canceled"),
            ("ABORTED", "canceled"),
            ("SucceededWithIssues", "succeeded_with_issues"),
            ("timedout", "timedout"),
            ("NOT_BUILT", "skipped"),
            ("Weird", "weird"),
        ] {
            assert_eq!(normalize(raw).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(normalize("  "), None);
        assert_eq!(from_exit_code("0").as_deref(), Some("success"));
        assert_eq!(from_exit_code("137").as_deref(), Some("failed"));
        assert_eq!(from_exit_code("x"), None);
    }
}
