//! The one table that turns how the gate ended into a process exit code.
//!
//! Conventions follow the tools users already script around: sysexits(3) for
//! "service unavailable" (the original linkerd-await's choice), coreutils
//! `env`/`timeout` for 126/127, and the shell's `128 + signal` rule.

/// How the gate ended, when it did not become the app through exec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The proxy became ready (or waiting was disabled) and there is no command to run.
    Ready,
    /// Bad flags, environment or values (clap's convention).
    Usage,
    /// The readiness deadline passed and `--timeout-fatal` is true.
    TimedOut,
    /// Something the user cannot fix by changing input (a syscall failed).
    Internal,
    /// A termination signal arrived while waiting; carries the signal number.
    Signalled(i32),
    /// The command could not be executed.
    ExecFailed(ExecFailure),
    /// The supervised child exited with this code.
    ChildExited(i32),
    /// The supervised child was killed by this signal.
    ChildKilled(i32),
}

/// Why exec (or spawn) failed, in the shell's two categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecFailure {
    /// No such file, or not found on `PATH`.
    NotFound,
    /// Found, but cannot be run (permission, not an executable, a directory, ...).
    CannotInvoke,
}

/// sysexits(3) EX_USAGE is 64, but clap (and every getopt tool) uses 2.
pub const USAGE: u8 = 2;
/// sysexits(3) EX_UNAVAILABLE: the service (the proxy) is unavailable.
pub const TIMED_OUT: u8 = 69;
/// sysexits(3) EX_SOFTWARE: an internal error.
pub const INTERNAL: u8 = 70;
/// coreutils: the command was found but could not be invoked.
pub const CANNOT_INVOKE: u8 = 126;
/// coreutils: the command was not found.
pub const NOT_FOUND: u8 = 127;

impl Outcome {
    /// The signal that ended the gate (while waiting) or its app, if one did.
    pub fn signal(self) -> Option<i32> {
        match self {
            Outcome::Signalled(sig) | Outcome::ChildKilled(sig) => Some(sig),
            _ => None,
        }
    }

    /// The exit code the gate's parent sees when the gate does not die by a signal.
    pub fn code(self) -> u8 {
        match self {
            Outcome::Ready => 0,
            Outcome::Usage => USAGE,
            Outcome::TimedOut => TIMED_OUT,
            Outcome::Internal => INTERNAL,
            Outcome::ExecFailed(ExecFailure::NotFound) => NOT_FOUND,
            Outcome::ExecFailed(ExecFailure::CannotInvoke) => CANNOT_INVOKE,
            // Exit statuses are 8 bits on Linux; the kernel keeps the low byte.
            Outcome::ChildExited(code) => (code & 0xff) as u8,
            // "Emulate what sh/bash would do": 128 + signal number.
            Outcome::Signalled(sig) | Outcome::ChildKilled(sig) => 128u8.wrapping_add(sig as u8),
        }
    }
}

/// Ends the gate the way it or its app ended. A signal death is passed on as
/// one (Cracauer's rule: a shell stops its loop on Ctrl-C only if the
/// command died *by* SIGINT, not if it exited 130); `$?` still reads 128+n.
/// As PID 1 the kernel ignores a self-sent signal, so the code is returned.
pub fn finish(outcome: Outcome) -> u8 {
    match outcome.signal() {
        // Returns only if this signal does not end a process by default.
        Some(sig) if std::process::id() != 1 => crate::signals::die_by(sig.into()),
        _ => {}
    }
    outcome.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(Outcome::Ready.code(), 0);
        assert_eq!(Outcome::Usage.code(), 2);
        assert_eq!(Outcome::TimedOut.code(), 69);
        assert_eq!(Outcome::Internal.code(), 70);
        assert_eq!(Outcome::ExecFailed(ExecFailure::CannotInvoke).code(), 126);
        assert_eq!(Outcome::ExecFailed(ExecFailure::NotFound).code(), 127);
        assert_eq!(Outcome::Signalled(libc::SIGTERM).code(), 143);
        assert_eq!(Outcome::Signalled(libc::SIGINT).code(), 130);
        assert_eq!(Outcome::ChildKilled(libc::SIGKILL).code(), 137);
        assert_eq!(Outcome::ChildExited(3).code(), 3);
        assert_eq!(Outcome::ChildExited(255).code(), 255);
    }
}
