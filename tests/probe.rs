//! The readiness probe as a user sees it: what the gate sends to the proxy's
//! admin port, what it counts as ready, how it reports progress and how long
//! it takes.

mod common;
use common::*;

use std::{
    net::{Ipv6Addr, TcpListener},
    process::{Output, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// Runs `cmd` to completion and also returns how long it took.
fn timed_output(cmd: &mut std::process::Command) -> (Output, Duration) {
    let start = Instant::now();
    let out = output(cmd);
    (out, start.elapsed())
}

/// The gate's log lines that report progress while waiting.
fn progress_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("still waiting"))
        .collect()
}

#[test]
fn ready_after_three_failed_checks_exits_0_after_exactly_four_requests() {
    let proxy = FakeProxy::ready_after(4);
    let out = output(gate_for(&proxy).args(["-t", "10s"]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert_eq!(proxy.requests().len(), 4, "{:?}", proxy.requests());
    assert_eq!(proxy.requests_to("/ready").len(), 4);
    assert!(log.contains("proxy ready after"), "{log}");
    assert!(log.contains("4 checks"), "{log}");
    assert!(out.stdout.is_empty(), "the gate never writes to stdout");
}

#[test]
fn first_check_is_immediate_not_after_a_backoff_delay() {
    // With a 5 s backoff, a gate that slept before its first check would
    // take 5 s; an immediate check finishes in milliseconds.
    let proxy = FakeProxy::ready_after(1);
    let mut running = Running::spawn(
        gate_for(&proxy)
            .args(["--backoff-initial", "5s", "-b", "5s", "-t", "10s"])
            .stderr(Stdio::null()),
    );
    let status = running.wait_within(Duration::from_secs(4));
    assert_eq!(status.code(), Some(0));
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    let first_after = requests[0].at.duration_since(running.started);
    assert!(
        first_after < Duration::from_millis(2000),
        "first request {first_after:?} after start"
    );
}

#[test]
fn not_ready_within_timeout_exits_69_without_running_cmd() {
    let proxy = never_ready();
    let dir = temp_dir();
    let marker = dir.path().join("ran");
    let (out, took) = timed_output(
        gate_for(&proxy)
            .args(["-t", "1s", "sh", "-c"])
            .arg(format!("echo ran; touch '{}'", marker.display())),
    );
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    assert!(
        took >= Duration::from_millis(950),
        "gave up early: {took:?}"
    );
    assert!(took < Duration::from_secs(3), "gave up late: {took:?}");
    assert!(out.stdout.is_empty(), "CMD ran: {}", stdout_text(&out));
    assert!(!marker.exists(), "CMD ran: {} exists", marker.display());
    assert!(!proxy.requests().is_empty());
    assert!(log.contains("not ready after"), "{log}");
    assert!(log.contains("HTTP 503"), "{log}");
    assert!(log.contains("not starting the app"), "{log}");
}

#[test]
fn timeout_not_fatal_runs_cmd_and_exits_with_its_code() {
    let proxy = never_ready();
    let (out, took) = timed_output(gate_for(&proxy).args([
        "-t",
        "300ms",
        "--timeout-fatal=false",
        "sh",
        "-c",
        "echo app ran; exit 7",
    ]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(7), "{log}");
    assert_eq!(stdout_text(&out), "app ran\n");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(log.contains("starting the app anyway"), "{log}");
}

#[test]
fn connection_refused_at_first_then_ready_once_the_proxy_listens() {
    let reserved = RefusedPort::new();
    let port = reserved.port.to_string();
    let mut running = Running::spawn(
        gate()
            .args(["-p", &port, "-v", "-t", "10s"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let log = LineReader::start(running.child.stderr.take().expect("stderr"));
    // Debug lines report each failed check: wait for a refused one.
    log.wait_for("connection refused", Duration::from_secs(5));
    let proxy = FakeProxy::serve(reserved.listen(), Arc::new(|_, _| Reply::Status(200)));
    let status = running.wait_within(Duration::from_secs(5));
    let text = log.wait_for("proxy ready after", Duration::from_secs(2));
    assert_eq!(status.code(), Some(0), "{text}");
    assert_eq!(proxy.requests().len(), 1, "{text}");
}

#[test]
fn unanswered_check_is_abandoned_after_attempt_timeout_and_a_later_one_succeeds() {
    let proxy = FakeProxy::start(|_, n| {
        if n == 1 {
            Reply::Hang
        } else {
            Reply::Status(200)
        }
    });
    let (out, took) =
        timed_output(gate_for(&proxy).args(["--attempt-timeout", "200ms", "-v", "-t", "10s"]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(log.contains("no response within 200ms"), "{log}");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_ne!(
        requests[0].connection, requests[1].connection,
        "the hung connection must not be reused"
    );
}

#[test]
fn redirect_is_not_followed_and_is_not_ready() {
    let proxy = FakeProxy::start(|req, _| {
        if req.path == "/ready" {
            Reply::Redirect("/elsewhere".to_string())
        } else {
            Reply::Status(200)
        }
    });
    let (out, took) = timed_output(gate_for(&proxy).args(["-t", "500ms", "-v"]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(!proxy.requests_to("/ready").is_empty());
    assert!(
        proxy.requests_to("/elsewhere").is_empty(),
        "the redirect was followed"
    );
    assert!(log.contains("redirect"), "{log}");
    assert!(log.contains("302"), "{log}");
    assert!(log.contains("/elsewhere"), "{log}");
}

#[test]
fn http_proxy_environment_variables_are_ignored() {
    let proxy = FakeProxy::ready_after(1);
    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    let mut cmd = gate_for(&proxy);
    // After gate(), which removes *_PROXY variables.
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "HTTPS_PROXY",
    ] {
        cmd.env(var, &nowhere);
    }
    cmd.env_remove("NO_PROXY").env_remove("no_proxy");
    let out = output(cmd.args(["-t", "3s"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/ready").len(), 1);
}

#[test]
fn endless_error_body_is_not_read_to_the_end() {
    // A long attempt timeout: a gate that read the whole body would hang here
    // until the fake proxy gives up (20 s), far beyond the bound below.
    let proxy = FakeProxy::start(|_, n| {
        if n == 1 {
            Reply::EndlessBody(503)
        } else {
            Reply::Status(200)
        }
    });
    let (out, took) =
        timed_output(gate_for(&proxy).args(["--attempt-timeout", "15s", "-t", "15s"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(took < Duration::from_secs(3), "{took:?}");
    let requests = proxy.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_ne!(
        requests[0].connection, requests[1].connection,
        "a connection with an unread body cannot be reused"
    );
}

#[test]
fn a_small_not_ready_body_keeps_the_connection_and_a_large_one_drops_it() {
    // The README's sentence: a body whose Content-Length is at most 4 KiB is
    // read to keep the connection; a large one is not read (beyond what the
    // HTTP library already holds), and its connection is dropped.
    for (len, reused) in [(4096, true), (200_000, false)] {
        let proxy = FakeProxy::start(move |_, n| {
            if n <= 3 {
                Reply::Sized { status: 503, len }
            } else {
                Reply::Status(200)
            }
        });
        let out = output(gate_for(&proxy).args(["-t", "5s"]));
        assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
        let requests = proxy.requests();
        assert_eq!(requests.len(), 4, "{requests:?}");
        let connections: std::collections::BTreeSet<usize> =
            requests.iter().map(|r| r.connection).collect();
        let want = if reused { 1 } else { 4 };
        assert_eq!(connections.len(), want, "{len}-byte bodies: {requests:?}");
    }
}

/// Against a 503 whose body trickles in (`chunked`, or with no length), the
/// checks keep the backoff pace, and the app starts promptly once the proxy
/// turns ready.
fn slow_error_body_keeps_the_backoff_pace(chunked: bool) {
    let ready = Arc::new(AtomicBool::new(false));
    let turned = ready.clone();
    let proxy = FakeProxy::start(move |_, _| {
        if turned.load(Ordering::SeqCst) {
            Reply::Status(200)
        } else {
            Reply::SlowBody {
                status: 503,
                chunked,
            }
        }
    });
    // A long attempt timeout: a gate that waited for the end of the body
    // would spend all of it on every check.
    let mut running = Running::spawn(
        gate_for(&proxy)
            .args(["--attempt-timeout", "5s", "-t", "15s"])
            .args(["--", "sh", "-c", "echo app started"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let out = LineReader::start(running.child.stdout.take().expect("stdout"));
    let err = LineReader::start(running.child.stderr.take().expect("stderr"));
    // The default backoff (5 ms doubling to 50 ms) makes 20 checks in about
    // 0.9 s; one check per attempt timeout would make 1 or 2 in 5 s.
    proxy.wait_for_requests(20, Duration::from_secs(5));
    let turned_ready = Instant::now();
    ready.store(true, Ordering::SeqCst);
    out.wait_for("app started", Duration::from_secs(10));
    let lag = turned_ready.elapsed();
    assert_eq!(
        running.wait_within(Duration::from_secs(5)).code(),
        Some(0),
        "{}",
        err.text()
    );
    // At most one backoff delay (50 ms) plus the body grace after the proxy
    // turned ready, and a process start: 1 s is slack for a loaded machine.
    assert!(
        lag < Duration::from_secs(1),
        "app started {lag:?} after ready"
    );
}

#[test]
fn slow_chunked_error_body_keeps_the_backoff_pace_and_the_app_starts_promptly() {
    slow_error_body_keeps_the_backoff_pace(true);
}

#[test]
fn unending_error_body_without_length_keeps_the_backoff_pace_and_the_app_starts_promptly() {
    slow_error_body_keeps_the_backoff_pace(false);
}

#[test]
fn checks_until_ready_reuse_one_kept_alive_connection_when_error_bodies_are_small() {
    let proxy = FakeProxy::ready_after(4);
    let out = output(gate_for(&proxy).args(["-t", "10s"]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert_eq!(proxy.requests_to("/ready").len(), 4);
    assert!(log.contains("proxy ready after"), "{log}");
    proxy.wait_for_requests(4, Duration::from_secs(1));
    let connections: Vec<usize> = proxy.requests().iter().map(|r| r.connection).collect();
    assert_eq!(
        connections,
        [1, 1, 1, 1],
        "one kept-alive connection is reused"
    );
}

#[test]
fn uri_with_a_custom_path_and_query_is_what_is_checked() {
    let proxy = FakeProxy::start(|req, _| {
        if req.path == "/custom/ready?probe=1" {
            Reply::Status(200)
        } else {
            Reply::Status(404)
        }
    });
    let url = proxy.url("/custom/ready?probe=1");
    let out = output(gate().args(["-u", &url, "-t", "3s"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let paths: Vec<String> = proxy.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/custom/ready?probe=1"]);
}

#[test]
fn proxy_listening_only_on_ipv6_loopback_is_found_via_localhost() {
    let listener = match TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("skipped: IPv6 loopback unavailable ({e})");
            return;
        }
    };
    let proxy = FakeProxy::serve(listener, Arc::new(|_, _| Reply::Status(200)));
    let (out, took) = timed_output(gate_for(&proxy).args(["-t", "5s"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(proxy.requests_to("/ready").len(), 1);
    assert_eq!(
        proxy.requests()[0].header("host"),
        Some(format!("localhost:{}", proxy.port()).as_str())
    );
}

fn assert_disabled_by(var: &str) {
    let proxy = never_ready();
    // Were waiting not skipped, the gate would wait 3 s and exit 69.
    let (out, took) =
        timed_output(
            gate_for(&proxy)
                .env(var, "1")
                .args(["-t", "3s", "sh", "-c", "echo app ran"]),
        );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(stdout_text(&out), "app ran\n");
    assert!(took < Duration::from_millis(2000), "{took:?}");
    assert!(
        proxy.requests().is_empty(),
        "no check when disabled: {:?}",
        proxy.requests()
    );
}

#[test]
fn linkerd_await_disabled_skips_waiting_and_runs_cmd_at_once() {
    assert_disabled_by("LINKERD_AWAIT_DISABLED");
}

#[test]
fn linkerd_disabled_skips_waiting_and_runs_cmd_at_once() {
    assert_disabled_by("LINKERD_DISABLED");
}

#[test]
fn disabled_with_verbose_says_why_waiting_was_skipped() {
    let proxy = never_ready();
    let out = output(
        gate_for(&proxy)
            .env("LINKERD_AWAIT_DISABLED", "yes")
            .args(["-v", "-t", "3s"]),
    );
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("LINKERD_AWAIT_DISABLED=yes"), "{log}");
    assert!(proxy.requests().is_empty());
}

#[test]
fn empty_disable_variables_do_not_disable_waiting() {
    let proxy = FakeProxy::ready_after(2);
    let out = output(
        gate_for(&proxy)
            .env("LINKERD_AWAIT_DISABLED", "")
            .env("LINKERD_DISABLED", "")
            .args(["-t", "3s", "sh", "-c", "echo app ran"]),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(stdout_text(&out), "app ran\n");
    assert_eq!(proxy.requests().len(), 2, "waiting was skipped");
}

#[test]
fn progress_lines_are_few_and_name_the_last_http_status() {
    let proxy = never_ready();
    let out = output(gate_for(&proxy).args(["-t", "2500ms"]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    let lines = progress_lines(&log);
    let checks = proxy.requests().len();
    assert!(
        (1..=3).contains(&lines.len()),
        "{} progress lines for {checks} checks:\n{log}",
        lines.len()
    );
    assert!(
        checks > 10,
        "too few checks ({checks}) to tell apart from one line per check"
    );
    for line in lines {
        assert!(line.contains("HTTP 503"), "{line}");
        assert!(line.contains("checks"), "{line}");
    }
}

#[test]
fn progress_lines_say_connection_refused_when_nothing_listens() {
    let refused = RefusedPort::new();
    let out = output(gate().args(["-p", &refused.port.to_string(), "-t", "1500ms"]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{log}");
    let lines = progress_lines(&log);
    assert!(!lines.is_empty(), "{log}");
    for line in lines {
        assert!(line.contains("connection refused"), "{line}");
    }
    assert!(log.contains("last: connection refused"), "{log}");
}

// ---------------------------------------------------------------------------
// Credentials in the URL (`http://user:secret@...`) are sent, never logged.
// ---------------------------------------------------------------------------

/// What must never appear in a log: the password, the user name as
/// userinfo, and the `Authorization` header reqwest builds from both.
const CREDENTIALS: [&str; 3] = ["secret", "user:", "dXNlcjpzZWNyZXQ"];

fn assert_no_credentials(log: &str) {
    for needle in CREDENTIALS {
        assert!(!log.contains(needle), "{needle:?} in the log:\n{log}");
    }
}

/// Runs the gate with `-v` against a proxy whose readiness URL carries
/// credentials. Its first answers each put a different reason in the debug
/// lines: a redirect to a URL with credentials, a closed connection (a
/// reqwest error text), a 503; then 200 from check 4 on, if `ready`.
fn run_with_credentials(format: &str, ready: bool, extra: &[&str]) -> (Output, FakeProxy) {
    let proxy = FakeProxy::start(move |_, n| match n {
        1 => Reply::Redirect("http://user:secret@127.0.0.1:1/elsewhere".to_string()),
        2 => Reply::Close,
        n if ready && n >= 4 => Reply::Status(200),
        _ => Reply::Status(503),
    });
    let url = format!("http://user:secret@127.0.0.1:{}/ready", proxy.port());
    let out = output(
        gate()
            .args(["-u", &url, "-v", "--log-format", format])
            .args(extra),
    );
    (out, proxy)
}

#[test]
fn credentials_in_the_uri_are_sent_but_never_logged_on_the_ready_path() {
    for format in ["plain", "json"] {
        let (out, proxy) = run_with_credentials(format, true, &["-t", "10s"]);
        let log = stderr_text(&out);
        assert_eq!(out.status.code(), Some(0), "{log}");
        assert_no_credentials(&log);
        assert!(
            log.contains(&format!("http://***@127.0.0.1:{}/ready", proxy.port())),
            "{format}: the URL is shown, its credentials are not:\n{log}"
        );
        assert!(log.contains("proxy ready after"), "{log}");
        assert!(log.contains("/elsewhere"), "{log}");
        let requests = proxy.requests();
        assert_eq!(requests.len(), 4, "{requests:?}");
        assert_eq!(
            requests[0].header("authorization"),
            Some("Basic dXNlcjpzZWNyZXQ="),
            "the credentials are still used"
        );
    }
}

#[test]
fn credentials_in_the_uri_are_never_logged_while_waiting_or_on_timeout() {
    // At once: each waits out its timeout.
    at_once(["plain", "json"], |format| {
        let (out, _proxy) = run_with_credentials(format, false, &["-t", "1500ms"]);
        let log = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{log}");
        assert_no_credentials(&log);
        assert!(log.contains("still waiting"), "{log}");
        assert!(log.contains("not ready after"), "{log}");
        assert!(log.contains("http://***@127.0.0.1:"), "{log}");
    });
}
