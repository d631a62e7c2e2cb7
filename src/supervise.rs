//! Handing off by supervision (`--shutdown`): run the app as a child, pass
//! signals on to it, reap every zombie, and report how the child ended.
//!
//! The gate is usually PID 1 of the container in this mode, so it does what
//! an init must (after tini): forward signals, reap orphans, exit with the
//! child's status.

use std::{ffi::OsString, os::unix::process::CommandExt, process::Command};

use nix::{
    errno::Errno,
    sys::{
        signal::{SigHandler, SigSet, SigmaskHow, Signal, kill, signal},
        wait::{WaitPidFlag, WaitStatus, waitpid},
    },
    unistd::Pid,
};
use tracing::{debug, warn};

use crate::{
    error::Error,
    exec::ExecError,
    exit_code::Outcome,
    signals::{FORWARDED, Inherited, Signals},
};

/// How the child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEnd {
    Exited(i32),
    Killed(i32),
}

impl ChildEnd {
    pub fn succeeded(self) -> bool {
        self == ChildEnd::Exited(0)
    }

    pub fn outcome(self) -> Outcome {
        match self {
            ChildEnd::Exited(code) => Outcome::ChildExited(code),
            ChildEnd::Killed(sig) => Outcome::ChildKilled(sig),
        }
    }
}

impl std::fmt::Display for ChildEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ChildEnd::Exited(code) => write!(f, "exited with code {code}"),
            ChildEnd::Killed(sig) => match Signal::try_from(sig) {
                Ok(name) => write!(f, "was killed by {name}"),
                Err(_) => write!(f, "was killed by signal {sig}"),
            },
        }
    }
}

/// Runs `argv` to completion. `Ok(Err(_))` means the child could not be started.
pub async fn run(
    argv: &[OsString],
    inherited: &Inherited,
    signals: &mut Signals,
) -> Result<Result<ChildEnd, ExecError>, Error> {
    become_subreaper();

    // Block every forwarded signal and SIGCHLD *before* the child exists: one
    // that arrives between spawn and the first read is then pending, not lost
    // (and SIGCHLD for a fast child is not missed).
    signals.add(&FORWARDED, inherited)?;
    signals.add(&[Signal::SIGCHLD], inherited)?;
    // A parent may hand us SIGCHLD set to "ignore" (it survives exec). The
    // kernel then reaps our children itself and sends no SIGCHLD at all
    // (POSIX.1-2001 auto-reaping): the gate would never learn how the app
    // ended and would hang, and std's spawn would panic on a failed exec when
    // its own waitpid finds no child. The gate owns its children, so it takes
    // the default disposition back; the app still gets the inherited one
    // (`Inherited::restore` in the child).
    default_sigchld()?;

    let Some((program, args)) = argv.split_first() else {
        return Ok(Err(ExecError::new(std::io::Error::from_raw_os_error(
            libc::ENOENT,
        ))));
    };
    let inherited_copy = *inherited;
    // Decided here, in the parent, because only the parent knows its own
    // process group: the app takes the terminal only from a gate that has it.
    // A gate started in the background (`gate -S app &` from a shell) must
    // not steal the terminal from the shell in the foreground.
    let take_tty = owns_terminal();
    let mut command = Command::new(program);
    command
        .args(args)
        // Its own process group, so a terminal's Ctrl-C reaches the app once
        // (from the terminal) instead of twice (terminal + our forward).
        .process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe calls (sigprocmask, tcsetpgrp, sigaction); it
    // allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if take_tty {
                take_terminal();
            }
            // The app sees the signal state the gate was given, not our blocked set.
            inherited_copy.restore();
            Ok(())
        });
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            // The child took the terminal in `pre_exec` before its exec failed.
            if take_tty {
                give_back_terminal();
            }
            return Ok(Err(ExecError::new(e)));
        }
    };
    let pid = Pid::from_raw(child.id() as i32);
    // The reap loop below is the only owner of child statuses; std's handle is
    // never waited on (dropping it neither waits nor kills).
    drop(child);
    debug!(pid = pid.as_raw(), "child started");

    loop {
        let sig = signals.recv().await?;
        if sig == Signal::SIGCHLD {
            if let Some(end) = reap(pid) {
                if take_tty {
                    give_back_terminal();
                }
                return Ok(Ok(end));
            }
            continue;
        }
        debug!(signal = %sig, pid = pid.as_raw(), "forwarding signal");
        match kill(pid, sig) {
            Ok(()) => {}
            // The child is already gone; its SIGCHLD is on the way.
            Err(Errno::ESRCH) => debug!(signal = %sig, "child already exited"),
            Err(e) => warn!(signal = %sig, "cannot forward signal to the app: {e}"),
        }
    }
}

