//! What servers say, against scripted servers: the answers that mean "not
//! yet" are retried and named in the timeout and the termination message;
//! answers that only look right, and a server that refuses this client, are
//! never ready; a server's words can neither forge a log line, nor fill
//! one, nor disguise one; a large first answer is read whole.

mod common;
use common::*;

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
    // At once: each waits out its timeout.
    at_once(cases, |(scheme, says, needles)| {
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
    });
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
    not_ready_saying(cases.map(|(scheme, says)| (scheme, says, "unexpected answer")));
}

#[test]
fn memcached_nats_zookeeper_and_amqp_answers_that_mean_not_yet_are_named() {
    let cases: [(&str, Says, &str); 8] = [
        (
            "amqp",
            Says::Answer(b"AMQP\x00\x00\x09\x00".to_vec()),
            "the broker speaks AMQP 0-9-0 only, not 0-9-1",
        ),
        // Its own version's header back: a refusal, not another version.
        (
            "amqp",
            Says::Answer(b"AMQP\x00\x00\x09\x01".to_vec()),
            "protocol header, not Connection.Start: it refused the connection",
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
    not_ready_saying(cases);
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
    at_once(
        [("redis", &denied), ("mysql", &host_not_allowed)],
        |(scheme, server)| {
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
        },
    );
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
