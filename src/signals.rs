//! Signal policy and the signal state inherited from the parent.
//!
//! Two rules drive everything here:
//! - The app must see exactly the signal state the gate was started with, so
//!   that state is captured first thing in `main` and restored just before
//!   exec (or in the child, before it execs).
//! - The gate never installs handlers. Signals it reacts to are blocked and
//!   read from a signalfd. A blocked signal is queued even for PID 1 (the
//!   kernel only drops signals that are unblocked and have no handler for a
//!   namespace's init), and a signal that arrives before the event loop runs
//!   is simply pending, not lost.

use std::os::fd::AsRawFd;

use nix::sys::{
    signal::{SigSet, SigmaskHow, Signal, sigprocmask},
    signalfd::{SfdFlags, SignalFd},
};
use tokio::io::{Interest, unix::AsyncFd};

use crate::error::Error;

/// Signals that end the wait for readiness: what `docker stop`, kubelet,
/// a terminal or a supervisor sends to mean "stop".
pub const TERMINATION: [Signal; 4] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
];

/// Signals a supervisor passes on to its child: everything a user or runtime
/// sends on purpose. Not SIGCHLD (it is about our own child), not the
/// synchronous faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP,
/// SIGSYS: they concern the gate itself), not SIGTTIN/SIGTTOU (they concern
/// the gate's own terminal access), and not SIGPIPE (the gate's own writes),
/// as tini decides.
pub const FORWARDED: [Signal; 12] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGALRM,
    Signal::SIGCONT,
    Signal::SIGTSTP,
    Signal::SIGPWR,
    Signal::SIGURG,
];

/// The only dispositions the gate ever changes: SIGPIPE (ignored while it
/// runs) and SIGCHLD (set to default to be notified of its child). It
/// installs no handler anywhere, so every other disposition is still the
/// inherited one at exec or fork, and needs neither recording nor restoring:
/// that keeps ~120 `sigaction` calls off the ready path (bench/EXPERIMENTS.md).
const CHANGED: [libc::c_int; 2] = [libc::SIGPIPE, libc::SIGCHLD];

/// Signals whose inherited disposition is recorded: the changed ones, and
/// those the gate reads or forwards (it leaves signals the parent ignored alone).
const RECORDED: [libc::c_int; 14] = [
    libc::SIGPIPE,
    libc::SIGCHLD,
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGALRM,
    libc::SIGCONT,
    libc::SIGTSTP,
    libc::SIGPWR,
    libc::SIGURG,
];

/// The signal mask and ignored dispositions the gate was started with.
///
/// Handlers do not survive exec, so "caught" needs no record: an inherited
/// disposition is either "ignore" (kept across exec) or "default".
#[derive(Clone, Copy)]
pub struct Inherited {
    mask: libc::sigset_t,
    /// Bit `n - 1` set: signal `n` was inherited as ignored.
    ignored: u64,
}

impl Inherited {
    /// Reads the current state. Call it before anything can change it: the
    /// gate uses `#![no_main]` so Rust's runtime has not yet set SIGPIPE to
    /// "ignore", which would hide the parent's choice.
    pub fn capture() -> Self {
        // SAFETY: querying the mask and dispositions only writes into the
        // zeroed out-parameters; both calls are async-signal-safe.
        unsafe {
            let mut mask: libc::sigset_t = std::mem::zeroed();
            libc::sigprocmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask);
            let mut ignored = 0u64;
            for sig in RECORDED {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, std::ptr::null(), &mut old) == 0
                    && old.sa_sigaction == libc::SIG_IGN
                {
                    ignored |= 1 << (sig - 1);
                }
            }
            Inherited { mask, ignored }
        }
    }

    pub fn is_ignored(&self, sig: Signal) -> bool {
        self.ignored & (1 << (sig as i32 - 1)) != 0
    }

    /// Puts back the dispositions the gate changed and the mask, exactly as inherited.
    ///
    /// Only async-signal-safe calls and no allocation: this also runs in the
    /// child between fork and exec.
    pub fn restore(&self) {
        // SAFETY: sigaction/sigprocmask with fully initialised arguments, on
        // signals that accept any disposition (so errors cannot occur).
        unsafe {
            for sig in CHANGED {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = if self.ignored & (1 << (sig - 1)) != 0 {
                    libc::SIG_IGN
                } else {
                    libc::SIG_DFL
                };
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(sig, &action, std::ptr::null_mut());
            }
            libc::sigprocmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut());
        }
    }
}

