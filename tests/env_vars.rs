//! Where each setting comes from: a flag typed on the command line beats its
//! `LINKERD_AWAIT_*` variable, a URL beats a port, the mesh's own variable
//! comes last; a blank variable is the same as an unset one, values are
//! trimmed, booleans take every usual spelling, lists in a variable are
//! comma-separated; and an error about a variable's value names it.

mod common;
use common::*;

use std::process::{Command, Output};

/// Where the gate can be told the proxy's admin address.
#[derive(Debug, Clone, Copy)]
enum Source {
    PortFlag,
    UriFlag,
    PortVar,
    UriVar,
    /// The proxy's own `LINKERD2_PROXY_ADMIN_LISTEN_ADDR`.
    AdminListenAddr,
}

impl Source {
    /// Points `cmd` at `proxy` through this source; returns the path the
    /// gate then checks.
    fn point(self, cmd: &mut Command, proxy: &FakeProxy) -> &'static str {
        let port = proxy.port().to_string();
        match self {
            Source::PortFlag => cmd.args(["-p", &port]),
            Source::UriFlag => cmd.args(["-u", &proxy.url("/custom")]),
            Source::PortVar => cmd.env("LINKERD_AWAIT_PORT", &port),
            Source::UriVar => cmd.env("LINKERD_AWAIT_URI", proxy.url("/custom")),
            Source::AdminListenAddr => cmd.env(
                "LINKERD2_PROXY_ADMIN_LISTEN_ADDR",
                format!("127.0.0.1:{port}"),
            ),
        };
        match self {
            Source::UriFlag | Source::UriVar => "/custom",
            _ => "/ready",
        }
    }
}

