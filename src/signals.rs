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
//! - What a signal means is data: [`class`] sorts every signal once, and
//!   [`action`] says, for each class and phase of the gate's life, whether it
//!   is left alone, held for the app, or read. The blocked set, the signalfd
//!   set and the events of [`Signals::recv`] are all derived from it.

use std::{fmt, os::fd::AsRawFd};

use nix::sys::{
    signal::{SigSet, Signal},
    signalfd::{SfdFlags, SignalFd, siginfo},
};
use tokio::io::{Interest, unix::AsyncFd};

use crate::error::Error;

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
        class(self.0) == Class::Terminate
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

/// What a signal is about, as tini sorts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// "Stop": ends the wait; forwarded once the app runs.
    Terminate,
    /// Meant for the app: everything a user or runtime sends on purpose.
    Forward,
    /// SIGCHLD: about the gate's own child.
    Child,
    /// About the gate itself, never forwarded: the synchronous faults
    /// (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS), the
    /// gate's own terminal access (SIGTTIN, SIGTTOU), the uncatchable
    /// SIGKILL/SIGSTOP, and the numbers the C library reserves for itself.
    Own,
}

fn class(n: i32) -> Class {
    match n {
        libc::SIGTERM | libc::SIGINT | libc::SIGHUP | libc::SIGQUIT => Class::Terminate,
        libc::SIGCHLD => Class::Child,
        libc::SIGSEGV
        | libc::SIGBUS
        | libc::SIGFPE
        | libc::SIGILL
        | libc::SIGABRT
        | libc::SIGTRAP
        | libc::SIGSYS
        | libc::SIGTTIN
        | libc::SIGTTOU
        | libc::SIGKILL
        | libc::SIGSTOP => Class::Own,
        1..=31 => Class::Forward,
        // 32 to SIGRTMIN-1 belong to the C library (thread cancellation, setxid).
        n if (libc::SIGRTMIN()..=libc::SIGRTMAX()).contains(&n) => Class::Forward,
        _ => Class::Own,
    }
}

/// Every signal number the kernel knows (1..=64 on Linux).
fn all_signals() -> impl Iterator<Item = i32> {
    1..=libc::SIGRTMAX()
}

/// The phase of the gate's life, which decides what a signal means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for readiness, to exec the app or just exit afterwards.
    Waiting,
    /// Waiting for readiness, to supervise the app afterwards.
    WaitingToSupervise,
    /// The app runs as the gate's child.
    Supervising,
}

/// What the gate does with a signal in a phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    /// Not blocked, not read: the inherited disposition applies.
    Leave,
    /// Blocked but not read yet: stays pending for a later phase (or for the
    /// app, across exec).
    Hold,
    /// Blocked and read from the signalfd.
    Read,
}

/// The policy table.
///
/// | class     | Waiting | WaitingToSupervise | Supervising |
/// |-----------|---------|--------------------|-------------|
/// | Terminate | Read    | Read               | Read        |
/// | Forward   | Leave   | Hold               | Read        |
/// | Child     | Leave   | Leave              | Read        |
/// | Own       | Leave   | Leave              | Leave       |
///
/// Leaving a Forward signal alone while waiting to exec is what a direct
/// start would do; holding it while waiting to supervise keeps it for the
/// app instead of letting its default action kill the gate (and orphan the
/// Job's proxy).
fn action(class: Class, phase: Phase) -> Action {
    use Action::*;
    match (class, phase) {
        (Class::Terminate, _) => Read,
        (Class::Forward, Phase::Waiting) => Leave,
        (Class::Forward, Phase::WaitingToSupervise) => Hold,
        (Class::Forward, Phase::Supervising) => Read,
        (Class::Child, Phase::Supervising) => Read,
        (Class::Child, _) => Leave,
        (Class::Own, _) => Leave,
    }
}

/// The table adjusted for what the parent chose, for one signal.
fn effective_action(n: i32, phase: Phase, inherited: &Inherited) -> Action {
    let class = class(n);
    match action(class, phase) {
        // A signal the parent ignored is left ignored, as with `nohup`: the
        // app inherits "ignore" and would not react either. SIGCHLD is the
        // exception: the gate must learn how its child ended.
        Action::Read | Action::Hold if class != Class::Child && inherited.is_ignored(n) => {
            Action::Leave
        }
        // A signal the parent blocked stays pending for the app, as it would
        // for a direct start; it must not end the wait.
        Action::Read if phase != Phase::Supervising && inherited.is_blocked(n) => Action::Hold,
        other => other,
    }
}

/// The signals blocked (`Hold` or `Read`) and read (`Read`) in a phase.
fn sets(phase: Phase, inherited: &Inherited) -> (libc::sigset_t, libc::sigset_t) {
    let mut blocked = empty_set();
    let mut read = empty_set();
    for n in all_signals() {
        match effective_action(n, phase, inherited) {
            Action::Leave => {}
            Action::Hold => add(&mut blocked, n),
            Action::Read => {
                add(&mut blocked, n);
                add(&mut read, n);
            }
        }
    }
    (blocked, read)
}

