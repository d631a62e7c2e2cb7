//! `--wait-for` against real servers (Debian's `postgresql`, `redis-server`,
//! `mariadb-server`, `memcached`, `nats-server`, `zookeeper`,
//! `rabbitmq-server`, `etcd-server`, installed by `.ci/run`), the reference
//! gRPC implementation (grpcio) and scripted servers on the reference
//! clients' codecs (Kafka, MongoDB, Cassandra), each reached through the
//! simulated outbound proxy as in a meshed pod: not ready while the server
//! is down (the proxy accepts, then closes), ready once it answers, and the
//! app started promptly after. Locally a missing server is a visible skip;
//! under `CI=true` a failure.

mod common;

use std::{
    net::{Ipv4Addr, SocketAddr},
    time::{Duration, Instant},
};

use common::*;

/// Generous: the app must start within a few dependency backoff steps
/// (100 ms here) of the server's "ready" line, on 2 busy cores. The
/// precise figure is the benchmark's (README, Benchmarks).
const PROMPT: Duration = Duration::from_millis(1500);

/// Starts the gate waiting (through an outbound proxy) for `scheme` on
/// `port`, sees it report the target not ready, starts the server, and
/// checks that the app starts soon after the server is ready. Returns the
/// server, still running, for more checks.
fn not_ready_until_the_server_is_up(
    scheme: &str,
    port: u16,
    start: impl FnOnce() -> Option<RealServer>,
    ready_line: Option<&str>,
) -> Option<RealServer> {
    let outbound =
        Outbound::start(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).expect("outbound");
    let target = format!("{scheme}://127.0.0.1:{}", outbound.port());
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "60s", "--wait-for-backoff", "100ms"])
        .args(["--wait-for", &target]);
    app(&mut cmd, "echo started", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    // Down: the proxy accepted and closed; the progress line says so.
    gate.err.wait_for(
        "connection closed without an answer",
        Duration::from_secs(5),
    );
    assert!(gate.out.text().is_empty(), "started with {scheme} down");
    let server = start()?;
    match ready_line {
        Some(line) => server.until_ready(line),
        None => server.until_accepting(),
    }
    let ready_at = Instant::now();
    gate.wait_out("started");
    let lag = ready_at.elapsed();
    let (code, _, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("{target} ready after")), "{err}");
    assert!(lag < PROMPT, "app started {lag:?} after {scheme} was ready");
    // For the record (docs/benchmarks.md): `cargo test -- --nocapture`.
    eprintln!("{scheme}: the app started {lag:?} after the server said it was ready");
    Some(server)
}

/// The gate against the server directly: ready at once (exit 0).
fn ready_now(target: &str) {
    let out = output(gate().args(["--mesh", "none", "-t", "10s", "--wait-for", target]));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{target}: {}",
        stderr_text(&out)
    );
}

