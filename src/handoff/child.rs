//! The app as the gate's child (`--shutdown`): spawn it, pass signals on to
//! it, follow its job-control stops, and report how the child ended (the
//! reaping and what a status means: `reap`). `supervise` decides what happens around it.
//!
//! The gate is usually PID 1 of the container in this mode, so it does what
//! an init must (after tini): forward signals, reap orphans, exit with the
//! child's status. Under an interactive shell it also does what sudo does for
//! job control: when the app stops, the gate stops too, so the shell sees its
//! job stop, and when the shell continues the gate, the gate continues the app.

use std::os::unix::process::CommandExt;

use nix::{
    errno::Errno,
    sys::signal::{SigHandler, Signal, signal},
    unistd::Pid,
};
use tracing::{debug, warn};

pub use super::reap::ChildEnd;
use super::{
    exec::ExecError,
    reap::{ChildState, become_subreaper, reap, stop_pending},
    terminal::Terminal,
};
use crate::{
    config::Command,
    report::error::Error,
    signals::{self, Event, Phase, Sig, Signals},
};

/// How supervising the app ended: the three endings.
pub enum Ending {
    /// The app ran, and ended like this.
    Ended(ChildEnd),
    /// The app could not be started (126 or 127).
    NotStarted(ExecError),
    /// The gate itself failed: a system call it needs.
    Failed(Error),
}

/// Runs the app to completion.
pub async fn run(command: &Command, signals: &mut Signals) -> Ending {
    if let Err(e) = prepare(signals) {
        return Ending::Failed(e);
    }
    let mut app = match spawn(command, signals) {
        Ok(app) => app,
        Err(e) => return Ending::NotStarted(e),
    };
    match app.wait(signals).await {
        Ok(end) => Ending::Ended(end),
        Err(e) => Ending::Failed(e),
    }
}

/// Becomes the owner of the app's statuses and signals, before it exists.
fn prepare(signals: &mut Signals) -> Result<(), Error> {
    become_subreaper();

    // Every signal for the app, and SIGCHLD, is read from here on. The switch
    // happens *before* the child exists: a signal that arrives between spawn
    // and the first read is then pending, not lost (and SIGCHLD for a fast
    // child is not missed).
    signals.enter(Phase::Supervising)?;
    // A parent may hand us SIGCHLD set to "ignore" (it survives exec). The
    // kernel then reaps our children itself and sends no SIGCHLD at all
    // (POSIX.1-2001 auto-reaping): the gate would never learn how the app
    // ended and would hang, and std's spawn would panic on a failed exec when
    // its own waitpid finds no child. The gate owns its children, so it takes
    // the default disposition back; the app still gets the inherited one
    // (`Inherited::restore` in the child).
    default_sigchld()
}

/// Starts the app in its own process group, with the inherited signal
/// state, in the terminal's foreground if the gate holds it.
fn spawn(command: &Command, signals: &Signals) -> Result<App, ExecError> {
    let inherited = *signals.inherited();
    let terminal = Terminal::controlling();
    // Decided here, in the parent, because only the parent knows its own
    // process group: the app takes the terminal only from a gate that has it.
    let take_tty = terminal.filter(Terminal::gate_in_foreground);
    let mut child = std::process::Command::new(&command.program);
    child.args(&command.args).process_group(0);
    // SAFETY: the closure runs in the forked child before exec and only makes
    // async-signal-safe calls (pthread_sigmask, tcsetpgrp, sigaction,
    // sigprocmask); it allocates nothing. The child sets the foreground
    // itself, as tini does: it must be in place before the app's first
    // terminal access, which the parent cannot order.
    unsafe {
        child.pre_exec(move || {
            if let Some(terminal) = take_tty {
                terminal.take_foreground_in_child();
            }
            // The app sees the signal state the gate was given, not our blocked set.
            inherited.restore();
            Ok(())
        });
    }
    let child = match child.spawn() {
        Ok(child) => child,
        Err(e) => {
            // The child took the terminal in `pre_exec` before its exec failed.
            if let Some(terminal) = take_tty {
                terminal.take_back();
            }
            return Err(ExecError::new(command, e));
        }
    };
    let pid = Pid::from_raw(child.id() as i32);
    // The reap loop is the only owner of child statuses; std's handle is
    // never waited on (dropping it neither waits nor kills).
    drop(child);
    debug!(pid = pid.as_raw(), "child started");
    Ok(App {
        pid,
        terminal,
        took_terminal: take_tty.is_some(),
        stopped: false,
    })
}

