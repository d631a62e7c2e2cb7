//! linkerd-await: wait for the service-mesh proxy to be ready, then become the app.
//!
//! ```text
//! capture signal state ─► config ─► wait for readiness ─► hand off ─► (supervise) shut proxy down ─► exit code
//! ```
//!
//! `ARCHITECTURE.md` maps each step to its module.

// The gate is this library and a `main.rs` that only declares the C `main`
// symbol and calls `entry::main`: the library is how the xtask reads the
// command-line definition (`command()`) for completions and the man page,
// without them being compiled into the gate.
// The unit-test build has no C entry point, so the phases below are unused there.
#![cfg_attr(test, allow(dead_code))]

// One folder per phase. ARCHITECTURE.md lists them bottom layer first (report,
// config, signals, wait, shutdown, handoff, install): each uses only those
// listed before it.
mod config;
mod handoff;
mod install;
mod random;
mod report;
mod shutdown;
mod signals;
mod stack;
mod wait;

use std::ffi::OsString;

use tracing::{error, info};

use crate::{
    config::{Config, Handoff, Loaded},
    handoff::{exec, supervise},
    report::{error::Error, exit_code::Outcome, logging, termination_log},
    signals::{Inherited, Phase, Watcher},
    wait::{Verdict, http},
};

/// What `--version` prints after the name: `0.4.0 (abc1234
/// x86_64-unknown-linux-musl)`, the commit and target set by `build.rs`
/// ("unknown commit" outside a git checkout). Just the crate's version if the
/// sources were compiled without `build.rs`.
const VERSION: &str = match option_env!("LINKERD_AWAIT_VERSION") {
    Some(version) => version,
    None => env!("CARGO_PKG_VERSION"),
};

/// The command line's definition, as `--help` shows it (each option with its
/// `LINKERD_AWAIT_*` variable): what `cargo xtask dist` generates the shell
/// completions and the man page from, so they never drift from the gate.
pub fn command() -> clap::Command {
    <config::cli::Args as clap::CommandFactory>::command()
}

/// The body of the C entry point (no Rust runtime prologue), which `main.rs`
/// declares; the test harness brings its own.
#[cfg(not(test))]
pub mod entry {
    use std::{
        ffi::{CStr, OsString, c_char, c_int},
        os::unix::ffi::OsStringExt,
    };

    use crate::signals::{self, Inherited, Phase, Watcher};

    /// The whole life of the gate, called first thing by the C `main`.
    ///
    /// # Safety
    ///
    /// `argc` and `argv` must be what the C runtime passed to `main`:
    /// `argv[0..argc]` valid NUL-terminated strings. Call it once, before
    /// anything else has changed the process's signal state.
    pub unsafe fn main(argc: c_int, argv: *const *const c_char) -> c_int {
        // First, before anything can change it: the signal state we were given.
        let inherited = Inherited::capture();
        // Then block the termination signals at once: from here on a `docker
        // stop` is queued for the wait loop, even when we are PID 1.
        let watcher = Watcher::new(Phase::Waiting, &inherited);
        signals::ignore_sigpipe();
        // SAFETY: the caller passes what the C runtime gave `main`.
        let argv = unsafe { args(argc, argv) };
        let outcome = crate::run(argv, inherited, watcher);
        // A signal death is passed on as one (Cracauer's rule: a shell stops
        // its loop on Ctrl-C only if the command died *by* SIGINT, not if it
        // exited 130); `$?` still reads 128+n. As PID 1 the kernel ignores a
        // self-sent signal, so the code is returned. `die_by` returns only
        // if this signal does not end a process by default.
        if let Some(sig) = outcome.signal().filter(|_| std::process::id() != 1) {
            signals::die_by(sig.into());
        }
        c_int::from(outcome.code())
    }

    /// argv as given, byte for byte (std's `args_os` is not filled in
    /// without Rust's `main` on every libc).
    ///
    /// SAFETY: `argv[0..argc]` must be valid NUL-terminated C strings.
    unsafe fn args(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
        (0..argc.max(0) as usize)
            // SAFETY: the caller guarantees `argv[0..argc]` are valid C strings.
            .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) })
            .map(|arg| OsString::from_vec(arg.to_bytes().to_vec()))
            .collect()
    }
}