#[test]
fn postgres_is_not_ready_until_the_real_server_answers_and_any_user_will_do() {
    let test = "postgres";
    if server_binary(test, "postgres").is_none() {
        return;
    }
    let port = closed_port();
    let server = not_ready_until_the_server_is_up(
        "postgres",
        port,
        || postgres(test, port),
        Some(POSTGRES_READY),
    )
    .expect("started before");
    // A user that does not exist, a database that does not exist: still up
    // (PQping), with no password sent.
    ready_now(&format!("postgresql://nobody:wrong@127.0.0.1:{port}/nodb"));
    // The forms apps keep their URL in: JDBC (properties ignored), libpq's
    // parameters (accepted, changing nothing sent), libpq's multi-host
    // form (ready when one host is, the first one down), and env:.
    let dead = closed_port();
    for url in [
        format!("jdbc:postgresql://127.0.0.1:{port}/orders?user=app&password=S3cr3t&ssl=false"),
        format!(
            "postgres://app:S3cr3t@127.0.0.1:{dead},127.0.0.1:{port}/orders?sslmode=disable\
             &connect_timeout=5&application_name=orders&options=-c%20geqo%3Doff"
        ),
        // libpq's host in a parameter, the authority holding only a user.
        format!("postgresql://app@/orders?host=127.0.0.1&port={port}"),
    ] {
        ready_now(&url);
        let out = output(
            gate()
                .args([
                    "--mesh",
                    "none",
                    "-t",
                    "10s",
                    "--wait-for",
                    "env:DATABASE_URL",
                ])
                .env("DATABASE_URL", &url),
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    }
    drop(server);
    // No host up: not ready, each host's reason named.
    let out = output(gate().args([
        "--mesh",
        "none",
        "-t",
        "500ms",
        "--wait-for",
        &format!("postgres://127.0.0.1:{dead},127.0.0.1:{port}/orders"),
    ]));
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(err.contains("no host is ready"), "{err}");
}

#[test]
fn redis_is_not_ready_until_the_real_server_answers_and_a_password_it_wants_is_no_obstacle() {
    let test = "redis";
    if server_binary(test, "redis-server").is_none() {
        return;
    }
    let port = closed_port();
    not_ready_until_the_server_is_up("redis", port, || redis(test, port, &[]), Some(REDIS_READY));
    // With requirepass, PING is answered -NOAUTH: the server is up.
    let server = redis(test, closed_port(), &["--requirepass", "s3cr3t"]).expect("started before");
    server.until_ready(REDIS_READY);
    ready_now(&format!("redis://127.0.0.1:{}", server.port));
    // The URL the app has, password and database number included (the
    // password is not sent: -NOAUTH is the answer, and it means up).
    ready_now(&format!("redis://:s3cr3t@127.0.0.1:{}/0", server.port));
}

#[test]
fn mariadb_is_not_ready_until_the_real_server_greets() {
    let test = "mariadb";
    if server_binary(test, "mariadbd").is_none() {
        return;
    }
    let port = closed_port();
    let server = not_ready_until_the_server_is_up(
        "mysql",
        port,
        || mariadb(test, port),
        Some(MARIADB_READY),
    )
    .expect("started before");
    for url in [
        format!("jdbc:mariadb://127.0.0.1:{port}/orders?user=app&password=S3cr3t"),
        format!("jdbc:mysql://127.0.0.1:{port}/orders;useSSL=false"),
    ] {
        ready_now(&url);
    }
    drop(server);
}

#[test]
fn memcached_is_not_ready_until_the_real_server_answers_version() {
    let test = "memcached";
    if server_binary(test, "memcached").is_none() {
        return;
    }
    let port = closed_port();
    not_ready_until_the_server_is_up(
        "memcached",
        port,
        || memcached(test, port),
        Some(MEMCACHED_READY),
    );
}

#[test]
fn nats_is_not_ready_until_the_real_server_greets() {
    let test = "nats";
    if server_binary(test, "nats-server").is_none() {
        return;
    }
    let port = closed_port();
    not_ready_until_the_server_is_up("nats", port, || nats(test, port), Some(NATS_READY));
}

#[test]
fn zookeeper_is_not_ready_until_the_real_server_names_its_mode() {
    let test = "zookeeper";
    if server_binary(test, "zkServer.sh").is_none() {
        return;
    }
    let port = closed_port();
    not_ready_until_the_server_is_up("zk", port, || zookeeper(test, port), None);
}

#[test]
fn rabbitmq_is_not_ready_until_the_real_broker_starts_a_connection() {
    let test = "rabbitmq";
    if server_binary(test, "rabbitmq-server").is_none() {
        return;
    }
    let port = closed_port();
    not_ready_until_the_server_is_up("amqp", port, || rabbitmq(test, port), Some(RABBITMQ_READY));
}

/// The gate against a server up but not ready: exits 69 (not starting
/// the app) with the server's reason.
fn not_ready_with(target: &str, reason: &str) {
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "1s", "--wait-for", target]);
    app(&mut cmd, "echo started", &[]);
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{target}: {err}");
    assert!(out.stdout.is_empty(), "{target}: the app started");
    assert!(err.contains(reason), "{reason:?} not in:\n{err}");
}

#[test]
fn kafka_is_not_ready_until_the_broker_answers_api_versions_without_an_error() {
    let test = "kafka";
    let port = closed_port();
    not_ready_until_the_server_is_up(
        "kafka",
        port,
        || kafka_broker(test, port, 0),
        Some(SCRIPTED_READY),
    );
    // A broker that answers with an error code is not ready, and says which.
    let Some(refusing) = kafka_broker(test, closed_port(), 35) else {
        return;
    };
    refusing.until_ready(SCRIPTED_READY);
    not_ready_with(
        &format!("kafka://127.0.0.1:{}", refusing.port),
        "UNSUPPORTED_VERSION (error 35)",
    );
}

#[test]
fn etcd_is_not_ready_until_its_grpc_health_service_serves() {
    let test = "etcd";
    if server_binary(test, "etcd").is_none() {
        return;
    }
    let port = closed_port();
    not_ready_until_the_server_is_up("grpc", port, || etcd(test, port), Some(ETCD_READY));
}

#[test]
fn a_grpc_service_is_not_ready_until_its_health_service_says_serving() {
    let test = "grpc";
    let port = closed_port();
    // Up, but NOT_SERVING for the whole server and for app.Orders until
    // `serve`. (Down, through the proxy: the etcd test and wait_for.rs.)
    let Some(mut server) = grpc_server(test, port, "health") else {
        return;
    };
    server.until_ready(SCRIPTED_READY);
    let outbound =
        Outbound::start(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).expect("outbound");
    let whole = format!("grpc://127.0.0.1:{}", outbound.port());
    let named = format!("grpc://127.0.0.1:{}/app.Orders", outbound.port());
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "60s", "--wait-for-backoff", "100ms"])
        .args(["--wait-for", &whole, "--wait-for", &named]);
    app(&mut cmd, "echo started", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    gate.err.wait_for(
        &format!("{named}: the health service answers NOT_SERVING"),
        Duration::from_secs(5),
    );
    gate.err.wait_for(
        &format!("{whole}: the health service answers NOT_SERVING"),
        Duration::from_secs(5),
    );
    assert!(gate.out.text().is_empty(), "started while NOT_SERVING");
    server.say("serve");
    server.until_ready("serving");
    let ready_at = Instant::now();
    gate.wait_out("started");
    let lag = ready_at.elapsed();
    let (code, _, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&format!("{named} ready after")), "{err}");
    assert!(lag < PROMPT, "app started {lag:?} after SERVING");
    // A service the health service does not know: NOT_FOUND, not ready.
    not_ready_with(
        &format!("grpc://127.0.0.1:{port}/app.Unknown"),
        "grpc-status 5 NOT_FOUND",
    );
}

