//! No secret in a `--wait-for` URL, nor in the proxy's URLs, ever reaches
//! what the gate prints: log lines (`-v` included), progress lines, usage
//! errors, the termination message (kept in the pod's status), `--help`;
//! and none is sent. Secrets hide in a URL's userinfo, in its query
//! string (`?password=`, `?token=`, the TLS keys' `sslpassword=`,
//! `tlsCertificateKeyFile=`), and in a password whose `@host` is missing
//! or that holds a `/` after digits.

mod common;
use common::*;

use std::process::Output;

use proptest::prelude::*;

fn assert_hidden(secret: &str, out: &Output, message: &str, what: &str) {
    for (name, text) in [
        ("stderr", stderr_text(out)),
        ("stdout", stdout_text(out)),
        ("termination message", message.to_string()),
    ] {
        assert!(
            !text.contains(secret),
            "{what}: {secret:?} in {name}:\n{text}"
        );
    }
}

#[test]
fn secrets_in_a_query_string_are_never_shown_nor_sent() {
    let pg = FakeServer::start(Says::Answer(pg_starting_up()));
    let http = FakeProxy::start(|_, _| Reply::Status(503));
    let targets = [
        format!(
            "postgres://127.0.0.1:{}/app?password=s3cr3t&sslmode=disable",
            pg.port()
        ),
        format!("http://127.0.0.1:{}/health?token=s3cr3t", http.port()),
        format!("http://user:s3cr3t@127.0.0.1:{}/auth", http.port()),
    ];
    // At once: each waits out its timeout.
    at_once([true, false], |typed| {
        let mut cmd = gate();
        cmd.args(["--mesh", "none", "-t", "1500ms", "-v"]);
        if typed {
            for target in &targets {
                cmd.args(["--wait-for", target]);
            }
        } else {
            cmd.env("LINKERD_AWAIT_WAIT_FOR", targets.join(" "));
        }
        let (out, message) = output_and_message(cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{err}");
        // Progress lines (at 1 s) are among what was read.
        assert!(err.contains("still waiting for 3 of 3"), "{err}");
        assert_hidden("s3cr3t", &out, &message, "query");
        assert!(err.contains("/app?password=***&sslmode=***"), "{err}");
        assert!(message.contains("/health?token=***"), "{message}");
    });
    // The query's password is not sent; the start-up message names the user.
    assert!(!String::from_utf8_lossy(&pg.received()).contains("s3cr3t"));
    // An http:// target's credentials are not sent either (no basic auth).
    let auth = http.requests_to("/auth");
    assert!(!auth.is_empty());
    for request in auth {
        assert!(
            !request
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("authorization")),
            "{:?}",
            request.headers
        );
    }
}

#[test]
fn help_never_prints_the_variables_values() {
    let mut cmd = gate();
    cmd.arg("--help")
        .env(
            "LINKERD_AWAIT_WAIT_FOR",
            "postgres://u:s3cr3t@127.0.0.1/db?password=s3cr3t",
        )
        .env("LINKERD_AWAIT_URI", "http://u:s3cr3t@localhost:4191/ready")
        .env(
            "LINKERD_AWAIT_SHUTDOWN_URI",
            "http://u:s3cr3t@localhost:4191/shutdown",
        );
    let (out, message) = output_and_message(cmd);
    assert_eq!(out.status.code(), Some(0));
    assert_hidden("s3cr3t", &out, &message, "--help");
    let help = stdout_text(&out);
    for var in [
        "LINKERD_AWAIT_WAIT_FOR",
        "LINKERD_AWAIT_URI",
        "LINKERD_AWAIT_SHUTDOWN_URI",
    ] {
        assert!(
            help.contains(&format!("[env: {var}]")),
            "{var} not named:\n{help}"
        );
    }
}

#[test]
fn a_password_without_its_host_is_never_echoed() {
    for value in [
        "redis://:s3cr3t",
        "mysql://root:s3cr3t",
        "postgres://app:s3cr3t/db",
        "postgres://app:s3cr3t?x=1",
    ] {
        for typed in [true, false] {
            let mut cmd = gate();
            if typed {
                cmd.args(["--wait-for", value]);
            } else {
                cmd.env("LINKERD_AWAIT_WAIT_FOR", value);
            }
            let (out, message) = output_and_message(cmd);
            assert_eq!(out.status.code(), Some(2), "{value}: {}", stderr_text(&out));
            assert_hidden("s3cr3t", &out, &message, value);
            assert!(
                stderr_text(&out).contains("://***"),
                "{}",
                stderr_text(&out)
            );
        }
    }
}

