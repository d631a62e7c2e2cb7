//! The shutdown requests of `--shutdown` mode: the proxy is asked once per
//! URL, only after the app ended, concurrently and within
//! `--shutdown-timeout`; a Job completes whatever the app's status, unless
//! `--shutdown-on-failure=false` keeps a failed pod's proxy running.
//!
//! And what the gate says about those requests: only what it knows. reqwest
//! does not tell whether a request was written, so a line never claims the
//! proxy did or did not get one unless an answer (or a failed connect)
//! proves it; and URLs are logged without their credentials.
//!
//! Every test runs the real binary against `FakeProxy`s on loopback.

mod common;
use common::*;

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    sync::{Arc, Mutex},
    thread,
    time::{Duration, Instant},
};

/// `cmd -S ... -- sh -c SCRIPT`: a supervised app that runs `script`.
fn supervise(cmd: &mut Command, script: &str) {
    cmd.arg("-S");
    app(cmd, script, &[]);
}

/// A proxy whose shutdown endpoint notes, at each request, whether the app had
/// already ended: the app writes its PID to `<dir>/pid` first thing, and its
/// `/proc` entry is gone only once it exited *and* was reaped.
struct WatchedProxy {
    proxy: FakeProxy,
    /// One entry per shutdown request: was the app gone at that moment?
    app_gone: Arc<Mutex<Vec<bool>>>,
}

impl WatchedProxy {
    fn start(pid_file: PathBuf) -> Self {
        Self::with_readiness(pid_file, Reply::Status(200))
    }

    /// Like `start`, with `readiness` as the answer to every readiness check.
    fn with_readiness(pid_file: PathBuf, readiness: Reply) -> Self {
        let app_gone = Arc::new(Mutex::new(Vec::new()));
        let seen = app_gone.clone();
        // It exits once it accepted a shutdown request, as a real proxy does.
        let proxy = FakeProxy::start(move |req, _| {
            if req.path == "/ready" {
                return readiness.clone();
            }
            let gone = fs::read_to_string(&pid_file)
                .ok()
                .and_then(|pid| pid.trim().parse::<i32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
            seen.lock().expect("app_gone lock").push(gone);
            Reply::Status(200)
        });
        WatchedProxy { proxy, app_gone }
    }

    fn app_gone(&self) -> Vec<bool> {
        self.app_gone.lock().expect("app_gone lock").clone()
    }
}

/// The app script that records its PID for `WatchedProxy`, pauses so that an
/// early shutdown request would find it alive, and exits with `$2`.
const RECORD_PID_THEN_EXIT: &str = r#"echo $$ > "$1/pid"; sleep 0.1; echo app done; exit "$2""#;

// ---------------------------------------------------------------------------
// When the proxy is asked, and how often.
// ---------------------------------------------------------------------------

#[test]
fn shutdown_is_posted_once_to_slash_shutdown_after_the_app_exited() {
    let dir = temp_dir();
    let watched = WatchedProxy::start(dir.path().join("pid"));
    let mut cmd = gate_for(&watched.proxy);
    cmd.arg("-S");
    app(&mut cmd, RECORD_PID_THEN_EXIT, &[path_arg(dir.path()), "0"]);
    let mut gate = Gate::spawn(&mut cmd);
    let code = gate.code_within(LIMIT);
    let exited = Instant::now();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 0, "{err}");
    let shutdowns = watched.proxy.requests_to("/shutdown");
    assert_eq!(shutdowns.len(), 1, "{:?}", watched.proxy.requests());
    assert_eq!(shutdowns[0].method, "POST");
    // Answered at once: the gate leaves without waiting out --shutdown-timeout (5s).
    let after = exited - shutdowns[0].at;
    assert!(
        after < Duration::from_secs(1),
        "exited {after:?} after the answer"
    );
    assert_eq!(watched.app_gone(), [true], "POST only after the app ended");
    let others: Vec<_> = watched
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.path != "/shutdown")
        .map(|r| (r.method, r.path))
        .collect();
    assert!(
        others.iter().all(|(m, p)| m == "GET" && p == "/ready"),
        "{others:?}"
    );
    assert!(err.contains("asked the proxy to shut down"), "{err}");
}

