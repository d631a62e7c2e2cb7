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
    /// No command to run, and the timeout passed first, with
    /// `--timeout-fatal=false`: the user asked not to fail on it (a postStart
    /// hook must not kill its container); the warning says what was not ready.
    NotReadyNotFatal,
    /// Bad flags, environment or values (clap's convention).
    Usage,
    /// The readiness deadline passed and `--timeout-fatal` is true.
    TimedOut,
    /// `--shutdown-now`: a shutdown request was not accepted.
    ShutdownFailed,
    /// Something the user cannot fix by changing input (a syscall failed).
    Internal,
    /// `--install` could not create the copy in its directory.
    CannotCreate,
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
/// sysexits(3) EX_UNAVAILABLE: the service (the proxy) is unavailable: not
/// ready in time, or it did not accept a `--shutdown-now` request.
pub const UNAVAILABLE: u8 = 69;
/// sysexits(3) EX_SOFTWARE: an internal error.
pub const INTERNAL: u8 = 70;
/// sysexits(3) EX_CANTCREAT: a (user specified) output file cannot be created.
pub const CANNOT_CREATE: u8 = 73;
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
            Outcome::Ready | Outcome::NotReadyNotFatal => 0,
            Outcome::Usage => USAGE,
            Outcome::TimedOut | Outcome::ShutdownFailed => UNAVAILABLE,
            Outcome::Internal => INTERNAL,
            Outcome::CannotCreate => CANNOT_CREATE,
            Outcome::ExecFailed(ExecFailure::NotFound) => NOT_FOUND,
            Outcome::ExecFailed(ExecFailure::CannotInvoke) => CANNOT_INVOKE,
            // Exit statuses are 8 bits on Linux; the kernel keeps the low byte.
            Outcome::ChildExited(code) => (code & 0xff) as u8,
            // "Emulate what sh/bash would do": 128 + signal number.
            Outcome::Signalled(sig) | Outcome::ChildKilled(sig) => 128u8.wrapping_add(sig as u8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(Outcome::Ready.code(), 0);
        assert_eq!(Outcome::NotReadyNotFatal.code(), 0);
        assert_eq!(Outcome::Usage.code(), 2);
        assert_eq!(Outcome::TimedOut.code(), 69);
        assert_eq!(Outcome::ShutdownFailed.code(), 69);
        assert_eq!(Outcome::Internal.code(), 70);
        assert_eq!(Outcome::CannotCreate.code(), 73);
        assert_eq!(Outcome::ExecFailed(ExecFailure::CannotInvoke).code(), 126);
        assert_eq!(Outcome::ExecFailed(ExecFailure::NotFound).code(), 127);
        assert_eq!(Outcome::Signalled(libc::SIGTERM).code(), 143);
        assert_eq!(Outcome::Signalled(libc::SIGINT).code(), 130);
        assert_eq!(Outcome::ChildKilled(libc::SIGKILL).code(), 137);
        assert_eq!(Outcome::ChildExited(3).code(), 3);
        assert_eq!(Outcome::ChildExited(255).code(), 255);
    }

    /// The reference's row of each outcome. Exhaustive on purpose: a new outcome
    /// does not compile until it is given its row.
    fn row(outcome: Outcome) -> String {
        match outcome {
            Outcome::Ready
            | Outcome::NotReadyNotFatal
            | Outcome::Usage
            | Outcome::TimedOut
            | Outcome::ShutdownFailed
            | Outcome::Internal
            | Outcome::CannotCreate
            | Outcome::ExecFailed(_) => outcome.code().to_string(),
            Outcome::Signalled(sig) | Outcome::ChildKilled(sig) => {
                assert_eq!(u32::from(outcome.code()), 128 + sig as u32);
                "128 + n".to_string()
            }
            Outcome::ChildExited(_) => "anything else".to_string(),
        }
    }

    /// The first cell of each row of the reference's exit-code table.
    fn readme_rows() -> Vec<String> {
        let readme = include_str!("../../docs/reference.md");
        let section = readme
            .split_once("## Exit codes")
            .map(|(_, rest)| rest)
            .expect("docs/reference.md has an exit-code section");
        section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2) // header and separator
            .map(|line| line.split('|').nth(1).unwrap_or("").trim().to_string())
            .collect()
    }

    #[test]
    fn the_readme_documents_every_exit_code_and_no_other() {
        let outcomes = [
            Outcome::Ready,
            Outcome::NotReadyNotFatal,
            Outcome::Usage,
            Outcome::TimedOut,
            Outcome::ShutdownFailed,
            Outcome::Internal,
            Outcome::CannotCreate,
            Outcome::ExecFailed(ExecFailure::CannotInvoke),
            Outcome::ExecFailed(ExecFailure::NotFound),
            Outcome::Signalled(libc::SIGTERM),
            Outcome::ChildKilled(libc::SIGKILL),
            Outcome::ChildExited(3),
        ];
        let mut want: Vec<String> = outcomes.into_iter().map(row).collect();
        want.dedup();
        assert_eq!(readme_rows(), want, "docs/reference.md, ## Exit codes");
    }
}
