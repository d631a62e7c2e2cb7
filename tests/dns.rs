//! Every bound the gate promises holds whatever DNS does. A proxy URL with
//! a host name is looked up by the system resolver, which a deadline cannot
//! interrupt; against a DNS server that never answers, `--timeout`,
//! `--shutdown-timeout` and "a termination signal ends it at once" still
//! hold, and the message says the name could not be resolved in time.
//!
//! Each test runs the gate in a private mount namespace whose
//! `/etc/resolv.conf` names a loopback server the test runs (and that reads
//! queries without ever answering), never the machine's resolver. That
//! needs root (`unshare --mount`, port 53): elsewhere the tests skip,
//! visibly, unless the run requires them (`LINKERD_AWAIT_REQUIRE_PID_NS=1`,
//! as CI sets).

mod common;
use common::*;

use std::{
    io::Write,
    net::{Ipv4Addr, UdpSocket},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

/// A DNS server on `127.0.0.<n>:53` that takes every query and answers
/// none, and a resolv.conf that names it.
struct SilentDns {
    queries: Arc<AtomicUsize>,
    resolv_conf: tempfile::TempDir,
}

impl SilentDns {
    fn start(n: u8) -> Self {
        let socket = UdpSocket::bind((Ipv4Addr::new(127, 0, 0, n), 53)).expect("bind port 53");
        let queries = Arc::new(AtomicUsize::new(0));
        let seen = queries.clone();
        // Reads (so the test can wait for the first query) and never
        // answers. The thread ends with the test process.
        thread::spawn(move || {
            let mut buf = [0u8; 512];
            while socket.recv_from(&mut buf).is_ok() {
                seen.fetch_add(1, Ordering::SeqCst);
            }
        });
        let resolv_conf = temp_dir();
        let mut file =
            std::fs::File::create(resolv_conf.path().join("resolv.conf")).expect("resolv.conf");
        writeln!(file, "nameserver 127.0.0.{n}").expect("write resolv.conf");
        SilentDns {
            queries,
            resolv_conf,
        }
    }

    /// The gate with `args`, in a private mount namespace where this server
    /// is the only name server. `unshare` and `sh` exec, so the process
    /// spawned is the gate itself (same PID).
    fn gate(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "sh", "-c"])
            .arg(r#"mount --bind "$0" /etc/resolv.conf && exec "$@""#)
            .arg(self.resolv_conf.path().join("resolv.conf"))
            .arg(gate_bin())
            .args(args);
        clean_slate(&mut cmd);
        cmd
    }

    /// [`SilentDns::gate`], with `/etc/hosts` replaced by `hosts` too.
    fn gate_with_hosts(&self, hosts: &std::path::Path, args: &[&str]) -> Command {
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "sh", "-c"])
            .arg(r#"mount --bind "$0" /etc/resolv.conf && mount --bind "$1" /etc/hosts && shift && exec "$@""#)
            .arg(self.resolv_conf.path().join("resolv.conf"))
            .arg(hosts)
            .arg(gate_bin())
            .args(args);
        clean_slate(&mut cmd);
        cmd
    }

    fn wait_for_a_query(&self) {
        poll(LIMIT, || {
            (self.queries.load(Ordering::SeqCst) > 0).then_some(())
        })
        .expect("the gate asked the DNS server");
    }
}

/// Runs the gate to its end: `$?`, how long it took, its stderr.
fn run(cmd: &mut Command) -> (i32, Duration, String) {
    let started = Instant::now();
    let mut gate = Gate::spawn(cmd);
    let code = gate.code_within(LIMIT);
    let took = started.elapsed();
    (code, took, gate.err.finish(LIMIT))
}

/// A name only the silent server could answer for.
const PROXY_HOST: &str = "proxy.linkerd-await.test";

#[test]
fn timeout_holds_when_dns_never_answers_and_says_the_name_was_not_resolved() {
    if !private_resolver_available("timeout_holds_when_dns_never_answers") {
        return;
    }
    let dns = SilentDns::start(77);
    let dir = temp_dir();
    let termination_log = dir.path().join("termination-log");
    let url = format!("http://{PROXY_HOST}:4191/ready");
    let mut cmd = dns.gate(&[
        "-t",
        "1s",
        "-u",
        &url,
        "--termination-log",
        path_arg(&termination_log),
    ]);
    let (code, took, err) = run(&mut cmd);
    assert_eq!(code, 69, "{err}");
    // The resolver alone would take 10 s (two tries of 5 s).
    assert!(
        took < Duration::from_millis(2500),
        "exited after {took:?}: {err}"
    );
    let wanted = format!("the name {PROXY_HOST} could not be resolved in time");
    assert!(err.contains(&wanted), "{err}");
    let message = std::fs::read_to_string(&termination_log).expect("termination message");
    assert!(message.contains(&wanted), "{message}");
}

/// `--shutdown-now` to the proxy's name, within `timeout`.
fn shutdown_now(dns: &SilentDns, timeout: &str) -> Command {
    let url = format!("http://{PROXY_HOST}:4191/shutdown");
    dns.gate(&[
        "--shutdown-now",
        "--shutdown-timeout",
        timeout,
        "--shutdown-uri",
        &url,
    ])
}