/// Reaps every exited child (orphans included) and returns the main child's end, if it ended.
fn reap(main: Pid) -> Option<ChildEnd> {
    let mut main_end = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => {
                main_end = Some(ChildEnd::Exited(code))
            }
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => {
                main_end = Some(ChildEnd::Killed(sig as i32));
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return main_end,
            Ok(status) => debug!(?status, "reaped"),
            Err(Errno::EINTR) => {}
            Err(e) => {
                warn!("waitpid failed: {e}");
                return main_end;
            }
        }
    }
}

/// Orphaned descendants are re-parented to the nearest subreaper, or to PID 1.
/// When the gate is not PID 1 it asks to be that subreaper, so orphans the
/// app leaves behind are still reaped instead of lingering as zombies.
fn become_subreaper() {
    if std::process::id() == 1 {
        return;
    }
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        warn!(
            "cannot become a child subreaper ({e}); orphaned processes of the app may stay zombies. Run the gate as PID 1 or under an init."
        );
    }
}

/// Puts SIGCHLD back to its default action in the gate (see `run`).
fn default_sigchld() -> Result<(), Error> {
    // SAFETY: SIG_DFL installs no code; nothing else in the gate relies on a
    // SIGCHLD handler (it is read from the signalfd).
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }
        .map(drop)
        .map_err(|e| Error::os("cannot reset SIGCHLD to its default action", e))
}

/// True when stdin is a terminal whose foreground process group is the gate's.
fn owns_terminal() -> bool {
    // SAFETY: plain queries on fd 0; they fail harmlessly (ENOTTY, EBADF)
    // when it is not a terminal or is closed.
    unsafe {
        libc::isatty(libc::STDIN_FILENO) == 1
            && libc::tcgetpgrp(libc::STDIN_FILENO) == libc::getpgrp()
    }
}

/// After the app ended: make the gate's process group the terminal's
/// foreground group again. Otherwise the terminal stays with the app's dead
/// group, and whatever started the gate (a script in `docker run -it`, a
/// shell without job control) can no longer read the terminal (EIO/SIGTTIN)
/// nor be interrupted with Ctrl-C.
fn give_back_terminal() {
    // tcsetpgrp from a background group raises SIGTTOU (default: stop the
    // gate) unless the caller blocks it; blocking it in this thread is
    // enough (the kernel checks the caller's mask).
    let mut ttou = SigSet::empty();
    ttou.add(Signal::SIGTTOU);
    let previous = match ttou.thread_swap_mask(SigmaskHow::SIG_BLOCK) {
        Ok(previous) => previous,
        Err(e) => {
            warn!("cannot block SIGTTOU to take the terminal back: {e}");
            return;
        }
    };
    // SAFETY: plain calls on fd 0 and our own process group.
    if unsafe { libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp()) } != 0 {
        debug!(
            "cannot take the terminal back: {}",
            std::io::Error::last_os_error()
        );
    }
    if let Err(e) = previous.thread_set_mask() {
        warn!("cannot restore the signal mask after taking the terminal back: {e}");
    }
}

/// In the child (only when the gate had the terminal): make its process group
/// the terminal's foreground group, so Ctrl-C and job control act on the app.
/// Not a terminal (ENOTTY) or no controlling terminal (ENXIO) is the normal
/// case in a pod and is fine.
fn take_terminal() {
    // SAFETY: async-signal-safe calls on the child's own state.
    unsafe {
        if libc::isatty(libc::STDIN_FILENO) != 1 {
            return;
        }
        // A background process group calling tcsetpgrp gets SIGTTOU unless it
        // blocks it; the mask is reset from the inherited one right after.
        let mut ttou: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut ttou);
        libc::sigaddset(&mut ttou, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &ttou, std::ptr::null_mut());
        libc::tcsetpgrp(libc::STDIN_FILENO, libc::getpgrp());
    }
}
