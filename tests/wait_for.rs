//! `--wait-for`: each scheme through the simulated outbound proxy (which,
//! like the mesh's, accepts every connection), against scripted servers for
//! the answers that mean "not yet", the order (proxy first, then every
//! target at once), the one deadline, the usage errors, and secrets.
//! Against real PostgreSQL, Redis and MariaDB: `wait_for_servers.rs`.

mod common;

use std::{
    net::{Ipv4Addr, SocketAddr},
    os::unix::net::UnixListener,
    time::{Duration, Instant},
};

use common::*;

/// Every test's gate gives up after this, so a target wrongly taken as
/// not ready ends in 69, not in a hang.
const SHORT: &str = "1500ms";

/// The gate with no proxy to wait for (`--mesh none`) and these targets.
fn waiting_for(targets: &[&str]) -> std::process::Command {
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", SHORT]);
    for target in targets {
        cmd.args(["--wait-for", target]);
    }
    cmd
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// What a PostgreSQL server that takes connections answers first: a
/// request for an MD5 password.
fn pg_auth_request() -> Vec<u8> {
    b"R\0\0\0\x0c\0\0\0\x05salt".to_vec()
}

fn mysql_greeting() -> Vec<u8> {
    mysql_packet(b"\x0a5.5.5-10.11.6-MariaDB\0\x01\0\0\0abcdefgh\0")
}

/// A scheme's ready answer, as a scripted server.
fn ready_server(scheme: &str) -> FakeServer {
    FakeServer::start(match scheme {
        "postgres" => Says::Answer(pg_auth_request()),
        "redis" => Says::Answer(b"+PONG\r\n".to_vec()),
        "mysql" => Says::Greeting(mysql_greeting()),
        "tcp" => Says::Nothing,
        other => panic!("no ready server for {other}"),
    })
}

#[test]
fn through_the_outbound_proxy_a_tcp_check_is_fooled_by_a_target_that_is_down_and_no_protocol_check_is()
 {
    for scheme in ["tcp"].into_iter().chain(PROTOCOL_SCHEMES) {
        let down = RefusedPort::new();
        let outbound = Outbound::start(local(down.port)).expect("outbound");
        let target = format!("{scheme}://127.0.0.1:{}/", outbound.port());
        let out = output(&mut waiting_for(&[&target]));
        let err = stderr_text(&out);
        if scheme == "tcp" {
            // The mesh's listener accepted: a TCP check cannot tell.
            assert_eq!(out.status.code(), Some(0), "{scheme}: {err}");
        } else {
            assert_eq!(out.status.code(), Some(69), "{scheme}: {err}");
            assert!(err.contains("1 dependency not ready"), "{scheme}: {err}");
            assert!(
                err.contains(&format!("{scheme}://127.0.0.1:{}", outbound.port())),
                "{scheme}: {err}"
            );
        }
    }
}

#[test]
fn a_listener_that_accepts_and_says_nothing_is_never_ready_for_a_protocol_check() {
    // A proxy's outbound listener whose target is silent (or a server that
    // hangs): connected, then nothing. Only tcp:// can be fooled by it.
    // At once: each run waits out its timeout.
    std::thread::scope(|scope| {
        for scheme in PROTOCOL_SCHEMES {
            scope.spawn(move || {
                let silent = FakeServer::start(Says::Nothing);
                let target = format!("{scheme}://127.0.0.1:{}", silent.port());
                let mut cmd = waiting_for(&[&target]);
                cmd.args(["--attempt-timeout", "200ms"]);
                app(&mut cmd, "echo started", &[]);
                let out = output(&mut cmd);
                let err = stderr_text(&out);
                assert_eq!(out.status.code(), Some(69), "{scheme}: {err}");
                assert!(out.stdout.is_empty(), "{scheme}: the app started");
                assert!(silent.connections() > 0, "{scheme}: never connected");
            });
        }
    });
}

#[test]
fn each_protocol_check_is_ready_once_its_server_answers_through_the_outbound_proxy() {
    for scheme in ["postgres", "redis", "mysql"] {
        let server = ready_server(scheme);
        let outbound = Outbound::start(local(server.port())).expect("outbound");
        let target = format!("{scheme}://127.0.0.1:{}", outbound.port());
        let mut cmd = waiting_for(&[&target]);
        app(&mut cmd, "echo started", &[]);
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(0), "{scheme}: {err}");
        assert_eq!(stdout_text(&out), "started\n", "{scheme}");
        assert!(err.contains(&format!("{target} ready after")), "{err}");
    }
    let http = FakeProxy::ready_after(1);
    let outbound = Outbound::start(http.addr()).expect("outbound");
    let out = output(&mut waiting_for(&[&format!(
        "http://127.0.0.1:{}/healthz",
        outbound.port()
    )]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(http.requests_to("/healthz").len(), 1);
}

#[test]
fn answers_that_mean_not_yet_are_retried_and_named_in_the_timeout_and_termination_message() {
    let cases: [(&str, Says, &[&str]); 6] = [
        (
            "postgres",
            Says::Answer(pg_starting_up()),
            &["the database system is starting up (57P03)"],
        ),
        (
            "redis",
            Says::Answer(b"-LOADING Redis is loading the dataset in memory\r\n".to_vec()),
            &["LOADING Redis is loading the dataset in memory"],
        ),
        (
            "mysql",
            Says::Greeting(mysql_too_many_connections()),
            &["Too many connections (error 1040)"],
        ),
        (
            "postgres",
            Says::Answer(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec()),
            &["unexpected answer", "is this a PostgreSQL server?"],
        ),
        (
            "redis",
            Says::Nothing,
            &["no response within 200ms (--attempt-timeout)"],
        ),
        (
            "mysql",
            Says::Nothing,
            &["no greeting within 200ms", "config.linkerd.io/opaque-ports"],
        ),
    ];
    for (scheme, says, needles) in cases {
        let server = FakeServer::start(says.clone());
        let dir = temp_dir();
        let log = dir.path().join("termination-log");
        let target = format!("{scheme}://127.0.0.1:{}", server.port());
        let mut cmd = waiting_for(&[&target]);
        cmd.args([
            "--attempt-timeout",
            "200ms",
            "--termination-log",
            path_arg(&log),
        ]);
        app(&mut cmd, "echo started", &[]);
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        let message = std::fs::read_to_string(&log).unwrap_or_default();
        assert_eq!(out.status.code(), Some(69), "{says:?}: {err}");
        assert!(out.stdout.is_empty(), "the app ran: {says:?}");
        assert!(server.connections() >= 2, "{says:?}: not retried");
        for needle in needles {
            assert!(err.contains(needle), "{needle:?} not in:\n{err}");
            assert!(message.contains(needle), "{needle:?} not in {message:?}");
        }
        assert!(message.contains(&target), "{message}");
    }
}

#[test]
fn the_proxy_comes_first_then_every_target_at_once_and_the_timeout_names_only_those_not_ready() {
    // The proxy turns ready at its 4th check; no target is contacted before.
    let proxy = FakeProxy::ready_after(4);
    let ready = FakeProxy::ready_after(1);
    let never = FakeServer::start(Says::Answer(pg_starting_up()));
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", SHORT, "--wait-for"])
        .arg(ready.url("/ok"))
        .arg("--wait-for")
        .arg(format!("postgres://127.0.0.1:{}/app", never.port()));
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    let proxy_ready = proxy.requests()[3].at;
    let first_target_check = ready.requests()[0].at;
    assert!(first_target_check >= proxy_ready, "{err}");
    assert!(never.connections() >= 2, "{err}");
    assert!(
        err.contains(&format!("{} ready after", ready.url("/ok"))),
        "{err}"
    );
    let timeout_line = err
        .lines()
        .find(|l| l.contains("not ready after"))
        .unwrap_or_else(|| panic!("no timeout line in:\n{err}"));
    assert!(
        timeout_line.contains("1 dependency not ready after 1s5"),
        "{timeout_line}"
    );
    assert!(
        timeout_line.contains(&format!(
            "postgres://127.0.0.1:{}/app: the database system is starting up (57P03)",
            never.port()
        )),
        "{timeout_line}"
    );
    assert!(!timeout_line.contains("/ok"), "{timeout_line}");
}

#[test]
fn one_timeout_covers_the_proxy_and_the_targets_together() {
    // The proxy takes about 1 s of the 1.5 s; the target never turns ready:
    // the gate gives up 1.5 s after it started, not 1.5 s after the proxy.
    let started = Instant::now();
    let proxy = FakeProxy::start(move |_, _| {
        if started.elapsed() >= Duration::from_millis(1000) {
            Reply::Status(200)
        } else {
            Reply::Status(503)
        }
    });
    let down = RefusedPort::new();
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", SHORT, "--wait-for"])
        .arg(format!("redis://127.0.0.1:{}", down.port));
    let mut gate = Gate::spawn(&mut cmd);
    let code = gate.code_within(LIMIT);
    let took = started.elapsed();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 69, "{err}");
    assert!(err.contains("proxy ready after"), "{err}");
    assert!(err.contains("connection refused"), "{err}");
    assert!(took < Duration::from_millis(2400), "{took:?}\n{err}");
}

#[test]
fn timeout_fatal_false_starts_the_app_anyway_naming_the_target() {
    let down = RefusedPort::new();
    let target = format!("mysql://127.0.0.1:{}", down.port);
    let mut cmd = waiting_for(&[&target]);
    cmd.arg("--timeout-fatal=false");
    app(&mut cmd, "echo started", &[]);
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(stdout_text(&out), "started\n");
    assert!(err.contains("starting the app anyway"), "{err}");
    assert!(err.contains(&target), "{err}");
}

#[test]
fn file_and_unix_targets_turn_ready_when_the_path_appears_and_the_socket_listens() {
    let dir = temp_dir();
    let file = dir.path().join("token");
    let socket = dir.path().join("api.sock");
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "10s", "--wait-for-backoff", "100ms"])
        .arg("--wait-for")
        .arg(format!("file://{}", path_arg(&file)))
        .arg("--wait-for")
        .arg(format!("unix://{}", path_arg(&socket)));
    app(&mut cmd, "echo started", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    gate.err.wait_for("waiting for file://", LIMIT);
    touch(dir.path(), "token");
    gate.err.wait_for("token ready after", LIMIT);
    assert!(
        gate.out.text().is_empty(),
        "started before the socket listened"
    );
    let _listener = UnixListener::bind(&socket).expect("bind the socket");
    let (code, out, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "started\n");
    assert!(err.contains("api.sock ready after"), "{err}");
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
    for typed in [true, false] {
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
    }
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
    let out = output(gate().args(["--wait-for", "https://user:s3cr3t@db/x"]));
    assert_usage_error(&out, &["--wait-for", "https://***@db/x"]);
    assert!(!stderr_text(&out).contains("s3cr3t"));
}