/// While the gate runs, a write to a closed stderr must fail with EPIPE
/// rather than kill the gate before the app even starts (Rust's runtime
/// does the same; `Inherited::restore` undoes it for the app).
pub fn ignore_sigpipe() {
    // SAFETY: setting SIG_IGN installs no code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// A set of blocked signals, read through a signalfd.
pub struct Watcher {
    fd: SignalFd,
    set: SigSet,
}

impl Watcher {
    /// Blocks `signals` and opens a signalfd for them. Signals inherited as
    /// ignored are left alone: the parent asked for them not to matter (as
    /// with `nohup`).
    pub fn block(signals: &[Signal], inherited: &Inherited) -> Result<Self, Error> {
        let set = SigSet::empty();
        // The fd is close-on-exec: the app must not inherit anything the gate opened.
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
            .map_err(|e| Error::os("cannot create a signalfd", e))?;
        let mut watcher = Watcher { fd, set };
        watcher.add(signals, inherited)?;
        Ok(watcher)
    }

    /// Extends the set: block first, then widen the signalfd, so nothing
    /// arriving in between is delivered with its default action.
    pub fn add(&mut self, signals: &[Signal], inherited: &Inherited) -> Result<(), Error> {
        for &sig in signals {
            if sig == Signal::SIGCHLD || !inherited.is_ignored(sig) {
                self.set.add(sig);
            }
        }
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&self.set), None)
            .map_err(|e| Error::os("cannot block signals", e))?;
        self.fd
            .set_mask(&self.set)
            .map_err(|e| Error::os("cannot update the signalfd", e))
    }

    /// Blocks `signals` without reading them yet: they stay pending until a
    /// later `add` widens the signalfd (in supervise mode, to be forwarded to
    /// the app once it runs, instead of killing the gate while it waits).
    pub fn hold(&self, signals: &[Signal], inherited: &Inherited) -> Result<(), Error> {
        let mut set = SigSet::empty();
        for &sig in signals {
            if !inherited.is_ignored(sig) {
                set.add(sig);
            }
        }
        sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
            .map_err(|e| Error::os("cannot block signals", e))
    }

    /// A signal already pending, without waiting.
    pub fn pending(&self) -> Option<Signal> {
        read_one(&self.fd)
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
    /// The next signal.
    pub async fn recv(&self) -> Result<Signal, Error> {
        loop {
            let mut guard = self
                .0
                .readable()
                .await
                .map_err(|e| Error::os("cannot wait for signals", e))?;
            if let Some(sig) = self.0.get_ref().pending() {
                return Ok(sig);
            }
            guard.clear_ready();
        }
    }

    pub fn pending(&self) -> Option<Signal> {
        self.0.get_ref().pending()
    }

    /// See `Watcher::add`.
    pub fn add(&mut self, signals: &[Signal], inherited: &Inherited) -> Result<(), Error> {
        self.0.get_mut().add(signals, inherited)
    }
}

fn read_one(fd: &SignalFd) -> Option<Signal> {
    // Non-blocking: `None` both when nothing is pending and on a read error,
    // which for a signalfd of our own can only be EAGAIN.
    match fd.read_signal() {
        Ok(Some(info)) => Signal::try_from(info.ssi_signo as i32).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_watched_or_changed_signal_is_recorded() {
        for sig in TERMINATION.iter().chain(&FORWARDED) {
            assert!(RECORDED.contains(&(*sig as i32)), "{sig} is not recorded");
        }
        for sig in CHANGED {
            assert!(RECORDED.contains(&sig), "{sig} is not recorded");
        }
    }

    #[test]
    fn forwarded_excludes_what_concerns_the_gate() {
        for sig in [
            Signal::SIGCHLD,
            Signal::SIGSEGV,
            Signal::SIGBUS,
            Signal::SIGFPE,
            Signal::SIGILL,
            Signal::SIGABRT,
            Signal::SIGTRAP,
            Signal::SIGSYS,
            Signal::SIGTTIN,
            Signal::SIGTTOU,
            Signal::SIGPIPE,
            Signal::SIGKILL,
            Signal::SIGSTOP,
        ] {
            assert!(!FORWARDED.contains(&sig), "{sig} must not be forwarded");
        }
        for sig in TERMINATION {
            assert!(FORWARDED.contains(&sig), "{sig} must be forwarded");
        }
    }
}
