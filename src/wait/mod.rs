//! The wait phase: check, back off, repeat, until ready, the deadline, or a
//! termination signal, whichever comes first; then the verdict (hand off or
//! stop, `--timeout-fatal`) and the lines that tell the user.
//!
//! The loop only sees two seams, [`Readiness`] (one check) and [`Stop`] (the
//! next termination signal), so its timing is unit-tested on tokio's paused
//! clock with scripted checks and signals (`wait/tests.rs`).

pub mod checks;
pub mod dns;
pub mod http;
#[cfg(test)]
mod tests;

use std::{future::Future, time::Duration};

use tokio::time::{Instant, sleep, sleep_until};
use tracing::{debug, error, info, warn};

use crate::{
    config::backoff::Backoff,
    config::duration::human,
    config::{Config, OnTimeout},
    report::error::Error,
    report::exit_code::Outcome,
    report::redact::Redacted,
    report::termination_log,
    signals::{Event, Sig, Signals},
    wait::checks::proxy::{NotReady, Probe},
    wait::http::RequestError,
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
        let probe = Probe::new(client, config.ready_url.clone(), config.attempt_timeout);
        info!(
            "waiting for the proxy at {}{}",
            probe.url(),
            config
                .timeout
                .map_or_else(String::new, |t| format!(" (timeout {})", human(t)))
        );
        let waited = until_ready(&probe, &config.backoff, config.timeout, signals).await?;
        if let stop @ Verdict::Stop(_) = verdict(waited, probe.url(), config.on_timeout) {
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
fn verdict(waited: Waited, url: Redacted<'_>, on_timeout: OnTimeout) -> Verdict {
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

/// One readiness check.
pub trait Readiness {
    fn check(&self) -> impl Future<Output = Result<(), NotReady>>;
    /// What is awaited, for progress lines.
    fn describe(&self) -> String;
    /// What an unfinished check was doing when the deadline cut it off,
    /// if that says more than the last finished one (a name lookup).
    fn cut_off(&self, _after: Duration) -> Option<NotReady> {
        None
    }
}

/// The source of signals that end the wait.
pub trait Stop {
    fn next(&self) -> impl Future<Output = Result<Sig, Error>>;
}

impl Readiness for Probe {
    fn check(&self) -> impl Future<Output = Result<(), NotReady>> {
        Probe::check(self)
    }

    fn describe(&self) -> String {
        self.url().to_string()
    }

    fn cut_off(&self, after: Duration) -> Option<NotReady> {
        match Probe::cut_off(self, after) {
            reason @ NotReady::Request(RequestError::Unresolved(_)) => Some(reason),
            _ => None,
        }
    }
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

/// When the "still waiting" lines come: after 1 s, then after gaps that
/// double up to 30 s (at 1, 3, 7, 15, 31, 61, 91 s, ...): frequent enough to
/// show a slow start, rare enough not to flood the logs of a pod that waits
/// for minutes.
#[derive(Debug)]
struct Reports {
    next: Duration,
    gap: Duration,
}

const FIRST_REPORT: Duration = Duration::from_secs(1);
const MAX_REPORT_GAP: Duration = Duration::from_secs(30);

impl Reports {
    fn new() -> Self {
        Reports {
            next: FIRST_REPORT,
            gap: FIRST_REPORT,
        }
    }

    /// True when a line is due at `elapsed`; schedules the next one.
    fn due(&mut self, elapsed: Duration) -> bool {
        if elapsed < self.next {
            return false;
        }
        self.gap = (self.gap * 2).min(MAX_REPORT_GAP);
        self.next = elapsed + self.gap;
        true
    }
}

pub async fn until_ready(
    probe: &impl Readiness,
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

/// "1 check", "14 checks".
fn checks(n: u64) -> String {
    if n == 1 {
        "1 check".to_string()
    } else {
        format!("{n} checks")
    }
}