fn empty_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set it is given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        set
    }
}

fn add(set: &mut libc::sigset_t, n: i32) {
    // SAFETY: `set` is initialised. An invalid number only makes sigaddset
    // fail with EINVAL, and `class` never yields one.
    unsafe {
        libc::sigaddset(set, n);
    }
}

fn contains(set: &libc::sigset_t, n: i32) -> bool {
    // SAFETY: `set` is initialised; sigismember only reads it.
    unsafe { libc::sigismember(set, n) == 1 }
}

/// The only dispositions the gate ever changes for longer than an instant:
/// SIGPIPE (ignored while it runs) and SIGCHLD (set to default to be told
/// about its child). It installs no handler anywhere, so every other
/// disposition is still the inherited one and can be read when needed: that
/// keeps ~60 `sigaction` calls off the ready path (bench/EXPERIMENTS.md).
const CHANGED: [i32; 2] = [libc::SIGPIPE, libc::SIGCHLD];

/// The signal mask the gate was started with, and the inherited dispositions
/// of the signals it changes.
///
/// Handlers do not survive exec, so "caught" needs no record: an inherited
/// disposition is either "ignore" (kept across exec) or "default".
#[derive(Clone, Copy)]
pub struct Inherited {
    mask: libc::sigset_t,
    /// Bit `n - 1` set: signal `n` (one of `CHANGED`) was inherited as ignored.
    ignored: u64,
}

impl Inherited {
    /// Reads the current state. Call it before anything can change it: the
    /// gate uses `#![no_main]` so Rust's runtime has not yet set SIGPIPE to
    /// "ignore", which would hide the parent's choice.
    pub fn capture() -> Self {
        let mut mask = empty_set();
        // SAFETY: a query only (null new set) writes into `mask`; it cannot
        // fail with a valid `how` and pointers.
        unsafe {
            libc::sigprocmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask);
        }
        let mut ignored = 0u64;
        for sig in CHANGED {
            if disposition_is_ignore(sig) {
                ignored |= 1 << (sig - 1);
            }
        }
        Inherited { mask, ignored }
    }

    /// Whether the parent set signal `n` to "ignore".
    pub fn is_ignored(&self, n: i32) -> bool {
        if CHANGED.contains(&n) {
            self.ignored & (1 << (n - 1)) != 0
        } else {
            // Never changed by the gate, so the current disposition is the inherited one.
            disposition_is_ignore(n)
        }
    }

    /// Whether the parent blocked signal `n`.
    pub fn is_blocked(&self, n: i32) -> bool {
        contains(&self.mask, n)
    }

    /// Puts back the dispositions the gate changed and the mask, exactly as inherited.
    ///
    /// Only async-signal-safe calls and no allocation: this also runs in the
    /// child between fork and exec.
    pub fn restore(&self) {
        for sig in CHANGED {
            let ignored = self.ignored & (1 << (sig - 1)) != 0;
            set_disposition(
                sig,
                if ignored {
                    libc::SIG_IGN
                } else {
                    libc::SIG_DFL
                },
            );
        }
        // SAFETY: setting a fully initialised mask cannot fail.
        unsafe {
            libc::sigprocmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut());
        }
    }
}

fn disposition_is_ignore(n: i32) -> bool {
    // SAFETY: a query (null new action) only writes into the zeroed `old`.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(n, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Sets SIG_DFL or SIG_IGN (never a handler). Async-signal-safe.
fn set_disposition(n: i32, handler: libc::sighandler_t) {
    // SAFETY: SIG_DFL/SIG_IGN install no code. It fails only with EINVAL for
    // SIGKILL/SIGSTOP or an invalid number, which callers never pass.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(n, &action, std::ptr::null_mut());
    }
}