#[test]
fn an_unencoded_password_after_digits_is_refused_and_no_host_is_checked() {
    // `app:1234/S3cr3t@db` would parse as host `app`, port 1234: here the
    // "host" is a listening server, which must see no connection.
    let server = FakeServer::start(Says::Answer(b"R\0\0\0\x0c\0\0\0\x05salt".to_vec()));
    let value = format!("postgres://127.0.0.1:{}/S3cr3t@db/orders", server.port());
    let (out, message) = output_and_message({
        let mut cmd = gate();
        cmd.args(["--mesh", "none", "-t", "1s", "--wait-for", &value]);
        cmd
    });
    assert_eq!(out.status.code(), Some(2), "{}", stderr_text(&out));
    assert!(
        stderr_text(&out).contains("percent-encode"),
        "{}",
        stderr_text(&out)
    );
    assert_hidden("S3cr3t", &out, &message, &value);
    assert_eq!(server.connections(), 0);
}

#[test]
fn no_scheme_sends_a_password_given_in_its_url() {
    // Not http://: its query string is the request's, and is sent. At once:
    // each waits out its timeout.
    at_once(
        PROTOCOL_SCHEMES.into_iter().filter(|s| *s != "http"),
        |scheme| {
            // Silent: every check sends its first bytes and waits.
            let server = FakeServer::start(Says::Nothing);
            // grpc:// takes nothing after its service name (a usage error).
            let query = if scheme == "grpc" {
                ""
            } else {
                "?password=S3cr3tQs"
            };
            let value = format!(
                "{scheme}://app:S3cr3tPw@127.0.0.1:{}/db{query}",
                server.port()
            );
            let mut cmd = unmeshed("600ms");
            cmd.args(["--attempt-timeout", "200ms", "--wait-for", &value]);
            let (out, message) = output_and_message(cmd);
            assert!(server.connections() > 0, "{scheme}: {}", stderr_text(&out));
            let sent = String::from_utf8_lossy(&server.received()).into_owned();
            for secret in ["S3cr3tPw", "S3cr3tQs"] {
                assert!(!sent.contains(secret), "{scheme} sent {secret}: {sent:?}");
                assert_hidden(secret, &out, &message, &value);
            }
        },
    );
}

/// The forms a secret takes in a URL, for `secret` at a loopback port
/// where nothing listens.
fn url_forms(scheme: &str, secret: &str, port: u16) -> Vec<String> {
    vec![
        format!("{scheme}://u:{secret}@127.0.0.1:{port}/db"),
        format!("{scheme}://127.0.0.1:{port}/db?password={secret}"),
        format!("{scheme}://127.0.0.1:{port}/db?a=1&token={secret}#x"),
        format!("{scheme}://:{secret}"),
        format!("{scheme}://root:{secret}"),
        format!("{scheme}://app:{secret}/db"),
        format!("{scheme}://127.0.0.1:{port}/{secret}@db/x"),
    ]
}

/// The forms of the app's own URLs that hold a secret where no URL does:
/// JDBC drivers' properties and hosts, a fragment's items.
fn app_url_forms(secret: &str, port: u16) -> Vec<String> {
    vec![
        format!("jdbc:oracle:thin:scott/{secret}@//127.0.0.1:{port}/orcl"),
        format!("jdbc:postgresql:orders?user=app&password={secret}"),
        format!("jdbc:db2://127.0.0.1:{port}/SAMPLE:user=u;password={secret};"),
        format!("jdbc:mysql://address=(host=127.0.0.1)(port={port})(password={secret})/x"),
        format!("jdbc:mysql://(host=127.0.0.1,port={port},password={secret})/x"),
        format!("http://127.0.0.1:{port}/x#token={secret}"),
        format!("http://127.0.0.1:{port}/x#header=x-api-key:{secret}&{secret}"),
    ]
}

