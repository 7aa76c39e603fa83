//! The system policy end to end: the built binary, a policy file named by
//! `EXLOGARE_POLICY_FILE` (the tests cannot write `/etc/exlogare/policy.toml`; the extra file
//! goes through the same ownership checks and the same enforcement), and a real receiver.
//!
//! Every lock is contradicted through each way a project can set it (flag, variable, project
//! config): each attempt is refused with a message naming the setting's source, the lock and
//! the policy file, and nothing reaches the receiver.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use exlogare_tests::{Dir, Receiver, Reply, Run, TOKEN, gitlab_failed_job};
use sha2::{Digest, Sha256};

/// A project directory with `policy.toml` (mode 0644, root-owned as the tests run as root).
fn with_policy(policy: &str) -> (Dir, PathBuf) {
    let dir = Dir::new();
    let path = dir.create("policy.toml", policy);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    dir.create("build.log", "compiling...\nerror: it broke\n");
    (dir, path)
}

/// `report` for a failed GitLab job under the policy, sending to `receiver`.
fn report(dir: &Dir, policy: &Path, receiver: &Receiver) -> exlogare_tests::TestCommand {
    let mut cmd = dir.command();
    cmd.args(["report"])
        .envs(gitlab_failed_job())
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", receiver.url())
        .env("EXLOGARE_POLICY_FILE", policy);
    cmd
}

/// Asserts the run was refused by `lock`, naming the policy file and `source`, and sent nothing.
fn assert_refused(run: &Run, receiver: &Receiver, lock: &str, policy: &Path, source: &str) {
    let err = run.stderr();
    for needle in [
        format!("policy lock `{lock}`"),
        policy.display().to_string(),
        source.to_string(),
    ] {
        assert!(
            err.contains(&needle),
            "stderr lacks {needle:?}\n{}",
            run.report()
        );
    }
    assert!(
        receiver.received().is_empty(),
        "a refused run must send nothing\n{}",
        run.report()
    );
}

/// One lock contradicted three ways: by `flag` (args, and the flag named in the message; `None`
/// when no flag sets it), by the variable `env`, and by the project `config`.
fn lock_holds(
    policy: &str,
    lock: &str,
    flag: Option<(&[&str], &str)>,
    env: (&str, &str),
    config: &str,
) {
    let receiver = Receiver::start();
    if let Some((args, flag_name)) = flag {
        let (dir, path) = with_policy(policy);
        let run = report(&dir, &path, &receiver).args(args).output();
        assert_refused(&run, &receiver, lock, &path, &format!("flag {flag_name}"));
    }
    let (dir, path) = with_policy(policy);
    let run = report(&dir, &path, &receiver).env(env.0, env.1).output();
    assert_refused(&run, &receiver, lock, &path, env.0);

    let (dir, path) = with_policy(policy);
    dir.create("exlogare.toml", config);
    let run = report(&dir, &path, &receiver).output();
    assert_refused(&run, &receiver, lock, &path, "project config exlogare.toml");
}

#[test]
fn allowed_endpoints_hold_against_flag_variable_and_config() {
    let policy =
        "allowed-endpoints = [\"https://logs.acme.example/exlogare\", \"api.exlogare.net\"]\n";
    let receiver = Receiver::start();
    // The flag wins over EXLOGARE_URL (the receiver), so it is the flag that is refused.
    let (dir, path) = with_policy(policy);
    let run = report(&dir, &path, &receiver)
        .args(["--url", "https://evil.example"])
        .ok();
    assert_refused(&run, &receiver, "allowed-endpoints", &path, "flag --url");
    run.assert_stderr_contains("https://evil.example");
    // The receiver itself is not allowed: EXLOGARE_URL is refused.
    let (dir, path) = with_policy(policy);
    let run = report(&dir, &path, &receiver).ok();
    assert_refused(&run, &receiver, "allowed-endpoints", &path, "EXLOGARE_URL");
    // A look-alike host in the project config.
    let (dir, path) = with_policy(policy);
    dir.create(
        "exlogare.toml",
        "url = \"https://logs.acme.example.evil.example/exlogare\"\n",
    );
    let run = report(&dir, &path, &receiver)
        .env_remove("EXLOGARE_URL")
        .ok();
    assert_refused(
        &run,
        &receiver,
        "allowed-endpoints",
        &path,
        "project config exlogare.toml",
    );
}

