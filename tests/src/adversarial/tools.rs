//! Real tool output around the secrets: a GitLab runner preamble and blocks of cargo, npm,
//! pytest, maven, docker, kubectl, terraform and `curl -v` output, each carrying fresh
//! must-keep tokens (commit SHAs, sha256 digests, UUIDs, versions, SRI hashes, paths, test
//! names, hex in non-secret assignments) that the redactor must leave byte for byte.

use super::rng::{ALNUM, BASE64, Rng};

/// Output of one tool, and the must-keep tokens it holds.
pub struct Block {
    /// The text, each line ended.
    pub text: String,
    /// Tokens that must survive unchanged.
    pub keep: Vec<String>,
}

/// The GitLab runner's first lines.
pub fn preamble(rng: &mut Rng) -> Block {
    let sha = rng.hex(40);
    let runner = rng.string(ALNUM, 8);
    let job = rng.range(1_000_000, 9_999_999).to_string();
    let text = format!(
        "Running with gitlab-runner 17.4.0 (b92ee590)\n  on docker-autoscaler {runner}, system ID: s_{}\n\
         Preparing the \"docker\" executor\nUsing docker image sha256:{} for rust:1.95 ...\n\
         Getting source from Git repository\nFetching changes with git depth set to 20...\n\
         Checking out {} as detached HEAD (ref is main)...\nJob {job} started\n",
        rng.hex(12),
        rng.hex(64),
        &sha[..8]
    );
    Block {
        keep: vec![runner, sha[..8].to_string(), job],
        text,
    }
}

/// One block of tool output, chosen at random.
pub fn block(rng: &mut Rng) -> Block {
    match rng.below(10) {
        0 => cargo(rng),
        1 => npm(rng),
        2 => pytest(rng),
        3 => maven(rng),
        4 => docker(rng),
        5 => kubectl(rng),
        6 => terraform(rng),
        7 => curl(rng),
        8 => git(rng),
        _ => env_dump(rng),
    }
}

fn cargo(rng: &mut Rng) -> Block {
    let v = rng.version();
    let test = format!(
        "tests::parse_{}",
        rng.string(b"abcdefghijklmnopqrstuvwxyz", 8)
    );
    let path = format!("src/{}.rs", rng.string(b"abcdefghijklmnopqrstuvwxyz", 6));
    Block {
        text: format!(
            "   Compiling serde v{v}\n   Compiling app v0.1.0 (/builds/acme/app)\n    Finished `test` profile [unoptimized + debuginfo] target(s) in 41.2s\n\
             test {test} ... FAILED\nthread '{test}' panicked at {path}:42:9:\nassertion failed: left == right\n"
        ),
        keep: vec![format!("v{v}"), test, path],
    }
}

fn npm(rng: &mut Rng) -> Block {
    let sri = format!("sha512-{}==", rng.string(BASE64, 86));
    let v = rng.version();
    Block {
        text: format!(
            "npm http fetch GET 200 https://registry.npmjs.org/lodash/-/lodash-{v}.tgz 120ms\n  \"integrity\": \"{sri}\",\nadded 312 packages in 9s\n"
        ),
        keep: vec![sri, format!("lodash-{v}.tgz")],
    }
}

fn pytest(rng: &mut Rng) -> Block {
    let name = format!("test_{}", rng.string(b"abcdefghijklmnopqrstuvwxyz_", 12));
    Block {
        text: format!(
            "tests/test_api.py::{name} FAILED                                   [ 42%]\n\
             E       AssertionError: assert 401 == 200\nFAILED tests/test_api.py::{name} - AssertionError\n"
        ),
        keep: vec![format!("tests/test_api.py::{name}")],
    }
}

fn maven(rng: &mut Rng) -> Block {
    let v = rng.version();
    let sha1 = rng.hex(40);
    Block {
        text: format!(
            "[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/{v}/slf4j-api-{v}.jar (41 kB at 1.2 MB/s)\n\
             [INFO] checksum sha1 {sha1} verified\n[ERROR] Tests run: 12, Failures: 1, Errors: 0, Skipped: 0\n"
        ),
        keep: vec![format!("slf4j-api-{v}.jar"), sha1],
    }
}

fn docker(rng: &mut Rng) -> Block {
    let digest = format!("sha256:{}", rng.hex(64));
    let layer = rng.hex(12);
    let image_sha = rng.hex(40);
    Block {
        text: format!(
            "#5 [2/6] RUN apt-get update\n#5 DONE 4.1s\n{layer}: Pull complete\nDigest: {digest}\n\
             Status: Downloaded newer image for registry.example.com/app:latest\nIMAGE_SHA={image_sha}\n"
        ),
        keep: vec![digest, layer, format!("IMAGE_SHA={image_sha}")],
    }
}

fn kubectl(rng: &mut Rng) -> Block {
    let uid = rng.uuid();
    let pod = format!(
        "app-{}-{}",
        rng.hex(10),
        rng.string(b"abcdefghijklmnopqrstuvwxyz0123456789", 5)
    );
    Block {
        text: format!(
            "deployment.apps/app configured\nName:         {pod}\nNamespace:    ci\nUID:          {uid}\n\
             Status:       CrashLoopBackOff\n  Warning  BackOff  2m (x5 over 4m)  kubelet  Back-off restarting failed container\n"
        ),
        keep: vec![uid, pod],
    }
}

fn terraform(rng: &mut Rng) -> Block {
    let id = format!("sg-{}", rng.hex(17));
    let build = rng.range(10_000, 99_999).to_string();
    Block {
        text: format!(
            "aws_security_group.web: Refreshing state... [id={id}]\n  # aws_instance.web will be updated in-place\n\
             Plan: 0 to add, 1 to change, 0 to destroy.\nBUILD_ID={build}\n"
        ),
        keep: vec![id, format!("BUILD_ID={build}")],
    }
}

fn curl(rng: &mut Rng) -> Block {
    let req = rng.uuid();
    Block {
        text: format!(
            "*   Trying 10.0.0.12:443...\n* Connected to api.example.com (10.0.0.12) port 443\n> GET /v1/status HTTP/1.1\n\
             > Host: api.example.com\n> Accept: */*\n< HTTP/1.1 503 Service Unavailable\n< x-request-id: {req}\n"
        ),
        keep: vec![req],
    }
}

fn git(rng: &mut Rng) -> Block {
    let sha = rng.hex(40);
    let short = rng.hex(7);
    Block {
        text: format!(
            "commit {sha}\nAuthor: CI Bot <ci@example.com>\n    Merge branch 'fix-{short}' into 'main'\nHEAD is now at {short} Update lockfile\n"
        ),
        keep: vec![format!("commit {sha}"), format!("at {short}")],
    }
}

fn env_dump(rng: &mut Rng) -> Block {
    let sha = rng.hex(40);
    let pipeline = rng.range(100_000, 999_999).to_string();
    let checksum = rng.hex(64);
    Block {
        text: format!(
            "CI_COMMIT_SHA={sha}\nCI_PIPELINE_ID={pipeline}\nCI_PROJECT_PATH=acme/app\nARTIFACT_SHA256={checksum}\n"
        ),
        keep: vec![
            format!("CI_COMMIT_SHA={sha}"),
            format!("CI_PIPELINE_ID={pipeline}"),
            format!("ARTIFACT_SHA256={checksum}"),
        ],
    }
}
