//! What "ready" means for an `http://` target (the expectations in its
//! URL's fragment), and targets read from where the app keeps its URLs
//! (`env:NAME`, JDBC and libpq forms): each expectation kind met and not
//! met against a scripted HTTP server, the JSON case against a real one
//! (Python's `http.server`) whose document flips from DOWN to UP, the
//! mesh's own error answers never taken for a met expectation, and an
//! `env:` URL's password never sent nor shown.

mod common;
use common::*;

use std::{
    net::{Ipv4Addr, SocketAddr},
    process::Command,
    time::{Duration, Instant},
};

/// Generous: the app must start within a few backoff steps (100 ms here)
/// of the document turning UP, on 2 busy cores.
const PROMPT: Duration = Duration::from_millis(1500);

fn waiting_for(target: &str) -> Command {
    waiting_for_at_most(target, "1s")
}

/// The same with this `--timeout`: a case that must be ready gets a long
/// one (it ends as soon as it is), so twenty gates started at once on a
/// loaded machine, or under qemu, are not cut off before their first check.
fn waiting_for_at_most(target: &str, timeout: &str) -> Command {
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", timeout, "--wait-for", target]);
    app(&mut cmd, "echo started", &[]);
    cmd
}

/// A server answering every request with this status, headers and body.
fn answering(status: u16, headers: &[(&str, &str)], body: &str) -> FakeProxy {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let body = body.to_string();
    FakeProxy::start(move |_, _| Reply::Body {
        status,
        headers: headers.clone(),
        body: body.clone(),
    })
}

const DOWN: &str = r#"{"status":"DOWN","components":{"db":{"status":"DOWN"}}}"#;
const UP: &str = r#"{"status":"UP","components":{"db":{"status":"UP"}},"checks":3}"#;
const BIG_ID: &str = r#"{"id":9007199254740993,"ratio":0.5,"error":null,"note":""}"#;

/// A scripted answer (status, headers, body), the expectations, and `None`
/// if they are met, else the reason shown.
type Case = (
    u16,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
    Option<&'static str>,
);

