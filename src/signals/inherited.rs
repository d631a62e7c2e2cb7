//! The signal state the gate was started with, captured before anything can
//! change it and restored exactly for the app.

use super::sigset::{contains, empty_set};

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
        // SAFETY: a query (null new set) only writes into `mask`, a valid
        // sigset_t of ours. sigprocmask(2) fails only with EFAULT (a bad
        // pointer) or EINVAL (a bad `how`), and neither can happen here, so
        // its return code carries no information; it is asserted in debug builds.
        let rc = unsafe { libc::sigprocmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask) };
        debug_assert_eq!(rc, 0, "sigprocmask query");
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
        // SAFETY: `self.mask` is a fully initialised sigset_t (from
        // `capture`); with a valid `how` and pointers sigprocmask cannot fail
        // (EFAULT/EINVAL only), and there is nothing to report in a child
        // between fork and exec anyway.
        unsafe {
            libc::sigprocmask(libc::SIG_SETMASK, &self.mask, std::ptr::null_mut());
        }
    }
}

/// Whether signal `n`'s current disposition is "ignore". sigaction(2) fails
/// only with EINVAL, for a number that is no signal; the return code is
/// checked, and such a number counts as "not ignored" (there is nothing to
/// keep ignored for the app).
fn disposition_is_ignore(n: i32) -> bool {
    // SAFETY: a query (null new action) only writes into the zeroed `old`, a
    // valid sigaction of ours.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        libc::sigaction(n, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_IGN
    }
}

/// Sets SIG_DFL or SIG_IGN (never a handler). Async-signal-safe.
pub fn set_disposition(n: i32, handler: libc::sighandler_t) {
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