/// config → wait → hand off → (supervise) shut down; returns how it ended.
/// Each failure of the gate's own is logged and written to the termination log.
fn run(argv: Vec<OsString>, inherited: Inherited, watcher: Result<Watcher, Error>) -> Outcome {
    let config = match config::load(&argv) {
        Ok(Loaded::Config(config)) => config,
        // --help and --version: plain text on stdout, with code 0.
        Ok(Loaded::Info(message)) => {
            let _ = message.print();
            return Outcome::Ready;
        }
        Err(rejected) => {
            config::rejected_termination_log(&argv).append(&termination_log::rejected(&rejected));
            return rejected.report();
        }
    };
    termination_log::set(config.termination_log.clone());
    if let Err(rejected) = logging::init(&config.log) {
        termination_log::append(&termination_log::rejected(&rejected));
        return rejected.report();
    }
    for note in &config.notes {
        tracing::debug!("{note}");
    }
    // Reading the command line took ~50 KiB of stack that nothing needs now.
    stack::release_unused();
    phases(*config, &inherited, watcher).unwrap_or_else(|e| {
        error!("{e}");
        termination_log::append(&e.to_string());
        e.outcome()
    })
}

fn phases(
    config: Config,
    inherited: &Inherited,
    watcher: Result<Watcher, Error>,
) -> Result<Outcome, Error> {
    // One thread: the gate only ever waits on a socket, a timer and a signalfd.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Error::os("cannot start the event loop", e))?;
    let mut watcher = watcher?;
    if let Handoff::Supervise(..) = config.handoff {
        // Signals meant for the app that arrive while we wait are kept for it.
        watcher.enter(Phase::WaitingToSupervise)?;
    }
    let ended = runtime.block_on(async {
        let mut signals = watcher.into_async()?;
        // --install: no wait and no network; a termination signal ends the copy.
        if let Some(dir) = &config.install {
            return install::install(dir, wait::Stop::next(&signals)).await;
        }
        let client = http::client(config.attempt_timeout)?;
        // --shutdown-now: no wait and no app; the answers decide the exit
        // code. A termination signal ends it at once, as it ends a wait.
        if let Handoff::ShutdownNow(shutdown) = &config.handoff {
            return tokio::select! {
                biased;
                sig = wait::Stop::next(&signals) => {
                    let sig = sig?;
                    info!("received {sig} while shutting the proxy down; exiting");
                    Ok(Outcome::Signalled(sig.number()))
                }
                report = shutdown::request(&client, shutdown) => Ok(report.outcome()),
            };
        }
        // Phase 1: wait for readiness.
        let waited = wait::run(&config, client.clone(), &signals).await?;
        // Phase 2: hand off; with --shutdown, phase 3: shut the proxy down.
        match (waited, config.handoff) {
            (waited, Handoff::Supervise(command, shutdown)) => {
                supervise::run(waited, &command, &shutdown, &client, &mut signals).await
            }
            (Verdict::Stop(outcome), _) => Ok(outcome),
            (Verdict::Go, Handoff::Exit) => Ok(Outcome::Ready),
            (Verdict::GoAnyway, Handoff::Exit) => Ok(Outcome::NotReadyNotFatal),
            (Verdict::Go | Verdict::GoAnyway, Handoff::Exec(command)) => {
                Ok(exec::exec(&command, inherited))
            }
            // Handled above, before any wait.
            (Verdict::Go | Verdict::GoAnyway, Handoff::ShutdownNow(_)) => Ok(Outcome::Ready),
        }
    });
    // Without waiting for the threads of blocking work that a signal or a
    // deadline abandoned (a name lookup that the DNS server never answers,
    // a copy to slow storage): dropping the runtime would wait for them, and
    // no bound the gate promises would hold. The process ends right after.
    runtime.shutdown_background();
    ended
}
