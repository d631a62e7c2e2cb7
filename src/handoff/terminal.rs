//! The controlling terminal and its foreground process group, for `--shutdown`
//! under an interactive shell (`docker run -it`, a developer's terminal).
//!
//! The app runs in its own process group so that a terminal's Ctrl-C reaches
//! it once (from the terminal) instead of twice (terminal + our forward). A
//! process group only gets typed input, Ctrl-C and Ctrl-Z while it is the
//! terminal's foreground group, so the gate passes the foreground to the app
//! whenever it holds it itself, and takes it back when the app is gone.
//!
//! All calls here are plain libc on one fd, async-signal-safe where noted:
//! the child uses `take_foreground_in_child` between fork and exec.

use std::os::fd::RawFd;

use tracing::debug;

/// The controlling terminal, if the gate has one.
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    fd: RawFd,
}

impl Terminal {
    /// The controlling terminal: the first of stdin, stdout and stderr that
    /// is it (`app < /dev/null` still has the terminal on stdout), else
    /// `/dev/tty`. `None` in a pod without a TTY, the usual case.
    pub fn controlling() -> Option<Terminal> {
        // tcgetpgrp succeeds only on the caller's controlling terminal
        // (ENOTTY for any other fd, terminal or not), so this also rejects a
        // terminal that belongs to another session.
        if let Some(fd) = [0, 1, 2]
            .into_iter()
            .find(|&fd| foreground_of(fd).is_some())
        {
            return Some(Terminal { fd });
        }
        // O_NOCTTY: never acquire a controlling terminal by opening one.
        // O_CLOEXEC: the app must not inherit anything the gate opened. The
        // fd lives as long as the gate (it is needed until the app is gone).
        // SAFETY: a NUL-terminated constant path.
        let fd = unsafe {
            libc::open(
                c"/dev/tty".as_ptr(),
                libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
            )
        };
        // ENXIO: no controlling terminal.
        (fd >= 0 && foreground_of(fd).is_some()).then_some(Terminal { fd })
    }

    /// True when the gate's process group is in the foreground: then it is
    /// the gate's to hand to the app. A gate started in the background
    /// (`gate -S app &`) must not steal the terminal from the shell.
    pub fn gate_in_foreground(&self) -> bool {
        // SAFETY: getpgrp cannot fail.
        foreground_of(self.fd) == Some(unsafe { libc::getpgrp() })
    }

    /// Makes `pgid` the foreground group; logs (debug) when it cannot.
    pub fn give_to(&self, pgid: libc::pid_t) {
        if let Err(e) = set_foreground(self.fd, pgid) {
            debug!("cannot make process group {pgid} the terminal's foreground: {e}");
        }
    }

    /// After the app ended: the gate's group takes the foreground back.
    /// Otherwise the terminal stays with the app's dead group, and whatever
    /// started the gate (a script in `docker run -it`, a shell without job
    /// control) could no longer read the terminal (EIO/SIGTTIN) nor be
    /// interrupted with Ctrl-C.
    pub fn take_back(&self) {
        // SAFETY: getpgrp cannot fail.
        self.give_to(unsafe { libc::getpgrp() });
    }

    /// In the child between fork and exec: make its own new process group
    /// the foreground one. Async-signal-safe, allocates nothing.
    pub fn take_foreground_in_child(&self) {
        // SAFETY: getpgrp cannot fail. A failure (the terminal went away)
        // leaves the app in the background, which is what a direct start in
        // that state would get too.
        let _ = set_foreground(self.fd, unsafe { libc::getpgrp() });
    }
}

fn foreground_of(fd: RawFd) -> Option<libc::pid_t> {
    // SAFETY: a query on an fd number; EBADF/ENOTTY are reported as -1.
    let pgid = unsafe { libc::tcgetpgrp(fd) };
    (pgid > 0).then_some(pgid)
}

/// tcsetpgrp with SIGTTOU blocked: a background group calling it is sent
/// SIGTTOU (default: stop) unless the caller blocks it, and blocking in the
/// calling thread is enough (the kernel checks the caller's mask).
/// Async-signal-safe.
fn set_foreground(fd: RawFd, pgid: libc::pid_t) -> std::io::Result<()> {
    // SAFETY: valid sets and fd number; the previous mask is put back.
    unsafe {
        let mut ttou: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut ttou);
        libc::sigaddset(&mut ttou, libc::SIGTTOU);
        let mut previous: libc::sigset_t = std::mem::zeroed();
        libc::pthread_sigmask(libc::SIG_BLOCK, &ttou, &mut previous);
        let rc = libc::tcsetpgrp(fd, pgid);
        // Read errno before anything else can change it.
        let result = if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        };
        libc::pthread_sigmask(libc::SIG_SETMASK, &previous, std::ptr::null_mut());
        result
    }
}
