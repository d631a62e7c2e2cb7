//! Mesh presets (`--mesh`): each checks its own readiness path and posts
//! its own shutdown URL. Their default ports cannot be bound safely in
//! parallel tests: the ports are overridden, the paths must stay the preset's.

mod common;
use common::*;

use std::process::Command;

/// The gate with `flags`, on `proxy`'s port, supervising an app that exits 0.
fn supervised(flags: &[&str], proxy: &FakeProxy) -> Command {
    let mut cmd = gate();
    cmd.args(flags)
        .args(["-p", &proxy.port().to_string(), "-S"]);
    app(&mut cmd, "exit 0", &[]);
    cmd
}

/// Every request `proxy` received, as (method, path).
fn methods_and_paths(proxy: &FakeProxy) -> Vec<(String, String)> {
    proxy
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}

#[test]
fn envoy_preset_checks_ready_and_posts_quitquitquit_on_the_same_port() {
    let proxy = proxy_answering(Reply::Status(200));
    let out = output(&mut supervised(&["--mesh", "envoy"], &proxy));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let seen = methods_and_paths(&proxy);
    assert_eq!(
        seen,
        [
            ("GET".to_string(), "/ready".to_string()),
            ("POST".to_string(), "/quitquitquit".to_string())
        ]
    );
}

#[test]
fn istio_preset_checks_healthz_ready_and_posts_quitquitquit_on_15020() {
    let proxy = proxy_answering(Reply::Status(200));
    // Default shutdown URL: fixed at localhost:15020, which is not ours to
    // bind; the log line names the URL the gate used.
    let out = output(&mut supervised(
        &["--mesh", "istio", "--shutdown-timeout", "300ms"],
        &proxy,
    ));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains("http://localhost:15020/quitquitquit"),
        "the shutdown URL is Istio's:\n{log}"
    );
    let seen = methods_and_paths(&proxy);
    assert_eq!(seen, [("GET".to_string(), "/healthz/ready".to_string())]);

    // --shutdown-uri replaces the preset's shutdown URL, readiness path kept.
    let quit = proxy_answering(Reply::Status(200));
    let out = output(&mut supervised(
        &[
            "--mesh",
            "istio",
            // It watches the readiness address, which does not stop here.
            "--shutdown-timeout",
            "300ms",
            "--shutdown-uri",
            &quit.url("/quitquitquit"),
        ],
        &proxy,
    ));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/healthz/ready").len(), 2);
    let posts = quit.requests_to("/quitquitquit");
    assert_eq!(posts.len(), 1, "{:?}", quit.requests());
    assert_eq!(posts[0].method, "POST");
}
