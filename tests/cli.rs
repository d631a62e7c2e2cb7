//! The command line as a user meets it: help and version, the values each
//! flag and its LINKERD_AWAIT_* variable accept, and usage errors (exit 2)
//! that name the flag, the bad value and a valid example, in plain text or
//! as JSON. Which source wins when several are given: env_vars.rs.

mod common;
use common::*;

use std::process::{Command, Output};

/// Options that take a `<DUR>` value, with their variables.
const DURATION_OPTIONS: [(&str, &str); 6] = [
    ("--backoff", "LINKERD_AWAIT_BACKOFF"),
    ("--wait-for-backoff", "LINKERD_AWAIT_WAIT_FOR_BACKOFF"),
    ("--backoff-initial", "LINKERD_AWAIT_BACKOFF_INITIAL"),
    ("--attempt-timeout", "LINKERD_AWAIT_ATTEMPT_TIMEOUT"),
    ("--timeout", "LINKERD_AWAIT_TIMEOUT"),
    ("--shutdown-timeout", "LINKERD_AWAIT_SHUTDOWN_TIMEOUT"),
];

/// The options listed in `--help`, each with the text of its entry.
fn help_entries(help: &str) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let indent = line.len() - line.trim_start().len();
        let is_header = (1..=6).contains(&indent) && line.trim_start().starts_with('-');
        if is_header {
            let long = line
                .split_whitespace()
                .find(|w| w.starts_with("--"))
                .map(|w| w.split(['[', '=', ',']).next().unwrap_or(w).to_string())
                .unwrap_or_else(|| panic!("no long form in {line:?}"));
            entries.push((long, String::new()));
        } else if let Some((_, text)) = entries.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    entries
}