#[test]
fn proxy_address_comes_from_the_strongest_source_given() {
    use Source::*;
    // Each source alone picks the address; given together, the first wins
    // over the others, which must see no check at all (`-p` with `-u`, both
    // typed, is a usage error: see cli.rs).
    let table: [(Source, &[Source]); 11] = [
        (PortFlag, &[]),
        (UriFlag, &[]),
        (PortVar, &[]),
        (UriVar, &[]),
        (AdminListenAddr, &[]),
        (PortFlag, &[PortVar]),
        (PortFlag, &[UriVar]),
        (PortFlag, &[AdminListenAddr]),
        (UriFlag, &[PortVar]),
        (UriVar, &[PortVar]),
        (PortVar, &[AdminListenAddr]),
    ];
    for (winner, losers) in table {
        let chosen = FakeProxy::ready_after(1);
        let others: Vec<FakeProxy> = losers.iter().map(|_| FakeProxy::ready_after(1)).collect();
        let mut cmd = gate();
        let path = winner.point(&mut cmd, &chosen);
        for (loser, other) in losers.iter().zip(&others) {
            loser.point(&mut cmd, other);
        }
        let out = output(cmd.args(["-t", "5s", "true"]));
        let case = format!("{winner:?} over {losers:?}");
        assert_eq!(out.status.code(), Some(0), "{case}: {}", stderr_text(&out));
        assert_eq!(
            chosen.requests().len(),
            1,
            "{case}: {:?}",
            chosen.requests()
        );
        assert_eq!(chosen.requests_to(path).len(), 1, "{case}");
        for other in &others {
            assert!(
                other.requests().is_empty(),
                "{case}: {:?}",
                other.requests()
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Typed beats the environment; exclusive options conflict only when both are typed.
// ---------------------------------------------------------------------------

/// True when the debug line about skipping the wait was logged.
fn logged_debug(out: &Output) -> bool {
    stderr_text(out).contains("not waiting for the proxy")
}

#[test]
fn typed_quiet_beats_verbose_from_the_environment() {
    let out = output(
        disabled()
            .env("LINKERD_AWAIT_VERBOSE", "true")
            .args(["-q", "true"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(stderr_text(&out).is_empty(), "{}", stderr_text(&out));
}

#[test]
fn typed_verbose_beats_quiet_from_the_environment() {
    let out = output(
        disabled()
            .env("LINKERD_AWAIT_QUIET", "true")
            .args(["-v", "true"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(logged_debug(&out), "{}", stderr_text(&out));
}

#[test]
fn verbose_and_quiet_both_from_the_environment_verbose_wins() {
    let out = output(
        disabled()
            .env("LINKERD_AWAIT_QUIET", "true")
            .env("LINKERD_AWAIT_VERBOSE", "true")
            .arg("true"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(logged_debug(&out), "{}", stderr_text(&out));
}

#[test]
fn typed_verbose_or_quiet_beats_the_log_filter_from_the_environment() {
    // The manifest sets a filter; an operator types -q (or -v) while
    // debugging. A typed --log still beats a typed -v/-q.
    // (LINKERD_AWAIT_LOG, typed words, whether the debug line shows)
    let cases: [(Option<&str>, &[&str], bool); 3] = [
        (Some("debug"), &["-q"], false),
        (Some("error"), &["-v"], true),
        (None, &["--log", "error", "-v"], false),
    ];
    for (filter, words, debug) in cases {
        let mut cmd = disabled();
        if let Some(filter) = filter {
            cmd.env("LINKERD_AWAIT_LOG", filter);
        }
        let out = output(cmd.args(words).arg("true"));
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(0), "{filter:?} {words:?}: {err}");
        assert_eq!(logged_debug(&out), debug, "{filter:?} {words:?}: {err}");
        if !debug {
            assert!(err.is_empty(), "{filter:?} {words:?}: {err}");
        }
    }
}

#[test]
fn a_variable_that_loses_to_a_typed_option_is_not_read_even_when_malformed() {
    let url = format!("http://127.0.0.1:{}/ready", closed_port());
    // Malformed variables of the other option of a pair, and of --log beside -q.
    let cases: [(&str, &str, &[&str]); 4] = [
        ("LINKERD_AWAIT_PORT", "abc", &["-u", &url]),
        ("LINKERD_AWAIT_URI", "nope", &["-p", "1"]),
        ("LINKERD_AWAIT_QUIET", "maybe", &["-v", "-u", &url]),
        ("LINKERD_AWAIT_LOG", "a=[", &["-q", "-u", &url]),
    ];
    for (var, value, words) in cases {
        let out = output(
            gate()
                .env("LINKERD_AWAIT_DISABLED", "1")
                .env(var, value)
                .args(words),
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{var}={value} {words:?}: {}",
            stderr_text(&out)
        );
    }
    // Said at debug level.
    let out = output(
        gate()
            .env("LINKERD_AWAIT_DISABLED", "1")
            .env("LINKERD_AWAIT_PORT", "abc")
            .args(["-v", "-u", &url]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(
        stderr_text(&out).contains("LINKERD_AWAIT_PORT is not read: --uri was typed"),
        "{}",
        stderr_text(&out)
    );
}

#[test]
fn verbose_and_quiet_both_typed_exits_2() {
    let out = output(disabled().args(["-v", "-q", "true"]));
    assert_usage_error(&out, &["cannot be used with", "--verbose", "--quiet"]);
}

// ---------------------------------------------------------------------------
// --timeout-fatal: a boolean flag with an optional value.
// ---------------------------------------------------------------------------

/// The gate against a refusing port, with a short deadline; the caller
/// keeps the port refusing while the gate runs.
fn timing_out(refused: &RefusedPort) -> Command {
    let mut cmd = gate();
    cmd.args(["-p", &refused.port.to_string(), "-t", "300ms"]);
    cmd
}

const APP: [&str; 3] = ["sh", "-c", "echo app ran; exit 3"];

fn assert_fatal(out: &Output) {
    assert_eq!(out.status.code(), Some(69), "{}", stderr_text(out));
    assert!(out.stdout.is_empty(), "the app ran: {}", stdout_text(out));
}

fn assert_proceeded(out: &Output) {
    assert_eq!(out.status.code(), Some(3), "{}", stderr_text(out));
    assert_eq!(stdout_text(out), "app ran\n");
}

#[test]
fn timeout_fatal_without_value_is_fatal() {
    let refused = RefusedPort::new();
    assert_fatal(&output(
        timing_out(&refused).arg("--timeout-fatal").args(APP),
    ));
}

#[test]
fn timeout_fatal_false_runs_the_app_anyway() {
    let refused = RefusedPort::new();
    assert_proceeded(&output(
        timing_out(&refused).arg("--timeout-fatal=false").args(APP),
    ));
}

#[test]
fn timeout_fatal_false_in_the_env_var_runs_the_app_anyway() {
    let refused = RefusedPort::new();
    assert_proceeded(&output(
        timing_out(&refused)
            .env("LINKERD_AWAIT_TIMEOUT_FATAL", "false")
            .args(APP),
    ));
}

#[test]
fn timeout_fatal_flag_wins_over_its_env_var() {
    let refused = RefusedPort::new();
    assert_fatal(&output(
        timing_out(&refused)
            .env("LINKERD_AWAIT_TIMEOUT_FATAL", "false")
            .arg("--timeout-fatal")
            .args(APP),
    ));
}

#[test]
fn timeout_fatal_accepts_every_boolean_spelling() {
    let refused = RefusedPort::new();
    for value in ["no", "off", "0", "n"] {
        assert_proceeded(&output(
            timing_out(&refused)
                .arg(format!("--timeout-fatal={value}"))
                .args(APP),
        ));
    }
    for value in ["yes", "on", "1", "true"] {
        assert_fatal(&output(
            timing_out(&refused)
                .env("LINKERD_AWAIT_TIMEOUT_FATAL", value)
                .args(APP),
        ));
    }
}

#[test]
fn timeout_fatal_with_a_bad_value_exits_2() {
    let refused = RefusedPort::new();
    let out = output(timing_out(&refused).arg("--timeout-fatal=maybe").args(APP));
    assert_usage_error(&out, &["--timeout-fatal", "'maybe'"]);
}

// ---------------------------------------------------------------------------
// Values: blank is unset, spaces are trimmed, booleans take every spelling.
// ---------------------------------------------------------------------------

#[test]
fn empty_or_blank_env_vars_are_the_same_as_unset() {
    let proxy = FakeProxy::ready_after(1);
    for (_, var) in OPTIONS {
        for value in ["", "  \t"] {
            let out = output(
                gate()
                    .env(var, value)
                    .args(["-p", &proxy.port().to_string(), "-t", "5s"])
                    .args(["sh", "-c", "echo app ran"]),
            );
            assert_eq!(
                out.status.code(),
                Some(0),
                "{var}={value:?}: {}",
                stderr_text(&out)
            );
            assert_eq!(stdout_text(&out), "app ran\n", "{var}={value:?}");
        }
    }
}

#[test]
fn blank_disable_variables_do_not_disable_waiting() {
    let refused = RefusedPort::new();
    for var in ["LINKERD_AWAIT_DISABLED", "LINKERD_DISABLED"] {
        let out = output(timing_out(&refused).env(var, " ").args(APP));
        assert_fatal(&out);
    }
}

#[test]
fn values_are_trimmed_in_flags_and_env_vars() {
    let proxy = FakeProxy::ready_after(1);
    let port = format!(" {} ", proxy.port());
    let out = output(
        gate()
            .env("LINKERD_AWAIT_PORT", &port)
            .env("LINKERD_AWAIT_MESH", " istio\n")
            .env("LINKERD_AWAIT_QUIET", " true ")
            .env("LINKERD_AWAIT_LOG_FORMAT", " plain ")
            .args(["--timeout-fatal= false ", "-t", "5s", "true"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/healthz/ready").len(), 1);
    assert!(stderr_text(&out).is_empty(), "{}", stderr_text(&out));

    let proxy = FakeProxy::ready_after(1);
    let out = output(gate().args([
        "-p",
        &format!("\t{}", proxy.port()),
        "--mesh",
        "envoy ",
        "--log",
        " error ",
        "-t",
        "5s",
        "true",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/ready").len(), 1);
    assert!(stderr_text(&out).is_empty(), "{}", stderr_text(&out));
}

#[test]
fn trimmed_port_still_refuses_0() {
    let out = output(
        cli()
            .env_remove("LINKERD_AWAIT_URI")
            .env("LINKERD_AWAIT_PORT", " 0 ")
            .arg("true"),
    );
    assert_usage_error(&out, &["'--port <PORT>'", "'0'", "LINKERD_AWAIT_PORT"]);
}

#[test]
fn boolean_env_vars_accept_every_spelling() {
    for (value, verbose) in [
        ("1", true),
        ("yes", true),
        ("on", true),
        ("0", false),
        ("off", false),
    ] {
        let out = output(
            gate()
                .env("LINKERD_AWAIT_DISABLED", "1")
                .env("LINKERD_AWAIT_VERBOSE", value)
                .arg("true"),
        );
        assert_eq!(out.status.code(), Some(0), "{value}: {}", stderr_text(&out));
        assert_eq!(
            stderr_text(&out).contains("not waiting"),
            verbose,
            "{value}: {}",
            stderr_text(&out)
        );
    }
}

#[test]
fn shutdown_false_in_the_env_needs_no_command() {
    let out = output(
        gate()
            .env("LINKERD_AWAIT_DISABLED", "1")
            .env("LINKERD_AWAIT_SHUTDOWN", "false"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let out = output(gate().env("LINKERD_AWAIT_DISABLED", "1").arg("--shutdown"));
    assert_usage_error(&out, &["--shutdown needs a command"]);
}

#[test]
fn usage_errors_name_the_variable_a_conflicting_mode_came_from() {
    let base = || {
        let mut cmd = gate();
        cmd.env("LINKERD_AWAIT_DISABLED", "1");
        cmd
    };
    let out = output(base().env("LINKERD_AWAIT_SHUTDOWN", "1"));
    assert_usage_error(
        &out,
        &["--shutdown needs a command", "LINKERD_AWAIT_SHUTDOWN"],
    );
    let out = output(
        base()
            .env("LINKERD_AWAIT_SHUTDOWN_NOW", "1")
            .args(["--", "true"]),
    );
    assert_usage_error(
        &out,
        &[
            "--shutdown-now runs no command",
            "LINKERD_AWAIT_SHUTDOWN_NOW",
        ],
    );
    let dir = temp_dir();
    for var in ["LINKERD_AWAIT_SHUTDOWN", "LINKERD_AWAIT_SHUTDOWN_NOW"] {
        let out = output(
            base()
                .env(var, "1")
                .args(["--install", path_arg(dir.path())]),
        );
        assert_usage_error(&out, &["--install", &format!("cannot be used with {var}")]);
    }
    // Typed, the flag is named, as before.
    let out = output(base().arg("--shutdown"));
    let err = stderr_text(&out);
    assert!(!err.contains("LINKERD_AWAIT_SHUTDOWN"), "{err}");
}

#[test]
fn help_names_every_variable_even_when_some_are_blank() {
    let out = output(
        gate()
            .env("LINKERD_AWAIT_PORT", "")
            .env("LINKERD_AWAIT_SHUTDOWN_URI", " ")
            .arg("--help"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let help = stdout_text(&out);
    assert!(help.contains("[env: LINKERD_AWAIT_PORT="), "{help}");
    // A URL option's value is never shown (it may hold a password).
    assert!(help.contains("[env: LINKERD_AWAIT_SHUTDOWN_URI]"), "{help}");
}

// ---------------------------------------------------------------------------
// Errors about a variable's value name the variable, not the app's flags.
// ---------------------------------------------------------------------------

#[test]
fn bad_value_from_an_env_var_names_the_variable() {
    let out = output(gate().env("LINKERD_AWAIT_TIMEOUT", "5").arg("true"));
    assert_usage_error(&out, &["'--timeout <DUR>'", "'5'", "LINKERD_AWAIT_TIMEOUT"]);
    // Typed on the command line, the flag alone is named.
    let out = output(
        gate()
            .env("LINKERD_AWAIT_TIMEOUT", "5s")
            .args(["-t", "5", "true"]),
    );
    assert_usage_error(&out, &["'--timeout <DUR>'", "'5'"]);
    assert!(
        !stderr_text(&out).contains("LINKERD_AWAIT_TIMEOUT"),
        "{}",
        stderr_text(&out)
    );
}

#[test]
fn env_tip_ignores_the_apps_own_flags() {
    for app in [
        &["sh", "-c", "echo ran", "-b", "3"][..],
        &["--", "sh", "-c", "echo ran", "-b", "3"][..],
        &["sh", "--backoff=3"][..],
    ] {
        let out = output(gate().env("LINKERD_AWAIT_BACKOFF", "5").args(app));
        assert_usage_error(&out, &["'--backoff <DUR>'", "'5'", "LINKERD_AWAIT_BACKOFF"]);
    }
    // Our own flag, in any spelling, is what the user typed: no tip.
    for ours in [
        &["-b", "5"][..],
        &["-b5"][..],
        &["--backoff=5"][..],
        &["-vb", "5"][..],
    ] {
        let out = output(
            gate()
                .env("LINKERD_AWAIT_BACKOFF", "5")
                .args(ours)
                .arg("true"),
        );
        assert_usage_error(&out, &["'--backoff <DUR>'", "'5'"]);
        assert!(
            !stderr_text(&out).contains("LINKERD_AWAIT_BACKOFF"),
            "{ours:?}: {}",
            stderr_text(&out)
        );
    }
}

// ---------------------------------------------------------------------------
// Shutdown URLs: one per flag, comma-separated in the variable.
// ---------------------------------------------------------------------------

/// The shutdown paths of these tests are no proxy's, so the simulated proxy
/// keeps listening after them: a short watch for its stop (the timeout is
/// not what is tested).
const SHORT_WATCH: [&str; 4] = ["-t", "5s", "--shutdown-timeout", "300ms"];

#[test]
fn comma_in_a_typed_shutdown_uri_is_part_of_the_url() {
    let proxy = FakeProxy::ready_after(1);
    let out = output(
        gate_for(&proxy)
            .args(SHORT_WATCH)
            .args(["-S", "--shutdown-uri"])
            .arg(proxy.url("/quit?a=1,2"))
            .args(["--", "true"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(
        proxy.requests_to("/quit?a=1,2").len(),
        1,
        "{:?}",
        proxy.requests()
    );
}

#[test]
fn shutdown_uri_env_var_is_comma_separated() {
    let proxy = FakeProxy::ready_after(1);
    let out = output(
        gate_for(&proxy)
            .env(
                "LINKERD_AWAIT_SHUTDOWN_URI",
                format!(" {} , {} ,", proxy.url("/one"), proxy.url("/two")),
            )
            .args(SHORT_WATCH)
            .args(["-S", "--", "true"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/one").len(), 1, "{:?}", proxy.requests());
    assert_eq!(proxy.requests_to("/two").len(), 1, "{:?}", proxy.requests());
}

#[test]
fn bad_shutdown_uri_env_var_exits_2_naming_the_variable() {
    let out = output(
        cli()
            .env(
                "LINKERD_AWAIT_SHUTDOWN_URI",
                "http://127.0.0.1:1/q,https://localhost/q",
            )
            .args(["-S", "--", "sh", "-c", "echo ran"]),
    );
    assert_usage_error(
        &out,
        &[
            "LINKERD_AWAIT_SHUTDOWN_URI",
            "'https://localhost/q'",
            "only plain http://",
        ],
    );
}

#[test]
fn verbose_names_each_variable_a_typed_option_left_unread() {
    let dir = temp_dir();
    let cases: [(&str, &str, &[&str], &str); 3] = [
        (
            "LINKERD_AWAIT_TIMEOUT",
            "garbage",
            &["-t", "1s"],
            "--timeout",
        ),
        (
            "LINKERD_AWAIT_WAIT_FOR",
            "ftp://nope",
            &["--wait-for"],
            "--wait-for",
        ),
        ("LINKERD_AWAIT_BACKOFF", "5", &["-b", "10ms"], "--backoff"),
    ];
    for (var, value, words, flag) in cases {
        let mut cmd = gate();
        cmd.env("LINKERD_AWAIT_DISABLED", "1")
            .env(var, value)
            .arg("-v")
            .args(words);
        if flag == "--wait-for" {
            touch(dir.path(), "token");
            cmd.arg(format!("file://{}/token", path_arg(dir.path())));
        }
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(0), "{var}: {err}");
        assert!(
            err.contains(&format!("{var} is not read: {flag} was typed")),
            "{var}: {err}"
        );
    }
}
