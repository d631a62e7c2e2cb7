//! The gate as PID 1 of a new PID namespace, as in a container: `unshare`
//! needs root, so these tests skip elsewhere, unless the run requires them
//! (`LINKERD_AWAIT_REQUIRE_PID_NS=1`, as CI sets).

use std::{
    ffi::OsStr,
    process::{Command, Stdio},
};

use super::{FakeProxy, clean_slate, gate_bin};

/// True when this machine lets us create PID namespaces (root, unshare present).
fn can_unshare_pid() -> bool {
    Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Either "PID 1 of its own namespace" can be tested here, or `test` is
/// skipped with a printed reason (a failure when the run requires the
/// namespace: `LINKERD_AWAIT_REQUIRE_PID_NS=1`).
pub fn pid_namespaces_available(test: &str) -> bool {
    can_unshare_pid()
        || skipped(
            test,
            "cannot create a PID namespace here (needs root and unshare)",
        )
}

/// Root, and `unshare <args> true` works (the namespaces a test makes);
/// else `test` is skipped with `why` printed, or fails when the run
/// requires it (`LINKERD_AWAIT_REQUIRE_PID_NS=1`, as CI sets).
pub fn unshare_available(test: &str, args: &[&str], why: &str) -> bool {
    // SAFETY: geteuid(2) has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let unshare = || {
        Command::new("unshare")
            .args(args)
            .arg("true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    root && unshare() || skipped(test, why)
}

/// Says that `test` is skipped and why, and returns false; a failure when
/// the run requires every such test (`LINKERD_AWAIT_REQUIRE_PID_NS=1`).
pub fn skipped(test: &str, why: &str) -> bool {
    assert!(
        std::env::var_os("LINKERD_AWAIT_REQUIRE_PID_NS").is_none_or(|v| v != "1"),
        "{test}: {why}, but LINKERD_AWAIT_REQUIRE_PID_NS=1"
    );
    eprintln!("SKIPPED {test}: {why}");
    false
}

/// `unshare` prefix that makes the next command PID 1 of a new PID namespace.
pub fn as_pid1(program: impl AsRef<OsStr>) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
        .arg(program);
    clean_slate(&mut cmd);
    cmd
}

/// The gate as PID 1, pointed at `proxy`'s admin port (`-p PORT`).
pub fn gate_as_pid1_for(proxy: &FakeProxy) -> Command {
    let mut cmd = as_pid1(gate_bin());
    cmd.args(["-p", &proxy.port().to_string()]);
    cmd
}
