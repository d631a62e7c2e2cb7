//! The gate waiting for `--wait-for` targets without a proxy (`--mesh
//! none`), the answers of scripted servers that mean "ready", and running
//! several such gates at once (each may wait out its timeout: at once, a
//! test takes one timeout, not one per case).

use std::{
    net::{Ipv4Addr, SocketAddr},
    process::Command,
};

use super::{FakeServer, Says, app, gate, mysql_packet, output, stderr_text};

/// Every such gate gives up after this, so a target wrongly taken as
/// not ready ends in 69, not in a hang.
pub const SHORT: &str = "1500ms";

/// The gate with no proxy to wait for (`--mesh none`) and these targets.
pub fn waiting_for(targets: &[&str]) -> Command {
    let mut cmd = unmeshed(SHORT);
    for target in targets {
        cmd.args(["--wait-for", target]);
    }
    cmd
}

pub fn local(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// What a PostgreSQL server that takes connections answers first: a
/// request for an MD5 password.
pub fn pg_auth_request() -> Vec<u8> {
    b"R\0\0\0\x0c\0\0\0\x05salt".to_vec()
}

pub fn mysql_greeting() -> Vec<u8> {
    mysql_packet(b"\x0a5.5.5-10.11.6-MariaDB\0\x01\0\0\0abcdefgh\0")
}

/// A scheme's ready answer, as a scripted server.
pub fn ready_server(scheme: &str) -> FakeServer {
    FakeServer::start(match scheme {
        "postgres" => Says::Answer(pg_auth_request()),
        "redis" => Says::Answer(b"+PONG\r\n".to_vec()),
        "mysql" => Says::Greeting(mysql_greeting()),
        "tcp" => Says::Nothing,
        other => panic!("no ready server for {other}"),
    })
}

/// For each case, at once: the gate waits for `scheme` on a server that
/// always `says` the same: never ready (69, the app not started), and
/// `needle` in the reason.
pub fn not_ready_saying(cases: impl IntoIterator<Item = (&'static str, Says, &'static str)>) {
    at_once(cases, |(scheme, says, needle)| {
        let server = FakeServer::start(says.clone());
        let mut cmd = waiting_for(&[&format!("{scheme}://127.0.0.1:{}", server.port())]);
        cmd.args(["--attempt-timeout", "200ms"]);
        app(&mut cmd, "echo started", &[]);
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(69), "{says:?}: {err}");
        assert!(out.stdout.is_empty(), "{says:?}: the app started");
        assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    });
}

/// The gate with no proxy to wait for and this `--timeout`: what a test
/// adds its targets and options to.
pub fn unmeshed(timeout: &str) -> Command {
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", timeout]);
    cmd
}

/// `run` for each of `cases`, each on a thread of its own, all at once;
/// the results in the order of `cases`. A panic in one fails the test.
pub fn at_once<T: Send, R: Send>(
    cases: impl IntoIterator<Item = T>,
    run: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let run = &run;
    std::thread::scope(|scope| {
        let runs: Vec<_> = cases
            .into_iter()
            .map(|case| scope.spawn(move || run(case)))
            .collect();
        runs.into_iter()
            .map(|r| r.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
