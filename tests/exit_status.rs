//! `--shutdown` mode ends the way the app ended: its exit code becomes the
//! gate's, a death by signal becomes the gate's death by the same signal
//! (after the shutdown request), and an app that cannot start exits 127 or
//! 126 as a shell would, with the Job still completed.
//!
//! Every test runs the real binary against a `FakeProxy` on loopback.

mod common;
use common::*;

use std::process::Command;

#[test]
fn app_exit_code_becomes_the_gates_and_a_killed_app_kills_the_gate_by_the_same_signal() {
    use std::os::unix::process::ExitStatusExt;
    for (script, code, signal) in [
        ("exit 0", Some(0), None),
        ("exit 3", Some(3), None),
        ("exit 255", Some(255), None),
        ("kill -KILL $$", None, Some(libc::SIGKILL)),
        ("kill -TERM $$", None, Some(libc::SIGTERM)),
        ("kill -QUIT $$", None, Some(libc::SIGQUIT)),
    ] {
        // A proxy per run: each stops listening once it accepted its request.
        let proxy = proxy_answering(Reply::Status(200));
        let mut cmd = gate_for(&proxy);
        cmd.arg("-S");
        app(&mut cmd, script, &[]);
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), code, "app `{script}`; stderr:\n{err}");
        // Died by the app's signal, after the shutdown request (Cracauer's
        // rule), and without a core dump of the gate's own.
        assert_eq!(
            out.status.signal(),
            signal,
            "app `{script}`; stderr:\n{err}"
        );
        assert!(!out.status.core_dumped(), "app `{script}`");
        assert_eq!(proxy.requests_to("/shutdown").len(), 1, "app `{script}`");
    }
}

#[test]
fn app_that_cannot_be_started_exits_127_or_126_and_still_shuts_the_proxy_down() {
    let dir = temp_dir();
    for (program, want) in [
        ("/nonexistent/linkerd-await-test-app", 127),
        ("linkerd-await-no-such-command-on-path", 127),
        (path_arg(dir.path()), 126),
    ] {
        let proxy = proxy_answering(Reply::Status(200));
        let mut cmd = gate_for(&proxy);
        cmd.args(["-S", "--", program]);
        let out = output(&mut cmd);
        assert_eq!(
            out.status.code(),
            Some(want),
            "{program}: {}",
            stderr_text(&out)
        );
        assert_eq!(
            proxy.requests_to("/shutdown").len(),
            1,
            "{program}: the Job must still complete"
        );
    }
}

/// Makes the process that runs `cmd` start with SIGCHLD ignored (it survives exec).
fn sigchld_ignoring_parent(cmd: &mut Command) {
    ignoring_parent(cmd, libc::SIGCHLD);
}

#[test]
fn app_status_survives_a_parent_that_ignores_sigchld() {
    // Ignored SIGCHLD makes the kernel reap children itself and send no
    // SIGCHLD: a gate that kept it would hang forever (and abort on a failed
    // spawn, when std's own waitpid finds no child).
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--shutdown-timeout", "1s"]);
    app(&mut cmd, "exit 3", &[]);
    sigchld_ignoring_parent(&mut cmd);
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 3, "{}", gate.err.text());
    assert_eq!(proxy.requests_to("/shutdown").len(), 1);

    // A proxy per run: each stops listening once it accepted its request.
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--shutdown-timeout", "1s", "--", "/nonexistent/app"]);
    sigchld_ignoring_parent(&mut cmd);
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(127), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/shutdown").len(), 1);

    // The app still inherits the parent's choice (not through a shell: sh
    // resets SIGCHLD for itself).
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--", "grep", "SigIgn", "/proc/self/status"]);
    sigchld_ignoring_parent(&mut cmd);
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let text = stdout_text(&out);
    let ignored = ignored_mask(&text).unwrap_or_else(|| panic!("no SigIgn line: {text}"));
    assert_ne!(
        ignored & bit(libc::SIGCHLD),
        0,
        "the app inherits SIGCHLD ignored: {text}"
    );
}
