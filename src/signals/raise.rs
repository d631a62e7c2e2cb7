//! The gate acting on itself with a signal: stopping as its app stopped (job
//! control), and dying by the signal that killed the app (Cracauer's rule).

use super::{
    Sig,
    inherited::set_disposition,
    sigset::{add, contains, empty_set},
};

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
