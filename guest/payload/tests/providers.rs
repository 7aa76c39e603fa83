//! What each CI provider's variables become in the body.

mod util;

use exlogare_payload::{JobInput, all_wanted_env, detect, looks_secret, wanted_env};
use serde_json::{Value, json};
use util::{json_for, pairs};

/// The documented fields of a body, in order.
fn fields(body: &Value) -> Vec<(&str, &str)> {
    [
        "provider",
        "project",
        "pipeline_id",
        "job_id",
        "job_name",
        "status",
        "branch",
        "commit_sha",
        "pipeline_url",
    ]
    .into_iter()
    .map(|k| (k, body[k].as_str().expect("documented fields are strings")))
    .collect()
}

#[test]
fn gitlab_fields_are_the_real_variables() {
    let body = json_for(util::gitlab().env());
    assert_eq!(
        fields(&body),
        [
            ("provider", "gitlab_ci"),
            ("project", "group/sub/app"),
            ("pipeline_id", "987654"),
            ("job_id", "123456789"),
            ("job_name", "test: [linux, 1/2]"),
            ("status", "failed"),
            ("branch", "feature/login"),
            ("commit_sha", "1111111111111111111111111111111111111111"),
            (
                "pipeline_url",
                "https://gitlab.example.com/group/sub/app/-/pipelines/987654"
            ),
        ]
    );
    let m = &body["metadata"];
    assert_eq!(m["job"]["stage"], "test");
    assert_eq!(m["job"]["node_index"], "1");
    assert_eq!(m["job"]["node_total"], "2");
    assert_eq!(m["pipeline"]["source"], "merge_request_event");
    assert_eq!(m["merge_request"]["id"], "17");
    assert_eq!(
        m["merge_request"]["url"],
        "https://gitlab.example.com/group/sub/app/-/merge_requests/17"
    );
    assert_eq!(m["merge_request"]["event_type"], "merged_result");
    assert_eq!(
        m["merge_request"]["source_sha"],
        "2222222222222222222222222222222222222222"
    );
    assert_eq!(
        m["commit"]["sha"],
        "1111111111111111111111111111111111111111"
    );
    assert_eq!(m["commit"]["author"], "Ada Lovelace <ada@example.com>");
    assert_eq!(m["server"]["version"], "17.5.1");
    assert_eq!(m["runner"]["tags"], "[\"docker\", \"linux\"]");
    assert_eq!(
        m["project"]["repository_url"],
        "https://gitlab.example.com/group/sub/app.git"
    );
    assert_eq!(m["extra"], json!({"team": "payments"}));
    assert_eq!(m["exlogare_version"], "0.1.0-test");
    assert_eq!(m["redactions"], json!({"gitlab-pat": 3, "known-secret": 1}));
    assert_eq!(m["log"]["bytes_read"], 5_000_000);
    assert_eq!(body["log"], "line 1\nline 2\n");
}

#[test]
fn no_token_or_secret_variable_reaches_the_body() {
    for fixture in util::all() {
        let text = serde_json::to_string(&json_for(fixture.env())).unwrap();
        for (name, value) in &fixture.vars {
            if looks_secret(name) {
                assert!(
                    !text.contains(value),
                    "{name} leaked into {}",
                    fixture.provider
                );
            }
        }
        assert!(!text.contains(util::JOB_TOKEN));
        assert!(!text.contains("pat-fixture"));
        assert!(!text.contains("fabrikam@"));
    }
}

