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
        signal::{Signal, kill},
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

    let Some((program, args)) = argv.split_first() else {
        return Ok(Err(ExecError::new(std::io::Error::from_raw_os_error(
            libc::ENOENT,
        ))));
    };
    let inherited_copy = *inherited;
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
            take_terminal();
            // The app sees the signal state the gate was given, not our blocked set.
            inherited_copy.restore();
            Ok(())
        });
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => return Ok(Err(ExecError::new(e))),
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

/// In the child: make its process group the terminal's foreground group, so
/// Ctrl-C and job control act on the app. Not a terminal (ENOTTY) or no
/// controlling terminal (ENXIO) is the normal case in a pod and is fine.
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
