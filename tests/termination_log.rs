//! The termination message (`--termination-log`, Kubernetes'
//! `terminationMessagePath`): when the gate fails by itself it appends one
//! line saying why, after whatever the file held; on success, or when an app
//! fails, the file is left as it was; a file it cannot write changes nothing.
//!
//! Every test runs the real binary against a `FakeProxy` on loopback.

mod common;
use common::*;

use std::{fs, path::PathBuf, process::Command};

/// What kubelet (or an app) may have written before the gate.
const BEFORE: &str = "app: my own message\n";

/// A termination log holding `BEFORE`, in its own directory.
struct Log {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Log {
    fn new() -> Log {
        let dir = temp_dir();
        let path = dir.path().join("termination-log");
        fs::write(&path, BEFORE).expect("write termination log");
        Log { _dir: dir, path }
    }

    fn arg(&self) -> String {
        format!("--termination-log={}", path_arg(&self.path))
    }

    /// The one line the gate appended (`BEFORE` kept, exactly one more line).
    fn appended(&self) -> String {
        let text = fs::read_to_string(&self.path).expect("read termination log");
        let added = text
            .strip_prefix(BEFORE)
            .unwrap_or_else(|| panic!("the file was truncated: {text:?}"));
        assert_eq!(added.matches('\n').count(), 1, "one line: {added:?}");
        assert!(
            added.ends_with('\n') && added.starts_with("linkerd-await: "),
            "{added:?}"
        );
        assert!(added.len() < 4096, "{added:?}");
        added.to_string()
    }

