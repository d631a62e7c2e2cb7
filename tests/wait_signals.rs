//! Signals that arrive while the gate waits for the proxy: `docker stop`,
//! Ctrl-C, a closed terminal or a supervisor must end the wait at once with
//! the same signal ($? = 128 + n), without starting the app (and, under
//! `--shutdown`, without a shutdown request); as PID 1 it exits 128 + n. A
//! signal the parent ignored or blocked does not end the wait, and any other
//! signal is kept for the app.

mod common;
use common::*;

use std::{
    process::{Command, ExitStatus},
    sync::atomic::Ordering,
    time::Duration,
};

/// How long the gate may take to exit after a termination signal.
const SIGNAL_EXIT_LIMIT: Duration = Duration::from_secs(1);

/// The app: prints so the test can tell whether it ran.
const APP: [&str; 3] = ["sh", "-c", "echo app ran"];

/// How the gate runs the app.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Exec,
    /// `--shutdown`: as its child.
    Supervise,
}

/// The gate in `mode` in front of `proxy`; the app's argv follows.
fn gate_in(mode: Mode, proxy: &FakeProxy) -> Command {
    let mut cmd = gate_for(proxy);
    if mode == Mode::Supervise {
        cmd.args(["-S", "--"]);
    }
    cmd
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGHUP => "SIGHUP",
        libc::SIGQUIT => "SIGQUIT",
        _ => panic!("unexpected signal {sig}"),
    }
}

/// Checks what a user sees after `sig` ended the wait: the gate died by the
/// same signal (so a shell stops its loop), or as PID 1, where the kernel
/// would ignore that, exited 128 + n.
fn assert_ended_by(sig: i32, pid1: bool, status: ExitStatus, stdout: &str, stderr: &str) {
    use std::os::unix::process::ExitStatusExt;
    if pid1 {
        // unshare exits with its child's exit code.
        assert_eq!(status.code(), Some(128 + sig), "{status:?}; log:\n{stderr}");
    } else {
        assert_eq!(status.signal(), Some(sig), "{status:?}; log:\n{stderr}");
        assert_eq!(shell_code(status), 128 + sig, "{status:?}; log:\n{stderr}");
        assert!(!status.core_dumped(), "the gate dumped core");
    }
    assert!(stdout.is_empty(), "the app ran: {stdout:?}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("received")).collect();
    assert_eq!(lines.len(), 1, "one line about the signal:\n{stderr}");
    assert!(lines[0].contains(signal_name(sig)), "{}", lines[0]);
    assert!(
        lines[0].contains("without starting the app"),
        "{}",
        lines[0]
    );
}

fn signal_while_waiting(sig: i32, mode: Mode) {
    let proxy = never_ready();
    let mut gate = Gate::spawn(gate_in(mode, &proxy).args(APP));
    gate.until_waiting(&proxy);
    gate.signal(sig);
    let (status, out, err) = gate.finish_within(SIGNAL_EXIT_LIMIT);
    assert_ended_by(sig, false, status, &out, &err);
    let paths: Vec<String> = proxy.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().all(|p| p == "/ready"),
        "only readiness checks, no shutdown request: {paths:?}"
    );
}

#[test]
fn sigterm_while_waiting_kills_the_gate_by_sigterm_without_running_the_app() {
    signal_while_waiting(libc::SIGTERM, Mode::Exec);
}

#[test]
fn sigint_while_waiting_kills_the_gate_by_sigint_without_running_the_app() {
    signal_while_waiting(libc::SIGINT, Mode::Exec);
}

#[test]
fn sighup_while_waiting_kills_the_gate_by_sighup_without_running_the_app() {
    signal_while_waiting(libc::SIGHUP, Mode::Exec);
}

#[test]
fn sigquit_while_waiting_kills_the_gate_by_sigquit_without_core_or_app() {
    signal_while_waiting(libc::SIGQUIT, Mode::Exec);
}

#[test]
fn termination_signal_while_waiting_in_shutdown_mode_ends_the_gate_alike_without_a_shutdown_request()
 {
    for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT] {
        signal_while_waiting(sig, Mode::Supervise);
    }
}

fn signal_while_waiting_as_pid1(test: &str, sig: i32) {
    if !pid_namespaces_available(test) {
        return;
    }
    let proxy = never_ready();
    let mut cmd = gate_as_pid1_for(&proxy);
    cmd.args(APP);
    let mut unshare = Gate::spawn(&mut cmd);
    unshare.until_waiting(&proxy);
    let gate = child_of(unshare.running.pid());
    assert_eq!(ns_pid(gate), Some(1), "the gate is not PID 1");
    // From the parent namespace, as a container runtime sends it.
    send_signal(gate, sig);
    let (status, out, err) = unshare.finish_within(SIGNAL_EXIT_LIMIT);
    assert_ended_by(sig, true, status, &out, &err);
}

#[test]
fn sigterm_while_waiting_as_pid1_exits_143() {
    signal_while_waiting_as_pid1("sigterm_while_waiting_as_pid1_exits_143", libc::SIGTERM);
}

