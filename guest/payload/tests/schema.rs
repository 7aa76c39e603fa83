//! Every body the writer produces matches `schema/payload.schema.json`, and the schema rejects
//! what it should.

mod util;

use exlogare_payload::{JobInput, LogInfo};
use proptest::prelude::*;
use serde_json::{Value, json};
use util::{assert_valid, json_for, pairs, validator};

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema = util::schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert!(jsonschema::meta::is_valid(&schema));
}

#[test]
fn every_provider_matches() {
    let validator = validator();
    for fixture in util::all() {
        assert_valid(&validator, &json_for(fixture.env()));
    }
}

#[test]
fn the_failure_excerpt_selection_and_neutralised_counts_are_in_the_metadata() {
    let body = json_for(util::gitlab().env());
    assert_valid(&validator(), &body);
    let md = &body["metadata"];
    assert_eq!(md["failure_excerpt"]["manifest"]["budget"], 8192);
    assert_eq!(
        md["failure_excerpt"]["manifest"]["ranges"][0]["reason"],
        "error"
    );
    assert!(
        md["failure_excerpt"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("error: boom")
    );
    assert_eq!(md["log"]["selection"]["budget"], 8 << 20);
    assert_eq!(md["log"]["neutralised"]["zero_width"], 2);
}

#[test]
fn an_empty_input_matches() {
    let body: Value = serde_json::from_slice(&util::body(JobInput::default(), &[])).unwrap();
    assert_valid(&validator(), &body);
    assert_eq!(body["log"], "");
    assert_eq!(body["status"], "");
}

#[test]
fn the_schema_rejects_strays() {
    let validator = validator();
    let good = json_for(util::gitlab().env());
    let mut bad = good.clone();
    bad["unknown"] = json!("x");
    assert!(!validator.is_valid(&bad), "unknown top-level field");
    let mut bad = good.clone();
    bad["job_id"] = json!(123);
    assert!(!validator.is_valid(&bad), "numbers are not strings");
    let mut bad = good.clone();
    bad["metadata"]["job"]["typo"] = json!("x");
    assert!(!validator.is_valid(&bad), "unknown metadata key");
    let mut bad = good;
    bad.as_object_mut().unwrap().remove("project");
    assert!(!validator.is_valid(&bad), "missing documented field");
}

/// Odd text: quotes, controls, escapes, non-BMP and combining characters, RTL marks.
fn weird_text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("\u{0}\u{1}\u{1b}[31m\u{7f}".to_string()),
            Just("\r\n\t".to_string()),
            Just("😀e\u{301}\u{202e}\u{2028}".to_string()),
            Just("[REDACTED:x]".to_string()),
            "[a-z/:._-]{0,8}",
            any::<char>().prop_map(String::from),
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any fixture with any subset of its variables, any values made weird, any `--meta` and
    /// any log: the body is JSON that matches the schema, and its documented fields equal
    /// their variables.
    #[test]
    fn generated_bodies_match(
        which in 0usize..8,
        keep in proptest::collection::vec(any::<bool>(), 64),
        weird in proptest::collection::vec(weird_text(), 64),
        extra in proptest::collection::vec((weird_text(), weird_text()), 0..4),
        log in weird_text(),
        counts in proptest::collection::vec(("[a-z-]{1,10}", any::<u64>()), 0..4),
    ) {
        let fixture = util::all().swap_remove(which);
        let env: Vec<(String, String)> = fixture
            .vars
            .iter()
            .enumerate()
            .filter(|(i, _)| keep[i % keep.len()])
            .map(|(i, (k, v))| {
                // Keep the markers intact so the provider is still detected; make the rest odd.
                let value = if i % 3 == 0 || k.ends_with("CI") || k.starts_with("TF_") {
                    v.to_string()
                } else {
                    format!("{v}{}", weird[i % weird.len()])
                };
                (k.to_string(), value)
            })
            .collect();
        let input = JobInput {
            env: env.clone(),
            extra,
            host_version: "1.2.3".to_string(),
            log: LogInfo {
                redactions: counts,
                bytes_read: u64::MAX,
                ..LogInfo::default()
            },
        };
        let body = util::body(input, &[log.as_bytes()]);
        let body: Value = serde_json::from_slice(&body).expect("JSON");
        let validator = validator();
        assert_valid(&validator, &body);
        prop_assert_eq!(body["log"].as_str(), Some(log.as_str()));
        let lookup = |name: &str| env.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        if fixture.provider == "gitlab_ci" && lookup("GITLAB_CI").is_some() {
            for (field, var) in [
                ("project", "CI_PROJECT_PATH"),
                ("pipeline_id", "CI_PIPELINE_ID"),
                ("job_id", "CI_JOB_ID"),
                ("job_name", "CI_JOB_NAME"),
                ("commit_sha", "CI_COMMIT_SHA"),
            ] {
                let want = lookup(var).filter(|v| !v.trim().is_empty()).unwrap_or_default();
                prop_assert_eq!(body[field].as_str(), Some(want.as_str()), "{}", field);
            }
        }
    }
}

#[test]
fn a_huge_meta_value_is_refused_with_a_clear_error() {
    let input = JobInput {
        extra: pairs(&[("big", &"x".repeat(2 << 20))]),
        ..JobInput::default()
    };
    let error = exlogare_payload::PayloadWriter::new(input).unwrap_err();
    assert!(error.to_string().contains("--meta"), "{error}");
}