/// The running app, as the gate sees it.
struct App {
    pid: Pid,
    terminal: Option<Terminal>,
    /// The app was started in the terminal's foreground.
    took_terminal: bool,
    /// Stopped by a signal and not continued since.
    stopped: bool,
}

impl App {
    /// Forwards signals and follows the app's stops until it ends.
    async fn wait(&mut self, signals: &Signals) -> Result<ChildEnd, Error> {
        loop {
            match signals.recv().await? {
                Event::ChildChanged => match reap(self.pid) {
                    Some(ChildState::Ended(end)) => {
                        if self.took_terminal {
                            self.take_back_terminal();
                        }
                        return Ok(end);
                    }
                    Some(ChildState::Stopped(sig)) => self.stopped(sig),
                    Some(ChildState::Continued) => self.stopped = false,
                    None => {}
                },
                // Terminate cannot come while supervising; a termination signal
                // is forwarded like any other.
                Event::Forward(sig) | Event::Terminate(sig) => self.forward(sig),
            }
        }
    }

    fn forward(&mut self, sig: Sig) {
        debug!(signal = %sig, pid = self.pid.as_raw(), "forwarding signal");
        self.kill(sig);
        if sig == Sig::CONT {
            // `fg` from the shell: it gave the terminal to the gate's group and
            // continued it; the app is the one that reads the terminal.
            self.pass_terminal();
            self.stopped = false;
        } else if sig.is_termination() && (self.stopped || stop_pending(self.pid)) {
            // A stopped process acts on no signal but SIGKILL until it is
            // continued: without this, `docker stop` of a stopped app waits
            // out the whole grace period and ends in SIGKILL. The stop may
            // have happened before its SIGCHLD was read (`stopped` not set
            // yet): `stop_pending` looks without taking the status.
            self.kill(Sig::CONT);
        }
    }

    /// The app stopped (Ctrl-Z, SIGSTOP, or background terminal access).
    fn stopped(&mut self, sig: Sig) {
        self.stopped = true;
        // As PID 1 there is no job control: nobody would continue the gate,
        // so a stopped app just stays stopped until it is sent SIGCONT. The
        // same without a terminal: a stopped gate could not react to a later
        // SIGTERM while its app runs again.
        let Some(terminal) = self.terminal.filter(|_| std::process::id() != 1) else {
            debug!(signal = %sig, "the app stopped");
            return;
        };
        let background_access = [libc::SIGTTIN, libc::SIGTTOU].contains(&sig.number());
        if background_access && terminal.gate_in_foreground() {
            // The app wants the terminal the gate holds: hand it over rather
            // than stop (sudo does the same).
            self.resume();
            return;
        }
        debug!(signal = %sig, "the app stopped; stopping the gate too");
        signals::stop_self(sig);
        debug!("continued; continuing the app");
        self.resume();
    }

    /// Gives the app the terminal (if the gate has it) and continues its
    /// whole process group, as a shell's `fg` does for a job.
    fn resume(&mut self) {
        self.pass_terminal();
        // SAFETY: killpg on the app's own group (its PID, see process_group(0)).
        if unsafe { libc::killpg(self.pid.as_raw(), libc::SIGCONT) } != 0 {
            debug!(
                "cannot continue the app: {}",
                std::io::Error::last_os_error()
            );
        }
        self.stopped = false;
    }

    fn pass_terminal(&self) {
        if let Some(terminal) = self.terminal.filter(Terminal::gate_in_foreground) {
            terminal.give_to(self.pid.as_raw());
        }
    }

    fn take_back_terminal(&self) {
        if let Some(terminal) = self.terminal {
            terminal.take_back();
        }
    }

    fn kill(&self, sig: Sig) {
        // SAFETY: kill(2) on our own child's PID with a valid signal number.
        if unsafe { libc::kill(self.pid.as_raw(), sig.number()) } == 0 {
            return;
        }
        match Errno::last() {
            // The child is already gone; its SIGCHLD is on the way.
            Errno::ESRCH => debug!(signal = %sig, "child already exited"),
            e => warn!(signal = %sig, "cannot forward signal to the app: {e}"),
        }
    }
}

/// Puts SIGCHLD back to its default action in the gate (see `prepare`).
fn default_sigchld() -> Result<(), Error> {
    // SAFETY: SIG_DFL installs no code; nothing else in the gate relies on a
    // SIGCHLD handler (it is read from the signalfd).
    unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) }
        .map(drop)
        .map_err(|e| Error::os("cannot reset SIGCHLD to its default action", e))
}
