//! Where each value comes from: a typed flag, its variable, what the
//! environment implies, the mesh preset; every default.

use super::*;

#[test]
fn defaults_are_linkerds() {
    let c = config(&[], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:4191/ready");
    assert_eq!(c.timeout, None);
    assert_eq!(c.on_timeout, OnTimeout::Fail);
    assert!(matches!(c.handoff, Handoff::Exit));
    assert_eq!(c.backoff.max, Duration::from_millis(50));
    assert_eq!(c.backoff.initial, Duration::from_millis(5));
}

#[test]
fn port_from_flag_then_proxy_admin_addr() {
    let c = config(&["-p", "5000"], &[(PROXY_ADMIN_ADDR_VAR, "0.0.0.0:6000")]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:5000/ready");
    let c = config(&[], &[(PROXY_ADMIN_ADDR_VAR, "[::]:6000")]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:6000/ready");
    let err = config(&[], &[(PROXY_ADMIN_ADDR_VAR, "nope")]).unwrap_err();
    assert!(err.to_string().contains(PROXY_ADMIN_ADDR_VAR), "{err}");
}

#[test]
fn mesh_presets() {
    let c = config(&["--mesh", "istio", "-S", "/job"], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:15021/healthz/ready");
    assert_eq!(shutdown_urls(&c), ["http://localhost:15020/quitquitquit"]);
    let c = config(&["--mesh", "envoy", "-S", "/job"], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:9901/ready");
    assert_eq!(shutdown_urls(&c), ["http://localhost:9901/quitquitquit"]);
    let c = config(&["-S", "/job"], &[]).unwrap();
    assert_eq!(shutdown_urls(&c), ["http://localhost:4191/shutdown"]);
}

#[test]
fn explicit_parts_override_the_preset() {
    let c = config(&["--mesh", "istio", "-p", "1234", "-S", "/job"], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:1234/healthz/ready");
    assert_eq!(shutdown_urls(&c), ["http://localhost:15020/quitquitquit"]);
    let c = config(
        &[
            "-u",
            "http://127.0.0.1:7/r?x",
            "--shutdown-uri",
            "http://[::1]:8/q",
            "--shutdown-uri",
            "http://localhost:9/z",
            "-S",
            "/job",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(c.ready_url.as_str(), "http://127.0.0.1:7/r?x");
    assert_eq!(
        shutdown_urls(&c),
        ["http://[::1]:8/q", "http://localhost:9/z"]
    );
    let c = config(&["-u", "http://127.0.0.1:7/r?x", "-S", "/job"], &[]).unwrap();
    assert_eq!(shutdown_urls(&c), ["http://127.0.0.1:7/shutdown"]);
}

#[test]
fn shutdown_now_asks_the_meshs_shutdown_urls_and_watches_its_readiness_address() {
    let shutdown = shutdown_now(&[
        "--shutdown-now",
        "--mesh",
        "istio",
        "--shutdown-timeout",
        "2s",
    ]);
    assert_eq!(
        shutdown.urls.iter().map(Url::as_str).collect::<Vec<_>>(),
        ["http://localhost:15020/quitquitquit"]
    );
    assert_eq!(
        shutdown.proxy.as_str(),
        "http://localhost:15021/healthz/ready"
    );
    assert_eq!(shutdown.timeout, Duration::from_secs(2));
    let shutdown = shutdown_now(&[
        "--shutdown-now",
        "-p",
        "5000",
        "--shutdown-uri",
        "http://127.0.0.1:1/q",
    ]);
    assert_eq!(
        shutdown.urls.iter().map(Url::as_str).collect::<Vec<_>>(),
        ["http://127.0.0.1:1/q"]
    );
    assert_eq!(shutdown.proxy.as_str(), "http://localhost:5000/ready");
}

#[test]
fn termination_log_typed_or_default() {
    let c = config(&[], &[]).unwrap();
    assert_eq!(c.termination_log, TerminationLog::Default);
    let c = config(&["--termination-log", "/tmp/t"], &[]).unwrap();
    assert_eq!(
        c.termination_log,
        TerminationLog::Path(PathBuf::from("/tmp/t"))
    );
    let c = config(&["--termination-log="], &[]).unwrap();
    assert_eq!(c.termination_log, TerminationLog::Off);
    // Read from what was typed even when the rest cannot be read.
    let early = |words: &[&str]| rejected_termination_log(&argv(words));
    assert_eq!(
        early(&["--bogus", "--termination-log", "/tmp/t", "-t", "x"]),
        TerminationLog::Path(PathBuf::from("/tmp/t"))
    );
    assert_eq!(
        early(&["--termination-log=", "-t", "x"]),
        TerminationLog::Off
    );
    assert_eq!(early(&["-t", "x"]), TerminationLog::Default);
}
