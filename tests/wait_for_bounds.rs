//! What no target can take from the gate: a `--wait-for` target on a hung
//! filesystem never freezes the wait (the deadline, a signal and every
//! other target go on), a name whose first address drops packets is ready
//! through the next one, and a dependency is never checked faster than its
//! own schedule allows, whatever the proxy's backoff says.
//!
//! The hung filesystem is a FUSE mount the test serves itself (`common::fuse`);
//! the addresses live in a network namespace the test makes, with the name
//! in a private `/etc/hosts`, never the machine's resolver. Both need root:
//! elsewhere these tests skip, visibly, unless the run requires them
//! (`LINKERD_AWAIT_REQUIRE_PID_NS=1`, as CI sets).

mod common;
use common::*;

use std::{
    io::Write,
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    process::Command,
    thread,
    time::{Duration, Instant},
};

#[test]
fn a_hung_filesystem_holds_neither_the_timeout_nor_the_other_targets() {
    let Some(mount) = HungMount::start("a_hung_filesystem_holds_neither_the_timeout") else {
        return;
    };
    let dir = temp_dir();
    let termination_log = dir.path().join("termination-log");
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "2s", "--termination-log"])
        .arg(&termination_log)
        .arg("--wait-for")
        .arg(format!("file://{}", path_arg(&mount.path("token"))))
        .arg("--wait-for")
        .arg(format!("unix://{}", path_arg(&mount.path("api.sock"))))
        .arg("--wait-for")
        .arg(format!("file://{}", path_arg(&dir.path().join("ready"))));
    let started = Instant::now();
    let mut gate = Gate::spawn(&mut cmd);
    let _release = ReleaseOnDrop(&mount);
    mount.wait_for_lookup(LIMIT);
    // The third target turns ready while the other two hang in the kernel.
    touch(dir.path(), "ready");
    gate.err.wait_for("ready ready after", LIMIT);
    let err = gate.err.wait_for("not ready after", LIMIT);
    let took = started.elapsed();
    // The verdict is in at the timeout; the process ends once the kernel
    // lets its stuck threads go (see `common::fuse`).
    assert!(took < Duration::from_millis(3500), "took {took:?}:\n{err}");
    // Written right after the log line.
    let message = poll(LIMIT, || {
        std::fs::read_to_string(&termination_log)
            .ok()
            .filter(|m| m.contains("not ready after"))
    })
    .expect("termination message");
    mount.release();
    let code = gate.code_within(LIMIT);
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 69, "{err}");
    for text in [&err, &message] {
        assert!(text.contains("2 dependencies not ready"), "{text}");
        assert!(text.contains("stat of "), "{text}");
        assert!(text.contains("connect of "), "{text}");
        assert!(text.contains("a hung filesystem or mount?"), "{text}");
    }
}

#[test]
fn sigterm_ends_a_wait_on_a_hung_filesystem_at_once_also_as_pid1() {
    let test = "sigterm_ends_a_wait_on_a_hung_filesystem_at_once";
    let pid1 = pid_namespaces_available(test);
    for as_pid1 in [false, true] {
        if as_pid1 && !pid1 {
            continue;
        }
        let Some(mount) = HungMount::start(test) else {
            return;
        };
        let target = format!("file://{}", path_arg(&mount.path("token")));
        let mut cmd = if as_pid1 { as_pid1_gate() } else { gate() };
        cmd.args(["--mesh", "none", "--wait-for", &target]);
        app(&mut cmd, "echo started", &[]);
        let mut gate = if as_pid1 {
            Gate::spawn_as_pid1(&mut cmd)
        } else {
            Gate::spawn(&mut cmd)
        };
        let _release = ReleaseOnDrop(&mount);
        gate.err.wait_for("waiting for file://", LIMIT);
        mount.wait_for_lookup(LIMIT);
        // The stat is stuck in the kernel; let an attempt or two time out.
        gate.err.wait_for("stat of ", LIMIT);
        let signalled = Instant::now();
        gate.signal(libc::SIGTERM);
        let err = gate.err.wait_for("received SIGTERM", LIMIT);
        assert!(
            signalled.elapsed() < Duration::from_secs(2),
            "pid1={as_pid1}: took {:?}:\n{err}",
            signalled.elapsed()
        );
        mount.release();
        let (status, out, err) = gate.finish_within(LIMIT);
        assert_eq!(shell_code(status), 143, "pid1={as_pid1}: {err}");
        assert!(out.is_empty(), "the app started: {out}");
    }
}

/// The gate as PID 1 of a new PID namespace (`common::as_pid1`).
fn as_pid1_gate() -> Command {
    as_pid1(gate_bin())
}

/// A name (in the test's own `/etc/hosts`) with two addresses: the first
/// drops every SYN, the second serves.
const NAME: &str = "db.linkerd-await.test";
const DROPS: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
const SERVES: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 3);