#[test]
fn gitlab_branch_falls_back_in_merge_request_pipelines() {
    let env = pairs(&[
        ("GITLAB_CI", "true"),
        ("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "feature/mr"),
    ]);
    assert_eq!(json_for(env)["branch"], "feature/mr");
    let env = pairs(&[
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_REF_NAME", ""),
        ("CI_COMMIT_BRANCH", "main"),
    ]);
    assert_eq!(json_for(env)["branch"], "main");
}

#[test]
fn gitlab_commit_title_falls_back_to_the_message() {
    let env = pairs(&[
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_MESSAGE", "First line\n\nbody"),
    ]);
    assert_eq!(json_for(env)["metadata"]["commit"]["title"], "First line");
}

#[test]
fn gitlab_ci_local_is_gitlab_though_it_says_gitlab_ci_false() {
    let env = pairs(&[
        ("GITLAB_CI", "false"),
        ("CI_JOB_ID", "366435"),
        ("CI_PROJECT_PATH", "fallback.group/fallback.project"),
        ("CI_JOB_STATUS", "failed"),
    ]);
    let info = detect(&env);
    assert_eq!(info.provider, "gitlab_ci");
    assert_eq!(info.status.as_deref(), Some("failed"));
    // GITLAB_CI=false alone is not enough.
    assert_eq!(
        detect(&pairs(&[("GITLAB_CI", "false")])).provider,
        "generic"
    );
}

#[test]
fn github_fields() {
    let body = json_for(util::github().env());
    assert_eq!(
        fields(&body),
        [
            ("provider", "github_actions"),
            ("project", "octo-org/octo-repo"),
            ("pipeline_id", "1658821493"),
            ("job_id", "build/2"),
            ("job_name", "CI / build"),
            ("status", "failed"),
            ("branch", "feature-branch-1"),
            ("commit_sha", "ffac537e6cbbf934b08745a378932722df287a53"),
            (
                "pipeline_url",
                "https://github.com/octo-org/octo-repo/actions/runs/1658821493"
            ),
        ]
    );
    let m = &body["metadata"];
    assert_eq!(m["merge_request"]["id"], "7");
    assert_eq!(m["merge_request"]["target_branch"], "main");
    assert_eq!(m["job"]["attempt"], "2");
    assert_eq!(m["runner"]["os"], "Linux");
}

#[test]
fn buildkite_fields() {
    let body = json_for(util::buildkite().env());
    assert_eq!(body["project"], "acme/web");
    assert_eq!(body["status"], "failed");
    assert_eq!(body["job_name"], ":rust: test");
    assert_eq!(
        body["pipeline_url"],
        "https://buildkite.com/acme/web/builds/1514"
    );
    let m = &body["metadata"];
    assert_eq!(m["commit"]["title"], "Fix the flaky test");
    assert_eq!(m["commit"]["author"], "Grace Hopper <grace@example.com>");
    assert_eq!(m["pipeline"]["number"], "1514");
    assert!(
        m.get("merge_request").is_none(),
        "false means no pull request"
    );
}

#[test]
fn circleci_fields() {
    let body = json_for(util::circleci().env());
    assert_eq!(body["project"], "acme/api");
    assert_eq!(body["job_id"], "881");
    assert_eq!(body["status"], "failed");
    assert_eq!(
        body["pipeline_url"],
        "https://app.circleci.com/pipelines/workflows/6fe2b4a8-0000-4000-8000-000000000003"
    );
    assert_eq!(body["metadata"]["merge_request"]["id"], "99");
    assert_eq!(body["metadata"]["job"]["node_total"], "4");
}

#[test]
fn jenkins_fields() {
    let body = json_for(util::jenkins().env());
    assert_eq!(body["project"], "acme/app/PR-12");
    assert_eq!(body["status"], "failed");
    assert_eq!(body["branch"], "feature/x");
    assert_eq!(body["job_name"], "PR-12");
    assert_eq!(
        body["metadata"]["project"]["repository_url"],
        "https://github.com/acme/app.git"
    );
    assert_eq!(body["metadata"]["merge_request"]["target_branch"], "main");
}

#[test]
fn jenkins_git_branch_loses_its_remote() {
    let env = pairs(&[
        ("BUILD_ID", "3"),
        ("JOB_NAME", "app"),
        ("GIT_BRANCH", "origin/release/1.2"),
    ]);
    let body = json_for(env);
    assert_eq!(body["provider"], "jenkins");
    assert_eq!(body["branch"], "release/1.2");
}

#[test]
fn azure_fields() {
    let body = json_for(util::azure().env());
    assert_eq!(body["project"], "Fabrikam/web");
    assert_eq!(body["status"], "failed");
    assert_eq!(body["branch"], "feature/fast");
    assert_eq!(
        body["pipeline_url"],
        "https://dev.azure.com/fabrikam/Web%20App/_build/results?buildId=2024"
    );
    let m = &body["metadata"];
    assert_eq!(m["merge_request"]["target_branch"], "main");
    assert_eq!(
        m["project"]["repository_url"],
        "https://dev.azure.com/fabrikam/Web%20App/_git/web"
    );
    assert_eq!(m["job"]["stage"], "Build");
}

#[test]
fn azure_statuses() {
    for (raw, want) in [
        ("Succeeded", "success"),
        ("SucceededWithIssues", "succeeded_with_issues"),
        ("Failed", "failed"),
        ("Canceled", "canceled"),
    ] {
        let env = pairs(&[("TF_BUILD", "True"), ("AGENT_JOBSTATUS", raw)]);
        assert_eq!(detect(&env).status.as_deref(), Some(want), "{raw}");
    }
}

#[test]
fn bitbucket_fields() {
    let body = json_for(util::bitbucket().env());
    assert_eq!(body["project"], "team/service");
    assert_eq!(body["status"], "failed");
    assert_eq!(body["pipeline_id"], "310");
    assert_eq!(body["job_name"], "");
    assert_eq!(
        body["pipeline_url"],
        "https://bitbucket.org/team/service/pipelines/results/310"
    );
    assert_eq!(body["metadata"]["pipeline"]["uuid"], "{a1b2-fixture}");
    assert_eq!(body["metadata"]["merge_request"]["id"], "8");
}

#[test]
fn generic_reads_the_overrides() {
    let body = json_for(util::generic().env());
    assert_eq!(
        fields(&body),
        [
            ("provider", "generic"),
            ("project", "local/tool"),
            ("pipeline_id", "p1"),
            ("job_id", "j1"),
            ("job_name", "make check"),
            ("status", "failed"),
            ("branch", "dev"),
            ("commit_sha", "deadbeef"),
            ("pipeline_url", "https://ci.example.com/p1"),
        ]
    );
}

#[test]
fn detection_of_every_provider() {
    for fixture in util::all() {
        let info = detect(&fixture.env());
        assert_eq!(info.provider, fixture.provider);
        assert_eq!(
            info.status.as_deref(),
            Some("failed"),
            "{}",
            fixture.provider
        );
    }
}

#[test]
fn exit_codes_give_success_too() {
    let env = pairs(&[
        ("BUILDKITE", "true"),
        ("BUILDKITE_COMMAND_EXIT_STATUS", "0"),
    ]);
    assert_eq!(detect(&env).status.as_deref(), Some("success"));
    let env = pairs(&[
        ("BITBUCKET_BUILD_NUMBER", "1"),
        ("BITBUCKET_EXIT_CODE", "0"),
    ]);
    assert_eq!(detect(&env).status.as_deref(), Some("success"));
}

#[test]
fn overrides_win_for_every_provider() {
    for fixture in util::all() {
        let mut env = fixture.env();
        env.extend(pairs(&[
            ("EXLOGARE_JOB_STATUS", "cancelled"),
            ("EXLOGARE_PROJECT", "override/path"),
        ]));
        assert_eq!(detect(&env).status.as_deref(), Some("canceled"));
        assert_eq!(json_for(env)["project"], "override/path");
    }
}

#[test]
fn exlogare_provider_picks_the_provider() {
    let env = pairs(&[("GITLAB_CI", "true"), ("EXLOGARE_PROVIDER", "circleci")]);
    assert_eq!(detect(&env).provider, "circleci");
    let env = pairs(&[("EXLOGARE_PROVIDER", "travis")]);
    assert_eq!(detect(&env).provider, "generic");
}

#[test]
fn github_and_circleci_have_no_status_of_their_own() {
    assert_eq!(detect(&pairs(&[("GITHUB_ACTIONS", "true")])).status, None);
    assert_eq!(detect(&pairs(&[("CIRCLECI", "true")])).status, None);
    assert_eq!(detect(&[]).provider, "generic");
}

#[test]
fn missing_variables_give_empty_fields_and_no_metadata_groups() {
    for marker in [
        ("GITLAB_CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("BUILDKITE", "true"),
        ("CIRCLECI", "true"),
        ("JENKINS_URL", "https://j/"),
        ("TF_BUILD", "True"),
        ("BITBUCKET_BUILD_NUMBER", "1"),
    ] {
        let body = json_for(pairs(&[marker]));
        for (name, value) in fields(&body).into_iter().skip(1) {
            // Bitbucket's build number is its pipeline id, and GitHub's server has a default.
            if name != "pipeline_id" {
                assert_eq!(value, "", "{} {name}", marker.0);
            }
        }
    }
}

#[test]
fn secret_looking_extra_keys_are_dropped() {
    let input = JobInput {
        extra: pairs(&[
            ("deploy_token", "x"),
            ("team", "a"),
            (" ", "b"),
            ("team", "c"),
        ]),
        ..JobInput::default()
    };
    let body: Value = serde_json::from_slice(&util::body(input, &[])).unwrap();
    assert_eq!(body["metadata"]["extra"], json!({"team": "c"}));
}

#[test]
fn wanted_env_lists_what_is_read_and_nothing_secret() {
    let all = all_wanted_env();
    for name in &all {
        assert!(!looks_secret(name), "{name} looks secret");
        assert!(wanted_env(name), "{name}");
    }
    for name in [
        "CI_JOB_TOKEN",
        "CI_JOB_JWT_V2",
        "EXLOGARE_TOKEN",
        "PATH",
        "HOME",
        "CI_REGISTRY_PASSWORD",
    ] {
        assert!(!wanted_env(name), "{name}");
    }
    // Every variable in the fixtures that is not secret is one the payload reads (or CI).
    for fixture in util::all() {
        for (name, _) in &fixture.vars {
            assert!(
                wanted_env(name) || looks_secret(name) || *name == "CI",
                "{name}"
            );
        }
    }
}
