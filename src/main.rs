//! linkerd-await: wait for the service-mesh proxy to be ready, then become the app.
//!
//! ```text
//! capture signal state ─► config ─► wait for readiness ─► hand off ─► (supervise) shut proxy down ─► exit code
//! ```

// Rust's runtime would set SIGPIPE to "ignore" before `main` and lose what
// the parent gave us; with our own C `main` the signal state is captured
// untouched (see `signals::Inherited`).
#![cfg_attr(not(test), no_main)]
// The unit-test build has no C `main`, so the phases below are unused there.
#![cfg_attr(test, allow(dead_code))]

mod cli;
mod config;
mod duration;
mod error;
mod exec;
mod exit_code;
mod logging;
mod probe;
mod shutdown;
mod signals;
mod supervise;
mod terminal;
mod wait;

use std::ffi::OsString;

use tracing::{debug, error, info, warn};

use crate::{
    config::{Config, Handoff, Loaded, OnTimeout, Shutdown},
    duration::human,
    error::Error,
    exit_code::Outcome,
    signals::{Event, Inherited, Phase, Signals, Watcher},
    wait::Waited,
};

/// The C entry point (no Rust runtime prologue); the test harness brings its own.
#[cfg(not(test))]
mod entry {
    use std::{
        ffi::{CStr, OsString, c_char, c_int},
        os::unix::ffi::OsStringExt,
    };

    use crate::signals::{self, Inherited, Phase, Watcher};

    /// SAFETY (of `no_mangle`): this is the only `main` symbol in the binary
    /// (`#![no_main]` removes Rust's), with the C signature libc calls.
    #[unsafe(no_mangle)]
    pub extern "C" fn main(argc: c_int, argv: *const *const c_char) -> c_int {
        // First, before anything can change it: the signal state we were given.
        let inherited = Inherited::capture();
        // Then block the termination signals at once: from here on a `docker
        // stop` is queued for the wait loop, even when we are PID 1.
        let watcher = Watcher::new(Phase::Waiting, &inherited);
        signals::ignore_sigpipe();
        // SAFETY: the C runtime passes `argc` valid NUL-terminated strings.
        let argv = unsafe { args(argc, argv) };
        let outcome = crate::run(argv, inherited, watcher);
        c_int::from(crate::exit_code::finish(outcome))
    }

    /// argv as given, byte for byte (std's `args_os` is not filled in
    /// without Rust's `main` on every libc).
    unsafe fn args(argc: c_int, argv: *const *const c_char) -> Vec<OsString> {
        (0..argc.max(0) as usize)
            // SAFETY: the caller guarantees `argv[0..argc]` are valid C strings.
            .map(|i| unsafe { CStr::from_ptr(*argv.add(i)) })
            .map(|arg| OsString::from_vec(arg.to_bytes().to_vec()))
            .collect()
    }
}

