//! What the gate says about its shutdown requests (`--shutdown`): only what
//! it knows. reqwest does not tell whether a request was written, so a line
//! never claims the proxy did or did not get one unless an answer (or a
//! failed connect) proves it; and URLs are logged without their credentials.
//!
//! Every test runs the real binary against `FakeProxy`s on loopback.

mod common;
use common::*;

use std::process::Command;

/// The linkerd annotation that Linkerd ≥ 2.16 needs before it serves `/shutdown`.
const ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown";

/// A proxy that is ready at once and answers every other path with `shutdown`.
fn proxy_answering(shutdown: Reply) -> FakeProxy {
    FakeProxy::start(move |req, _| match req.path.as_str() {
        "/ready" => Reply::Status(200),
        _ => shutdown.clone(),
    })
}

/// `cmd -S ... -- sh -c SCRIPT`: a supervised app that runs `script`.
fn supervise(cmd: &mut Command, script: &str) {
    cmd.args(["-S", "--", "sh", "-c", script]);
}

/// Runs the gate with `--shutdown-timeout 0` against `proxy`; returns the
/// line about its shutdown URL, after checking it claims no missing answer.
fn zero_timeout_line(proxy: &FakeProxy, format: &str) -> String {
    let mut cmd = gate_for(proxy);
    cmd.args(["--shutdown-timeout", "0", "--log-format", format]);
    supervise(&mut cmd, "exit 0");
    let out = output(&mut cmd);
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    for claim in ["no answer", "not sent", "failed", "no connection"] {
        assert!(!log.contains(claim), "{format}: claims {claim:?}:\n{log}");
    }
    let url = format!("http://localhost:{}/shutdown", proxy.port());
    log.lines()
        .find(|l| l.contains(&url))
        .unwrap_or_else(|| panic!("{format}: no line names {url}:\n{log}"))
        .to_string()
}

#[test]
fn zero_shutdown_timeout_says_it_did_not_wait_and_never_claims_no_answer() {
    // `0` starts the request and does not wait. Whether it is written before
    // the gate exits is up to the HTTP client; a proxy that takes the POST
    // and answers late may well have it, so "no answer" would be a claim the
    // gate cannot back.
    let slow = proxy_answering(Reply::Hang);
    for format in ["plain", "json"] {
        let line = zero_timeout_line(&slow, format);
        assert!(line.contains("did not wait for an answer"), "{line}");
        assert!(line.contains("--shutdown-timeout 0"), "{line}");
        assert!(
            line.contains("may or may not have reached the proxy"),
            "{line}"
        );
    }
    // A proxy that answers at once sometimes beats the gate's exit; an answer
    // the gate has is reported, and it must be one the proxy gave.
    let quick = proxy_answering(Reply::Status(200));
    for format in ["plain", "json"] {
        let posted_before = quick.requests_to("/shutdown").len();
        let line = zero_timeout_line(&quick, format);
        if line.contains("asked the proxy to shut down") {
            assert!(
                quick.requests_to("/shutdown").len() > posted_before,
                "reports an answer the proxy never gave: {line}"
            );
        } else {
            assert!(line.contains("did not wait for an answer"), "{line}");
        }
    }
}

#[test]
fn unanswered_shutdown_request_may_have_reached_the_proxy_and_says_so() {
    let proxy = proxy_answering(Reply::Hang);
    let mut cmd = gate_for(&proxy);
    cmd.args(["--shutdown-timeout", "300ms"]);
    supervise(&mut cmd, "exit 0");
    let out = output(&mut cmd);
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert_eq!(proxy.requests_to("/shutdown").len(), 1, "{log}");
    assert!(log.contains("no answer"), "{log}");
    assert!(log.contains("within 300ms (--shutdown-timeout"), "{log}");
    assert!(log.contains("may have reached the proxy"), "{log}");
}

#[test]
fn refused_shutdown_connection_says_no_connection_could_be_made() {
    let ready = proxy_answering(Reply::Status(200));
    let refused = RefusedPort::new();
    let url = format!("http://127.0.0.1:{}/shutdown", refused.port);
    let mut cmd = gate_for(&ready);
    cmd.args(["--shutdown-timeout", "300ms", "--shutdown-uri", &url]);
    supervise(&mut cmd, "exit 0");
    let out = output(&mut cmd);
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("last failure: connection refused"), "{log}");
    assert!(!log.contains("got no answer"), "{log}");
    // Every attempt is refused in microseconds, and the gate spends the rest
    // of each 50 ms retry cycle asleep, so at the deadline it almost always
    // knows no request went out. When a retry is still connecting at that
    // instant, it cannot know, and says so instead.
    assert!(
        log.contains("no connection could be made") || log.contains("may have reached the proxy"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------
// Credentials in shutdown URLs are sent, never logged.
// ---------------------------------------------------------------------------

/// The password, the user name as userinfo, and the `Authorization` header
/// reqwest builds from both.
const CREDENTIALS: [&str; 3] = ["secret", "user:", "dXNlcjpzZWNyZXQ"];

#[test]
fn credentials_in_shutdown_urls_are_never_logged_on_any_outcome() {
    let ready = proxy_answering(Reply::Status(200));
    let accepted = proxy_answering(Reply::Status(200));
    let failed = proxy_answering(Reply::Status(500));
    let disabled = proxy_answering(Reply::Status(404));
    let hung = proxy_answering(Reply::Hang);
    let refused = RefusedPort::new();
    let with_credentials =
        |port: u16, path: &str| format!("http://user:secret@127.0.0.1:{port}{path}");
    for format in ["plain", "json"] {
        let mut cmd = gate_for(&ready);
        cmd.args(["-v", "--log-format", format, "--shutdown-timeout", "500ms"]);
        for (port, path) in [
            (accepted.port(), "/accepted"),
            (failed.port(), "/failed"),
            (disabled.port(), "/disabled"),
            (hung.port(), "/hung"),
            (refused.port, "/refused"),
        ] {
            cmd.args(["--shutdown-uri", &with_credentials(port, path)]);
        }
        supervise(&mut cmd, "exit 0");
        let out = output(&mut cmd);
        let log = stderr_text(&out);
        assert_eq!(out.status.code(), Some(0), "{log}");
        for needle in CREDENTIALS {
            assert!(
                !log.contains(needle),
                "{format}: {needle:?} in the log:\n{log}"
            );
        }
        // Every outcome was logged, each with its URL shown redacted.
        for (path, outcome) in [
            ("/accepted", "asked the proxy to shut down"),
            ("/failed", "HTTP 500"),
            ("/disabled", ANNOTATION),
            ("/hung", "may have reached the proxy"),
            ("/refused", "connection refused"),
        ] {
            let line = log
                .lines()
                .find(|l| l.contains(path))
                .unwrap_or_else(|| panic!("{format}: no line names {path}:\n{log}"));
            assert!(line.contains(outcome), "{format}: {path}: {line}");
            assert!(line.contains("http://***@127.0.0.1:"), "{format}: {line}");
        }
    }
    // The credentials were sent all the same.
    let posts = accepted.requests_to("/accepted");
    assert_eq!(posts.len(), 2, "{:?}", accepted.requests());
    assert_eq!(
        posts[0].header("authorization"),
        Some("Basic dXNlcjpzZWNyZXQ=")
    );
}
