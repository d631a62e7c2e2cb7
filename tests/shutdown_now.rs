//! `--shutdown-now`: no wait and no command, only the shutdown request(s) of
//! the mesh, bounded by `--shutdown-timeout`; exit 0 when every URL answered
//! 2xx, 69 otherwise. For Argo Workflows' sidecar kill command, Helm hooks
//! and scripts (`./migrate; linkerd-await --shutdown-now`).
//!
//! Every test runs the real binary against `FakeProxy`s on loopback.

mod common;
use common::*;

use std::{
    process::Command,
    time::{Duration, Instant},
};

/// A proxy that is never ready, answers its shutdown endpoint with
/// `shutdown` and, when that is a 2xx, exits (stops listening) right after.
fn exiting_proxy(shutdown: u16) -> FakeProxy {
    FakeProxy::start(move |req, _| match req.path.as_str() {
        "/ready" => Reply::Status(503),
        _ => Reply::Status(shutdown),
    })
}

/// `gate -p PORT --shutdown-now`, plus `extra`.
fn shutdown_now(proxy: &FakeProxy, extra: &[&str]) -> Command {
    let mut cmd = gate_for(proxy);
    cmd.arg("--shutdown-now").args(extra);
    cmd
}

/// The one stderr line that names `needle`.
fn line_with<'a>(log: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(needle)).collect();
    assert_eq!(lines.len(), 1, "lines naming {needle:?}:\n{log}");
    lines[0]
}

