//! `--wait-for` values and combinations that are usage errors, and what
//! they say; libpq's parameters; an inherited LINKERD_AWAIT_WAIT_FOR that
//! must not break `--shutdown-now` or `--install`.

mod common;
use common::*;

#[test]
fn bad_targets_and_combinations_are_usage_errors_that_say_what_is_accepted() {
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--wait-for", "https://api/healthz#tls=off"],
            &[
                "--wait-for",
                "https://api/healthz#***",
                "expectation 1 (tls=...): unknown",
            ],
        ),
        (
            &["--wait-for", "redis://cache#insecure"],
            &["redis://cache#***", "#insecure applies to TLS targets only"],
        ),
        (
            // (amqp:// was the example until issue 24 made it a scheme.)
            &["--wait-for", "gopher://mq"],
            &[
                "unknown scheme 'gopher'",
                "postgres://[user@]host[:port][,host2[:port]][/db]",
            ],
        ),
        (&["--wait-for", "tcp://db"], &["tcp:// needs a port"]),
        (
            &["--wait-for", "file://relative/x"],
            &["file:// takes an absolute path"],
        ),
        (
            &["--shutdown-now", "--wait-for", "redis://cache"],
            &["--wait-for", "--shutdown-now"],
        ),
        (
            &["--mesh", "none", "--shutdown"],
            &["--mesh none has no proxy to shut down", "--shutdown-uri"],
        ),
    ];
    for (args, needles) in cases {
        let mut cmd = gate();
        cmd.args(args);
        app(&mut cmd, "echo started", &[]);
        if args.contains(&"--shutdown-now") {
            cmd = gate();
            cmd.args(args);
        }
        assert_usage_error(&output(&mut cmd), needles);
    }
    let dir = temp_dir();
    let out = output(
        gate()
            .args(["--wait-for", "redis://cache", "--install"])
            .arg(dir.path()),
    );
    assert_usage_error(&out, &["--wait-for", "--install"]);
    // The variable's items are checked the same way, naming the variable.
    let out = output(gate().env("LINKERD_AWAIT_WAIT_FOR", "redis://a, ftp://b"));
    assert_usage_error(
        &out,
        &["LINKERD_AWAIT_WAIT_FOR", "ftp://b", "unknown scheme"],
    );
}

#[test]
fn libpq_parameters_say_what_is_sent_and_a_socket_directory_is_refused() {
    let server = FakeServer::start(Says::Answer(pg_auth_request()));
    // `host=` and `port=` say where the check goes; `user=`/`dbname=` what it sends.
    let target = format!(
        "postgres://db.invalid:1/x?host=127.0.0.1&port={}&user=app&dbname=orders&sslmode=disable&password=pw",
        server.port()
    );
    let out = output(&mut waiting_for(&[&target]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let sent = String::from_utf8_lossy(&server.received()).into_owned();
    assert!(sent.contains("user\0app\0database\0orders\0"), "{sent:?}");
    assert!(!sent.contains("pw"), "{sent:?}");
    for value in [
        "postgres://%2Fvar%2Frun%2Fpostgresql/db",
        "postgres://db/x?host=/run/postgresql",
    ] {
        let out = output(&mut waiting_for(&[value]));
        assert_usage_error(&out, &["socket directory", "unix://"]);
    }
}

#[test]
fn an_inherited_wait_for_variable_does_not_break_shutdown_now_or_install() {
    // Set for the gate in front of the app, inherited by a script that ends
    // with `linkerd-await --shutdown-now`: the proxy must still be stopped.
    let proxy = FakeProxy::start(|_, _| Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.args(["--shutdown-now", "-v"]).env(
        "LINKERD_AWAIT_WAIT_FOR",
        "postgres://db:5432/app, ftp://not-even-valid",
    );
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(proxy.requests_to("/shutdown").len(), 1, "{err}");
    assert!(
        err.contains("LINKERD_AWAIT_WAIT_FOR is not read: --shutdown-now waits for nothing"),
        "{err}"
    );
    let dir = temp_dir();
    let out = output(
        gate()
            .arg("--install")
            .arg(dir.path())
            .env("LINKERD_AWAIT_WAIT_FOR", "redis://cache"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(dir.path().join("linkerd-await").exists());
}
