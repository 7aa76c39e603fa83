//! `exlogare run -- CMD`: the built binary wrapping real commands (`sh`), checked on the
//! console, in the log, in its exit status and under signals.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use exlogare_tests::{Dir, binary};

/// `exlogare run -- sh -c SCRIPT` in `dir`.
fn run_sh(dir: &Dir, script: &str) -> exlogare_tests::Run {
    dir.command()
        .args(["run", "--", "sh", "-c", script])
        .output()
}

/// The same, spawned, for tests that act while it runs.
fn spawn_sh(dir: &Dir, script: &str) -> Child {
    Command::new(binary())
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(["run", "--", "sh", "-c", script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn exlogare run")
}

/// Waits until `cond` holds, for at most 20 s.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

#[test]
fn the_exit_status_is_the_commands_own() {
    let dir = Dir::new();
    for code in [0, 1, 3, 42, 255] {
        let run = run_sh(&dir, &format!("echo status {code}; exit {code}"));
        assert_eq!(run.output.status.code(), Some(code), "{}", run.report());
        assert_eq!(
            read(&dir.path().join("build.log")),
            format!("status {code}\n")
        );
    }
}

#[test]
fn a_command_killed_by_a_signal_exits_128_plus_the_signal() {
    let dir = Dir::new();
    let run = run_sh(&dir, "echo before; kill -KILL $$");
    assert_eq!(run.output.status.code(), Some(128 + 9), "{}", run.report());
    let run = run_sh(&dir, "kill -TERM $$");
    assert_eq!(run.output.status.code(), Some(128 + 15), "{}", run.report());
    assert_eq!(read(&dir.path().join("build.log")), "");
}

#[test]
fn output_reaches_the_console_streams_and_one_log_in_arrival_order() {
    let dir = Dir::new();
    let run = run_sh(
        &dir,
        "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 0.1; echo four >&2",
    );
    assert_eq!(run.output.status.code(), Some(0), "{}", run.report());
    assert_eq!(run.stdout(), "one\nthree\n", "stdout keeps only stdout");
    assert_eq!(run.stderr(), "two\nfour\n", "stderr keeps only stderr");
    assert_eq!(
        read(&dir.path().join("build.log")),
        "one\ntwo\nthree\nfour\n"
    );
}

#[test]
fn the_log_path_comes_from_the_flag_or_exlogare_log_and_can_be_appended() {
    let dir = Dir::new();
    dir.command()
        .args(["run", "--log", "logs/job.log", "--", "echo", "flag"])
        .ok();
    assert_eq!(read(&dir.path().join("logs/job.log")), "flag\n");
    dir.command()
        .env("EXLOGARE_LOG", "from-env.log")
        .args(["run", "--", "echo", "env"])
        .ok();
    assert_eq!(read(&dir.path().join("from-env.log")), "env\n");
    dir.command()
        .args([
            "run",
            "--log",
            "from-env.log",
            "--append",
            "--",
            "echo",
            "more",
        ])
        .ok();
    assert_eq!(read(&dir.path().join("from-env.log")), "env\nmore\n");
    // Arguments after the command are the command's, flags included.
    let run = dir.command().args(["run", "--", "echo", "--log", "x"]).ok();
    assert_eq!(run.stdout(), "--log x\n");
}

#[test]
fn a_missing_command_says_so_and_exits_127() {
    let dir = Dir::new();
    let run = dir
        .command()
        .args(["run", "--", "no-such-command-xyz", "a"])
        .expect_code(127);
    run.assert_stderr_contains("cannot run `no-such-command-xyz`: command not found");
    assert!(read(&dir.path().join("build.log")).contains("command not found"));
    dir.create("not-executable.sh", "echo hi\n");
    let run = dir
        .command()
        .args(["run", "--", "./not-executable.sh"])
        .expect_code(126);
    run.assert_stderr_contains("permission denied");
    let run = dir.command().args(["run"]).expect_code(2);
    run.assert_stderr_contains("CMD");
}

#[test]
fn an_unwritable_log_does_not_stop_the_command() {
    let dir = Dir::new();
    std::fs::create_dir(dir.path().join("a-directory")).expect("mkdir");
    let run = dir
        .command()
        .args([
            "run",
            "--log",
            "a-directory",
            "--",
            "sh",
            "-c",
            "echo still runs; exit 5",
        ])
        .expect_code(5);
    assert_eq!(run.stdout(), "still runs\n");
    run.assert_stderr_contains("cannot write the log a-directory");
}

#[test]
fn sigterm_and_sigint_are_forwarded_to_the_command() {
    for (name, number) in [("TERM", 15), ("INT", 2)] {
        let dir = Dir::new();
        let script = format!(
            "trap 'echo got {name} > marker; echo cleaning up; exit 42' {name}; echo ready; \
             i=0; while [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; exit 9"
        );
        let child = spawn_sh(&dir, &script);
        let log = dir.path().join("build.log");
        wait_for("the command to start", || read(&log).contains("ready"));
        signal(child.id(), name);
        let output = child.wait_with_output().expect("wait");
        assert_eq!(
            output.status.code(),
            Some(42),
            "SIG{name} ({number}) must reach the command, which exits 42 from its trap; exlogare must \
             still be there to pass that on\nstderr: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(read(&dir.path().join("marker")), format!("got {name}\n"));
        assert_eq!(
            read(&log),
            "ready\ncleaning up\n",
            "output after the signal is still captured"
        );
    }
}

#[test]
fn output_is_streamed_while_the_command_runs() {
    let dir = Dir::new();
    let mut child = spawn_sh(
        &dir,
        "echo first line; while [ ! -e release ]; do sleep 0.05; done; echo last line",
    );
    let log = dir.path().join("build.log");
    wait_for("the first line in the log", || read(&log) == "first line\n");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 11];
    stdout
        .read_exact(&mut first)
        .expect("the first line on the console");
    assert_eq!(&first, b"first line\n");
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "still running"
    );
    std::fs::write(dir.path().join("release"), "").expect("release");
    let status = child.wait().expect("wait");
    assert!(status.success());
    assert_eq!(read(&log), "first line\nlast line\n");
}

/// Peak resident memory of a process, in KiB, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status")
}