#[test]
fn bad_targets_and_combinations_are_usage_errors_that_say_what_is_accepted() {
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--wait-for", "https://api/healthz"],
            &["--wait-for", "https://api/healthz", "TLS", "use http://"],
        ),
        (
            &["--wait-for", "rediss://cache"],
            &["rediss://cache", "use redis://"],
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
fn with_the_proxy_wait_disabled_the_targets_are_still_waited_for() {
    let dir = temp_dir();
    let target = format!("file://{}/token", path_arg(dir.path()));
    // No proxy anywhere: a proxy check would fail the same way, so the
    // exit code alone could not tell; the log names what was awaited.
    let mut cmd = gate();
    cmd.args([
        "-p",
        &closed_port().to_string(),
        "-t",
        "500ms",
        "--wait-for",
        &target,
    ])
    .env("LINKERD_AWAIT_DISABLED", "1");
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(err.contains("1 dependency not ready after"), "{err}");
    assert!(!err.contains("waiting for the proxy"), "{err}");
    touch(dir.path(), "token");
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
}

#[test]
fn a_servers_words_can_neither_forge_a_log_line_nor_fill_one() {
    let forged = FakeServer::start(Says::Answer(
        b"-LOADING x\n2026-12-06T00:00:00Z  INFO linkerd_await: starting /app\r\n".to_vec(),
    ));
    let mut long = b"\xff\x10\x04".to_vec();
    long.extend(std::iter::repeat_n(b'y', 4000));
    let verbose = FakeServer::start(Says::Greeting(mysql_packet(&long)));
    let out = output(&mut waiting_for(&[
        &format!("redis://127.0.0.1:{}", forged.port()),
        &format!("mysql://127.0.0.1:{}", verbose.port()),
    ]));
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(
        !err.lines().any(|l| l.starts_with("2026-12-06T00:00:00Z")),
        "a forged line:\n{err}"
    );
    assert!(err.contains("LOADING x\\n2026"), "{err}");
    for line in err.lines() {
        assert!(line.len() < 1200, "a line of {} bytes", line.len());
    }
}

#[test]
fn a_servers_separators_bidi_overrides_and_invisible_characters_are_shown_escaped() {
    let redis = FakeServer::start(Says::Answer(
        "-LOADING a\u{2028}INFO forged\u{2029}b\u{202E}c\u{200B}d\r\n"
            .as_bytes()
            .to_vec(),
    ));
    let health = FakeProxy::start(|_, _| Reply::Body {
        status: 200,
        headers: vec![],
        body: "{\"status\":\"DOWN\u{2028}INFO forged\u{202E}\"}".to_string(),
    });
    for json in [false, true] {
        let mut cmd = waiting_for(&[
            &format!("redis://127.0.0.1:{}", redis.port()),
            &format!("http://127.0.0.1:{}/health#json=/status=UP", health.port()),
        ]);
        if json {
            cmd.args(["--log-format", "json"]);
        }
        let (out, message) = output_and_message(cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{err}");
        for text in [&err, &message] {
            for c in ['\u{2028}', '\u{2029}', '\u{202E}', '\u{200B}'] {
                assert!(!text.contains(c), "U+{:04X} in:\n{text}", c as u32);
            }
        }
        // Escaped as a control character is (JSON escapes the backslash).
        let backslash = if json { "\\\\" } else { "\\" };
        assert!(
            err.contains(&format!("LOADING a{backslash}u{{2028}}INFO forged")),
            "{err}"
        );
        assert!(
            err.contains(&format!("DOWN{backslash}u{{2028}}INFO")),
            "{err}"
        );
    }
}

/// A NATS cluster's `INFO` lists every peer (`connect_urls`): several
/// KiB, read whole.
#[test]
fn a_nats_info_of_several_kib_is_read_whole() {
    let urls: Vec<String> = (0..150)
        .map(|n| format!("\"nats-{n}.nats.messaging.svc.cluster.local:4222\""))
        .collect();
    let info = format!(
        "INFO {{\"server_id\":\"N\",\"auth_required\":true,\"connect_urls\":[{}]}}\r\n",
        urls.join(",")
    );
    assert!(info.len() > 6 * 1024, "{} bytes", info.len());
    let server = FakeServer::start(Says::Greeting(info.into_bytes()));
    let out = output(&mut waiting_for(&[&format!(
        "nats://127.0.0.1:{}",
        server.port()
    )]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
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

#[test]
fn lenient_answers_are_not_taken_for_ready() {
    let cases: [(&str, Says); 4] = [
        // A VNC server's greeting starts with `R`, as an auth request does.
        ("postgres", Says::Answer(b"RFB 003.008\n".to_vec())),
        // A header with nothing after it.
        ("postgres", Says::Answer(b"R\0\0\0\x08".to_vec())),
        // A MySQL greeting cut after the protocol byte and one more.
        ("mysql", Says::Greeting(mysql_packet(b"\x0a5"))),
        // Its server version never terminated.
        (
            "mysql",
            Says::Greeting(mysql_packet(b"\x0a10.11.6-MariaDB")),
        ),
    ];
    for (scheme, says) in cases {
        not_ready_saying(scheme, says, "unexpected answer");
    }
}

/// The gate waits for `scheme` on a server that always `says` the same:
/// never ready (69, the app not started), and `needle` in the reason.
fn not_ready_saying(scheme: &str, says: Says, needle: &str) {
    let server = FakeServer::start(says.clone());
    let mut cmd = waiting_for(&[&format!("{scheme}://127.0.0.1:{}", server.port())]);
    cmd.args(["--attempt-timeout", "200ms"]);
    app(&mut cmd, "echo started", &[]);
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{says:?}: {err}");
    assert!(out.stdout.is_empty(), "{says:?}: the app started");
    assert!(err.contains(needle), "{needle:?} not in:\n{err}");
}

#[test]
fn paths_the_kernel_cannot_take_are_usage_errors() {
    let long = format!("unix:///tmp/{}", "s".repeat(120));
    for (value, needle) in [("file:///tmp/a%00b", "NUL"), (long.as_str(), "at most 107")] {
        let out = output(waiting_for(&[value]).env_remove("LINKERD_AWAIT_WAIT_FOR"));
        assert_usage_error(&out, &["--wait-for", needle]);
        assert!(!stderr_text(&out).contains('\0'));
    }
}

#[test]
fn timeout_fatal_false_without_a_command_says_it_exits_0_and_starts_nothing() {
    let down = RefusedPort::new();
    let target = format!("redis://127.0.0.1:{}", down.port);
    let mut cmd = waiting_for(&[&target]);
    cmd.arg("--timeout-fatal=false");
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("starting the app"), "{err}");
    assert!(
        err.contains("exiting 0 anyway (--timeout-fatal=false; there is no command to start)"),
        "{err}"
    );
    assert!(err.contains(&target), "{err}");
}

#[test]
fn a_silent_server_is_not_blamed_on_its_port_alone() {
    let server = FakeServer::start(Says::Nothing);
    let mut cmd = waiting_for(&[&format!("mysql://127.0.0.1:{}", server.port())]);
    cmd.args(["--attempt-timeout", "200ms"]);
    let err = stderr_text(&output(&mut cmd));
    assert!(err.contains("no greeting within 200ms"), "{err}");
    assert!(err.contains("may"), "{err}");
    assert!(err.contains("default opaque ports include 3306"), "{err}");
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
fn a_server_that_refuses_this_client_is_not_ready_and_says_waiting_will_not_help() {
    let denied = FakeServer::start(Says::Answer(
        b"-DENIED Redis is running in protected mode because protected mode is enabled. \
          In this mode connections are only accepted from the loopback interface.\r\n"
            .to_vec(),
    ));
    let host_not_allowed = FakeServer::start(Says::Greeting(mysql_packet(
        b"\xff\x6a\x04Host '10.1.2.3' is not allowed to connect to this MariaDB server",
    )));
    for (scheme, server) in [("redis", &denied), ("mysql", &host_not_allowed)] {
        let out = output(&mut waiting_for(&[&format!(
            "{scheme}://127.0.0.1:{}",
            server.port()
        )]));
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{scheme}: {err}");
        assert!(
            err.contains("waiting will not change that"),
            "{scheme}: {err}"
        );
    }
}

#[test]
fn every_time_a_line_gives_counts_from_the_start_of_the_wait() {
    // The proxy takes about 1.2 s; the target turns ready after a progress
    // line: its "ready after" is later than what that line said.
    let started = Instant::now();
    let proxy = FakeProxy::start(move |_, _| {
        if started.elapsed() >= Duration::from_millis(1200) {
            Reply::Status(200)
        } else {
            Reply::Status(503)
        }
    });
    let dir = temp_dir();
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", "20s", "--wait-for"])
        .arg(format!("file://{}/token", path_arg(dir.path())));
    let mut gate = Gate::spawn(&mut cmd);
    let progress = gate
        .err
        .wait_for("still waiting for 1 of 1 dependency", LIMIT);
    touch(dir.path(), "token");
    let (code, _, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    let said = |line: &str, after: &str, until: char| -> Duration {
        let text = line
            .split_once(after)
            .map(|(_, rest)| rest.split(until).next().unwrap_or(""))
            .unwrap_or_else(|| panic!("no {after:?} in {line}"));
        parse_shown(text)
    };
    let progress_line = progress
        .lines()
        .find(|l| l.contains("still waiting for 1 of 1 dependency"))
        .expect("the progress line");
    let elapsed = said(progress_line, "dependency (", ' ');
    let ready_line = err
        .lines()
        .find(|l| l.contains("token ready after"))
        .expect("the ready line");
    let ready = said(ready_line, "ready after ", ',');
    assert!(
        ready >= elapsed,
        "ready after {ready:?}, but {elapsed:?} had elapsed:\n{err}"
    );
    // Durations read as the options are typed: no `1.00s`.
    assert!(!err.contains(".00s"), "{err}");
}

/// A duration as the gate's lines show it (`850ms`, `2s`, `2s340ms`).
fn parse_shown(text: &str) -> Duration {
    let (secs, ms) = match text.split_once('s') {
        Some((secs, rest))
            if !secs.ends_with('m')
                && !secs.is_empty()
                && secs.chars().all(|c| c.is_ascii_digit()) =>
        {
            (
                secs.parse::<u64>().expect("seconds"),
                rest.trim_end_matches("ms"),
            )
        }
        _ => (0, text.trim_end_matches("ms")),
    };
    Duration::from_secs(secs) + Duration::from_millis(ms.parse::<u64>().unwrap_or(0))
}

#[test]
fn memcached_nats_zookeeper_and_amqp_answers_that_mean_not_yet_are_named() {
    let cases: [(&str, Says, &str); 7] = [
        (
            "amqp",
            Says::Answer(b"AMQP\x00\x00\x09\x00".to_vec()),
            "the broker speaks AMQP 0-9-0 only, not 0-9-1",
        ),
        (
            "memcached",
            Says::Answer(b"SERVER_ERROR out of memory\r\n".to_vec()),
            "SERVER_ERROR out of memory",
        ),
        (
            "nats",
            Says::Greeting(b"-ERR 'maximum connections exceeded'\r\n".to_vec()),
            "-ERR 'maximum connections exceeded'",
        ),
        (
            "nats",
            Says::Nothing,
            "4222 is not among Linkerd's default opaque ports",
        ),
        (
            "zk",
            Says::Answer(b"This ZooKeeper instance is not currently serving requests\n".to_vec()),
            "This ZooKeeper instance is not currently serving requests",
        ),
        // Cut off from its quorum: it refuses an app's ordinary session.
        (
            "zk",
            Says::Answer(b"Zookeeper version: 3.8.4\nMode: read-only\nNode count: 5\n".to_vec()),
            "Mode: read-only (the server is cut off from its quorum",
        ),
        // Shutting down: its clients are told to move.
        (
            "nats",
            Says::Greeting(b"INFO {\"server_id\":\"N\",\"ldm\":true}\r\n".to_vec()),
            "lame duck mode",
        ),
    ];
    for (scheme, says, needle) in cases {
        not_ready_saying(scheme, says, needle);
    }
}