#[test]
fn a_name_whose_first_address_drops_packets_is_ready_through_the_next() {
    let test = "a_name_whose_first_address_drops_packets_is_ready_through_the_next";
    if !namespaces_available(test) {
        return;
    }
    in_network_namespace(|| {
        let hosts = temp_dir();
        let hosts_file = hosts.path().join("hosts");
        std::fs::write(&hosts_file, format!("{DROPS} {NAME}\n{SERVES} {NAME}\n"))
            .expect("write hosts");
        let auth_request = b"R\0\0\0\x0c\0\0\0\x05salt".to_vec();
        let cases = [("tcp", 7000), ("postgres", 5432), ("http", 80)];
        for (scheme, port) in cases {
            let _black_hole = DroppingListener::bind(SocketAddr::from((DROPS, port)));
            let listener = TcpListener::bind((SERVES, port)).expect("bind the serving address");
            let (_pg, _http);
            match scheme {
                "http" => {
                    _http =
                        FakeProxy::serve(listener, std::sync::Arc::new(|_, _| Reply::Status(200)))
                }
                "postgres" => _pg = FakeServer::on(listener, Says::Answer(auth_request.clone())),
                _ => _pg = FakeServer::on(listener, Says::Nothing),
            }
            let target = format!("{scheme}://{NAME}:{port}/");
            let mut cmd = with_hosts(&hosts_file);
            // Two attempts of 1 s each fit in the timeout: the first
            // address must not eat every attempt.
            cmd.args(["--mesh", "none", "-t", "4s", "--wait-for", &target]);
            app(&mut cmd, "echo started", &[]);
            let mut gate = Gate::spawn(&mut cmd);
            let (code, out, err) = gate.finish();
            assert_eq!(code, 0, "{scheme}: {err}");
            assert_eq!(out, "started\n", "{scheme}");
            assert!(err.contains(&format!("{scheme}://{NAME}")), "{err}");
            assert!(err.contains(" ready after "), "{err}");
        }
    });
}

/// The gate with `/etc/hosts` replaced by `hosts` in a private mount
/// namespace (`unshare` and `sh` exec: the process is the gate itself).
fn with_hosts(hosts: &std::path::Path) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "sh", "-c"])
        .arg(r#"mount --bind "$0" /etc/hosts && exec "$@""#)
        .arg(hosts)
        .arg(gate_bin());
    clean_slate(&mut cmd);
    cmd
}

/// Root, and network and mount namespaces can be made; else a visible
/// skip (a failure when the run requires these tests).
fn namespaces_available(test: &str) -> bool {
    unshare_available(
        test,
        &["--mount", "--net"],
        "needs root for a network namespace and a private /etc/hosts",
    )
}

/// Runs `body` on a thread of its own in a new network namespace with its
/// loopback up: the sockets it opens, the threads it starts and the
/// processes it spawns live there, and nothing reaches another network.
fn in_network_namespace(body: impl FnOnce() + Send) {
    thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: unshare(2) with CLONE_NEWNET moves only this thread
                // (and what it starts from now on) to a new namespace.
                let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "unshare: {}", std::io::Error::last_os_error());
                loopback_up();
                body();
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    });
}

/// `ip link set lo up`, as its ioctl: a new namespace's loopback is down.
fn loopback_up() {
    // SAFETY: a socket for the ioctl only, closed below; `req` is a zeroed
    // ifreq whose name is "lo", valid for both calls.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let mut req: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in req.ifr_name.iter_mut().zip(b"lo") {
            *slot = *byte as libc::c_char;
        }
        assert_eq!(
            libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req),
            0,
            "SIOCGIFFLAGS"
        );
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        assert_eq!(libc::ioctl(fd, libc::SIOCSIFFLAGS, &req), 0, "SIOCSIFFLAGS");
        libc::close(fd);
    }
}

/// An address and port where SYNs are dropped: a listener with a backlog
/// of 0 whose one queued connection is never accepted, so the kernel
/// drops every further SYN (the accept queue is full) and a client's
/// connect hangs, as one to a dead endpoint does. Checked before use.
struct DroppingListener {
    _listener: TcpListener,
    _queued: TcpStream,
}

impl DroppingListener {
    fn bind(addr: SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind(addr).expect("bind");
        // Listen again with a backlog of 0 (std's is 128).
        // SAFETY: listen(2) on a socket this function owns.
        let rc = unsafe { libc::listen(std::os::fd::AsRawFd::as_raw_fd(&listener), 0) };
        assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
        let mut queued = TcpStream::connect(addr).expect("the first connection is queued");
        let _ = queued.write_all(b"x");
        let probe = TcpStream::connect_timeout(&addr, Duration::from_millis(300));
        assert!(probe.is_err(), "{addr} still accepts connections");
        DroppingListener {
            _listener: listener,
            _queued: queued,
        }
    }
}

#[test]
fn a_dependency_keeps_its_own_schedule_whatever_the_proxys_backoff_says() {
    let server = FakeServer::start(Says::Answer(b"-LOADING still\r\n".to_vec()));
    let target = format!("redis://127.0.0.1:{}", server.port());
    // `--backoff-factor 1`: a constant 1 ms for the loopback proxy.
    let mut cmd = gate();
    cmd.args([
        "--mesh",
        "none",
        "-t",
        "1s",
        "--backoff-factor",
        "1",
        "--backoff-initial",
        "1ms",
        "--backoff",
        "1ms",
        "--wait-for",
        &target,
    ]);
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(69), "{}", stderr_text(&out));
    // Each pause at least half its bound, the first bound 200 ms, each next
    // at least 1.2 times the one before (config/backoff.rs): at the most,
    // checks at 0, ≥100, ≥220, ≥364, ≥537, ≥744 and ≥993 ms in the first
    // second (3 or 4 on almost every run).
    assert!(
        server.connections() <= 7,
        "{} connections in 1 s",
        server.connections()
    );
    assert!(server.connections() >= 2, "not retried");
    // A cap below the floor is refused, typed or set.
    for given in [["--wait-for-backoff", "0"], ["--wait-for-backoff", "50ms"]] {
        let out = output(gate().args(given).args(["--wait-for", &target]));
        assert_usage_error(&out, &["--wait-for-backoff", "below 100ms"]);
    }
    let out = output(
        gate()
            .env("LINKERD_AWAIT_WAIT_FOR_BACKOFF", "1ms")
            .args(["--wait-for", &target]),
    );
    assert_usage_error(&out, &["LINKERD_AWAIT_WAIT_FOR_BACKOFF", "below 100ms"]);
}
