//! Order and time: the proxy first, then every target at once; one
//! `--timeout` for both; `--timeout-fatal=false` starts the app anyway (or
//! exits 0 without one); with the proxy wait disabled only the targets are
//! waited for; every time a line gives counts from the start of the wait.

mod common;
use common::*;

use std::time::{Duration, Instant};

#[test]
fn the_proxy_comes_first_then_every_target_at_once_and_the_timeout_names_only_those_not_ready() {
    // The proxy turns ready at its 4th check; no target is contacted before.
    let proxy = FakeProxy::ready_after(4);
    let ready = FakeProxy::ready_after(1);
    let never = FakeServer::start(Says::Answer(pg_starting_up()));
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", SHORT, "--wait-for"])
        .arg(ready.url("/ok"))
        .arg("--wait-for")
        .arg(format!("postgres://127.0.0.1:{}/app", never.port()));
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    let proxy_ready = proxy.requests()[3].at;
    let first_target_check = ready.requests()[0].at;
    assert!(first_target_check >= proxy_ready, "{err}");
    assert!(never.connections() >= 2, "{err}");
    assert!(
        err.contains(&format!("{} ready after", ready.url("/ok"))),
        "{err}"
    );
    let timeout_line = err
        .lines()
        .find(|l| l.contains("not ready after"))
        .unwrap_or_else(|| panic!("no timeout line in:\n{err}"));
    assert!(
        timeout_line.contains("1 dependency not ready after 1s5"),
        "{timeout_line}"
    );
    assert!(
        timeout_line.contains(&format!(
            "postgres://127.0.0.1:{}/app: the database system is starting up (57P03)",
            never.port()
        )),
        "{timeout_line}"
    );
    assert!(!timeout_line.contains("/ok"), "{timeout_line}");
}

#[test]
fn one_timeout_covers_the_proxy_and_the_targets_together() {
    // The proxy takes about 1 s of the 1.5 s; the target never turns ready:
    // the gate gives up 1.5 s after it started, not 1.5 s after the proxy.
    let started = Instant::now();
    let proxy = ready_in(Duration::from_millis(1000));
    let down = RefusedPort::new();
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", SHORT, "--wait-for"])
        .arg(format!("redis://127.0.0.1:{}", down.port));
    let mut gate = Gate::spawn(&mut cmd);
    let code = gate.code_within(LIMIT);
    let took = started.elapsed();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("proxy ready after"), "{err}");
    assert!(err.contains("connection refused"), "{err}");
    assert!(took < Duration::from_millis(2400), "{took:?}\n{err}");
}

#[test]
fn timeout_fatal_false_starts_the_app_anyway_naming_the_target() {
    let down = RefusedPort::new();
    let target = format!("mysql://127.0.0.1:{}", down.port);
    let mut cmd = waiting_for(&[&target]);
    cmd.arg("--timeout-fatal=false");
    app(&mut cmd, "echo started", &[]);
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(stdout_text(&out), "started\n");
    assert!(err.contains("starting the app anyway"), "{err}");
    assert!(err.contains(&target), "{err}");
}

#[test]
fn timeout_fatal_false_without_a_command_says_it_exits_0_and_starts_nothing() {
    let down = RefusedPort::new();
    let target = format!("redis://127.0.0.1:{}", down.port);
    let mut cmd = waiting_for(&[&target]);
    cmd.arg("--timeout-fatal=false");
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("starting the app"), "{err}");
    assert!(
        err.contains("exiting 0 anyway (--timeout-fatal=false; there is no command to start)"),
        "{err}"
    );
    assert!(err.contains(&target), "{err}");
}

#[test]
fn with_the_proxy_wait_disabled_the_targets_are_still_waited_for() {
    let dir = temp_dir();
    let target = format!("file://{}/token", path_arg(dir.path()));
    // No proxy anywhere: a proxy check would fail the same way, so the
    // exit code alone could not tell; the log names what was awaited.
    let mut cmd = gate();
    cmd.args([
        "-p",
        &closed_port().to_string(),
        "-t",
        "500ms",
        "--wait-for",
        &target,
    ])
    .env("LINKERD_AWAIT_DISABLED", "1");
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(err.contains("1 dependency not ready after"), "{err}");
    assert!(!err.contains("waiting for the proxy"), "{err}");
    touch(dir.path(), "token");
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
}

#[test]
fn every_time_a_line_gives_counts_from_the_start_of_the_wait() {
    // The proxy takes about 1.2 s; the target turns ready after a progress
    // line: its "ready after" is later than what that line said.
    let proxy = ready_in(Duration::from_millis(1200));
    let dir = temp_dir();
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", "20s", "--wait-for"])
        .arg(format!("file://{}/token", path_arg(dir.path())));
    let mut gate = Gate::spawn(&mut cmd);
    let progress = gate
        .err
        .wait_for("still waiting for 1 of 1 dependency", LIMIT);
    touch(dir.path(), "token");
    let (code, _, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    let said = |line: &str, after: &str, until: char| -> Duration {
        let text = line
            .split_once(after)
            .map(|(_, rest)| rest.split(until).next().unwrap_or(""))
            .unwrap_or_else(|| panic!("no {after:?} in {line}"));
        parse_shown(text)
    };
    let progress_line = progress
        .lines()
        .find(|l| l.contains("still waiting for 1 of 1 dependency"))
        .expect("the progress line");
    let elapsed = said(progress_line, "dependency (", ' ');
    let ready_line = err
        .lines()
        .find(|l| l.contains("token ready after"))
        .expect("the ready line");
    let ready = said(ready_line, "ready after ", ',');
    assert!(
        ready >= elapsed,
        "ready after {ready:?}, but {elapsed:?} had elapsed:\n{err}"
    );
    // Durations read as the options are typed: no `1.00s`.
    assert!(!err.contains(".00s"), "{err}");
}

/// A duration as the gate's lines show it (`850ms`, `2s`, `2s340ms`).
fn parse_shown(text: &str) -> Duration {
    let (secs, ms) = match text.split_once('s') {
        Some((secs, rest))
            if !secs.ends_with('m')
                && !secs.is_empty()
                && secs.chars().all(|c| c.is_ascii_digit()) =>
        {
            (
                secs.parse::<u64>().expect("seconds"),
                rest.trim_end_matches("ms"),
            )
        }
        _ => (0, text.trim_end_matches("ms")),
    };
    Duration::from_secs(secs) + Duration::from_millis(ms.parse::<u64>().unwrap_or(0))
}