#[test]
fn an_allowed_endpoint_receives_the_report() {
    let receiver = Receiver::start();
    let (dir, path) = with_policy(&format!("allowed-endpoints = [\"{}/\"]\n", receiver.url()));
    let run = report(&dir, &path, &receiver).ok();
    run.assert_stderr_contains("sent");
    assert_eq!(
        receiver.single().json()["log"],
        "compiling...\nerror: it broke\n"
    );
}

#[test]
fn the_policy_endpoint_is_the_default_url() {
    let (dir, path) = with_policy("allowed-endpoints = [\"https://logs.acme.example/exlogare\"]\n");
    let run = dir
        .command()
        .args(["policy", "show"])
        .env("EXLOGARE_POLICY_FILE", &path)
        .ok();
    let out = run.stdout();
    let url_line = out
        .lines()
        .find(|l| l.trim_start().starts_with("url "))
        .unwrap_or_default();
    assert!(
        url_line.contains("https://logs.acme.example/exlogare")
            && url_line.contains(&format!("policy {}", path.display()))
            && url_line.contains("LOCKED: allowed-endpoints"),
        "{}",
        run.report()
    );
}

#[test]
fn plain_http_off_holds_against_flag_variable_and_config() {
    lock_holds(
        "allow-http = false\n",
        "allow-http",
        Some((&["--allow-http"][..], "--allow-http")),
        ("EXLOGARE_ALLOW_HTTP", "true"),
        "allow-http = true\n",
    );
}

#[test]
fn strict_holds_against_flag_variable_and_config() {
    // Locked on: a project cannot switch it off.
    let receiver = Receiver::start();
    let (dir, path) = with_policy("strict = true\n");
    let run = report(&dir, &path, &receiver)
        .env("EXLOGARE_STRICT", "false")
        .expect_code(2);
    assert_refused(&run, &receiver, "strict", &path, "EXLOGARE_STRICT");
    let (dir, path) = with_policy("strict = true\n");
    dir.create("exlogare.toml", "strict = false\n");
    let run = report(&dir, &path, &receiver).expect_code(2);
    assert_refused(
        &run,
        &receiver,
        "strict",
        &path,
        "project config exlogare.toml",
    );
    // Locked off: --strict is refused too (and, asked for, it makes the refusal exit 2).
    let (dir, path) = with_policy("strict = false\n");
    let run = report(&dir, &path, &receiver).arg_strict().expect_code(2);
    assert_refused(&run, &receiver, "strict", &path, "flag --strict");
}

/// `--strict` as an extension, so the test above reads as intent.
trait Strict {
    fn arg_strict(&mut self) -> &mut Self;
}

impl Strict for exlogare_tests::TestCommand {
    fn arg_strict(&mut self) -> &mut Self {
        self.args(["--strict"])
    }
}

#[test]
fn a_strict_policy_fails_the_job_on_a_refusal_and_an_unlocked_one_does_not() {
    let receiver = Receiver::start();
    let (dir, path) = with_policy("strict = true\nmax-log-bytes-max = \"1MiB\"\n");
    let run = report(&dir, &path, &receiver)
        .args(["--max-log-bytes", "2MiB"])
        .expect_code(2);
    assert_refused(
        &run,
        &receiver,
        "max-log-bytes-max",
        &path,
        "flag --max-log-bytes",
    );
    let (dir, path) = with_policy("max-log-bytes-max = \"1MiB\"\n");
    let run = report(&dir, &path, &receiver)
        .args(["--max-log-bytes", "2MiB"])
        .ok();
    assert_refused(
        &run,
        &receiver,
        "max-log-bytes-max",
        &path,
        "flag --max-log-bytes",
    );
    run.assert_stderr_contains("exit status 0 so the job is not failed");
}

