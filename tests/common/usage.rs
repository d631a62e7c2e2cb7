//! Support for command-line tests: the options table, a gate that cannot
//! wait forever, and the shape of a usage error.

use std::process::{Command, Output};

use super::{closed_port, gate, stderr_text, stdout_text};

/// Every option with the variable that sets it (besides --help and --version).
pub const OPTIONS: [(&str, &str); 23] = [
    ("--port", "LINKERD_AWAIT_PORT"),
    ("--uri", "LINKERD_AWAIT_URI"),
    ("--mesh", "LINKERD_AWAIT_MESH"),
    ("--backoff", "LINKERD_AWAIT_BACKOFF"),
    ("--backoff-initial", "LINKERD_AWAIT_BACKOFF_INITIAL"),
    ("--backoff-factor", "LINKERD_AWAIT_BACKOFF_FACTOR"),
    ("--attempt-timeout", "LINKERD_AWAIT_ATTEMPT_TIMEOUT"),
    ("--timeout", "LINKERD_AWAIT_TIMEOUT"),
    ("--timeout-fatal", "LINKERD_AWAIT_TIMEOUT_FATAL"),
    ("--wait-for", "LINKERD_AWAIT_WAIT_FOR"),
    ("--ca-file", "LINKERD_AWAIT_CA_FILE"),
    ("--wait-for-backoff", "LINKERD_AWAIT_WAIT_FOR_BACKOFF"),
    ("--shutdown", "LINKERD_AWAIT_SHUTDOWN"),
    ("--shutdown-now", "LINKERD_AWAIT_SHUTDOWN_NOW"),
    ("--shutdown-uri", "LINKERD_AWAIT_SHUTDOWN_URI"),
    ("--shutdown-timeout", "LINKERD_AWAIT_SHUTDOWN_TIMEOUT"),
    ("--shutdown-on-failure", "LINKERD_AWAIT_SHUTDOWN_ON_FAILURE"),
    ("--verbose", "LINKERD_AWAIT_VERBOSE"),
    ("--quiet", "LINKERD_AWAIT_QUIET"),
    ("--log", "LINKERD_AWAIT_LOG"),
    ("--log-format", "LINKERD_AWAIT_LOG_FORMAT"),
    ("--install", "LINKERD_AWAIT_INSTALL"),
    ("--termination-log", "LINKERD_AWAIT_TERMINATION_LOG"),
];

/// The gate with a deadline and nothing listening, so a value wrongly
/// accepted ends in 69 after a moment instead of a wait forever.
pub fn cli() -> Command {
    let mut cmd = gate();
    cmd.env("LINKERD_AWAIT_TIMEOUT", "2s").env(
        "LINKERD_AWAIT_URI",
        format!("http://127.0.0.1:{}/ready", closed_port()),
    );
    cmd
}

/// Exit 2 with every `needles` on stderr; nothing on stdout; no app started.
pub fn assert_usage_error(out: &Output, needles: &[&str]) {
    let err = stderr_text(out);
    assert_eq!(out.status.code(), Some(2), "stderr:\n{err}");
    assert!(out.stdout.is_empty(), "stdout: {}", stdout_text(out));
    for needle in needles {
        assert!(err.contains(needle), "{needle:?} missing from:\n{err}");
    }
}

/// The gate with waiting disabled, so only the log level decides what it says.
pub fn disabled() -> Command {
    let mut cmd = gate();
    cmd.env("LINKERD_AWAIT_DISABLED", "1");
    cmd
}
