//! The signal policy as data: which class each signal belongs to, and what
//! the gate does with each class in each phase of its life (tini's sorting).
//! Everything else about signals is derived from [`action`].

use super::{
    Inherited,
    sigset::{add, empty_set},
};

/// What a signal is about, as tini sorts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
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

pub fn class(n: i32) -> Class {
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
pub fn all_signals() -> impl Iterator<Item = i32> {
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
pub fn sets(phase: Phase, inherited: &Inherited) -> (libc::sigset_t, libc::sigset_t) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signals::{Sig, sigset::contains};

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
}