/// The TLS parameters of the drivers that name a client's key, its
/// password or its certificate: never used (no client certificate is
/// sent), hidden as every query value is.
fn tls_url_forms(secret: &str, port: u16) -> Vec<String> {
    vec![
        format!("postgres://127.0.0.1:{port}/db?sslmode=require&sslpassword={secret}"),
        format!("postgres://127.0.0.1:{port}/db?sslmode=verify-full&sslkey=/run/{secret}.key"),
        format!("mongodb://127.0.0.1:{port}/?tls=true&tlsCertificateKeyFile=/k/{secret}.pem"),
        format!("mongodb://127.0.0.1:{port}/?tls=true&tlsCertificateKeyFilePassword={secret}"),
        format!(
            "mysql://127.0.0.1:{port}/?ssl-mode=REQUIRED&ssl-key=/k/{secret}&password={secret}"
        ),
        format!("rediss://u:{secret}@127.0.0.1:{port}"),
        format!("jdbc:postgresql://127.0.0.1:{port}/db?sslmode=require&sslpassword={secret}"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Across every output (log lines plain or JSON, the termination
    /// message, `--help`), typed, listed or through `env:`, parsed or
    /// refused: the secret never shows.
    #[test]
    fn no_secret_in_any_url_form_reaches_any_output(
        scheme in "(postgres|redis|mysql|http|tcp|memcached|nats|zk|amqp|kafka|grpc|mongodb|cassandra|smtp|https|rediss|amqps|grpcs|smtps|tls|mongodb\\+srv)",
        secret in "[a-zA-Z0-9._~+/-]{4,16}".prop_map(|s| format!("S3cr{s}")),
    ) {
        let port = closed_port();
        let mut runs = Vec::new();
        let forms = url_forms(&scheme, &secret, port)
            .into_iter()
            .chain(app_url_forms(&secret, port))
            .chain(tls_url_forms(&secret, port));
        for (n, value) in forms.enumerate() {
            // Plain and JSON logs, in turn.
            let format = if n % 2 == 0 { "plain" } else { "json" };
            let quick = ["--mesh", "none", "-t", "100ms", "-v", "--log-format", format];
            let mut typed = gate();
            typed.args(quick).args(["--wait-for", &value]);
            // In the list, after another item.
            let mut set = gate();
            set.args(quick).env("LINKERD_AWAIT_WAIT_FOR", format!("tcp://127.0.0.1:{port} {value}"));
            // Through env:, typed and in the list.
            let mut named = gate();
            named.args(quick).args(["--wait-for", "env:APP_URL"]).env("APP_URL", &value);
            let mut listed = gate();
            listed.args(quick).env("LINKERD_AWAIT_WAIT_FOR", "env:APP_URL").env("APP_URL", &value);
            let mut help = gate();
            help.arg("--help").env("LINKERD_AWAIT_WAIT_FOR", &value);
            for cmd in [typed, set, named, listed, help] {
                runs.push((value.clone(), cmd));
            }
        }
        // At once: each run waits out its 100 ms timeout at most.
        let results: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = runs
                .into_iter()
                .map(|(value, cmd)| scope.spawn(move || (value, output_and_message(cmd))))
                .collect();
            handles.into_iter().map(|h| h.join().expect("a run")).collect()
        });
        for (value, (out, message)) in results {
            for text in [stderr_text(&out), stdout_text(&out), message] {
                prop_assert!(!text.contains(&secret), "{value:?}: {text}");
            }
        }
    }
}

#[test]
fn a_password_in_a_target_is_never_sent_nor_shown() {
    let pg = FakeServer::start(Says::Answer(pg_starting_up()));
    let redis = FakeServer::start(Says::Answer(b"-LOADING still\r\n".to_vec()));
    let http = FakeProxy::start(|_, _| Reply::Status(503));
    let targets = [
        format!("postgres://app:s3cr3t@127.0.0.1:{}/db", pg.port()),
        format!("redis://:s3cr3t@127.0.0.1:{}", redis.port()),
        format!("http://user:s3cr3t@127.0.0.1:{}/healthz", http.port()),
    ];
    // At once: each waits out its timeout.
    at_once([true, false], |typed| {
        let dir = temp_dir();
        let log = dir.path().join("termination-log");
        let mut cmd = gate();
        cmd.args([
            "--mesh",
            "none",
            "-t",
            SHORT,
            "-v",
            "--termination-log",
            path_arg(&log),
        ]);
        if typed {
            for target in &targets {
                cmd.args(["--wait-for", target]);
            }
        } else {
            cmd.env("LINKERD_AWAIT_WAIT_FOR", targets.join(","));
        }
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{err}");
        // Progress lines come at 1 s: they too were checked.
        assert!(
            err.contains("still waiting for 3 of 3 dependencies"),
            "{err}"
        );
        let message = std::fs::read_to_string(&log).expect("termination message");
        for text in [&err, &stdout_text(&out), &message] {
            assert!(!text.contains("s3cr3t"), "password shown in:\n{text}");
        }
        assert!(err.contains("postgres://***@127.0.0.1"), "{err}");
    });
    // The database checks never send it: a start-up message names the user only.
    for server in [&pg, &redis] {
        let sent = String::from_utf8_lossy(&server.received()).into_owned();
        assert!(!sent.contains("s3cr3t"), "{sent:?}");
    }
    assert!(
        String::from_utf8_lossy(&pg.received()).contains("user\0app\0database\0db\0"),
        "{:?}",
        pg.received()
    );
    // A rejected value does not show it either.
    let out = output(gate().args(["--wait-for", "gopher://user:s3cr3t@db/x"]));
    assert_usage_error(&out, &["--wait-for", "gopher://***@db/x"]);
    assert!(!stderr_text(&out).contains("s3cr3t"));
}