#[test]
fn shutdown_is_posted_once_to_each_shutdown_uri_after_the_app_exited() {
    let dir = temp_dir();
    let first = WatchedProxy::start(dir.path().join("pid"));
    let second = WatchedProxy::start(dir.path().join("pid"));
    let mut cmd = gate_for(&first.proxy);
    cmd.args([
        "-S",
        // Paths no proxy exits on: a short watch (the timeout is not what is tested).
        "--shutdown-timeout",
        "500ms",
        "--shutdown-uri",
        &first.proxy.url("/quit-first"),
        "--shutdown-uri",
        &second.proxy.url("/quit-second"),
    ]);
    app(&mut cmd, RECORD_PID_THEN_EXIT, &[path_arg(dir.path()), "7"]);
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 7, "{}", gate.err.text());
    for (proxy, path) in [(&first, "/quit-first"), (&second, "/quit-second")] {
        let posts = proxy.proxy.requests_to(path);
        assert_eq!(posts.len(), 1, "{path}: {:?}", proxy.proxy.requests());
        assert_eq!(posts[0].method, "POST");
        assert_eq!(
            proxy.app_gone(),
            [true],
            "{path}: POST only after the app ended"
        );
    }
    assert!(
        first.proxy.requests_to("/shutdown").is_empty(),
        "--shutdown-uri replaces the default URL"
    );
}

#[test]
fn hung_shutdown_endpoint_is_abandoned_after_shutdown_timeout() {
    let proxy = proxy_answering(Reply::Hang);
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--shutdown-timeout", "500ms"]);
    app(&mut cmd, "exit 3", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 3, "{}", gate.err.text());
    let exited = Instant::now();
    let posted = proxy.requests_to("/shutdown");
    assert_eq!(posted.len(), 1, "{:?}", proxy.requests());
    let waited = exited - posted[0].at;
    // The bound is the behaviour: 500 ms, plus scheduling slack under load.
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_millis(1000),
        "exited {waited:?} after the shutdown request"
    );
    let err = gate.err.finish(LIMIT);
    assert!(err.contains("--shutdown-timeout"), "{err}");
}

#[test]
fn hung_shutdown_endpoint_does_not_hold_back_the_others() {
    let hung = proxy_answering(Reply::Hang);
    let ok = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&hung);
    cmd.args([
        "-S",
        "--shutdown-timeout",
        "3s",
        "--shutdown-uri",
        &hung.url("/quit"),
        "--shutdown-uri",
        &ok.url("/quit"),
    ]);
    app(&mut cmd, "exit 0", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    // The second URL is asked while the first still hangs (concurrently).
    ok.wait_for_requests(1, Duration::from_secs(2));
    assert!(
        gate.running.child.try_wait().expect("try_wait").is_none(),
        "the gate still waits for the hung endpoint"
    );
    assert_eq!(gate.code_within(LIMIT), 0, "{}", gate.err.text());
    assert_eq!(ok.requests_to("/quit").len(), 1);
    assert_eq!(hung.requests_to("/quit").len(), 1);
}