fn run(argv: Vec<OsString>, inherited: Inherited, watcher: Result<Watcher, Error>) -> Outcome {
    let command = config::command();
    // Decided before parsing, so that a usage error comes out in the log
    // format the user asked for (one JSON object per line, say) too.
    let format = config::log_format(&command, &argv);
    let config = match config::load(command, argv) {
        Ok(Loaded::Config(config)) => config,
        // --help and --version: plain text on stdout, with code 0.
        Ok(Loaded::Clap(message)) if !message.use_stderr() => {
            let _ = message.print();
            return Outcome::Ready;
        }
        Ok(Loaded::Clap(message)) => {
            logging::report_early(format, logging::Early::Usage(&message));
            return Outcome::Usage;
        }
        Err(e) => {
            logging::report_early(format, logging::Early::Config(&e));
            return e.outcome();
        }
    };
    if let Err(e) = logging::init(&config.log) {
        logging::report_early(config.log.format, logging::Early::Config(&e));
        return e.outcome();
    }
    phases(*config, &inherited, watcher).unwrap_or_else(|e| {
        error!("{e}");
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
    if matches!(config.handoff, Handoff::Supervise(..)) {
        // Signals meant for the app that arrive while we wait are kept for it.
        watcher.enter(Phase::WaitingToSupervise)?;
    }
    runtime.block_on(async {
        let mut signals = watcher.into_async()?;
        let client = probe::http_client()?;

        // Phase 1: wait for readiness.
        if let Some(reason) = &config.disabled {
            debug!("not waiting for the proxy: {reason}");
        } else if let Some(outcome) = wait_for_proxy(&config, client.clone(), &signals).await? {
            if let (Outcome::TimedOut, Handoff::Supervise(_, shutdown)) = (outcome, &config.handoff)
            {
                // A Job whose proxy never became ready must still complete.
                shut_proxy_down(&client, shutdown, false).await;
            }
            return Ok(outcome);
        }
        // A signal that came after the last look at the signalfd still came
        // before the app started: honour it rather than start an app that is
        // already being stopped.
        if let Some(Event::Terminate(sig)) = signals.pending() {
            info!("received {sig} before starting the app; exiting");
            return Ok(Outcome::Signalled(sig.number()));
        }

        // Phase 2: hand off.
        match config.handoff {
            Handoff::Exit => Ok(Outcome::Ready),
            Handoff::Exec(argv) => {
                info!("starting {}", argv[0].to_string_lossy());
                // exec from inside the event loop: nothing needs tearing down,
                // every fd the gate opened is close-on-exec.
                let e = exec::exec(&argv, inherited);
                error!("cannot run '{}': {}", argv[0].to_string_lossy(), e.source);
                Ok(Outcome::ExecFailed(e.failure))
            }
            Handoff::Supervise(argv, shutdown) => {
                info!("starting {} and supervising it", argv[0].to_string_lossy());
                let (outcome, succeeded) = match supervise::run(&argv, &mut signals).await? {
                    Ok(end) => {
                        info!("the app {end}");
                        (end.outcome(), end.succeeded())
                    }
                    Err(e) => {
                        error!("cannot run '{}': {}", argv[0].to_string_lossy(), e.source);
                        (Outcome::ExecFailed(e.failure), false)
                    }
                };
                // Phase 3: let the pod complete.
                shut_proxy_down(&client, &shutdown, succeeded).await;
                Ok(outcome)
            }
        }
    })
}

/// Asks the proxy to shut down, unless the run failed and the user wants a
/// failed pod kept for inspection.
async fn shut_proxy_down(client: &reqwest::Client, shutdown: &Shutdown, succeeded: bool) {
    if succeeded || shutdown.on_failure {
        shutdown::request(client, &shutdown.urls, shutdown.timeout).await;
    } else {
        info!("leaving the proxy running for inspection (--shutdown-on-failure=false)");
    }
}

/// Waits; `Some(outcome)` when the gate must stop here instead of handing off.
async fn wait_for_proxy(
    config: &Config,
    client: reqwest::Client,
    signals: &Signals,
) -> Result<Option<Outcome>, Error> {
    let probe = probe::Probe::new(client, config.ready_url.clone(), config.attempt_timeout);
    info!(
        "waiting for the proxy at {}{}",
        probe.url(),
        config
            .timeout
            .map_or_else(String::new, |t| format!(" (timeout {})", human(t)))
    );
    match wait::until_ready(&probe, &config.backoff, config.timeout, signals).await? {
        Waited::Ready { elapsed, checks } => {
            info!(
                "proxy ready after {}, {}",
                human(elapsed),
                wait::checks(checks)
            );
            Ok(None)
        }
        Waited::Signalled(sig) => {
            info!("received {sig} while waiting for the proxy; exiting without starting the app");
            Ok(Some(Outcome::Signalled(sig.number())))
        }
        Waited::TimedOut {
            elapsed,
            checks,
            last,
        } => {
            let last = last.map_or_else(|| "no check finished".to_string(), |r| r.to_string());
            let summary = format!(
                "proxy at {} not ready after {} ({}, last: {last})",
                probe.url(),
                human(elapsed),
                wait::checks(checks)
            );
            match config.on_timeout {
                OnTimeout::Fail => {
                    error!(
                        "{summary}; not starting the app. Check the proxy's logs, or raise --timeout"
                    );
                    Ok(Some(Outcome::TimedOut))
                }
                OnTimeout::Proceed => {
                    warn!("{summary}; starting the app anyway (--timeout-fatal=false)");
                    Ok(None)
                }
            }
        }
    }
}