#[test]
fn a_grpc_server_without_the_health_service_is_not_ready_unless_the_url_opts_in() {
    let test = "grpc";
    let Some(bare) = grpc_server(test, closed_port(), "bare") else {
        return;
    };
    bare.until_ready(SCRIPTED_READY);
    // UNIMPLEMENTED proves no more than a proxy's own reply would.
    not_ready_with(
        &format!("grpc://127.0.0.1:{}", bare.port),
        "register the health service in the app, or add #unimplemented=ready",
    );
    let out = output(gate().args([
        "--mesh",
        "none",
        "-t",
        "10s",
        "--wait-for",
        &format!("grpc://127.0.0.1:{}#unimplemented=ready", bare.port),
    ]));
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(
        err.matches("has no health service (UNIMPLEMENTED)").count(),
        1,
        "{err}"
    );
    assert!(err.contains("WARN"), "{err}");
}

/// A connection held open on `port`, once the server has taken it: its
/// first line (NATS's INFO, Redis's answer to `PING`) has come.
fn hold_a_connection(port: u16, first: &[u8]) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let mut held = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    held.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    held.write_all(first).expect("write");
    let mut byte = [0u8; 1];
    while held.read(&mut byte).expect("read") == 1 && byte[0] != b'\n' {}
    held
}

#[test]
fn nats_at_its_connection_limit_is_not_ready_until_a_connection_is_free() {
    let test = "nats";
    // Without credentials the check asks PING; with them it only
    // listens for the refusal nats-server writes right after INFO.
    for auth in ["", "authorization { user: app, password: s3cr3t }"] {
        let port = closed_port();
        let Some(server) = nats_with(test, port, &format!("max_connections: 1\n{auth}")) else {
            return;
        };
        server.until_ready(NATS_READY);
        let held = hold_a_connection(port, b"");
        not_ready_with(
            &format!("nats://127.0.0.1:{port}"),
            "-ERR 'maximum connections exceeded'",
        );
        drop(held);
        ready_now(&format!("nats://127.0.0.1:{port}"));
    }
}

#[test]
fn redis_at_maxclients_is_not_ready_until_a_client_leaves() {
    let test = "redis";
    let port = closed_port();
    let Some(server) = redis(test, port, &["--maxclients", "1"]) else {
        return;
    };
    server.until_ready(REDIS_READY);
    let held = hold_a_connection(port, b"PING\r\n");
    not_ready_with(
        &format!("redis://127.0.0.1:{port}"),
        "ERR max number of clients reached",
    );
    drop(held);
    ready_now(&format!("redis://127.0.0.1:{port}"));
}

#[test]
fn mongodb_is_not_ready_until_a_member_is_primary_or_secondary() {
    let test = "mongodb";
    let port = closed_port();
    not_ready_until_the_server_is_up(
        "mongodb",
        port,
        || mongodb_server(test, port, "primary"),
        Some(SCRIPTED_READY),
    );
    let Some(recovering) = mongodb_server(test, closed_port(), "recovering") else {
        return;
    };
    recovering.until_ready(SCRIPTED_READY);
    not_ready_with(
        &format!("mongodb://127.0.0.1:{}", recovering.port),
        "a member of replica set rs0 that is neither primary nor secondary",
    );
    // A secondary serves reads; a server before `hello` answers isMaster;
    // a replica set of 50 members answers with several KiB.
    for state in ["secondary", "legacy", "large"] {
        let server = mongodb_server(test, closed_port(), state).expect("started before");
        server.until_ready(SCRIPTED_READY);
        ready_now(&format!(
            "mongodb://app:s3cr3t@127.0.0.1:{}/orders",
            server.port
        ));
        if state == "legacy" {
            assert!(
                server.log().contains("answering isMaster"),
                "{}",
                server.log()
            );
        }
    }
}

#[test]
fn cassandra_is_not_ready_until_the_node_answers_options_with_supported() {
    let test = "cassandra";
    let port = closed_port();
    not_ready_until_the_server_is_up(
        "cassandra",
        port,
        || cassandra_node(test, port, "up"),
        Some(SCRIPTED_READY),
    );
    let Some(bootstrapping) = cassandra_node(test, closed_port(), "bootstrapping") else {
        return;
    };
    bootstrapping.until_ready(SCRIPTED_READY);
    not_ready_with(
        &format!("cql://127.0.0.1:{}", bootstrapping.port),
        "Cannot read from a bootstrapping node (Is_bootstrapping 0x1002)",
    );
    assert!(
        !bootstrapping.log().contains("not the driver's OPTIONS"),
        "{}",
        bootstrapping.log()
    );
}