#[test]
fn sigint_while_waiting_as_pid1_exits_130() {
    signal_while_waiting_as_pid1("sigint_while_waiting_as_pid1_exits_130", libc::SIGINT);
}

#[test]
fn sighup_ignored_by_the_parent_does_not_end_the_wait() {
    let (proxy, ready) = ready_on_cue();
    let mut cmd = gate_for(&proxy);
    cmd.args(["cat", "/proc/self/status"]);
    // As `nohup` does.
    ignoring_parent(&mut cmd, libc::SIGHUP);
    let mut gate = Gate::spawn(&mut cmd);
    gate.until_waiting(&proxy);
    gate.signal(libc::SIGHUP);
    // Checks after the signal show the wait went on: the loop looks at its
    // signals before every check and every pause.
    let seen = proxy.requests().len();
    proxy.wait_for_requests(seen + 3, Duration::from_secs(5));
    ready.store(true, Ordering::SeqCst);
    let (status, out, err) = gate.finish_within(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status:?}; log:\n{err}");
    assert!(!err.contains("received"), "{err}");
    // And the app inherits SIGHUP ignored, as it would without the gate.
    let ignored = ignored_mask(&signal_lines(out.as_bytes()).join("\n"))
        .unwrap_or_else(|| panic!("no SigIgn line in app output:\n{out}"));
    assert_ne!(ignored & bit(libc::SIGHUP), 0, "SIGHUP not ignored");
}

/// SIGTERM blocked by the parent is not the gate's to act on: the wait goes
/// on, and the app gets the signal as it would from a direct start, blocked
/// and pending (in exec mode the app has the gate's PID; under `--shutdown`
/// it is the gate's child).
fn blocked_sigterm_does_not_end_the_wait_and_stays_pending_for_the_app(mode: Mode) {
    let (proxy, ready) = ready_on_cue();
    let mut cmd = gate_in(mode, &proxy);
    // `sleep` leaves its signal mask alone (a shell would clear it).
    cmd.args(["sleep", "30"]);
    blocking_parent(&mut cmd, libc::SIGTERM);
    let mut gate = Gate::spawn(&mut cmd);
    gate.until_waiting(&proxy);
    gate.signal(libc::SIGTERM);
    let seen = proxy.requests().len();
    proxy.wait_for_requests(seen + 3, LIMIT);
    ready.store(true, Ordering::SeqCst);
    let app = poll(LIMIT, || {
        let pid = match mode {
            Mode::Exec => Some(gate.pid).filter(|&pid| comm(pid).as_deref() == Some("sleep"))?,
            Mode::Supervise => children_of(gate.pid).first()?.0,
        };
        let pending = status_mask(pid, "ShdPnd")? & bit(libc::SIGTERM) != 0;
        let blocked = status_mask(pid, "SigBlk")? & bit(libc::SIGTERM) != 0;
        (pending && blocked).then_some(pid)
    })
    .unwrap_or_else(|| {
        panic!(
            "{mode:?}: SIGTERM never pending and blocked in the app; stderr:\n{}",
            gate.err.text()
        )
    });
    send_signal(app, libc::SIGKILL);
    let (code, _, err) = gate.finish();
    assert_eq!(code, 128 + libc::SIGKILL, "{err}");
    assert!(!err.contains("received"), "{err}");
}

#[test]
fn sigterm_blocked_by_the_parent_does_not_end_the_wait_and_stays_pending_for_the_app() {
    blocked_sigterm_does_not_end_the_wait_and_stays_pending_for_the_app(Mode::Exec);
}

#[test]
fn sigterm_blocked_by_the_parent_stays_pending_for_the_supervised_app() {
    blocked_sigterm_does_not_end_the_wait_and_stays_pending_for_the_app(Mode::Supervise);
}

#[test]
fn signal_for_the_app_sent_while_waiting_is_kept_for_the_app() {
    let (proxy, ready) = ready_on_cue();
    let mut cmd = gate_for(&proxy);
    cmd.arg("-S");
    app(
        &mut cmd,
        r#"trap 'echo got USR1' USR1; echo started; sleep 0.3; echo done"#,
        &[],
    );
    let mut gate = Gate::spawn(&mut cmd);
    proxy.wait_for_requests(1, LIMIT);
    gate.signal(libc::SIGUSR1);
    // The gate must survive it (without the hold, SIGUSR1's default action
    // kills it): it goes on checking.
    let seen = proxy.requests_to("/ready").len();
    proxy.wait_for_requests(seen + 3, LIMIT);
    ready.store(true, Ordering::SeqCst);
    let (code, out, err) = gate.finish();
    // Forwarded as soon as the app exists: either its trap caught it, or it
    // arrived before the trap was set and its default action ended the app.
    assert!(
        (code == 0 && out.contains("got USR1")) || code == 128 + libc::SIGUSR1,
        "code {code}; stdout:\n{out}\nstderr:\n{err}"
    );
    assert_eq!(proxy.requests_to("/shutdown").len(), 1, "{err}");
}
