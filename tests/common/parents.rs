//! Parents with an unusual signal state. Ignored signals and the signal mask
//! survive exec, so a parent sets them up between fork and exec and the gate
//! starts with them, as under a shell with traps, `nohup`, or a supervisor.

use std::{os::unix::process::CommandExt, process::Command};

/// Makes the process that runs `cmd` start with SIGPIPE and SIGUSR1 ignored
/// and SIGUSR2 blocked, as an unusual parent (a shell with traps, nohup) would.
pub fn unusual_signal_parent(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            libc::signal(libc::SIGUSR1, libc::SIG_IGN);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGUSR2);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// Makes the process that runs `cmd` start with `sig` ignored (as `nohup`
/// does with SIGHUP).
pub fn ignoring_parent(cmd: &mut Command, sig: i32) {
    // SAFETY: signal(2) is async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(sig, libc::SIG_IGN);
            Ok(())
        });
    }
}

/// Makes the process that runs `cmd` start with `sig` blocked.
pub fn blocking_parent(cmd: &mut Command, sig: i32) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}