/// While the gate runs, a write to a closed stderr must fail with EPIPE
/// rather than kill the gate before the app even starts (Rust's runtime
/// does the same; `Inherited::restore` undoes it for the app).
pub fn ignore_sigpipe() {
    set_disposition(libc::SIGPIPE, libc::SIG_IGN);
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
        let (blocked, read) = sets(phase, &self.inherited);
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
        Some(match (self.phase, class(n)) {
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

/// Stops the gate with `sig` the way the app was stopped (job control: the
/// shell sees its job stop), and returns once something continued it.
///
/// Like sudo: the stop signal is raised with its default action and
/// unblocked just for this; a SIGCONT that continued the gate is consumed
/// here, because the caller continues the app itself.
pub fn stop_self(sig: Sig) {
    let n = sig.number();
    // SAFETY: querying and then setting SIG_DFL installs no code; the old
    // disposition is put back below. kill/sigprocmask/sigtimedwait get valid
    // arguments. SIGSTOP cannot have its disposition changed (EINVAL, harmless).
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(n, std::ptr::null(), &mut old);
        set_disposition(n, libc::SIG_DFL);
        let mut only = empty_set();
        add(&mut only, n);
        let mut previous = empty_set();
        // Queued first (it is blocked in the gate), then unblocked: the
        // kernel delivers it on return from sigprocmask and the gate stops
        // there. In an orphaned process group the kernel discards the
        // terminal stop signals instead: the gate then simply goes on.
        libc::kill(libc::getpid(), n);
        libc::sigprocmask(libc::SIG_UNBLOCK, &only, &mut previous);
        libc::sigprocmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
        libc::sigaction(n, &old, std::ptr::null_mut());

        let mut cont = empty_set();
        add(&mut cont, libc::SIGCONT);
        if contains(&previous, libc::SIGCONT) {
            let zero = libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            libc::sigtimedwait(&cont, std::ptr::null_mut(), &zero);
        }
    }
}

/// Ends the gate by `sig`, so that its parent sees "killed by signal n"
/// (Cracauer's rule: a shell stops its loop on Ctrl-C only then). Returns
/// if the signal does not end the process (then the caller exits 128+n).
///
/// Not for PID 1: the kernel ignores a signal without handler sent to a
/// namespace's init by itself.
pub fn die_by(sig: Sig) {
    let n = sig.number();
    // SAFETY: setrlimit/prctl/sigaction/sigprocmask/kill with valid
    // arguments; their failure only means the fallback exit code is used.
    unsafe {
        // The app's death already produced whatever core it was going to;
        // the gate's own SIGQUIT/SIGSEGV death must not dump the gate (as
        // coreutils `timeout` does).
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &zero);
        libc::prctl(libc::PR_SET_DUMPABLE, 0);
        set_disposition(n, libc::SIG_DFL);
        let mut only = empty_set();
        add(&mut only, n);
        libc::sigprocmask(libc::SIG_UNBLOCK, &only, std::ptr::null_mut());
        libc::kill(libc::getpid(), n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deny_list_is_never_forwarded() {
        for n in [
            libc::SIGCHLD,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
            libc::SIGABRT,
            libc::SIGTRAP,
            libc::SIGSYS,
            libc::SIGTTIN,
            libc::SIGTTOU,
            libc::SIGKILL,
            libc::SIGSTOP,
        ] {
            assert_ne!(class(n), Class::Forward, "{}", Sig(n));
            assert_ne!(class(n), Class::Terminate, "{}", Sig(n));
        }
    }

    #[test]
    fn everything_else_reaches_the_app_while_supervising() {
        let denied = 12;
        let forwarded = all_signals()
            .filter(|&n| matches!(class(n), Class::Forward | Class::Terminate))
            .count();
        let reserved = (libc::SIGRTMIN() - 32) as usize;
        assert_eq!(forwarded, 64 - denied - reserved);
        for n in [
            libc::SIGUSR1,
            libc::SIGPROF,
            libc::SIGXCPU,
            libc::SIGVTALRM,
            libc::SIGPIPE,
            libc::SIGRTMIN() + 3,
            libc::SIGRTMAX(),
        ] {
            assert_eq!(
                action(class(n), Phase::Supervising),
                Action::Read,
                "{}",
                Sig(n)
            );
        }
    }

    #[test]
    fn only_termination_signals_end_the_wait() {
        for n in all_signals() {
            let ends = action(class(n), Phase::Waiting) == Action::Read;
            assert_eq!(
                ends,
                [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT].contains(&n),
                "{}",
                Sig(n)
            );
            assert_eq!(
                action(class(n), Phase::WaitingToSupervise) == Action::Read,
                ends,
                "{}",
                Sig(n)
            );
        }
    }

    #[test]
    fn signals_for_the_app_are_held_while_waiting_to_supervise() {
        for n in all_signals().filter(|&n| class(n) == Class::Forward) {
            assert_eq!(action(class(n), Phase::WaitingToSupervise), Action::Hold);
            assert_eq!(action(class(n), Phase::Waiting), Action::Leave);
        }
    }

    #[test]
    fn phases_only_widen_the_blocked_set() {
        let inherited = Inherited::capture();
        let phases = [
            Phase::Waiting,
            Phase::WaitingToSupervise,
            Phase::Supervising,
        ];
        for pair in phases.windows(2) {
            let (before, _) = sets(pair[0], &inherited);
            let (after, _) = sets(pair[1], &inherited);
            for n in all_signals() {
                assert!(
                    !contains(&before, n) || contains(&after, n),
                    "{} unblocked by {:?}",
                    Sig(n),
                    pair[1]
                );
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(Sig(libc::SIGTERM).to_string(), "SIGTERM");
        assert_eq!(Sig(libc::SIGRTMIN() + 3).to_string(), "SIGRTMIN+3");
    }
}