#[test]
fn refused_shutdown_connection_is_retried_until_the_proxy_listens() {
    let ready = proxy_answering(Reply::Status(200));
    let refused = RefusedPort::new();
    let url = format!("http://127.0.0.1:{}/shutdown", refused.port);
    let mut cmd = gate_for(&ready);
    cmd.args(["-S", "--shutdown-timeout", "5s", "--shutdown-uri", &url]);
    app(&mut cmd, "echo app done; exit 0", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    gate.wait_out("app done");
    // Let a few attempts be refused, then start listening.
    thread::sleep(Duration::from_millis(200));
    let late = FakeProxy::serve(refused.listen(), Arc::new(|_, _| Reply::Status(200)));
    // The proxy it watches (the readiness address) stops once asked.
    late.wait_for_requests(1, LIMIT);
    ready.stop_listening();
    assert_eq!(gate.code_within(LIMIT), 0, "{}", gate.err.text());
    let posts = late.requests_to("/shutdown");
    assert_eq!(posts.len(), 1, "{:?}", late.requests());
    assert_eq!(posts[0].method, "POST");
}

#[test]
fn shutdown_404_names_the_annotation_and_keeps_the_apps_exit_code() {
    let proxy = proxy_answering(Reply::Status(404));
    for code in [0, 5] {
        let mut cmd = gate_for(&proxy);
        cmd.arg("-S");
        app(&mut cmd, &format!("exit {code}"), &[]);
        let out = output(&mut cmd);
        let log = stderr_text(&out);
        assert_eq!(out.status.code(), Some(code), "{log}");
        assert!(log.contains(ANNOTATION), "no annotation hint:\n{log}");
        assert!(log.contains("404"), "{log}");
        assert!(
            log.contains("config.linkerd.io/proxy-enable-native-sidecar")
                && !log.contains("config.beta.")
                && log.contains("--shutdown is not needed at all"),
            "no native-sidecar hint:\n{log}"
        );
    }
    assert_eq!(proxy.requests_to("/shutdown").len(), 2);
}

#[test]
fn shutdown_on_failure_false_leaves_the_proxy_running_only_when_the_app_failed() {
    for (script, want, posts) in [
        ("exit 1", 1, 0),
        ("kill -KILL $$", 137, 0),
        ("exit 0", 0, 1),
    ] {
        let proxy = proxy_answering(Reply::Status(200));
        let mut cmd = gate_for(&proxy);
        cmd.args(["-S", "--shutdown-on-failure=false"]);
        app(&mut cmd, script, &[]);
        let out = output(&mut cmd);
        assert_eq!(
            shell_code(out.status),
            want,
            "{script}: {}",
            stderr_text(&out)
        );
        assert_eq!(
            proxy.requests_to("/shutdown").len(),
            posts,
            "app `{script}`"
        );
    }
}

#[test]
fn readiness_timeout_not_fatal_runs_the_app_and_still_shuts_down() {
    let dir = temp_dir();
    let watched = WatchedProxy::with_readiness(dir.path().join("pid"), Reply::Status(503));
    let proxy = &watched.proxy;
    let mut cmd = gate_for(proxy);
    cmd.args(["-S", "-t", "300ms", "--timeout-fatal=false"]);
    app(&mut cmd, RECORD_PID_THEN_EXIT, &[path_arg(dir.path()), "4"]);
    let mut gate = Gate::spawn(&mut cmd);
    let (code, out, err) = gate.finish();
    assert_eq!(code, 4, "{err}");
    assert!(out.contains("app done"), "the app ran");
    assert!(err.contains("--timeout-fatal=false"), "{err}");
    let posts = proxy.requests_to("/shutdown");
    assert_eq!(posts.len(), 1, "{:?}", proxy.requests());
    assert_eq!(posts[0].method, "POST");
    assert_eq!(watched.app_gone(), [true]);
}

#[test]
fn readiness_timeout_in_a_job_exits_69_and_still_asks_the_proxy_to_shut_down() {
    // A Job whose proxy never turns ready (identity never issued) must still
    // complete: the proxy is asked to stop, unless the user keeps failed pods.
    for (flags, posts) in [(&[][..], 1), (&["--shutdown-on-failure=false"][..], 0)] {
        let proxy = FakeProxy::start(|req, _| match req.path.as_str() {
            "/ready" => Reply::Status(503),
            _ => Reply::Status(200),
        });
        let mut cmd = gate_for(&proxy);
        cmd.args(["-S", "-t", "200ms"]).args(flags);
        app(&mut cmd, "echo app ran", &[]);
        let (code, out, err) = Gate::spawn(&mut cmd).finish();
        assert_eq!(code, 69, "{flags:?}: {err}");
        assert_eq!(out, "", "the app must not run");
        assert_eq!(
            proxy.requests_to("/shutdown").len(),
            posts,
            "{flags:?}: {err}"
        );
    }
}

// ---------------------------------------------------------------------------
// Confirming that the proxy stopped after it accepted the request.
// ---------------------------------------------------------------------------

/// Lines of `log` that contain `needle`.
fn lines_with<'a>(log: &'a str, needle: &str) -> Vec<&'a str> {
    log.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn a_proxy_that_exits_at_once_is_confirmed_stopped_within_a_few_ms() {
    let proxy = FakeProxy::start(|_, _| Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    supervise(&mut cmd, "exit 0");
    let mut gate = Gate::spawn(&mut cmd);
    let code = gate.code_within(LIMIT);
    let exited = Instant::now();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 0, "{err}");
    let posts = proxy.requests_to("/shutdown");
    assert_eq!(posts.len(), 1, "{err}");
    let stopped = lines_with(&err, "the proxy stopped");
    assert_eq!(stopped.len(), 1, "{err}");
    assert!(
        stopped[0].contains("ms after the shutdown request"),
        "{err}"
    );
    assert!(
        stopped[0].contains(&format!("localhost:{}", proxy.port())),
        "{err}"
    );
    // The answer, the watch and the exit: milliseconds (slack for a loaded machine).
    let after = exited - posts[0].at;
    assert!(
        after < Duration::from_millis(500),
        "exited {after:?} after the POST"
    );
}