#[test]
fn default_rules_stay_on_against_variable_and_config() {
    let receiver = Receiver::start();
    let (dir, path) = with_policy("default-rules = true\n");
    let run = report(&dir, &path, &receiver)
        .env("EXLOGARE_DEFAULT_RULES", "false")
        .ok();
    assert_refused(
        &run,
        &receiver,
        "default-rules",
        &path,
        "EXLOGARE_DEFAULT_RULES",
    );
    let (dir, path) = with_policy("default-rules = true\n");
    dir.create("exlogare.toml", "default-rules = false\n");
    let run = report(&dir, &path, &receiver).ok();
    assert_refused(
        &run,
        &receiver,
        "default-rules",
        &path,
        "project config exlogare.toml",
    );
}

#[test]
fn minimum_secret_length_holds_against_flag_variable_and_config() {
    lock_holds(
        "min-secret-length-max = 6\n",
        "min-secret-length-max",
        Some((&["--min-secret-length", "12"][..], "--min-secret-length")),
        ("EXLOGARE_MIN_SECRET_LENGTH", "12"),
        "min-secret-length = 12\n",
    );
}

#[test]
fn the_size_budget_holds_against_flag_variable_and_config() {
    lock_holds(
        "max-log-bytes = \"1MiB\"\n",
        "max-log-bytes",
        Some((&["--max-log-bytes", "4MiB"][..], "--max-log-bytes")),
        ("EXLOGARE_MAX_LOG_BYTES", "4MiB"),
        "max-log-bytes = \"4MiB\"\n",
    );
    lock_holds(
        "max-log-bytes-max = \"1MiB\"\n",
        "max-log-bytes-max",
        Some((&["--max-log-bytes", "4MiB"][..], "--max-log-bytes")),
        ("EXLOGARE_MAX_LOG_BYTES", "4MiB"),
        "max-log-bytes = \"4MiB\"\n",
    );
}

#[test]
fn the_spool_place_holds_against_flag_variable_and_config() {
    lock_holds(
        "spool-dir = \"/var/spool/exlogare\"\n",
        "spool-dir",
        Some((&["--spool-dir", "/tmp/elsewhere"][..], "--spool-dir")),
        ("EXLOGARE_SPOOL_DIR", "/tmp/elsewhere"),
        "spool-dir = \"/tmp/elsewhere\"\n",
    );
}

#[test]
fn required_plugins_hold_against_flag_variable_and_config() {
    let a = "/opt/exlogare/a.wasm";
    let b = "/opt/exlogare/b.wasm";
    let policy = format!("[plugins]\nrequired = [\"{a}\", \"{b}\"]\n");
    lock_holds(
        &policy,
        "plugins.required",
        Some((&["--plugin", b, "--plugin", a][..], "--plugin")),
        ("EXLOGARE_PLUGINS", &format!("{b}:{a}")),
        &format!("plugins = [\"{b}\", \"{a}\"]\n"),
    );
}

#[test]
fn required_plugins_run_first_and_a_projects_own_are_kept_after_them() {
    let (dir, path) = with_policy("[plugins]\nrequired = [\"/opt/exlogare/a.wasm\"]\n");
    let run = dir
        .command()
        .args(["policy", "show", "--plugin", "mine.wasm"])
        .env("EXLOGARE_POLICY_FILE", &path)
        .output();
    let out = run.stdout();
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("plugins "))
        .unwrap_or_default();
    assert!(
        line.contains("/opt/exlogare/a.wasm,mine.wasm"),
        "{}",
        run.report()
    );
}

