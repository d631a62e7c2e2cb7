//! The wait phase: check, back off, repeat, until ready, the deadline, or a
//! termination signal, whichever comes first; then the verdict (hand off or
//! stop, `--timeout-fatal`) and the lines that tell the user.
//!
//! The loop only sees two seams, [`Check`] (one attempt at a target, from
//! `checks`) and [`Stop`] (the next termination signal), so its timing is
//! unit-tested on tokio's paused clock with scripted checks and signals
//! (`wait/tests.rs`). When the progress lines come: `progress`. The one HTTP
//! client and the name lookups its checks use: `http`, `dns`.

pub mod checks;
pub mod dns;
pub mod http;
mod progress;
#[cfg(test)]
mod tests;

use std::{future::Future, time::Duration};

use tokio::time::{Instant, sleep, sleep_until};
use tracing::{debug, error, info, warn};

use self::{
    checks::{Check, NotReady, proxy::ProxyCheck},
    progress::{Reports, checks},
};
use crate::{
    config::{Config, OnTimeout, backoff::Backoff, duration::human},
    report::{error::Error, exit_code::Outcome, termination_log},
    signals::{Event, Sig, Signals},
};

/// What the wait phase decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand off: the proxy is ready, waiting is disabled, or a timeout is
    /// not fatal (`--timeout-fatal=false`).
    Go,
    /// Do not start the app; end with this outcome (timed out, signalled).
    Stop(Outcome),
}

/// The wait phase: waits for the proxy unless waiting is disabled, and says
/// whether to hand off.
pub async fn for_proxy(
    config: &Config,
    client: reqwest::Client,
    signals: &Signals,
) -> Result<Verdict, Error> {
    if let Some(reason) = &config.disabled {
        debug!("not waiting for the proxy: {reason}");
    } else {
        let proxy = ProxyCheck::new(client, config.ready_url.clone(), config.attempt_timeout);
        info!(
            "waiting for the proxy at {}{}",
            proxy.describe(),
            config
                .timeout
                .map_or_else(String::new, |t| format!(" (timeout {})", human(t)))
        );
        let waited = until_ready(&proxy, &config.backoff, config.timeout, signals).await?;
        if let stop @ Verdict::Stop(_) = verdict(waited, &proxy.describe(), config.on_timeout) {
            return Ok(stop);
        }
    }
    // A signal that came after the last look at the signalfd still came
    // before the app started: honour it rather than start an app that is
    // already being stopped.
    if let Some(Event::Terminate(sig)) = signals.pending() {
        info!("received {sig} before starting the app; exiting");
        return Ok(Verdict::Stop(Outcome::Signalled(sig.number())));
    }
    Ok(Verdict::Go)
}

/// How the wait ended, as a verdict, with the line that says so. A timeout
/// stops the gate unless `--timeout-fatal=false`.
fn verdict(waited: Waited, url: &str, on_timeout: OnTimeout) -> Verdict {
    match waited {
        Waited::Ready { elapsed, checks } => {
            info!(
                "proxy ready after {}, {}",
                human(elapsed),
                self::checks(checks)
            );
            Verdict::Go
        }
        Waited::Signalled(sig) => {
            info!("received {sig} while waiting for the proxy; exiting without starting the app");
            Verdict::Stop(Outcome::Signalled(sig.number()))
        }
        Waited::TimedOut {
            elapsed,
            checks,
            last,
        } => {
            let last = last.map_or_else(|| "no check finished".to_string(), |r| r.to_string());
            let summary = format!(
                "proxy at {url} not ready after {} ({}, last: {last})",
                human(elapsed),
                self::checks(checks)
            );
            match on_timeout {
                OnTimeout::Fail => {
                    let line = format!(
                        "{summary}; not starting the app. Check the proxy's logs, or raise --timeout"
                    );
                    error!("{line}");
                    termination_log::append(&line);
                    Verdict::Stop(Outcome::TimedOut)
                }
                OnTimeout::Proceed => {
                    warn!("{summary}; starting the app anyway (--timeout-fatal=false)");
                    Verdict::Go
                }
            }
        }
    }
}

/// The source of signals that end the wait.
pub trait Stop {
    fn next(&self) -> impl Future<Output = Result<Sig, Error>>;
}

impl Stop for Signals {
    async fn next(&self) -> Result<Sig, Error> {
        loop {
            // While waiting only termination signals are read (signals/policy.rs).
            if let Event::Terminate(sig) = self.recv().await? {
                return Ok(sig);
            }
        }
    }
}

/// How the wait ended.
#[derive(Debug, PartialEq)]
pub enum Waited {
    Ready {
        elapsed: Duration,
        checks: u64,
    },
    TimedOut {
        elapsed: Duration,
        checks: u64,
        last: Option<NotReady>,
    },
    Signalled(Sig),
}

pub async fn until_ready(
    probe: &impl Check,
    backoff: &Backoff,
    timeout: Option<Duration>,
    stop: &impl Stop,
) -> Result<Waited, Error> {
    let start = Instant::now();
    let deadline = timeout.map(|t| start + t);
    let mut delays = backoff.delays();
    let mut checks = 0u64;
    let mut last = None;
    let mut reports = Reports::new();

    loop {
        // Each check, and each pause after it, races the deadline and signals,
        // so a hung proxy or a `docker stop` never has to wait for either.
        checks += 1;
        let checked = Instant::now();
        let result = tokio::select! {
            biased;
            sig = stop.next() => return Ok(Waited::Signalled(sig?)),
            () = until(deadline) => {
                let last = probe.cut_off(checked.elapsed()).or(last);
                return Ok(Waited::TimedOut { elapsed: start.elapsed(), checks, last });
            }
            result = probe.check() => result,
        };
        match result {
            Ok(()) => {
                return Ok(Waited::Ready {
                    elapsed: start.elapsed(),
                    checks,
                });
            }
            Err(reason) => {
                debug!(check = checks, %reason, "proxy not ready");
                last = Some(reason);
            }
        }

        let elapsed = start.elapsed();
        if reports.due(elapsed) {
            info!(
                "still waiting for the proxy at {}: {} elapsed, {}, last: {}",
                probe.describe(),
                human(elapsed),
                self::checks(checks),
                last.as_ref().map_or_else(String::new, ToString::to_string)
            );
        }

        let delay = delays.next().unwrap_or(backoff.max);
        tokio::select! {
            biased;
            sig = stop.next() => return Ok(Waited::Signalled(sig?)),
            () = until(deadline) => {
                return Ok(Waited::TimedOut { elapsed: start.elapsed(), checks, last });
            }
            () = sleep(delay) => {}
        }
    }
}

/// Completes at the deadline, or never.
async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => sleep_until(at).await,
        None => std::future::pending().await,
    }
}