#[test]
fn a_proxy_that_exits_later_is_watched_until_it_does() {
    let proxy = draining_proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    supervise(&mut cmd, "exit 3");
    let mut gate = Gate::spawn(&mut cmd);
    proxy.wait_for_requests(2, LIMIT);
    // The proxy drains for a while, then exits.
    thread::sleep(Duration::from_millis(300));
    proxy.stop_listening();
    let stopped_at = Instant::now();
    let code = gate.code_within(LIMIT);
    let exited = Instant::now();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 3, "the app's code: {err}");
    let posted = proxy.requests_to("/shutdown")[0].at;
    assert!(
        stopped_at - posted >= Duration::from_millis(300),
        "the gate waited for the proxy"
    );
    assert!(
        exited - stopped_at < Duration::from_millis(500),
        "noticed {:?} after the proxy stopped",
        exited - stopped_at
    );
    assert_eq!(lines_with(&err, "the proxy stopped").len(), 1, "{err}");
    assert!(!err.contains("still accepts"), "{err}");
}

#[test]
fn a_draining_proxy_gets_one_warning_naming_the_grace_period_and_the_apps_code_stays() {
    let proxy = draining_proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.args(["--shutdown-timeout", "400ms"]);
    supervise(&mut cmd, "exit 5");
    let mut gate = Gate::spawn(&mut cmd);
    let code = gate.code_within(LIMIT);
    let exited = Instant::now();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 5, "{err}");
    let posted = proxy.requests_to("/shutdown")[0].at;
    let waited = exited - posted;
    assert!(
        waited >= Duration::from_millis(350) && waited < Duration::from_millis(1500),
        "exited {waited:?} after the POST"
    );
    let warnings = lines_with(&err, "still accepts connections");
    assert_eq!(warnings.len(), 1, "{err}");
    for needle in [
        "draining open connections",
        "LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD",
        "default 2 minutes",
        "--shutdown-timeout",
    ] {
        assert!(warnings[0].contains(needle), "{needle:?}: {}", warnings[0]);
    }
    assert!(!err.contains("the proxy stopped"), "{err}");
}

#[test]
fn after_a_readiness_timeout_the_proxy_is_still_confirmed_stopped() {
    let proxy = FakeProxy::start(|req, _| match req.path.as_str() {
        "/ready" => Reply::Status(503),
        _ => Reply::Status(200),
    });
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", "200ms"]);
    supervise(&mut cmd, "echo app ran");
    let (code, out, err) = Gate::spawn(&mut cmd).finish();
    assert_eq!(code, 69, "{err}");
    assert_eq!(out, "", "the app must not run");
    assert_eq!(lines_with(&err, "the proxy stopped").len(), 1, "{err}");
}

