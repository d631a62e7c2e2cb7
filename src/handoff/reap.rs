//! The one owner of `waitpid`: every exited child is reaped here, orphans
//! included, and the main child's statuses are told apart and translated
//! into how it ended (and so into the gate's exit code).
//!
//! Invariant: nothing else in the gate waits for a child, so no status of
//! the app can be stolen; an orphan's status is only logged.

use nix::{
    errno::Errno,
    sys::wait::{WaitPidFlag, WaitStatus, waitpid},
    unistd::Pid,
};
use tracing::{debug, warn};

use crate::{report::exit_code::Outcome, signals::Sig};

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(i32),
    Killed(Sig),
}

impl ChildEnd {
    pub fn succeeded(self) -> bool {
        self == ChildEnd::Exited(0)
    }

    pub fn outcome(self) -> Outcome {
        match self {
            ChildEnd::Exited(code) => Outcome::ChildExited(code),
            ChildEnd::Killed(sig) => Outcome::ChildKilled(sig.number()),
        }
    }
}

impl std::fmt::Display for ChildEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ChildEnd::Exited(code) => write!(f, "exited with code {code}"),
            ChildEnd::Killed(sig) => write!(f, "was killed by {sig}"),
        }
    }
}

/// What one look at the child's status found.
pub(super) enum ChildState {
    Ended(ChildEnd),
    Stopped(Sig),
    Continued,
}

/// Reaps every exited child (orphans included) and returns what happened to
/// the main child, if anything.
pub(super) fn reap(main: Pid) -> Option<ChildState> {
    let mut state = None;
    // WUNTRACED/WCONTINUED: job-control stops and continues of the main
    // child are reported too (orphans' ones are only logged).
    let flags = WaitPidFlag::WNOHANG | WaitPidFlag::WUNTRACED | WaitPidFlag::WCONTINUED;
    loop {
        match waitpid(Pid::from_raw(-1), Some(flags)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => {
                state = Some(ChildState::Ended(ChildEnd::Exited(code)));
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => {
                state = Some(ChildState::Ended(ChildEnd::Killed(Sig::from(sig as i32))));
            }
            Ok(WaitStatus::Stopped(pid, sig)) if pid == main => {
                state = Some(ChildState::Stopped(Sig::from(sig as i32)));
            }
            Ok(WaitStatus::Continued(pid)) if pid == main => {
                state = Some(ChildState::Continued);
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return state,
            Ok(status) => debug!(?status, "reaped"),
            Err(Errno::EINTR) => {}
            Err(e) => {
                warn!("waitpid failed: {e}");
                return state;
            }
        }
    }
}

/// Whether the main child has stopped and that status is still waiting to
/// be reaped. A look, not a wait: WNOWAIT leaves the status for [`reap`],
/// which stays the one place that takes statuses.
pub(super) fn stop_pending(main: Pid) -> bool {
    // SAFETY: an all-zero siginfo_t is a valid out-parameter; waitid(2)
    // fills it, and leaves si_pid 0 when no child has a status to report.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid on our own child's PID, writing into `info` only.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            main.as_raw() as libc::id_t,
            &mut info,
            libc::WSTOPPED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    // SAFETY: `info` was written by a successful waitid (or is all zero).
    rc == 0 && unsafe { info.si_pid() } != 0
}

/// Orphaned descendants are re-parented to the nearest subreaper, or to PID 1.
/// When the gate is not PID 1 it asks to be that subreaper, so orphans the
/// app leaves behind are still reaped instead of lingering as zombies.
pub(super) fn become_subreaper() {
    if std::process::id() == 1 {
        return;
    }
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        warn!(
            "cannot become a child subreaper ({e}); orphaned processes of the app may stay zombies. Run the gate as PID 1 or under an init."
        );
    }
}
