//! The wait for readiness: check, back off, repeat, until ready, the deadline,
//! or a termination signal, whichever comes first.

use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::{Instant, sleep, sleep_until};
use tracing::{debug, info};

use crate::{
    config::Backoff,
    duration::human,
    error::Error,
    probe::{NotReady, Probe},
    signals::Signals,
};

/// How the wait ended.
#[derive(Debug)]
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
    Signalled(Signal),
}

/// Progress lines come at widening intervals (1 s, 2 s, 4 s, ...) up to
/// one every 30 s: frequent enough to show a slow start, rare enough not to
/// flood the logs of a pod that waits for minutes.
const FIRST_REPORT: Duration = Duration::from_secs(1);
const MAX_REPORT_GAP: Duration = Duration::from_secs(30);

pub async fn until_ready(
    probe: &Probe,
    backoff: &Backoff,
    timeout: Option<Duration>,
    signals: &Signals,
) -> Result<Waited, Error> {
    let start = Instant::now();
    let deadline = timeout.map(|t| start + t);
    let mut delays = backoff.delays();
    let mut checks = 0u64;
    let mut last = None;
    let mut next_report = FIRST_REPORT;
    let mut report_gap = FIRST_REPORT;

    loop {
        // Each check, and each pause after it, races the deadline and signals,
        // so a hung proxy or a `docker stop` never has to wait for either.
        checks += 1;
        let result = tokio::select! {
            biased;
            sig = signals.recv() => return Ok(Waited::Signalled(sig?)),
            () = until(deadline) => {
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
        if elapsed >= next_report {
            info!(
                "still waiting for the proxy at {}: {} elapsed, {}, last: {}",
                probe.url(),
                human(elapsed),
                crate::wait::checks(checks),
                last.as_ref().map_or_else(String::new, ToString::to_string)
            );
            report_gap = (report_gap * 2).min(MAX_REPORT_GAP);
            next_report = elapsed + report_gap;
        }

        let delay = delays.next().unwrap_or(backoff.max);
        tokio::select! {
            biased;
            sig = signals.recv() => return Ok(Waited::Signalled(sig?)),
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
pub fn checks(n: u64) -> String {
    if n == 1 {
        "1 check".to_string()
    } else {
        format!("{n} checks")
    }
}