#[test]
fn a_refused_or_disabled_shutdown_is_not_watched() {
    // Only an accepted request makes the proxy stop: otherwise the gate
    // leaves at once rather than watch a proxy that will not exit.
    let disabled = proxy_answering(Reply::Status(404));
    let started = Instant::now();
    let mut cmd = gate_for(&disabled);
    supervise(&mut cmd, "exit 0");
    let out = output(&mut cmd);
    let took = started.elapsed();
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        took < Duration::from_secs(3),
        "took {took:?} (--shutdown-timeout is 5s)"
    );
    assert!(
        !log.contains("still accepts") && !log.contains("the proxy stopped"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------
// What the gate says about each request.
// ---------------------------------------------------------------------------

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
    // One proxy for both runs: it must keep listening after the first.
    let quick = draining_proxy_answering(Reply::Status(200));
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

// ---------------------------------------------------------------------------
// The review's cases: a proxy gone before its answer, a signal during the
// watch, and the time a warning counts.
// ---------------------------------------------------------------------------

#[test]
fn a_proxy_that_exits_on_the_request_before_answering_is_reported_stopped_at_once() {
    // The proxy reads the POST, closes the connection without a word, and
    // exits: as linkerd2-proxy can when nothing else is open.
    let (posted, shutdown_seen) = std::sync::mpsc::channel();
    let posted = Mutex::new(posted);
    let proxy = FakeProxy::start(move |req, _| match req.path.as_str() {
        "/ready" => Reply::Status(200),
        _ => {
            let _ = posted.lock().expect("channel lock").send(());
            Reply::Close
        }
    });
    let dir = temp_dir();
    let termination_log = dir.path().join("termination-log");
    let mut cmd = gate_for(&proxy);
    cmd.args(["--termination-log", path_arg(&termination_log)]);
    supervise(&mut cmd, "exit 0");
    let mut gate = Gate::spawn(&mut cmd);
    shutdown_seen
        .recv_timeout(LIMIT)
        .expect("a shutdown request");
    proxy.stop_listening();
    let stopped = Instant::now();
    let code = gate.code_within(LIMIT);
    let took = stopped.elapsed();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 0, "{err}");
    // Not the whole 5 s --shutdown-timeout of retries against a closed port.
    assert!(
        took < Duration::from_secs(2),
        "exited {took:?} after the proxy"
    );
    assert_eq!(lines_with(&err, "the proxy stopped").len(), 1, "{err}");
    assert!(!err.contains("failed"), "{err}");
    assert!(
        !termination_log.exists(),
        "a termination message on success"
    );
}

#[test]
fn a_termination_signal_while_watching_a_draining_proxy_ends_the_gate_at_once_with_the_apps_code() {
    // Keeps listening after it accepted: the gate would watch it for 8 s.
    let proxy = draining_proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.args(["--shutdown-timeout", "8s"]);
    supervise(&mut cmd, "exit 3");
    let mut gate = Gate::spawn(&mut cmd);
    gate.err.wait_for("asked the proxy to shut down", LIMIT);
    gate.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let code = gate.code_within(LIMIT);
    let took = signalled.elapsed();
    let err = gate.err.finish(LIMIT);
    assert!(
        took < Duration::from_secs(2),
        "exited {took:?} after SIGTERM"
    );
    assert_eq!(code, 3, "the app's code: {err}");
    assert!(
        err.contains("received SIGTERM while shutting the proxy down"),
        "{err}"
    );
}

#[test]
fn the_draining_warning_counts_from_when_the_proxy_accepted_the_request() {
    // The answer takes 600 ms of the 1 s --shutdown-timeout: the proxy was
    // watched for about 400 ms after it accepted, not for 1 s.
    let proxy = FakeProxy::draining(|req, _| match req.path.as_str() {
        "/ready" => Reply::Status(200),
        _ => {
            thread::sleep(Duration::from_millis(600));
            Reply::Status(200)
        }
    });
    let mut cmd = gate_for(&proxy);
    cmd.args(["--shutdown-timeout", "1s"]);
    supervise(&mut cmd, "exit 0");
    let (code, _, err) = Gate::spawn(&mut cmd).finish();
    assert_eq!(code, 0, "{err}");
    let warnings = lines_with(&err, "still accepts connections");
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("ms after it accepted the shutdown request"),
        "{}",
        warnings[0]
    );
}