#[test]
fn shutdown_timeout_holds_when_dns_never_answers_and_says_nothing_was_sent() {
    if !private_resolver_available("shutdown_timeout_holds_when_dns_never_answers") {
        return;
    }
    let dns = SilentDns::start(78);
    let (code, took, err) = run(&mut shutdown_now(&dns, "1s"));
    assert_eq!(code, 69, "{err}");
    assert!(
        took < Duration::from_millis(2500),
        "exited after {took:?}: {err}"
    );
    assert!(err.contains("no connection could be made"), "{err}");
    let wanted = format!("the name {PROXY_HOST} could not be resolved in time");
    assert!(err.contains(&wanted), "{err}");
    assert!(!err.contains("may have reached the proxy"), "{err}");
}

#[test]
fn sigterm_during_shutdown_now_ends_it_at_once_when_dns_never_answers() {
    if !private_resolver_available("sigterm_during_shutdown_now_when_dns_never_answers") {
        return;
    }
    let dns = SilentDns::start(79);
    let mut gate = Gate::spawn(&mut shutdown_now(&dns, "30s"));
    dns.wait_for_a_query();
    gate.signal(libc::SIGTERM);
    let signalled = Instant::now();
    let code = gate.code_within(LIMIT);
    let took = signalled.elapsed();
    assert_eq!(code, 143, "{}", gate.err.text());
    assert!(
        took < Duration::from_millis(1500),
        "exited {took:?} after SIGTERM"
    );
}

#[test]
fn wait_for_targets_whose_names_dns_never_answers_are_not_ready_and_the_timeout_holds() {
    if !private_resolver_available("wait_for_targets_whose_names_dns_never_answers") {
        return;
    }
    let dns = SilentDns::start(80);
    let db = "db.linkerd-await.test";
    let cache = "cache.linkerd-await.test";
    let (postgres, redis) = (format!("postgres://{db}"), format!("redis://{cache}:6380"));
    let mut cmd = dns.gate(&[
        "--mesh",
        "none",
        "-t",
        "1s",
        "--wait-for",
        &postgres,
        "--wait-for",
        &redis,
    ]);
    let (code, took, err) = run(&mut cmd);
    dns.wait_for_a_query();
    assert_eq!(code, 69, "{err}");
    assert!(
        took < Duration::from_millis(2500),
        "exited after {took:?}: {err}"
    );
    assert!(err.contains("2 dependencies not ready"), "{err}");
    for name in [db, cache] {
        let wanted = format!("the name {name} could not be resolved in time");
        assert!(err.contains(&wanted), "{wanted:?} not in:\n{err}");
    }
}

/// `dns://name?min=N` counts the name's addresses as the gate resolves
/// them: from a private `/etc/hosts` here (the silent server answers
/// nothing else), which the test edits while the gate waits, as a
/// headless Service gains its last peer.
#[test]
fn a_dns_target_is_ready_once_the_name_has_its_minimum_of_addresses() {
    if !private_resolver_available("a_dns_target_is_ready_once_the_name_has_its_minimum") {
        return;
    }
    let dns = SilentDns::start(76);
    let dir = temp_dir();
    let hosts = dir.path().join("hosts");
    let peer = |n: u8| format!("127.0.0.{n} peers.linkerd-await.test\n");
    std::fs::write(&hosts, format!("{}{}", peer(2), peer(3))).expect("write hosts");
    let args = ["--mesh", "none", "-t", "10s", "--wait-for-backoff", "100ms"];
    // Two addresses: enough for min=2 ...
    let mut cmd = dns.gate_with_hosts(&hosts, &args);
    cmd.args(["--wait-for", "dns://peers.linkerd-await.test?min=2"]);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
    // ... not for min=3, until the third peer appears.
    let mut cmd = dns.gate_with_hosts(&hosts, &args);
    cmd.args(["--wait-for", "dns://peers.linkerd-await.test?min=3"]);
    app(&mut cmd, "echo started", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    gate.err.wait_for("has 2 addresses, fewer than 3", LIMIT);
    assert!(gate.out.text().is_empty(), "started with two peers");
    // Appended in place: the bind mount keeps the same file.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&hosts)
        .expect("hosts");
    file.write_all(peer(4).as_bytes()).expect("append a peer");
    let (code, out, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "started\n");
    assert!(
        err.contains("dns://peers.linkerd-await.test?min=3 ready after"),
        "{err}"
    );
}

/// A dual-stack peer (a pod of a headless Service with an IPv4 and an IPv6
/// address) is one peer: two of them are not three.
#[test]
fn a_dual_stack_peer_counts_once_toward_min() {
    if !private_resolver_available("a_dual_stack_peer_counts_once_toward_min") {
        return;
    }
    let dns = SilentDns::start(81);
    let dir = temp_dir();
    let hosts = dir.path().join("hosts");
    let name = "dual.linkerd-await.test";
    std::fs::write(
        &hosts,
        format!("127.0.0.2 {name}\nfd00::2 {name}\n127.0.0.3 {name}\nfd00::3 {name}\n"),
    )
    .expect("write hosts");
    let mut cmd = dns.gate_with_hosts(&hosts, &["--mesh", "none", "-t", "1s"]);
    cmd.args(["--wait-for", &format!("dns://{name}?min=3")]);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 69, "{err}");
    assert!(
        err.contains("has 2 IPv4 and 2 IPv6 addresses: 2 peers"),
        "{err}"
    );
    let mut cmd = dns.gate_with_hosts(&hosts, &["--mesh", "none", "-t", "5s"]);
    cmd.args(["--wait-for", &format!("dns://{name}?min=2")]);
    let (code, _, err) = run(&mut cmd);
    assert_eq!(code, 0, "{err}");
}