#[test]
fn huge_output_is_streamed_in_bounded_memory() {
    const SIZE: u64 = 256 << 20;
    let dir = Dir::new();
    let mut child = spawn_sh(
        &dir,
        &format!(
            "head -c {SIZE} /dev/zero | tr '\\0' 'x'; while [ ! -e release ]; do sleep 0.05; done"
        ),
    );
    let mut stdout = child.stdout.take().expect("stdout");
    let console = thread::spawn(move || {
        let mut n = 0u64;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match stdout.read(&mut buf) {
                Ok(0) | Err(_) => return n,
                Ok(k) => n += k as u64,
            }
        }
    });
    let log = dir.path().join("build.log");
    wait_for("all the output in the log", || {
        std::fs::metadata(&log).map(|m| m.len()).unwrap_or(0) == SIZE
    });
    // The output is all through while the command still runs: measure exlogare now.
    let peak = peak_rss_kib(child.id());
    std::fs::write(dir.path().join("release"), "").expect("release");
    let status = child.wait().expect("wait");
    assert!(status.success());
    assert_eq!(
        console.join().expect("console reader"),
        SIZE,
        "the console got it all"
    );
    assert!(
        peak < 64 << 10,
        "exlogare run peaked at {peak} KiB for {} MiB of output: it must not buffer it",
        SIZE >> 20
    );
}

#[test]
fn stdin_is_passed_to_the_command() {
    let dir = Dir::new();
    let run = dir
        .command()
        .args(["run", "--", "cat"])
        .stdin("typed in\n")
        .ok();
    assert_eq!(run.stdout(), "typed in\n");
    assert_eq!(read(&dir.path().join("build.log")), "typed in\n");
}
