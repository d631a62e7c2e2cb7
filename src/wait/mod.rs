//! The wait phase: first the proxy, then every `--wait-for` target at once
//! (they are reached through the proxy), all under one `--timeout`; then
//! the verdict (hand off or stop, `--timeout-fatal`) and the lines that
//! tell the user.
//!
//! The loop (`until`) only sees two seams, [`Check`] (one attempt at a
//! target, from `checks`) and [`Stop`] (the next termination signal), so
//! its timing is unit-tested on tokio's paused clock with scripted checks
//! and signals (`wait/tests.rs`). When the progress lines come: `progress`.
//! The one HTTP client and the name lookups its checks use: `http`, `dns`;
//! calls that may hang (lookups, paths on a stuck mount), off the runtime's
//! thread: `detached`.

pub mod checks;
mod detached;
pub mod dns;
pub mod http;
mod progress;
#[cfg(test)]
mod tests;
mod until;

use tokio::time::Instant;
use tracing::{debug, error, info, warn};

pub use self::until::Stop;
use self::{
    checks::{Check, Dependency, http::HttpCheck},
    progress::checks,
    until::{Listener, Pending, Waited, until_ready},
};
use crate::{
    config::{Config, Handoff, OnTimeout, duration::human},
    report::{error::Error, exit_code::Outcome, termination_log},
    signals::{Event, Signals},
};

/// What the wait phase decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand off: everything is ready, or waiting is disabled.
    Go,
    /// Hand off although the timeout passed first (`--timeout-fatal=false`):
    /// the app starts anyway; without one, the gate exits 0 all the same
    /// (`Outcome::NotReadyNotFatal`).
    GoAnyway,
    /// Do not start the app; end with this outcome (timed out, signalled).
    Stop(Outcome),
}

/// The wait phase: the proxy unless waiting for it is disabled, then the
/// `--wait-for` targets; says whether to hand off.
pub async fn run(
    config: &Config,
    client: reqwest::Client,
    signals: &Signals,
) -> Result<Verdict, Error> {
    let started = Instant::now();
    let deadline = config.timeout.map(|t| started + t);
    // Before any waiting: a CA file that cannot be used will not become
    // usable by waiting. Nothing is read without a TLS target.
    checks::tls::prepare(&config.wait_for, config.ca_file.as_deref()).map_err(Error::Usage)?;
    // Set once a timeout passed with --timeout-fatal=false: what is left
    // is not waited for, and the hand-off says the wait did not succeed.
    let mut anyway = false;
    let within = config
        .timeout
        .map_or_else(String::new, |t| format!(" (timeout {})", human(t)));
    if let Some(reason) = &config.disabled {
        debug!("not waiting for the proxy: {reason}");
    } else {
        let proxy = [HttpCheck::new(
            client.clone(),
            config.ready_url.clone(),
            config.attempt_timeout,
        )];
        let url = proxy[0].describe();
        info!("waiting for the proxy at {url}{within}");
        let listener = Listener {
            ready: &|_, elapsed, n| info!("proxy ready after {}, {}", human(elapsed), checks(n)),
            progress: &|elapsed, pending| {
                for p in pending {
                    info!(
                        "still waiting for the proxy at {}: {} elapsed, {}, last: {}",
                        p.target,
                        human(elapsed),
                        checks(p.checks),
                        p.last
                            .as_ref()
                            .map_or_else(String::new, ToString::to_string)
                    );
                }
            },
        };
        let waited = until_ready(
            &proxy,
            &config.backoff,
            (started, deadline),
            signals,
            &listener,
        )
        .await?;
        match verdict(waited, Group::Proxy, started, config) {
            Verdict::Go => {}
            // The deadline has passed: no time is left for the targets.
            Verdict::GoAnyway => anyway = true,
            stop @ Verdict::Stop(_) => return Ok(stop),
        }
    }
    if !anyway && !config.wait_for.is_empty() {
        let targets: Vec<Dependency> = config
            .wait_for
            .iter()
            .map(|target| Dependency::new(target.clone(), &client, config.attempt_timeout))
            .collect::<Result<_, _>>()?;
        let names: Vec<String> = targets.iter().map(Check::describe).collect();
        let left = deadline.map_or_else(String::new, |at| {
            format!(
                " ({} of the timeout left)",
                human(at.saturating_duration_since(Instant::now()))
            )
        });
        info!("waiting for {}{left}", names.join(", "));
        let listener = Listener {
            ready: &|target, elapsed, n| {
                info!("{target} ready after {}, {}", human(elapsed), checks(n));
            },
            // Elapsed since the wait began, the proxy's part included, as
            // the timeout counts it.
            progress: &|_, pending| {
                info!(
                    "still waiting for {} of {} ({} elapsed): {}",
                    pending.len(),
                    dependencies(names.len()),
                    human(started.elapsed()),
                    listed(pending)
                );
            },
        };
        let waited = until_ready(
            &targets,
            &config.wait_for_backoff,
            (started, deadline),
            signals,
            &listener,
        )
        .await?;
        match verdict(waited, Group::Dependencies, started, config) {
            Verdict::Go => {}
            Verdict::GoAnyway => anyway = true,
            stop @ Verdict::Stop(_) => return Ok(stop),
        }
    }
    // A signal that came after the last look at the signalfd still came
    // before the app started: honour it rather than start an app that is
    // already being stopped.
    if let Some(Event::Terminate(sig)) = signals.pending() {
        info!("received {sig} before starting the app; exiting");
        return Ok(Verdict::Stop(Outcome::Signalled(sig.number())));
    }
    Ok(if anyway {
        Verdict::GoAnyway
    } else {
        Verdict::Go
    })
}

