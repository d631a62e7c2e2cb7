//! The values the gate refuses, and the app's own URL forms that hold a
//! secret where a URL holds none: a refusal names what is wrong and never
//! the value's secret, however it reached the gate (typed, in
//! LINKERD_AWAIT_WAIT_FOR, through `env:NAME`), in the log (plain or
//! JSON) and in the termination message; Connector/J's key=value hosts
//! are read for their host and port; an `env:` URL's expectations are
//! shown without their values.

mod common;
use common::*;

use std::process::Command;

const SECRET: &str = "S3cr3tX";

/// Every way a value reaches the gate: typed, in the list variable, in a
/// variable named by `env:` (typed or listed); each once with JSON logs.
fn every_way(value: &str) -> Vec<(String, Command)> {
    let mut runs = Vec::new();
    for json in [false, true] {
        let ways: [(&str, Option<&str>, Option<&str>); 4] = [
            ("typed", Some(value), None),
            ("listed", None, Some(value)),
            ("typed env:", Some("env:APP_URL"), None),
            ("listed env:", None, Some("env:APP_URL")),
        ];
        for (way, typed, listed) in ways {
            let mut cmd = gate();
            cmd.args(["--mesh", "none", "-t", "200ms", "-v"])
                .env("APP_URL", value);
            if json {
                cmd.args(["--log-format", "json"]);
            }
            if let Some(typed) = typed {
                cmd.args(["--wait-for", typed]);
            }
            if let Some(listed) = listed {
                cmd.env("LINKERD_AWAIT_WAIT_FOR", listed);
            }
            let what = format!("{value} ({way}{})", if json { ", JSON" } else { "" });
            runs.push((what, cmd));
        }
    }
    runs
}

/// Runs every way of giving `value` at once; each must end with `code`
/// and show the secret nowhere.
fn never_shown(value: &str, code: i32) -> Vec<String> {
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = every_way(value)
            .into_iter()
            .map(|(what, cmd)| scope.spawn(move || (what, output_and_message(cmd))))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a run"))
            .collect()
    });
    let mut said = Vec::new();
    for (what, (out, message)) in results {
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(code), "{what}: {err}");
        for (name, text) in [
            ("stderr", &err),
            ("stdout", &stdout_text(&out)),
            ("message", &message),
        ] {
            assert!(
                !text.contains(SECRET),
                "{what}: the secret in {name}:\n{text}"
            );
        }
        said.push(err);
    }
    said
}

#[test]
fn a_refused_value_names_what_is_wrong_and_never_shows_its_secret() {
    let refused = [
        (
            "jdbc:oracle:thin:scott/S3cr3tX@//127.0.0.1:1521/orcl",
            "not 'oracle'",
        ),
        (
            "jdbc:db2://127.0.0.1:50000/SAMPLE:user=u;password=S3cr3tX;",
            "not 'db2'",
        ),
        (
            "jdbc:h2:tcp://127.0.0.1/~/test;USER=sa;PASSWORD=S3cr3tX",
            "not 'h2'",
        ),
        (
            "jdbc:sqlserver://127.0.0.1:1433;user=u;password=S3cr3tX",
            "not 'sqlserver'",
        ),
        (
            "http://127.0.0.1:1/x#token=S3cr3tX",
            "expectation 1 (token=...): unknown",
        ),
        (
            "http://127.0.0.1:1/x#header=x-api-key:S3cr3tX&S3cr3tX",
            "expectation 2: no '='",
        ),
        ("app:S3cr3tX@db/x", "not a URL"),
        (
            "mysql://address=(host=db)(password=S3cr3tX)/x",
            "not a host name",
        ),
    ];
    for (value, reason) in refused {
        for err in never_shown(value, 2) {
            assert!(err.contains(reason), "{value}: {err}");
        }
    }
}

#[test]
fn pgjdbc_host_less_urls_wait_for_localhost_without_showing_the_password() {
    // pgJDBC reads `jdbc:postgresql:orders` as localhost:5432; the
    // password among its properties is the driver's, never the gate's.
    for err in never_shown("jdbc:postgresql:orders?user=app&password=S3cr3tX", 69) {
        assert!(err.contains("postgresql://localhost:5432/orders"), "{err}");
    }
}

#[test]
fn connector_j_key_value_hosts_are_read_for_their_host_and_port() {
    let server = FakeServer::start(Says::Greeting(mysql_packet(
        b"\x0a10.11.6-MariaDB\0\x01\0\0\0abcdefgh\0",
    )));
    let port = server.port();
    for value in [
        format!(
            "jdbc:mysql://address=(host=127.0.0.1)(port={port})(user=app)(password={SECRET})/orders"
        ),
        format!(
            "jdbc:mariadb://(host=127.0.0.1,port={port},password={SECRET})/orders?useSSL=false"
        ),
    ] {
        let mut cmd = gate();
        cmd.args(["--mesh", "none", "-t", "5s", "-v", "--wait-for", &value]);
        app(&mut cmd, "echo started", &[]);
        let (out, message) = output_and_message(cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(0), "{value}: {err}");
        assert_eq!(stdout_text(&out), "started\n");
        assert!(
            err.contains(&format!("://127.0.0.1:{port}/orders ready after")),
            "{err}"
        );
        for text in [&err, &message] {
            assert!(!text.contains(SECRET), "{value}: {text}");
        }
    }
    assert!(!String::from_utf8_lossy(&server.received()).contains(SECRET));
}

#[test]
fn the_expectations_of_an_env_url_are_never_shown_with_their_values() {
    // The server answers 200 with a header of another value: not ready,
    // and the reason names the header, not the value the URL expects.
    let server = FakeProxy::start(|_, _| Reply::Body {
        status: 200,
        headers: vec![("x-api-key".to_string(), "other".to_string())],
        body: "ok".to_string(),
    });
    let url = format!(
        "http://127.0.0.1:{}/health#header=x-api-key:{SECRET}&body={SECRET}",
        server.port()
    );
    let mut cmd = unmeshed("1200ms");
    cmd.args(["-v", "--wait-for", "env:HEALTH_URL"])
        .env("HEALTH_URL", &url);
    let (out, message) = output_and_message(cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(err.contains("env:HEALTH_URL (http://127.0.0.1:"), "{err}");
    assert!(err.contains("header=x-api-key:***"), "{err}");
    assert!(
        err.contains("header x-api-key is \"other\", expected ***"),
        "{err}"
    );
    for text in [&err, &stdout_text(&out), &message] {
        assert!(!text.contains(SECRET), "{text}");
    }
}

#[test]
fn dns_takes_a_name_and_a_header_expectation_a_token() {
    for (value, reason) in [
        ("dns://[::1]", "not an address"),
        ("dns://127.0.0.1?min=2", "not an address"),
        (
            "dns://app:S3cr3tX@db-headless",
            "dns:// takes a name and nothing else",
        ),
        ("http://127.0.0.1:1/x#header=a(b", "not a header name"),
    ] {
        let out = output(gate().args(["--mesh", "none", "-t", "1s", "--wait-for", value]));
        assert_usage_error(&out, &["--wait-for", reason]);
        assert!(!stderr_text(&out).contains(SECRET), "{}", stderr_text(&out));
    }
}