#[test]
fn each_expectation_kind_is_met_or_says_what_differed() {
    let cases: [Case; 20] = [
        (401, &[], "", "status=200-299,401", None),
        (405, &[], "", "status=401,405", None),
        (
            503,
            &[],
            "",
            "status=200-299,401",
            Some("HTTP 503 Service Unavailable, expected 200-299,401"),
        ),
        (200, &[], UP, "body=%22UP%22", None),
        (
            200,
            &[],
            DOWN,
            "body=%22UP%22",
            Some(r#"the body does not contain "\"UP\"""#),
        ),
        (200, &[], UP, "json=/status=UP", None),
        (
            200,
            &[],
            DOWN,
            "json=/status=UP",
            Some(r#"/status is "DOWN", expected "UP""#),
        ),
        (
            200,
            &[],
            UP,
            "json=/checks=3&json=/components/db/status=UP,UNKNOWN",
            None,
        ),
        (
            200,
            &[],
            "<html>ok</html>",
            "json=/status=UP",
            Some("the body is not JSON"),
        ),
        (200, &[("x-ready", "yes")], "", "header=X-Ready:yes", None),
        (
            200,
            &[("x-ready", "no")],
            "",
            "header=x-ready:yes",
            Some(r#"header x-ready is "no", expected "yes""#),
        ),
        (
            200,
            &[],
            "",
            "header=x-ready",
            Some("header x-ready is missing"),
        ),
        // Without status=, a 2xx is still needed for the rest to count.
        (500, &[], UP, "json=/status=UP", Some("HTTP 500")),
        // A header that comes twice: either may be the one expected.
        (
            200,
            &[("x-role", "replica"), ("x-role", "primary")],
            "",
            "header=x-role:primary",
            None,
        ),
        // Integers compare exactly, past 2^53 too.
        (200, &[], BIG_ID, "json=/id=9007199254740993", None),
        (
            200,
            &[],
            BIG_ID,
            "json=/id=9007199254740992",
            Some("/id is 9007199254740993, expected 9007199254740992"),
        ),
        (200, &[], BIG_ID, "json=/ratio=0.5", None),
        // null, and the empty text, can be expected.
        (200, &[], BIG_ID, "json=/error=null&json=/note=%22%22", None),
        (
            200,
            &[],
            UP,
            "json=/status=null",
            Some(r#"/status is "UP", expected null"#),
        ),
        (
            200,
            &[],
            BIG_ID,
            "json=/error=%22null%22",
            Some(r#"/error is null, expected "null""#),
        ),
    ];
    // At once: each not-ready case waits out its timeout.
    let results: Vec<_> = std::thread::scope(|scope| {
        let runs: Vec<_> = cases
            .into_iter()
            .map(|case| {
                scope.spawn(move || {
                    let (status, headers, body, expectations, reason) = case;
                    let server = answering(status, headers, body);
                    let target =
                        format!("http://127.0.0.1:{}/health#{expectations}", server.port());
                    let timeout = if reason.is_none() { "20s" } else { "1s" };
                    let out = output(&mut waiting_for_at_most(&target, timeout));
                    (case, out, server.requests())
                })
            })
            .collect();
        runs.into_iter()
            .map(|run| run.join().expect("a case"))
            .collect()
    });
    for ((_, _, _, expectations, reason), out, requests) in results {
        let err = stderr_text(&out);
        match reason {
            None => {
                assert_eq!(out.status.code(), Some(0), "{expectations}: {err}");
                assert_eq!(stdout_text(&out), "started\n", "{expectations}");
            }
            Some(reason) => {
                assert_eq!(out.status.code(), Some(69), "{expectations}: {err}");
                assert!(out.stdout.is_empty(), "{expectations}: the app started");
                assert!(
                    err.contains(reason),
                    "{expectations}: {reason:?} not in\n{err}"
                );
            }
        }
        // The fragment is never sent: the server saw the path alone.
        assert!(requests.iter().all(|r| r.path == "/health"));
    }
}

#[test]
fn method_head_sends_head_and_the_default_sends_get() {
    let server = answering(200, &[], UP);
    let target = format!("http://127.0.0.1:{}/health#method=HEAD", server.port());
    let out = output(&mut waiting_for(&target));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["HEAD"]);
    let plain = answering(200, &[], UP);
    let out = output(&mut waiting_for(&format!(
        "http://127.0.0.1:{}/health",
        plain.port()
    )));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(plain.requests()[0].method, "GET");
}

#[test]
fn a_malformed_expectation_is_a_usage_error_naming_it_and_what_is_accepted() {
    for (value, needle) in [
        (
            "http://api:8080/health#statu=200",
            "expectation 1 (statu=...): unknown",
        ),
        ("http://api:8080/health#status=600", "a status is a code"),
        ("http://api:8080/health#json=status=UP", "starts with '/'"),
        (
            "http://api:8080/health#method=HEAD&body=x",
            "HEAD does not get",
        ),
    ] {
        let out = output(
            gate()
                .args(["--mesh", "none", "--wait-for", value])
                .env_remove("LINKERD_AWAIT_WAIT_FOR"),
        );
        assert_usage_error(&out, &["--wait-for", needle, "status=200-299,401"]);
        // The same in the variable's list, where commas separate nothing
        // that is not a URL.
        let out = output(gate().args(["--mesh", "none"]).env(
            "LINKERD_AWAIT_WAIT_FOR",
            format!("tcp://127.0.0.1:1,{value}"),
        ));
        assert_usage_error(&out, &["LINKERD_AWAIT_WAIT_FOR", needle]);
    }
}

#[test]
fn a_real_health_document_is_not_ready_until_it_says_up_also_in_the_variable_and_through_the_proxy()
{
    let test = "health";
    let port = closed_port();
    let Some(mut server) = health_server(test, port) else {
        return;
    };
    server.until_ready(SCRIPTED_READY);
    let outbound =
        Outbound::start(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).expect("outbound");
    let direct = format!("http://127.0.0.1:{port}/actuator/health#json=/status=UP");
    let proxied = format!(
        "http://127.0.0.1:{}/actuator/health#status=200,204&json=/status=UP,OK",
        outbound.port()
    );
    // Both in the variable's list, commas inside their fragments.
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "60s", "--wait-for-backoff", "100ms"])
        .env("LINKERD_AWAIT_WAIT_FOR", format!("{direct},{proxied}"));
    app(&mut cmd, "echo started", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    gate.err.wait_for(
        r#"/status is "DOWN", expected one of "UP", "OK""#,
        Duration::from_secs(5),
    );
    gate.err.wait_for(
        r#"/status is "DOWN", expected "UP""#,
        Duration::from_secs(5),
    );
    assert!(gate.out.text().is_empty(), "started while DOWN");
    server.say("up");
    server.until_ready("up\n");
    let up_at = Instant::now();
    gate.wait_out("started");
    let lag = up_at.elapsed();
    let (code, _, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("{direct} ready after")), "{err}");
    assert!(lag < PROMPT, "app started {lag:?} after UP");
}

#[test]
fn the_mesh_s_own_error_answers_never_meet_an_expectation() {
    // Through the outbound proxy with the target down: closed, never met.
    let down = RefusedPort::new();
    let outbound =
        Outbound::start(SocketAddr::from((Ipv4Addr::LOCALHOST, down.port))).expect("outbound");
    // At once: each waits out its timeout.
    let closed = [
        "status=200-299,401",
        "body=ok",
        "json=/status=UP",
        "header=server",
    ];
    at_once(closed, |expectations| {
        let target = format!("http://127.0.0.1:{}/health#{expectations}", outbound.port());
        let out = output(&mut waiting_for(&target));
        assert_eq!(
            out.status.code(),
            Some(69),
            "{expectations}: {}",
            stderr_text(&out)
        );
    });
    // A proxy's 503 error page that happens to hold the word looked for.
    let proxy_page = answering(503, &[("l5d-proxy-error", "no endpoints")], "UP ok");
    let pages = ["body=UP", "header=l5d-proxy-error", "status=200-299,401"];
    at_once(pages, |expectations| {
        let target = format!(
            "http://127.0.0.1:{}/health#{expectations}",
            proxy_page.port()
        );
        let out = output(&mut waiting_for(&target));
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{expectations}: {err}");
        assert!(err.contains("HTTP 503"), "{expectations}: {err}");
    });
}

#[test]
fn env_database_url_is_checked_and_its_password_never_sent_nor_shown() {
    // Silent: the check sends its StartupMessage and waits; what it sent
    // is recorded.
    let server = FakeServer::start(Says::Nothing);
    let url = format!(
        "postgres://app:S3cr3tPw@127.0.0.1:{}/orders?sslmode=prefer&password=S3cr3tQs",
        server.port()
    );
    let mut runs = Vec::new();
    for (typed, verbose) in [(true, false), (false, false), (true, true), (false, true)] {
        let mut cmd = unmeshed("600ms");
        cmd.args(["--attempt-timeout", "200ms"])
            .env("DATABASE_URL", &url);
        if typed {
            cmd.args(["--wait-for", "env:DATABASE_URL"]);
        } else {
            cmd.env("LINKERD_AWAIT_WAIT_FOR", "env:DATABASE_URL");
        }
        if verbose {
            cmd.arg("-v");
        }
        runs.push(cmd);
    }
    for cmd in runs {
        let (out, message) = output_and_message(cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{err}");
        assert!(
            err.contains("env:DATABASE_URL (postgres://***@127.0.0.1:"),
            "{err}"
        );
        assert!(message.contains("env:DATABASE_URL"), "{message}");
        for secret in ["S3cr3tPw", "S3cr3tQs"] {
            for text in [&err, &stdout_text(&out), &message] {
                assert!(!text.contains(secret), "{secret} shown:\n{text}");
            }
        }
    }
    let sent = String::from_utf8_lossy(&server.received()).into_owned();
    assert!(sent.contains("app") && sent.contains("orders"), "{sent:?}");
    assert!(!sent.contains("S3cr3t"), "a password was sent: {sent:?}");
    // --help shows neither the variable's value nor the URL's.
    let help = output(
        gate()
            .arg("--help")
            .env("LINKERD_AWAIT_WAIT_FOR", "env:DATABASE_URL")
            .env("DATABASE_URL", &url),
    );
    assert!(!stdout_text(&help).contains("S3cr3t"));
}

#[test]
fn env_naming_a_missing_variable_is_a_usage_error_naming_it() {
    let out = output(
        gate()
            .args(["--mesh", "none", "--wait-for", "env:ORDERS_DB_URL"])
            .env_remove("ORDERS_DB_URL")
            .env_remove("LINKERD_AWAIT_WAIT_FOR"),
    );
    assert_usage_error(
        &out,
        &[
            "--wait-for",
            "the variable ORDERS_DB_URL is not set, or empty",
        ],
    );
}
