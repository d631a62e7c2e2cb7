//! Signals that arrive while the gate waits for the proxy: `docker stop`,
//! Ctrl-C, a closed terminal or a supervisor must end the wait at once with
//! the same signal ($? = 128 + n), without starting the app; as PID 1 it exits 128 + n.

mod common;
use common::*;

use std::{
    os::unix::process::CommandExt,
    process::{Command, ExitStatus, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

/// How long the gate may take to exit after a termination signal.
const SIGNAL_EXIT_LIMIT: Duration = Duration::from_secs(1);

/// A running gate (or `unshare` around it) with its output captured.
struct Session {
    process: Running,
    stdout: LineReader,
    stderr: LineReader,
}

impl Session {
    fn start(cmd: &mut Command) -> Self {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut process = Running::spawn(cmd);
        let stdout = LineReader::start(process.child.stdout.take().expect("stdout"));
        let stderr = LineReader::start(process.child.stderr.take().expect("stderr"));
        Session {
            process,
            stdout,
            stderr,
        }
    }

    /// Returns once the gate is in its wait loop: it has logged that it waits
    /// and the proxy has seen a check.
    fn until_waiting(&self, proxy: &FakeProxy) {
        self.stderr
            .wait_for("waiting for the proxy", Duration::from_secs(5));
        proxy.wait_for_requests(1, Duration::from_secs(5));
    }

    /// Exit status, stdout and stderr once the process has exited.
    fn finish(&mut self, limit: Duration) -> (ExitStatus, String, String) {
        let status = self.process.wait_within(limit);
        let out = self.stdout.finish(Duration::from_secs(2));
        let err = self.stderr.finish(Duration::from_secs(2));
        (status, out, err)
    }
}

/// The app: prints so the test can tell whether it ran.
const APP: [&str; 3] = ["sh", "-c", "echo app ran"];

fn never_ready() -> FakeProxy {
    FakeProxy::start(|_, _| Reply::Status(503))
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

fn signal_while_waiting(sig: i32) {
    let proxy = never_ready();
    let mut session = Session::start(gate_for(&proxy).args(APP));
    session.until_waiting(&proxy);
    session.process.signal(sig);
    let (status, out, err) = session.finish(SIGNAL_EXIT_LIMIT);
    assert_ended_by(sig, false, status, &out, &err);
}

#[test]
fn sigterm_while_waiting_kills_the_gate_by_sigterm_without_running_the_app() {
    signal_while_waiting(libc::SIGTERM);
}

#[test]
fn sigint_while_waiting_kills_the_gate_by_sigint_without_running_the_app() {
    signal_while_waiting(libc::SIGINT);
}

#[test]
fn sighup_while_waiting_kills_the_gate_by_sighup_without_running_the_app() {
    signal_while_waiting(libc::SIGHUP);
}

#[test]
fn sigquit_while_waiting_kills_the_gate_by_sigquit_without_core_or_app() {
    signal_while_waiting(libc::SIGQUIT);
}

/// False (after saying why) when PID namespaces are unavailable and the run
/// does not require them.
fn pid_namespaces_available() -> bool {
    if can_unshare_pid() {
        return true;
    }
    assert!(
        std::env::var_os("LINKERD_AWAIT_REQUIRE_PID_NS").is_none_or(|v| v != "1"),
        "LINKERD_AWAIT_REQUIRE_PID_NS=1 but `unshare --pid --fork` does not work here"
    );
    eprintln!("skipped: cannot create a PID namespace (needs root and unshare)");
    false
}

/// The host PID of the only child of `parent`.
fn child_of(parent: i32) -> i32 {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name in parentheses may contain spaces: field 4 (ppid)
        // is the second after the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<i32>().ok());
        if ppid == Some(parent) {
            children.push(pid);
        }
    }
    assert_eq!(children.len(), 1, "children of {parent}: {children:?}");
    children[0]
}

/// The PID of `pid` inside its innermost PID namespace.
fn pid_in_own_namespace(pid: i32) -> Option<i32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

fn signal_while_waiting_as_pid1(sig: i32) {
    if !pid_namespaces_available() {
        return;
    }
    let proxy = never_ready();
    let mut cmd = as_pid1(GATE);
    cmd.args(["-p", &proxy.port().to_string()]).args(APP);
    let mut session = Session::start(&mut cmd);
    session.until_waiting(&proxy);
    let gate = child_of(session.process.pid());
    assert_eq!(pid_in_own_namespace(gate), Some(1), "the gate is not PID 1");
    // From the parent namespace, as a container runtime sends it.
    // SAFETY: plain kill(2) on a process this test started.
    let rc = unsafe { libc::kill(gate, sig) };
    assert_eq!(rc, 0, "kill({gate}, {sig})");
    let (status, out, err) = session.finish(SIGNAL_EXIT_LIMIT);
    assert_ended_by(sig, true, status, &out, &err);
}

#[test]
fn sigterm_while_waiting_as_pid1_exits_143() {
    signal_while_waiting_as_pid1(libc::SIGTERM);
}

#[test]
fn sigint_while_waiting_as_pid1_exits_130() {
    signal_while_waiting_as_pid1(libc::SIGINT);
}

#[test]
fn sighup_ignored_by_the_parent_does_not_end_the_wait() {
    let ready = Arc::new(AtomicBool::new(false));
    let ready_flag = ready.clone();
    let proxy = FakeProxy::start(move |_, _| {
        if ready_flag.load(Ordering::SeqCst) {
            Reply::Status(200)
        } else {
            Reply::Status(503)
        }
    });
    let mut cmd = gate_for(&proxy);
    cmd.args(["cat", "/proc/self/status"]);
    // As `nohup` does.
    // SAFETY: signal(2) is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut session = Session::start(&mut cmd);
    session.until_waiting(&proxy);
    session.process.signal(libc::SIGHUP);
    // Checks after the signal show the wait went on: the loop looks at its
    // signals before every check and every pause.
    let seen = proxy.requests().len();
    proxy.wait_for_requests(seen + 3, Duration::from_secs(5));
    ready.store(true, Ordering::SeqCst);
    let (status, out, err) = session.finish(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{status:?}; log:\n{err}");
    assert!(!err.contains("received"), "{err}");
    // And the app inherits SIGHUP ignored, as it would without the gate.
    let ignored = signal_lines(out.as_bytes())
        .into_iter()
        .find_map(|l| l.strip_prefix("SigIgn:").map(|m| m.trim().to_string()))
        .and_then(|m| u64::from_str_radix(&m, 16).ok())
        .unwrap_or_else(|| panic!("no SigIgn line in app output:\n{out}"));
    assert_ne!(ignored & (1 << (libc::SIGHUP - 1)), 0, "SIGHUP not ignored");
}

#[test]
fn sigterm_blocked_by_the_parent_does_not_end_the_wait_and_stays_pending_for_the_app() {
    let ready = Arc::new(AtomicBool::new(false));
    let ready_flag = ready.clone();
    let proxy = FakeProxy::start(move |_, _| {
        if ready_flag.load(Ordering::SeqCst) {
            Reply::Status(200)
        } else {
            Reply::Status(503)
        }
    });
    let mut cmd = gate_for(&proxy);
    // `sleep` leaves its signal mask alone (a shell would clear it).
    cmd.args(["sleep", "30"]);
    // SAFETY: sigprocmask is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
    let mut session = Session::start(&mut cmd);
    session.until_waiting(&proxy);
    session.process.signal(libc::SIGTERM);
    let seen = proxy.requests().len();
    proxy.wait_for_requests(seen + 3, Duration::from_secs(5));
    ready.store(true, Ordering::SeqCst);
    // After exec the app has the gate's PID, the mask it was given, and the
    // signal still pending, as after a direct start.
    let pid = session.process.pid();
    let start = std::time::Instant::now();
    loop {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        let pending = status_mask(pid, "ShdPnd").unwrap_or(0) & bit(libc::SIGTERM) != 0;
        let blocked = status_mask(pid, "SigBlk").unwrap_or(0) & bit(libc::SIGTERM) != 0;
        if comm.trim() == "sleep" && pending && blocked {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "comm {comm:?}, pending {pending}, blocked {blocked}; log:\n{}",
            session.stderr.text()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    session.process.signal(libc::SIGKILL);
    let (_, _, err) = session.finish(Duration::from_secs(5));
    assert!(!err.contains("received"), "{err}");
}
