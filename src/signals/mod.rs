//! Signal policy and the signal state inherited from the parent.
//!
//! Three rules drive everything here:
//! - The app must see exactly the signal state the gate was started with, so
//!   what the gate changes is captured first thing in `main` and restored just
//!   before exec (or in the child, before it execs).
//! - The gate never installs handlers. Signals it reacts to are blocked and
//!   read from a signalfd. A blocked signal is queued even for PID 1 (the
//!   kernel only drops signals that are unblocked and have no handler for a
//!   namespace's init), and a signal that arrives before the event loop runs
//!   is simply pending, not lost.
//! - What a signal means is data: `policy` sorts every signal once and says,
//!   for each phase of the gate's life, whether it is left alone, held for
//!   the app, or read. The blocked set, the signalfd set and the events of
//!   [`Signals::recv`] are all derived from it.
//!
//! Here: the signalfd ([`Watcher`], [`Signals`]) and what a signal read from
//! it means ([`Event`]). Beside it: `policy` (the table), `inherited` (the
//! captured state and its restore), `raise` (the gate stopping or dying by a
//! signal itself), `sigset` (libc set helpers).

mod inherited;
mod policy;
mod raise;
mod sigset;

use std::{fmt, os::fd::AsRawFd};

use nix::sys::{
    signal::{SigSet, Signal},
    signalfd::{SfdFlags, SignalFd, siginfo},
};
use tokio::io::{Interest, unix::AsyncFd};

use self::policy::Class;
// Used only by the C entry point, which the unit-test build does not have.
pub use self::{inherited::Inherited, policy::Phase, raise::stop_self};
#[cfg(not(test))]
pub use self::{inherited::ignore_sigpipe, raise::die_by};
use crate::report::error::Error;

/// A signal number. Unlike nix's `Signal` it also covers the real-time
/// signals, which a supervisor must forward like any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sig(i32);

impl Sig {
    #[cfg(test)]
    pub const TERM: Sig = Sig(libc::SIGTERM);
    pub const CONT: Sig = Sig(libc::SIGCONT);

    pub fn number(self) -> i32 {
        self.0
    }

    /// A signal that asks a process to stop: what `docker stop`, kubelet, a
    /// terminal or a supervisor sends. It ends the wait for readiness.
    pub fn is_termination(self) -> bool {
        policy::class(self.0) == Class::Terminate
    }
}

impl From<i32> for Sig {
    fn from(n: i32) -> Self {
        Sig(n)
    }
}

impl fmt::Display for Sig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Signal::try_from(self.0) {
            Ok(known) => f.write_str(known.as_str()),
            Err(_) if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&self.0) => {
                write!(f, "SIGRTMIN+{}", self.0 - libc::SIGRTMIN())
            }
            Err(_) => write!(f, "signal {}", self.0),
        }
    }
}

/// What a signal read by the gate means now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// While waiting: stop waiting and end with this signal.
    Terminate(Sig),
    /// While supervising: pass it on to the app.
    Forward(Sig),
    /// While supervising: the child exited, stopped or continued.
    ChildChanged,
}

/// The blocked signals of the current phase, read through a signalfd.
pub struct Watcher {
    fd: SignalFd,
    phase: Phase,
    inherited: Inherited,
}

impl Watcher {
    /// Blocks the signals of `phase` and opens a signalfd for them.
    pub fn new(phase: Phase, inherited: &Inherited) -> Result<Self, Error> {
        // The fd is close-on-exec: the app must not inherit anything the gate opened.
        let fd = SignalFd::with_flags(
            &SigSet::empty(),
            SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK,
        )
        .map_err(|e| Error::os("cannot create a signalfd", e))?;
        let mut watcher = Watcher {
            fd,
            phase,
            inherited: *inherited,
        };
        watcher.enter(phase)?;
        Ok(watcher)
    }

    /// The one place the policy changes phase. Phases only widen the blocked
    /// set: block first, then widen the signalfd, so nothing arriving in
    /// between is delivered with its default action.
    pub fn enter(&mut self, phase: Phase) -> Result<(), Error> {
        let (blocked, read) = policy::sets(phase, &self.inherited);
        // SAFETY: SIG_BLOCK with an initialised set only adds to the mask.
        if unsafe { libc::sigprocmask(libc::SIG_BLOCK, &blocked, std::ptr::null_mut()) } != 0 {
            return Err(Error::os(
                "cannot block signals",
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: `read` was built with sigemptyset/sigaddset.
        let read = unsafe { SigSet::from_sigset_t_unchecked(read) };
        self.fd
            .set_mask(&read)
            .map_err(|e| Error::os("cannot update the signalfd", e))?;
        self.phase = phase;
        Ok(())
    }

    /// The event of a signal already pending, without waiting.
    pub fn pending(&self) -> Option<Event> {
        loop {
            // Non-blocking: `None` both when nothing is pending and on a read
            // error, which for a signalfd of our own can only be EAGAIN.
            let info = self.fd.read_signal().ok()??;
            if let Some(event) = self.event(&info) {
                return Some(event);
            }
        }
    }

    fn event(&self, info: &siginfo) -> Option<Event> {
        let n = info.ssi_signo as i32;
        // The gate ignores SIGPIPE for its own writes (`ignore_sigpipe`), but a
        // blocked signal is queued even when ignored: one the gate raised
        // itself is dropped here; one sent by someone else is for the app.
        if n == libc::SIGPIPE && info.ssi_pid == std::process::id() {
            return None;
        }
        let sig = Sig(n);
        Some(match (self.phase, policy::class(n)) {
            (Phase::Supervising, Class::Child) => Event::ChildChanged,
            (Phase::Supervising, _) => Event::Forward(sig),
            _ => Event::Terminate(sig),
        })
    }

    /// Registers the signalfd with the event loop (needs a running runtime).
    pub fn into_async(self) -> Result<Signals, Error> {
        // SAFETY: the Watcher owns its signalfd for its whole life and
        // `as_raw_fd` always returns that same fd.
        unsafe { AsyncFd::register_with_interest(self, Interest::READABLE) }
            .map(Signals)
            .map_err(|e| Error::os("cannot watch the signalfd", e))
    }
}

impl AsRawFd for Watcher {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.fd.as_raw_fd()
    }
}

/// The watcher inside the event loop.
pub struct Signals(AsyncFd<Watcher>);

impl Signals {
    /// The next event.
    pub async fn recv(&self) -> Result<Event, Error> {
        loop {
            let mut guard = self
                .0
                .readable()
                .await
                .map_err(|e| Error::os("cannot wait for signals", e))?;
            if let Some(event) = self.0.get_ref().pending() {
                return Ok(event);
            }
            guard.clear_ready();
        }
    }

    pub fn pending(&self) -> Option<Event> {
        self.0.get_ref().pending()
    }

    /// See `Watcher::enter`.
    pub fn enter(&mut self, phase: Phase) -> Result<(), Error> {
        self.0.get_mut().enter(phase)
    }

    pub fn inherited(&self) -> &Inherited {
        &self.0.get_ref().inherited
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(Sig(libc::SIGTERM).to_string(), "SIGTERM");
        assert_eq!(Sig(libc::SIGRTMIN() + 3).to_string(), "SIGRTMIN+3");
    }
}
