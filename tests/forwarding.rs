//! `--shutdown` mode passes signals on to the app like an init would: every
//! forwardable signal reaches it exactly once, as the gate's child or as PID
//! 1; a termination signal around the moment the app starts is never lost;
//! and a SIGPIPE the gate raises itself stays the gate's.
//!
//! Signals that arrive while the gate still waits for the proxy are in
//! `wait_signals.rs`.

mod common;
use common::*;

use std::{process::Stdio, thread, time::Duration};

/// The standard signals the gate passes on to its child: every one but
/// SIGCHLD, the synchronous faults, SIGTTIN/SIGTTOU and the uncatchable
/// SIGKILL/SIGSTOP, as tini does.
fn standard_forwarded() -> Vec<i32> {
    let denied = [
        libc::SIGCHLD,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGABRT,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGKILL,
        libc::SIGSTOP,
    ];
    (1..=31).filter(|n| !denied.contains(n)).collect()
}

/// The real-time signals, all forwarded too (not the numbers the C library
/// keeps for itself, 32 to SIGRTMIN-1).
fn real_time() -> Vec<i32> {
    (gate_sigrtmin()..=libc::SIGRTMAX()).collect()
}

/// Traps every signal of `signals` (by number), reports each delivery on its
/// own line, and exits once it has seen as many deliveries as there are signals.
/// Every app loop here gives up after ~30 s: the app runs in its own process
/// group, so a failed test that kills the gate must not leave it looping.
fn trap_every(signals: &[i32]) -> String {
    let names: Vec<String> = signals.iter().map(i32::to_string).collect();
    format!(
        r#"n=0
for s in {names}; do trap "n=\$((n+1)); echo got $s" $s; done
echo started
i=0; while [ $n -lt {count} ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done
sleep 0.1
echo "total $n""#,
        names = names.join(" "),
        count = names.len()
    )
}

/// The gate runs an app that traps `signals`; each is sent to the gate, one
/// at a time, and must reach the app exactly once.
fn each_reaches_the_app_exactly_once(signals: &[i32], pid1: bool) {
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = if pid1 {
        gate_as_pid1_for(&proxy)
    } else {
        gate_for(&proxy)
    };
    cmd.arg("-S");
    app(&mut cmd, &trap_every(signals), &[]);
    let mut gate = if pid1 {
        Gate::spawn_as_pid1(&mut cmd)
    } else {
        Gate::spawn(&mut cmd)
    };
    gate.wait_out("started\n");
    for &sig in signals {
        gate.signal(sig);
        // One at a time: the next one is sent only once this one arrived, so a
        // lost signal is named, and two equal signals can never merge. Without
        // forwarding, most of them would kill the gate with their default action.
        gate.out.wait_for(&format!("got {sig}\n"), LIMIT);
    }
    let (code, out, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    for sig in signals {
        let got = out.lines().filter(|l| *l == format!("got {sig}")).count();
        assert_eq!(
            got, 1,
            "signal {sig} reached the app {got} times; stdout:\n{out}"
        );
    }
    assert!(out.contains(&format!("total {}\n", signals.len())), "{out}");
}

#[test]
fn each_forwarded_standard_signal_reaches_the_app_exactly_once() {
    each_reaches_the_app_exactly_once(&standard_forwarded(), false);
}

#[test]
fn each_forwarded_standard_signal_reaches_the_app_exactly_once_as_pid1() {
    if pid_namespaces_available(
        "each_forwarded_standard_signal_reaches_the_app_exactly_once_as_pid1",
    ) {
        each_reaches_the_app_exactly_once(&standard_forwarded(), true);
    }
}

#[test]
fn each_real_time_signal_reaches_the_app_exactly_once() {
    each_reaches_the_app_exactly_once(&real_time(), false);
}

#[test]
fn each_real_time_signal_reaches_the_app_exactly_once_as_pid1() {
    if pid_namespaces_available("each_real_time_signal_reaches_the_app_exactly_once_as_pid1") {
        each_reaches_the_app_exactly_once(&real_time(), true);
    }
}

/// Sends one termination signal at varying instants around the end of the
/// wait (last failed check, ready answer, spawn, the app's first
/// instructions). Whatever the instant, the signal takes effect: the gate
/// exits 128+n while waiting, or the app dies of it (128+n), or the app's
/// trap sees it (42). A lost signal leaves the app running: a hang.
fn signal_around_app_start_is_never_lost(pid1: bool, rounds: u32) {
    const TRAP_AND_EXIT_42: &str = "trap 'echo got it; exit 42' TERM INT HUP; echo started; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done";
    let signals = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];
    let mut seen = Vec::new();
    for round in 0..rounds {
        let sig = signals[round as usize % signals.len()];
        // Not ready twice (5 ms, then 10 ms of backoff), ready on the third check.
        let proxy = FakeProxy::ready_after(3);
        let mut cmd = if pid1 {
            gate_as_pid1_for(&proxy)
        } else {
            gate_for(&proxy)
        };
        cmd.args(["-S", "--shutdown-timeout", "1s"]);
        app(&mut cmd, TRAP_AND_EXIT_42, &[]);
        let mut gate = if pid1 {
            Gate::spawn_as_pid1(&mut cmd)
        } else {
            Gate::spawn(&mut cmd)
        };
        // Even rounds: 0..~12 ms after the last "not ready" (the ready answer
        // comes ~10 ms later); odd rounds: 0..~6 ms after the ready request.
        let (anchor, delay) = if round % 2 == 0 {
            (2, Duration::from_micros(1000 * u64::from(round / 2)))
        } else {
            (3, Duration::from_micros(500 * u64::from(round / 2)))
        };
        proxy.wait_for_requests(anchor, LIMIT);
        thread::sleep(delay);
        gate.signal(sig);
        let code = gate.code_within(Duration::from_secs(5));
        let (out, err) = (gate.out.finish(LIMIT), gate.err.finish(LIMIT));
        assert!(
            code == 128 + sig || code == 42,
            "round {round}: signal {sig} after request {anchor} + {delay:?}: exit {code}; stderr:\n{err}"
        );
        if code == 42 {
            assert!(out.contains("got it"), "{out}");
        }
        seen.push(code);
    }
    eprintln!("exit codes by round: {seen:?}");
}

#[test]
fn termination_signal_around_app_start_is_never_lost() {
    signal_around_app_start_is_never_lost(false, 24);
}

#[test]
fn termination_signal_around_app_start_is_never_lost_as_pid1() {
    if !pid_namespaces_available("termination_signal_around_app_start_is_never_lost_as_pid1") {
        return;
    }
    signal_around_app_start_is_never_lost(true, 12);
}

#[test]
fn sigpipe_from_the_gates_own_log_writes_is_not_forwarded() {
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    // -v: forwarding SIGUSR1 writes a debug line to the closed stderr, which
    // raises SIGPIPE in the gate; that one is the gate's, not the app's.
    cmd.args(["-v", "-S"]);
    app(
        &mut cmd,
        "trap 'echo got PIPE' PIPE; trap 'echo got USR1; done=1' USR1; done=0; echo started
         i=0; while [ $done = 0 ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done; sleep 0.2; echo end",
        &[],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut running = Running::spawn(&mut cmd);
    // Close the read end of the gate's stderr: its next log line fails (EPIPE).
    drop(running.child.stderr.take());
    let out = LineReader::start(running.child.stdout.take().expect("stdout"));
    out.wait_for("started", LIMIT);
    running.signal(libc::SIGUSR1);
    let status = running.wait_within(LIMIT);
    let text = out.finish(LIMIT);
    assert_eq!(text, "started\ngot USR1\nend\n", "{status:?}");
}