#[test]
fn redact_vars_in_the_policy_are_always_redacted_whatever_the_project_lists() {
    let secret = "acme-db-password-7f3a9c";
    let (dir, path) = with_policy("redact-vars = [\"ACME_DB\"]\n");
    dir.create("exlogare.toml", "redact-vars = [\"OTHER\"]\n");
    for (args, env) in [
        (vec!["redact", "--redact-vars", "MINE"], ("X", "y")),
        (vec!["redact"], ("EXLOGARE_REDACT_VARS", "MINE")),
        (vec!["redact"], ("X", "y")),
    ] {
        let run = dir
            .command()
            .args(&args)
            .env("EXLOGARE_POLICY_FILE", &path)
            .env("ACME_DB", secret)
            .env(env.0, env.1)
            .stdin(format!("connecting with {secret}\n"))
            .ok();
        assert!(!run.stdout().contains(secret), "{}", run.report());
        assert!(run.stdout().contains("[REDACTED"), "{}", run.report());
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The example plugin (built by `tests/build.rs`) copied into `dir`, so its signature sits
/// beside it; `true` when it is a real plugin. The policy checks run on the raw bytes before any
/// wasm parsing, so the refusals hold for any file; only "an allowed plugin runs" needs a real one.
fn acme_plugin(dir: &Dir) -> (PathBuf, Vec<u8>, bool) {
    let real = option_env!("PLUGIN_ACME").and_then(|p| std::fs::read(p).ok());
    let is_real = real.is_some();
    let bytes = real.unwrap_or_else(|| b"\0asm: stand-in, checked before any parsing".to_vec());
    (dir.create("acme.wasm", &bytes), bytes, is_real)
}

/// An allowed plugin: `policy show` says why, and (when it is a real plugin) `report` runs it
/// and sends.
fn assert_allowed(
    dir: &Dir,
    policy: &Path,
    receiver: &Receiver,
    plugin: &str,
    real: bool,
    why: &str,
) {
    let run = dir
        .command()
        .args(["policy", "show", "--plugin", plugin])
        .env("EXLOGARE_POLICY_FILE", policy)
        .ok();
    assert!(run.stdout().contains(why), "{}", run.report());
    if real {
        let run = report(dir, policy, receiver)
            .args(["--plugin", plugin])
            .ok();
        run.assert_stderr_contains("sent");
        assert_eq!(receiver.received().len(), 1, "{}", run.report());
    }
}

fn sign(kp: &minisign::KeyPair, bytes: &[u8]) -> String {
    minisign::sign(
        Some(&kp.pk),
        &kp.sk,
        std::io::Cursor::new(bytes),
        None,
        None,
    )
    .expect("sign")
    .into_string()
}

#[test]
fn a_plugin_with_an_unpinned_hash_is_refused_and_a_pinned_one_runs() {
    let receiver = Receiver::start();
    let (dir, path) = with_policy(&format!(
        "[plugins]\nallowed-sha256 = [\"{}\"]\n",
        "0".repeat(64)
    ));
    let (plugin, bytes, real) = acme_plugin(&dir);
    let run = report(&dir, &path, &receiver)
        .args(["--plugin", plugin.to_str().expect("utf-8 path")])
        .ok();
    assert_refused(
        &run,
        &receiver,
        "plugins.allowed-sha256",
        &path,
        &sha256_hex(&bytes),
    );
    run.assert_stderr_contains(&plugin.display().to_string());

    std::fs::write(
        &path,
        format!("[plugins]\nallowed-sha256 = [\"{}\"]\n", sha256_hex(&bytes)),
    )
    .expect("rewrite policy");
    let arg = plugin.to_str().expect("utf-8 path");
    assert_allowed(
        &dir,
        &path,
        &receiver,
        arg,
        real,
        "allowed: sha256 pinned in",
    );
}

#[test]
fn a_plugin_with_a_bad_signature_is_refused_and_a_signed_one_runs() {
    let receiver = Receiver::start();
    let trusted = minisign::KeyPair::generate_unencrypted_keypair().expect("key");
    let stranger = minisign::KeyPair::generate_unencrypted_keypair().expect("key");
    let (dir, path) = with_policy(&format!(
        "[plugins]\nminisign-keys = [\"{}\"]\n",
        trusted.pk.to_base64()
    ));
    let (plugin, bytes, real) = acme_plugin(&dir);
    let sig = dir.path().join("acme.wasm.minisig");
    let arg = plugin.to_str().expect("utf-8 path").to_string();

    // No signature at all.
    let run = report(&dir, &path, &receiver).args(["--plugin", &arg]).ok();
    assert_refused(
        &run,
        &receiver,
        "plugins.minisign-keys",
        &path,
        "no signature file",
    );
    // Signed by a key the policy does not trust.
    std::fs::write(&sig, sign(&stranger, &bytes)).expect("write sig");
    let run = report(&dir, &path, &receiver).args(["--plugin", &arg]).ok();
    assert_refused(
        &run,
        &receiver,
        "plugins.minisign-keys",
        &path,
        "does not verify",
    );
    // Signed by the trusted key, then changed by one byte.
    std::fs::write(&sig, sign(&trusted, &bytes)).expect("write sig");
    let mut tampered = bytes.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    std::fs::write(&plugin, &tampered).expect("tamper");
    let run = report(&dir, &path, &receiver).args(["--plugin", &arg]).ok();
    assert_refused(
        &run,
        &receiver,
        "plugins.minisign-keys",
        &path,
        "does not verify",
    );
    // Through the project config and the variable too.
    dir.create("exlogare.toml", format!("plugins = [\"{arg}\"]\n"));
    let run = report(&dir, &path, &receiver).ok();
    assert_refused(
        &run,
        &receiver,
        "plugins.minisign-keys",
        &path,
        "does not verify",
    );
    std::fs::remove_file(dir.path().join("exlogare.toml")).expect("rm config");
    let run = report(&dir, &path, &receiver)
        .env("EXLOGARE_PLUGINS", &arg)
        .ok();
    assert_refused(
        &run,
        &receiver,
        "plugins.minisign-keys",
        &path,
        "does not verify",
    );

    // The untouched, signed plugin runs, and `policy show` says why it may.
    std::fs::write(&plugin, &bytes).expect("restore");
    assert_allowed(&dir, &path, &receiver, &arg, real, "allowed: signed by");
}

#[test]
fn a_policy_file_others_can_write_is_refused() {
    let receiver = Receiver::start();
    let (dir, path) = with_policy("strict = true\n");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o646)).expect("chmod o+w");
    // Fail-open like any config problem (the policy cannot be trusted to say strict)...
    let run = report(&dir, &path, &receiver).ok();
    run.assert_stderr_contains("refusing to run")
        .assert_stderr_contains(&path.display().to_string())
        .assert_stderr_contains("writable by others")
        .assert_stderr_contains("chmod go-w");
    assert!(receiver.received().is_empty(), "{}", run.report());
    // ...and an error under --strict, and for every other command.
    report(&dir, &path, &receiver)
        .args(["--strict"])
        .expect_code(2);
    let show = dir
        .command()
        .args(["policy", "show"])
        .env("EXLOGARE_POLICY_FILE", &path)
        .expect_code(2);
    show.assert_stderr_contains("writable by others");
    dir.command()
        .args(["redact"])
        .env("EXLOGARE_POLICY_FILE", &path)
        .stdin("x\n")
        .expect_code(2)
        .assert_stderr_contains("writable by others");

    // A directory others can write is refused the same way.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod dir");
    let run = report(&dir, &path, &receiver)
        .args(["--strict"])
        .expect_code(2);
    run.assert_stderr_contains("which is writable by group and others");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
        .expect("chmod dir");
}