    fn assert_untouched(&self, what: &str) {
        let text = fs::read_to_string(&self.path).expect("read termination log");
        assert_eq!(text, BEFORE, "{what}: nothing may be written");
    }
}

#[test]
fn readiness_timeout_appends_the_url_elapsed_time_and_last_check_result() {
    let proxy = never_ready();
    let log = Log::new();
    let out = output(gate_for(&proxy).args([&log.arg(), "-t", "300ms", "--", "true"]));
    assert_eq!(out.status.code(), Some(69), "{}", stderr_text(&out));
    let line = log.appended();
    let url = format!("http://localhost:{}/ready", proxy.port());
    for needle in [
        &url,
        "not ready after ",
        "checks, last: HTTP 503",
        "raise --timeout",
    ] {
        assert!(line.contains(needle), "{needle:?} missing from {line:?}");
    }
    // The same facts as the log line.
    assert!(stderr_text(&out).contains(line.trim_end().trim_start_matches("linkerd-await: ")));
}

#[test]
fn usage_error_appends_the_reason_even_when_the_command_line_cannot_be_read() {
    let log = Log::new();
    let out = output(gate().args([&log.arg(), "--timeout", "5"]));
    assert_usage_error(&out, &["--timeout"]);
    let line = log.appended();
    assert!(
        line.contains("usage error: invalid value '5' for '--timeout <DUR>'"),
        "{line:?}"
    );

    // The variable is read directly when clap refuses a bad variable.
    let log = Log::new();
    let out = output(
        gate()
            .env("LINKERD_AWAIT_TERMINATION_LOG", &log.path)
            .env("LINKERD_AWAIT_BACKOFF", "fast"),
    );
    assert_usage_error(&out, &["LINKERD_AWAIT_BACKOFF"]);
    let line = log.appended();
    assert!(
        line.contains("'fast'") && line.contains("LINKERD_AWAIT_BACKOFF"),
        "{line:?}"
    );

    // A configuration error found after parsing (the log filter).
    let log = Log::new();
    let out = output(gate().args([&log.arg(), "--log", "x[y]"]));
    assert_eq!(out.status.code(), Some(2), "{}", stderr_text(&out));
    assert!(log.appended().contains("--log <FILTER>"));
}

#[test]
fn command_that_cannot_run_appends_the_command_and_why() {
    let proxy = proxy_answering(Reply::Status(200));
    let dir = temp_dir();
    for (program, code, why, mode) in [
        (
            "/nonexistent/linkerd-await-test-app",
            127,
            "No such file",
            "-v",
        ),
        (path_arg(dir.path()), 126, "Permission denied", "-v"),
        // Supervised (-S), the same failure is the gate's too.
        (
            "/nonexistent/linkerd-await-test-app",
            127,
            "No such file",
            "-S",
        ),
    ] {
        let log = Log::new();
        let out = output(gate_for(&proxy).args([&log.arg(), mode, "--", program]));
        assert_eq!(out.status.code(), Some(code), "{}", stderr_text(&out));
        let line = log.appended();
        assert!(
            line.contains(&format!("cannot run '{program}'")),
            "{line:?}"
        );
        assert!(line.contains(why), "{line:?}");
    }
}

#[test]
fn failed_install_appends_the_path() {
    let log = Log::new();
    let dir = temp_dir();
    let missing = dir.path().join("missing");
    let out = output(gate().args([&log.arg(), "--install", path_arg(&missing)]));
    assert_eq!(out.status.code(), Some(73), "{}", stderr_text(&out));
    assert!(log.appended().contains(path_arg(&missing)));
}

#[test]
fn success_an_app_failure_or_a_disabled_log_writes_nothing() {
    let proxy = proxy_answering(Reply::Status(200));
    let log = Log::new();
    let cases: [(&str, &[&str], i32); 4] = [
        ("ready, no command", &[], 0),
        ("the app ran", &["--", "true"], 0),
        // The app's own failure is the app's to explain.
        ("the app failed", &["--", "sh", "-c", "exit 3"], 3),
        (
            "the app failed under -S",
            &["-S", "--", "sh", "-c", "exit 3"],
            3,
        ),
    ];
    for (what, words, code) in cases {
        let out = output(gate_for(&proxy).arg(log.arg()).args(words));
        assert_eq!(
            out.status.code(),
            Some(code),
            "{what}: {}",
            stderr_text(&out)
        );
        log.assert_untouched(what);
    }
    let out = output(gate().args([&log.arg(), "--install", path_arg(&log.path.join("x"))]));
    assert_eq!(out.status.code(), Some(73));
    assert!(fs::read_to_string(&log.path).expect("read").len() > BEFORE.len());

    // Empty turns it off, typed or from the variable (unlike other variables,
    // where empty means unset).
    let log = Log::new();
    let never = never_ready();
    for cmd in [
        gate_for(&never).args(["--termination-log=", "-t", "100ms"]),
        gate_for(&never)
            .env("LINKERD_AWAIT_TERMINATION_LOG", "")
            .args(["-t", "100ms"]),
    ] {
        let out = output(cmd as &mut Command);
        assert_eq!(out.status.code(), Some(69), "{}", stderr_text(&out));
    }
    log.assert_untouched("turned off");
}

#[test]
fn a_file_that_cannot_be_written_is_a_debug_line_and_the_exit_code_stays() {
    let proxy = never_ready();
    let dir = temp_dir();
    let fifo = dir.path().join("fifo");
    let fifo_c = std::ffi::CString::new(path_arg(&fifo)).expect("path");
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o644) }, 0, "mkfifo");
    for (target, why) in [
        (dir.path().join("missing/termination-log"), "No such file"),
        // A FIFO nobody reads must not block the gate's exit.
        (fifo, "No such device"),
    ] {
        let out = output(gate_for(&proxy).args([
            "-v",
            "-t",
            "100ms",
            "--termination-log",
            path_arg(&target),
        ]));
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{err}");
        assert!(
            err.contains("cannot write the termination message"),
            "{err}"
        );
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn failed_shutdown_request_appends_the_url_and_why_after_the_apps_own_message() {
    // In -S the app's exit code stays the gate's (0 here), but the pod will
    // not complete: kubectl describe pod must say why.
    for mode in [&["-S", "--", "true"][..], &["--shutdown-now"][..]] {
        let proxy = proxy_answering(Reply::Status(404));
        let log = Log::new();
        let out = output(gate_for(&proxy).arg(log.arg()).args(mode));
        let line = log.appended();
        assert!(line.contains("/shutdown"), "{mode:?}: {line:?}");
        assert!(line.contains("404"), "{mode:?}: {line:?}");
        assert!(
            line.contains("config.linkerd.io/proxy-admin-shutdown"),
            "{mode:?}: {line:?}"
        );
        let want = if mode[0] == "-S" { 0 } else { 69 };
        assert_eq!(out.status.code(), Some(want), "{}", stderr_text(&out));
    }
}

/// `text` with what varies between runs put in a fixed form: the port of a
/// `localhost` URL, the duration after `after `, the number of checks.
fn shape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (replaced, keep) = if let Some(tail) = rest.strip_prefix("localhost:") {
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            ("localhost:PORT", &tail[digits..])
        } else if let Some(tail) = rest.strip_prefix("after ") {
            ("after DUR", &tail[tail.find(' ').unwrap_or(tail.len())..])
        } else if let Some(tail) = rest
            .strip_prefix('(')
            .filter(|t| t.starts_with(|c: char| c.is_ascii_digit()))
        {
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            ("(N", &tail[digits..])
        } else {
            let c = rest.chars().next().unwrap_or_default();
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        out.push_str(replaced);
        rest = keep;
    }
    out
}

#[test]
fn the_readmes_termination_message_example_is_what_the_gate_writes() {
    // The example lives in the reference (docs/reference.md) since the
    // README became a five-minute read.
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md"))
        .expect("read docs/reference.md");
    let example = readme
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("Message:"))
        .expect("README shows a termination message")
        .trim();
    let proxy = never_ready();
    let log = Log::new();
    let out = output(gate_for(&proxy).args([&log.arg(), "-t", "300ms", "--", "true"]));
    assert_eq!(out.status.code(), Some(69), "{}", stderr_text(&out));
    let written = log.appended();
    assert_eq!(
        shape(written.trim_end()),
        shape(example),
        "README: {example}"
    );
}