/// `postgres://db:5432: the database system is starting up (57P03) (12
/// checks); redis://cache:6379: connection refused (9 checks)`.
fn listed(pending: &[Pending]) -> String {
    pending
        .iter()
        .map(|p| {
            let last = p
                .last
                .as_ref()
                .map_or_else(|| "no check finished".to_string(), ToString::to_string);
            format!("{}: {last} ({})", p.target, checks(p.checks))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// "1 dependency", "3 dependencies".
fn dependencies(n: usize) -> String {
    if n == 1 {
        "1 dependency".to_string()
    } else {
        format!("{n} dependencies")
    }
}

/// What a wait was for: its lines say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Proxy,
    Dependencies,
}

/// How a wait ended, as a verdict, with the line that says so (a timeout
/// counts from `started`, the start of the whole wait). A timeout stops
/// the gate unless `--timeout-fatal=false`.
fn verdict(waited: Waited, group: Group, started: Instant, config: &Config) -> Verdict {
    match waited {
        Waited::Ready { .. } => Verdict::Go,
        Waited::Signalled(sig) => {
            let what = match group {
                Group::Proxy => "the proxy",
                Group::Dependencies => "dependencies",
            };
            info!("received {sig} while waiting for {what}; exiting without starting the app");
            Verdict::Stop(Outcome::Signalled(sig.number()))
        }
        Waited::TimedOut { pending, .. } => {
            let elapsed = started.elapsed();
            let (summary, advice) = match (group, pending.as_slice()) {
                (Group::Proxy, [proxy]) => (
                    format!(
                        "proxy at {} not ready after {} ({}, last: {})",
                        proxy.target,
                        human(elapsed),
                        checks(proxy.checks),
                        proxy
                            .last
                            .as_ref()
                            .map_or_else(|| "no check finished".to_string(), ToString::to_string)
                    ),
                    "Check the proxy's logs, or raise --timeout",
                ),
                (_, pending) => (
                    format!(
                        "{} not ready after {}: {}",
                        dependencies(pending.len()),
                        human(elapsed),
                        listed(pending)
                    ),
                    "Check that each is up and reachable through the proxy, or raise --timeout",
                ),
            };
            match (config.on_timeout, &config.handoff) {
                (OnTimeout::Fail, _) => {
                    let line = format!("{summary}; not starting the app. {advice}");
                    error!("{line}");
                    termination_log::append(&line);
                    Verdict::Stop(Outcome::TimedOut)
                }
                (OnTimeout::Proceed, Handoff::Exit) => {
                    warn!(
                        "{summary}; exiting {} anyway (--timeout-fatal=false; there is no command \
                         to start)",
                        Outcome::NotReadyNotFatal.code()
                    );
                    Verdict::GoAnyway
                }
                (OnTimeout::Proceed, _) => {
                    warn!("{summary}; starting the app anyway (--timeout-fatal=false)");
                    Verdict::GoAnyway
                }
            }
        }
    }
}