#[test]
fn a_policy_with_an_unknown_key_is_refused_so_a_typo_never_unlocks() {
    let receiver = Receiver::start();
    let (dir, path) = with_policy("allowed-endpoint = [\"api.exlogare.net\"]\n");
    let run = report(&dir, &path, &receiver)
        .args(["--strict"])
        .expect_code(2);
    run.assert_stderr_contains("is not valid")
        .assert_stderr_contains("allowed-endpoint");
    assert!(receiver.received().is_empty());
}

#[test]
fn policy_show_lists_sources_locks_and_every_refusal() {
    let (dir, path) = with_policy(
        "strict = true\nmin-secret-length-max = 6\nspool-dir = \"/var/spool/exlogare\"\n",
    );
    dir.create("exlogare.toml", "min-secret-length = 12\n");
    let run = dir
        .command()
        .args(["policy", "show", "--redact-vars", "MINE"])
        .env("EXLOGARE_POLICY_FILE", &path)
        .env("EXLOGARE_SPOOL_DIR", "/tmp/elsewhere")
        .expect_code(2);
    let out = run.stdout();
    let line = |name: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(&format!("{name} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("strict").contains(&format!("policy {}", path.display())),
        "{out}"
    );
    assert!(line("strict").contains("LOCKED: strict = true"), "{out}");
    assert!(line("redact-vars").contains("flag --redact-vars"), "{out}");
    assert!(line("when").contains("default"), "{out}");
    assert!(
        line("deadline").ends_with('-'),
        "unlocked settings say so\n{out}"
    );
    assert!(out.contains("REFUSED"), "{out}");
    assert!(
        out.contains("`min-secret-length-max`") && out.contains("exlogare.toml"),
        "{out}"
    );
    assert!(
        out.contains("`spool-dir`") && out.contains("EXLOGARE_SPOOL_DIR"),
        "{out}"
    );
    assert!(
        out.contains("/etc/exlogare/policy.toml: not present"),
        "{out}"
    );
}

#[test]
fn plugin_inspect_shows_the_policy_verdict() {
    let (dir, path) = with_policy(&format!(
        "[plugins]\nallowed-sha256 = [\"{}\"]\n",
        "0".repeat(64)
    ));
    let (plugin, bytes, real) = acme_plugin(&dir);
    if !real {
        return;
    }
    let arg = plugin.to_str().expect("utf-8 path");
    let run = dir
        .command()
        .args(["plugin", "inspect", arg])
        .env("EXLOGARE_POLICY_FILE", &path)
        .expect_code(2);
    assert!(
        run.stdout().contains("policy:    REFUSED") && run.stdout().contains(&sha256_hex(&bytes)),
        "{}",
        run.report()
    );
    run.assert_stderr_contains("policy lock `plugins.allowed-sha256`");
    std::fs::write(
        &path,
        format!("[plugins]\nallowed-sha256 = [\"{}\"]\n", sha256_hex(&bytes)),
    )
    .expect("rewrite policy");
    let run = dir
        .command()
        .args(["plugin", "inspect", arg])
        .env("EXLOGARE_POLICY_FILE", &path)
        .ok();
    assert!(
        run.stdout().contains("policy:    allowed"),
        "{}",
        run.report()
    );
}

#[test]
fn send_refuses_endpoints_the_policy_does_not_allow_and_keeps_the_payload() {
    // A payload kept in the spool by a run without the policy, for a server that never takes it.
    let dir = Dir::new();
    dir.create("build.log", "error: it broke\n");
    let busy = Receiver::scripted(Vec::new(), Reply::with_header(503, "retry-after", "600"));
    let project = dir.path().to_str().expect("utf-8 path").to_string();
    dir.command()
        .args(["report", "--deadline", "20"])
        .envs(gitlab_failed_job())
        .env("CI_PROJECT_DIR", &project)
        .env("EXLOGARE_TOKEN", TOKEN)
        .env("EXLOGARE_URL", busy.url())
        .ok();
    let spool = dir.path().join(".exlogare-spool");
    let kept = || std::fs::read_dir(&spool).map(|d| d.count()).unwrap_or(0);
    assert_eq!(kept(), 1, "the test needs one spooled payload");

    // Under a policy that allows another endpoint, neither the endpoint recorded in the file
    // nor --url may receive it.
    let policy = dir.create(
        "policy.toml",
        "allowed-endpoints = [\"https://logs.acme.example/\"]\n",
    );
    std::fs::set_permissions(&policy, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let other = Receiver::start();
    let send = |args: &[&str]| {
        dir.command()
            .args(["send"])
            .args(args)
            .env("CI_PROJECT_DIR", &project)
            .env("EXLOGARE_TOKEN", TOKEN)
            .env("EXLOGARE_POLICY_FILE", &policy)
            .output()
    };
    let run = send(&[]);
    run.assert_stderr_contains("policy lock `allowed-endpoints`")
        .assert_stderr_contains(&busy.url())
        .assert_stderr_contains(".exlogare-spool");
    let run = send(&["--url", &other.url()]);
    run.assert_stderr_contains("policy lock `allowed-endpoints`")
        .assert_stderr_contains("flag --url");
    assert!(other.received().is_empty(), "{}", run.report());
    let busy_before = busy.received().len();
    let _ = send(&[]);
    assert_eq!(
        busy.received().len(),
        busy_before,
        "the refused endpoint got nothing"
    );
    assert_eq!(kept(), 1, "a refused payload stays in the spool");
}