#[test]
fn shutdown_now_posts_once_without_waiting_for_readiness_and_exits_0() {
    let proxy = exiting_proxy(200);
    let out = output(&mut shutdown_now(&proxy, &[]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    let requests: Vec<_> = proxy
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        requests,
        [("POST".to_string(), "/shutdown".to_string())],
        "one POST, no readiness check"
    );
    assert!(log.contains("asked the proxy to shut down"), "{log}");
    assert!(
        line_with(&log, "the proxy stopped").contains("after the shutdown request"),
        "{log}"
    );
}

#[test]
fn shutdown_now_from_its_variable_and_typed_over_the_shutdown_variable() {
    let proxy = exiting_proxy(200);
    let out = output(gate_for(&proxy).env("LINKERD_AWAIT_SHUTDOWN_NOW", "true"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/shutdown").len(), 1);
    // A manifest's LINKERD_AWAIT_SHUTDOWN does not turn a typed
    // --shutdown-now into a usage error: the typed flag wins.
    let proxy = exiting_proxy(200);
    let out = output(shutdown_now(&proxy, &[]).env("LINKERD_AWAIT_SHUTDOWN", "true"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/shutdown").len(), 1);
}

/// Words, variables, and what the usage error says.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn shutdown_now_with_a_command_or_with_shutdown_is_a_usage_error_and_sends_nothing() {
    let proxy = exiting_proxy(200);
    let cases: [Case; 5] = [
        (
            &["--shutdown-now", "--", "true"],
            &[],
            "--shutdown-now runs no command",
        ),
        (
            &["--shutdown-now", "true"],
            &[],
            "--shutdown-now runs no command",
        ),
        (
            &["--shutdown-now", "-S", "--", "true"],
            &[],
            "'--shutdown-now' cannot be used with '--shutdown'",
        ),
        (
            &["--", "true"],
            &[("LINKERD_AWAIT_SHUTDOWN_NOW", "1")],
            "--shutdown-now runs no command",
        ),
        // Both from variables: --shutdown-now wins, so a CMD is refused
        // rather than one of two modes silently chosen.
        (
            &["--", "true"],
            &[
                ("LINKERD_AWAIT_SHUTDOWN_NOW", "1"),
                ("LINKERD_AWAIT_SHUTDOWN", "1"),
            ],
            "--shutdown-now runs no command",
        ),
    ];
    for (words, vars, message) in cases {
        let mut cmd = gate_for(&proxy);
        cmd.args(words).envs(vars.iter().copied());
        assert_usage_error(&output(&mut cmd), &[message]);
    }
    assert!(proxy.requests().is_empty(), "{:?}", proxy.requests());
}

#[test]
fn shutdown_now_404_exits_69_names_the_annotation_and_native_sidecars() {
    let proxy = exiting_proxy(404);
    let started = Instant::now();
    let out = output(&mut shutdown_now(&proxy, &[]));
    let took = started.elapsed();
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    let line = line_with(&log, "404");
    assert!(
        line.contains("config.linkerd.io/proxy-admin-shutdown: enabled"),
        "{line}"
    );
    // The annotation's current name, not the deprecated `config.beta.` one.
    assert!(
        line.contains("config.linkerd.io/proxy-enable-native-sidecar")
            && !line.contains("config.beta."),
        "{line}"
    );
    assert!(line.contains("--shutdown is not needed at all"), "{line}");
    // Not accepted: nothing to watch, no waiting out --shutdown-timeout (5s).
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert!(
        !log.contains("the proxy stopped") && !log.contains("still accepts"),
        "{log}"
    );
}

#[test]
fn shutdown_now_other_status_exits_69() {
    let proxy = exiting_proxy(500);
    let out = output(&mut shutdown_now(&proxy, &[]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    assert!(line_with(&log, "/shutdown").contains("HTTP 500"), "{log}");
}

#[test]
fn shutdown_now_refused_exits_69_after_shutdown_timeout_naming_url_and_reason() {
    let refused = RefusedPort::new();
    let url = format!("http://127.0.0.1:{}/shutdown", refused.port);
    let mut cmd = gate();
    cmd.args([
        "--shutdown-now",
        "--shutdown-timeout",
        "300ms",
        "--shutdown-uri",
        &url,
    ]);
    let started = Instant::now();
    let out = output(&mut cmd);
    let took = started.elapsed();
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    let line = line_with(&log, &url);
    assert!(line.contains("connection refused"), "{line}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "took {took:?}"
    );
}

#[test]
fn shutdown_now_unanswered_exits_69_after_shutdown_timeout() {
    let proxy = proxy_answering(Reply::Hang);
    let started = Instant::now();
    let out = output(&mut shutdown_now(&proxy, &["--shutdown-timeout", "300ms"]));
    let took = started.elapsed();
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    assert!(line_with(&log, "/shutdown").contains("no answer"), "{log}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "took {took:?}"
    );
}

#[test]
fn shutdown_now_posts_to_every_shutdown_uri_and_exits_69_if_one_failed() {
    // Each accepting proxy exits after its request: one per run.
    let (first, second, disabled) = (exiting_proxy(200), exiting_proxy(200), exiting_proxy(404));
    for (readiness, urls, want) in [
        (&first, vec![first.url("/shutdown")], 0),
        (
            &second,
            vec![disabled.url("/shutdown"), second.url("/quitquitquit")],
            69,
        ),
    ] {
        let mut cmd = gate_for(readiness);
        cmd.args(["--shutdown-now", "--shutdown-timeout", "1s"]);
        for url in &urls {
            cmd.args(["--shutdown-uri", url]);
        }
        let out = output(&mut cmd);
        let log = stderr_text(&out);
        assert_eq!(out.status.code(), Some(want), "{urls:?}: {log}");
        assert!(log.contains("the proxy stopped"), "{urls:?}: {log}");
    }
    assert_eq!(first.requests_to("/shutdown").len(), 1);
    assert_eq!(second.requests_to("/quitquitquit").len(), 1);
    assert_eq!(disabled.requests_to("/shutdown").len(), 1);
}

#[test]
fn shutdown_now_watches_the_readiness_address_not_the_shutdown_port() {
    // Istio's pilot-agent quits on 15020 and reports readiness on 15021: the
    // proxy has stopped when its readiness address refuses connections.
    let quit = exiting_proxy(200);
    let readiness = FakeProxy::start(|_, _| Reply::Status(200));
    let out = output(
        gate()
            .args(["--shutdown-now", "--shutdown-timeout", "300ms"])
            .args(["--uri", &readiness.url("/healthz/ready")])
            .args(["--shutdown-uri", &quit.url("/quitquitquit")]),
    );
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "accepted: {log}");
    let warning = line_with(&log, "still accepts connections");
    assert!(
        warning.contains(&format!("127.0.0.1:{}", readiness.port())),
        "{warning}"
    );
    assert!(
        readiness.requests().is_empty(),
        "TCP connects only, no HTTP request"
    );
}

#[test]
fn shutdown_now_with_zero_timeout_does_not_wait_or_watch() {
    let proxy = proxy_answering(Reply::Hang);
    let started = Instant::now();
    let out = output(&mut shutdown_now(&proxy, &["--shutdown-timeout", "0"]));
    let took = started.elapsed();
    let log = stderr_text(&out);
    // Nothing known to have failed: a request not waited for is no failure.
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("did not wait for an answer"), "{log}");
    assert!(
        !log.contains("still accepts") && !log.contains("the proxy stopped"),
        "{log}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn sigterm_ends_shutdown_now_at_once_and_the_gate_dies_by_it() {
    let proxy = proxy_answering(Reply::Hang);
    let mut cmd = shutdown_now(&proxy, &["--shutdown-timeout", "10s"]);
    let mut gate = Gate::spawn(&mut cmd);
    proxy.wait_for_requests(1, LIMIT);
    gate.signal(libc::SIGTERM);
    let sent = Instant::now();
    let (status, _, err) = gate.finish_within(LIMIT);
    let took = sent.elapsed();
    assert_eq!(shell_code(status), 143, "{err}");
    assert!(took < Duration::from_secs(2), "took {took:?} after SIGTERM");
    assert!(err.contains("received SIGTERM"), "{err}");
}

#[test]
fn with_only_a_shutdown_uri_the_stop_is_watched_where_the_request_went() {
    // Accepts, then keeps listening (draining): the gate must say so for its
    // address, not claim a stop because the default port 4191 refuses.
    let proxy = draining_proxy_answering(Reply::Status(200));
    let out = output(
        gate()
            .args([
                "--shutdown-now",
                "--shutdown-timeout",
                "300ms",
                "--shutdown-uri",
            ])
            .arg(proxy.url("/shutdown")),
    );
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(!log.contains("the proxy stopped"), "{log}");
    assert!(
        line_with(&log, "still accepts connections")
            .contains(&format!("127.0.0.1:{}", proxy.port())),
        "{log}"
    );
    // And one that exits is confirmed there.
    let proxy = exiting_proxy(200);
    let out = output(
        gate()
            .args(["--shutdown-now", "--shutdown-uri"])
            .arg(proxy.url("/shutdown")),
    );
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        line_with(&log, "the proxy stopped").contains(&format!("127.0.0.1:{}", proxy.port())),
        "{log}"
    );
}

#[test]
fn a_readiness_address_that_never_answered_is_never_claimed_stopped() {
    // The readiness URL is given (-p) but nothing ever listens there; the
    // shutdown request goes to a proxy elsewhere that accepts and exits.
    let proxy = exiting_proxy(200);
    let nobody = closed_port();
    let out = output(
        gate()
            .args(["--shutdown-now", "--shutdown-timeout", "300ms", "-p"])
            .arg(nobody.to_string())
            .arg("--shutdown-uri")
            .arg(proxy.url("/shutdown")),
    );
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(!log.contains("the proxy stopped"), "{log}");
}