#[test]
fn help_lists_every_option_with_its_env_var() {
    let out = output(gate().arg("--help"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let help = stdout_text(&out);
    let entries = help_entries(&help);
    let listed: Vec<&str> = entries.iter().map(|(flag, _)| flag.as_str()).collect();
    for (flag, var) in OPTIONS {
        let (_, text) = entries
            .iter()
            .find(|(f, _)| f == flag)
            .unwrap_or_else(|| panic!("{flag} not in --help; listed: {listed:?}"));
        // `[env: VAR=]` (unset), or `[env: VAR]` for the URL options,
        // whose values --help never shows (they may hold passwords).
        assert!(
            text.contains(&format!("[env: {var}=]")) || text.contains(&format!("[env: {var}]")),
            "{flag} does not name {var}:\n{text}"
        );
    }
    // Nothing listed that the table above does not know (a new option needs
    // its variable too).
    for flag in &listed {
        assert!(
            ["--help", "--version"].contains(flag) || OPTIONS.iter().any(|(f, _)| f == flag),
            "{flag} is in --help but not in this test's table"
        );
    }
    assert!(help.contains("LINKERD_AWAIT_DISABLED"), "{help}");
    assert!(help.contains("LINKERD2_PROXY_ADMIN_LISTEN_ADDR"), "{help}");
}

/// `linkerd-await 0.4.0 (abc1234 x86_64-unknown-linux-musl)`: the version,
/// the commit (HEAD of this checkout, or "unknown commit" outside one) and
/// the target the binary was built for.
#[test]
fn version_names_the_version_commit_and_target() {
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    for flag in ["--version", "-V"] {
        let out = output(gate().arg(flag));
        assert_eq!(out.status.code(), Some(0), "{flag}: {}", stderr_text(&out));
        let text = stdout_text(&out);
        let inside = text
            .strip_prefix(&format!("linkerd-await {} (", env!("CARGO_PKG_VERSION")))
            .and_then(|rest| rest.strip_suffix(")\n"))
            .unwrap_or_else(|| panic!("{flag}: {text:?}"));
        let (commit, target) = inside
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("{flag}: {text:?}"));
        match &head {
            Some(head) => assert_eq!(commit, head, "{flag}: {text:?}"),
            None => assert!(
                commit == "unknown commit" || commit.bytes().all(|b| b.is_ascii_hexdigit()),
                "{flag}: {text:?}"
            ),
        }
        // The binary built for the machine the tests run on, or a static
        // release build (LINKERD_AWAIT_TEST_GATE), for either architecture.
        let built_here = target.starts_with(std::env::consts::ARCH) && target.contains("-linux");
        let release = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"].contains(&target);
        assert!(
            if testing_a_release_build() {
                release
            } else {
                built_here
            },
            "{flag}: {text:?}"
        );
    }
}

/// Every spelling the original accepted, plus compound forms, with how the
/// gate then reports the deadline (`None`: no deadline).
const ACCEPTED_DURATIONS: [(&str, Option<&str>); 12] = [
    ("0", None),
    ("000", None),
    ("1ms", Some("1ms")),
    ("500ms", Some("500ms")),
    ("10s", Some("10s")),
    ("1m", Some("1m")),
    ("1h", Some("1h")),
    ("1d", Some("1d")),
    (" 5s ", Some("5s")),
    ("\t1m\n", Some("1m")),
    ("1m30s", Some("1m30s")),
    ("1s500ms", Some("1s500ms")),
];

/// Runs the gate against a ready proxy with the timeout set by `set`, and
/// checks the deadline it announces.
fn assert_timeout_accepted(input: &str, shown: Option<&str>, set: impl Fn(&mut Command)) {
    let proxy = FakeProxy::ready_after(1);
    let mut cmd = gate_for(&proxy);
    // A 1 ms deadline may pass before the first answer: proceed either way.
    cmd.arg("--timeout-fatal=false");
    set(&mut cmd);
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{input:?}:\n{err}");
    let waiting = err
        .lines()
        .find(|l| l.contains("waiting for the proxy"))
        .unwrap_or_else(|| panic!("{input:?}: no waiting line in:\n{err}"));
    match shown {
        Some(shown) => assert!(
            waiting.contains(&format!("(timeout {shown})")),
            "{input:?}: {waiting}"
        ),
        None => assert!(!waiting.contains("timeout"), "{input:?}: {waiting}"),
    }
}

#[test]
fn every_duration_spelling_is_accepted_as_a_flag() {
    for (input, shown) in ACCEPTED_DURATIONS {
        assert_timeout_accepted(input, shown, |cmd| {
            cmd.args(["--timeout", input]);
        });
    }
}

#[test]
fn every_duration_spelling_is_accepted_in_the_env_var() {
    for (input, shown) in ACCEPTED_DURATIONS {
        assert_timeout_accepted(input, shown, |cmd| {
            cmd.env("LINKERD_AWAIT_TIMEOUT", input);
        });
    }
}

/// Refused spellings, each with the part of the value the message quotes.
const REJECTED_DURATIONS: [&str; 6] = ["5", "-1s", "1x", "1.5s", "99999999999999999999s", "1m5"];

/// Every rejected spelling, set by `set`, exits 2 naming the flag, the value
/// and an example.
fn assert_durations_rejected(set: impl Fn(&mut Command, &str)) {
    for input in REJECTED_DURATIONS {
        let mut cmd = cli();
        set(&mut cmd, input);
        let out = output(cmd.args(["sh", "-c", "echo ran"]));
        assert_usage_error(
            &out,
            &[
                "'--timeout <DUR>'",
                &format!("'{input}'"),
                "e.g. 0, 500ms, 5s",
            ],
        );
    }
}

#[test]
fn bad_duration_flag_exits_2_naming_flag_value_and_example() {
    assert_durations_rejected(|cmd, input| {
        cmd.arg(format!("--timeout={input}"));
    });
}

#[test]
fn bad_duration_env_var_exits_2_naming_flag_value_and_example() {
    assert_durations_rejected(|cmd, input| {
        cmd.env("LINKERD_AWAIT_TIMEOUT", input);
    });
}

#[test]
fn negative_duration_as_a_separate_argument_exits_2() {
    let out = output(cli().args(["--timeout", "-1s", "sh", "-c", "echo ran"]));
    assert_usage_error(&out, &["-1"]);
}

#[test]
fn every_duration_option_refuses_a_bare_number_as_flag_and_env_var() {
    for (flag, var) in DURATION_OPTIONS {
        let needles = [
            format!("'{flag} <DUR>'"),
            "'5'".to_string(),
            "e.g.".to_string(),
        ];
        let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
        let out = output(cli().args([flag, "5"]));
        assert_usage_error(&out, &needles);
        let out = output(cli().env(var, "5"));
        assert_usage_error(&out, &needles);
    }
}

#[test]
fn https_uri_exits_2_with_a_clear_message() {
    let out = output(cli().args(["-u", "https://localhost:4191/ready", "true"]));
    assert_usage_error(
        &out,
        &[
            "'--uri <URL>'",
            "https://localhost:4191/ready",
            "only plain http://",
        ],
    );
}

#[test]
fn uri_without_scheme_exits_2() {
    // `localhost:4191` parses as scheme `localhost`; the message still says
    // what is expected.
    let out = output(cli().args(["-u", "localhost:4191", "true"]));
    assert_usage_error(&out, &["'--uri <URL>'", "'localhost:4191'", "http://"]);
    let out = output(cli().args(["-u", "not a url", "true"]));
    assert_usage_error(&out, &["'--uri <URL>'", "e.g. http://localhost:4191/ready"]);
}

#[test]
fn port_0_or_past_65535_exits_2() {
    for port in ["0", "70000"] {
        let out = output(
            cli()
                .env_remove("LINKERD_AWAIT_URI")
                .args(["--port", port, "true"]),
        );
        assert_usage_error(&out, &["'--port <PORT>'", &format!("'{port}'")]);
    }
}

#[test]
fn port_with_uri_exits_2() {
    let out = output(gate().args(["-p", "4191", "-u", "http://127.0.0.1:4191/ready", "true"]));
    assert_usage_error(&out, &["cannot be used with", "--port", "--uri"]);
}

#[test]
fn unknown_flag_before_cmd_exits_2_without_running_cmd() {
    let out = output(cli().args(["--bogus", "sh", "-c", "echo ran"]));
    assert_usage_error(&out, &["'--bogus'"]);
}

#[test]
fn bad_proxy_admin_listen_addr_exits_2_naming_the_variable() {
    for value in ["nope", "127.0.0.1:0", "127.0.0.1:99999", "127.0.0.1:"] {
        let out = output(
            cli()
                .env_remove("LINKERD_AWAIT_URI")
                .env("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", value)
                .args(["sh", "-c", "echo ran"]),
        );
        assert_usage_error(
            &out,
            &[
                "LINKERD2_PROXY_ADMIN_LISTEN_ADDR",
                &format!("'{value}'"),
                "--port",
            ],
        );
    }
}

#[test]
fn bad_log_filter_exits_2_naming_the_flag() {
    let out = output(cli().args(["--log", "a=[", "sh", "-c", "echo ran"]));
    assert_usage_error(&out, &["'--log <FILTER>'", "'a=['", "e.g. debug"]);
    let out = output(
        cli()
            .env("LINKERD_AWAIT_LOG", "a=[")
            .args(["sh", "-c", "echo ran"]),
    );
    assert_usage_error(&out, &["LINKERD_AWAIT_LOG", "'a=['"]);
}

#[test]
fn negative_duration_is_a_duration_error() {
    let out = output(gate().args(["--timeout", "-1s", "true"]));
    assert_usage_error(&out, &["'--timeout <DUR>'", "'-1s'", "e.g."]);
}

#[test]
fn span_filter_in_log_is_refused_rather_than_silently_matching_nothing() {
    let out = output(gate().args(["--log", "[span]=debug", "true"]));
    assert_usage_error(&out, &["'--log <FILTER>'", "'['"]);
}

/// Durations past the largest accepted one, each for every `<DUR>` option.
const OVERFLOWING_DURATIONS: [&str; 4] = [
    "106751991167301d",
    "10000000000000000000s",
    "18446744073709551615ms",
    "3651d",
];

#[test]
fn overflowing_durations_exit_2_naming_the_flag_and_the_largest_value() {
    for (flag, var) in DURATION_OPTIONS {
        for input in OVERFLOWING_DURATIONS {
            let needles = [
                format!("'{flag} <DUR>'"),
                format!("'{input}'"),
                "3650d".to_string(),
            ];
            let needles: Vec<&str> = needles.iter().map(String::as_str).collect();
            let out = output(cli().args([flag, input]).args(["sh", "-c", "echo ran"]));
            assert_usage_error(&out, &needles);
            let out = output(cli().env(var, input).args(["sh", "-c", "echo ran"]));
            assert_usage_error(&out, &needles);
        }
    }
}

#[test]
fn overflowing_shutdown_timeout_exits_2_before_the_app_runs() {
    let proxy = FakeProxy::ready_after(1);
    let out = output(gate_for(&proxy).args([
        "-S",
        "--shutdown-timeout",
        "106751991167301d",
        "--",
        "sh",
        "-c",
        "echo ran; exit 3",
    ]));
    assert_usage_error(&out, &["'--shutdown-timeout <DUR>'", "3650d"]);
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
}

#[test]
fn the_largest_duration_is_accepted_everywhere() {
    // A proxy that exits once asked to: the gate watches for that, within
    // the (here ten-year) --shutdown-timeout.
    let proxy = FakeProxy::start(|_, _| Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    for (flag, _) in DURATION_OPTIONS {
        cmd.args([flag, "3650d"]);
    }
    let out = output(cmd.args(["-S", "--", "sh", "-c", "exit 3"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/shutdown").len(), 1);
}

// With --log-format json every stderr line is one JSON object, usage and
// configuration errors included.

/// Each stderr line as a JSON object; panics on a line that is not one.
fn json_lines(out: &Output) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let err = stderr_text(out);
    assert!(!err.trim().is_empty(), "nothing on stderr");
    err.lines()
        .map(|line| match serde_json::from_str(line) {
            Ok(serde_json::Value::Object(object)) => object,
            _ => panic!("not a JSON object: {line:?}\nin:\n{err}"),
        })
        .collect()
}

/// Exit 2 and exactly one JSON error object whose message holds every needle.
fn assert_json_usage_error(out: &Output, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr_text(out));
    assert!(out.stdout.is_empty(), "stdout: {}", stdout_text(out));
    let lines = json_lines(out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["level"], "ERROR", "{lines:?}");
    let message = lines[0]["message"].as_str().unwrap_or_default();
    for needle in needles {
        assert!(
            message.contains(needle),
            "{needle:?} missing from {message:?}"
        );
    }
}

#[test]
fn json_log_format_covers_usage_errors() {
    let out = output(cli().args(["--log-format", "json", "--bogus", "true"]));
    assert_json_usage_error(&out, &["'--bogus'"]);
    let out = output(cli().args(["--log-format=json", "-t", "5", "true"]));
    assert_json_usage_error(&out, &["'--timeout <DUR>'", "'5'", "e.g."]);
    let out = output(
        cli()
            .env("LINKERD_AWAIT_LOG_FORMAT", " json ")
            .env("LINKERD_AWAIT_BACKOFF", "5")
            .arg("true"),
    );
    assert_json_usage_error(&out, &["'--backoff <DUR>'", "LINKERD_AWAIT_BACKOFF"]);
    let out = output(disabled().args(["--log-format", "json", "-v", "-q", "true"]));
    assert_json_usage_error(&out, &["cannot be used with"]);
}

#[test]
fn json_log_format_covers_configuration_errors() {
    let out = output(
        cli()
            .env_remove("LINKERD_AWAIT_URI")
            .env("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", "nope")
            .args(["--log-format", "json", "true"]),
    );
    assert_json_usage_error(&out, &["LINKERD2_PROXY_ADMIN_LISTEN_ADDR", "'nope'"]);
    let out = output(cli().args(["--log-format", "json", "--log", "a=[", "true"]));
    assert_json_usage_error(&out, &["'--log <FILTER>'", "'a=['"]);
    let out = output(
        cli()
            .env("LINKERD_AWAIT_LOG_FORMAT", "json")
            .env("LINKERD_AWAIT_SHUTDOWN_URI", "nope")
            .args(["-S", "true"]),
    );
    assert_json_usage_error(&out, &["LINKERD_AWAIT_SHUTDOWN_URI", "'nope'"]);
}

#[test]
fn json_log_format_leaves_help_and_version_plain_on_stdout() {
    let out = output(gate().args(["--log-format", "json", "--help"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(
        stdout_text(&out).starts_with("Wait for"),
        "{}",
        stdout_text(&out)
    );
    assert!(out.stderr.is_empty(), "{}", stderr_text(&out));
    let out = output(gate().env("LINKERD_AWAIT_LOG_FORMAT", "json").arg("-V"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(stdout_text(&out).starts_with("linkerd-await "));
}

#[test]
fn plain_usage_errors_are_unchanged() {
    let out = output(cli().args(["--bogus", "true"]));
    assert_usage_error(
        &out,
        &["error: unexpected argument '--bogus' found", "Usage:"],
    );
}

#[test]
fn rejected_urls_never_show_their_credentials() {
    for (flag, value) in [
        ("-u", "https://user:secret@localhost/ready"),
        ("--shutdown-uri", "https://user:secret@localhost/shutdown"),
    ] {
        let out = output(cli().args(["-S", flag, value, "--", "true"]));
        assert_usage_error(&out, &["***@localhost"]);
        assert!(
            !stderr_text(&out).contains("secret"),
            "{}",
            stderr_text(&out)
        );
    }
    let out = output(cli().args(["-S", "--", "true"]).env(
        "LINKERD_AWAIT_SHUTDOWN_URI",
        "http://localhost:1/ok,https://user:secret@localhost/shutdown",
    ));
    assert_usage_error(&out, &["LINKERD_AWAIT_SHUTDOWN_URI", "***@localhost"]);
    assert!(
        !stderr_text(&out).contains("secret"),
        "{}",
        stderr_text(&out)
    );
}

/// A pipe whose reading end is already closed: every write to it fails with
/// EPIPE (the gate ignores SIGPIPE for its own writes).
fn closed_pipe() -> std::process::Stdio {
    use std::os::fd::{FromRawFd, OwnedFd};
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills `fds` with two new descriptors, which are owned here.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe");
    // SAFETY: both were just created and are not owned by anything else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write.into()
}

#[test]
fn errors_exit_2_even_when_stderr_is_a_closed_pipe() {
    use std::os::unix::process::ExitStatusExt;
    // A configuration error (the log filter) and a usage error (clap's).
    for args in [&["--log", "a=[", "true"][..], &["--bogus", "true"]] {
        let mut cmd = cli();
        cmd.args(args)
            .stdout(std::process::Stdio::null())
            .stderr(closed_pipe());
        let status = Running::spawn(&mut cmd).wait_within(LIMIT);
        assert_eq!(
            (status.code(), status.signal()),
            (Some(2), None),
            "{args:?}: not exit 2"
        );
    }
}

#[test]
fn rejected_urls_never_show_a_password_with_delimiters_in_the_log_or_termination_message() {
    use std::{ffi::OsString, os::unix::ffi::OsStringExt};
    let dir = temp_dir();
    let termination_log = dir.path().join("termination-log");
    let password = "S3CRET";
    // `-S ... -- true` with `words` and LINKERD_AWAIT_SHUTDOWN_URI=`var`:
    // refused (2), and neither stderr nor the termination message shows the
    // password.
    let refused = |words: &[&str], var: Option<OsString>, what: &str| {
        let mut cmd = cli();
        cmd.args(["--termination-log", path_arg(&termination_log), "-S"])
            .args(words)
            .args(["--", "true"]);
        if let Some(var) = var {
            cmd.env("LINKERD_AWAIT_SHUTDOWN_URI", var);
        }
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        let message = std::fs::read_to_string(&termination_log).unwrap_or_default();
        for (place, text) in [("stderr", &err), ("termination message", &message)] {
            assert!(
                !text.contains(password),
                "{what}: {place} shows the password:\n{text}"
            );
        }
        let _ = std::fs::remove_file(&termination_log);
        err
    };
    // Each value is rejected (the password's delimiter ends the authority
    // early, so the "port" is no number), and echoed in the error. (A space
    // is percent-encoded by the URL parser, so such a URL is accepted:
    // the unit property test covers its redaction.)
    for delimiter in ["?", "#", "/"] {
        let value = format!("http://user:{password}{delimiter}x@localhost/ready");
        for flag in ["-u", "--shutdown-uri"] {
            refused(&[flag, &value], None, &format!("{flag} {value:?}"));
        }
        let list = format!("http://localhost:1/ok, {value}");
        refused(
            &[],
            Some(list.into()),
            &format!("LINKERD_AWAIT_SHUTDOWN_URI {value:?}"),
        );
    }
    // Not valid UTF-8: never echoed raw.
    let mut raw = format!("http://user:{password}").into_bytes();
    raw.push(0xff);
    raw.extend_from_slice(b"@localhost/shutdown");
    let err = refused(&[], Some(OsString::from_vec(raw)), "not UTF-8");
    assert!(err.contains("LINKERD_AWAIT_SHUTDOWN_URI"), "{err}");
}

#[test]
fn help_says_what_the_binary_does_for_ports_booleans_log_and_shutdown_uris() {
    let out = output(gate().arg("--help"));
    let entries = help_entries(&stdout_text(&out));
    let entry = |flag: &str| {
        entries
            .iter()
            .find(|(f, _)| f == flag)
            .map(|(_, text)| text.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| panic!("{flag} not in --help"))
    };
    assert!(
        entry("--port").contains("/healthz/ready for istio"),
        "{}",
        entry("--port")
    );
    for flag in ["--timeout-fatal", "--shutdown-on-failure"] {
        assert!(
            entry(flag).contains("[possible values: true, false, yes, no, on, off, 1, 0]"),
            "{}",
            entry(flag)
        );
    }
    assert!(
        entry("--log").contains("[default: info;"),
        "{}",
        entry("--log")
    );
    assert!(
        entry("--shutdown-uri").contains("--shutdown-now"),
        "{}",
        entry("--shutdown-uri")
    );
    // And they hold: `-p` keeps the mesh's path, `yes`/`off` are booleans.
    let proxy = never_ready();
    let out =
        output(gate_for(&proxy).args(["--mesh", "istio", "-t", "100ms", "--timeout-fatal=off"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let url = format!("http://localhost:{}/healthz/ready", proxy.port());
    assert!(stderr_text(&out).contains(&url), "{}", stderr_text(&out));
    assert!(!proxy.requests_to("/healthz/ready").is_empty());
}
