//! Confirming that the proxy stopped after it accepted a shutdown request:
//! a look, briskly and then every few milliseconds, at whether its address
//! still accepts TCP connections, and the one line that says what became
//! of it.
//!
//! Invariant: a stop is claimed only for an address that answered (the
//! accepted request's own, or one seen accepting), and only once it
//! refuses connections; the watch ends by the deadline.

use std::{net::SocketAddr, time::Duration};

use reqwest::Url;
use tokio::{
    net::TcpStream,
    time::{Instant, sleep, sleep_until, timeout_at},
};
use tracing::{debug, info, warn};

use crate::{
    config::{backoff::Backoff, duration::human},
    report::redact::Redacted,
    wait::http,
};

/// How long Linkerd's proxy drains open connections after a shutdown
/// request before it exits anyway, and its default.
const GRACE_PERIOD_VAR: &str = "LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD";
const GRACE_PERIOD_DEFAULT: &str = "2 minutes";

/// Pauses between two looks at whether the proxy still accepts connections:
/// a proxy without open connections exits within a few milliseconds of the
/// request, and the first looks must notice that at once; one that drains
/// is looked at 50 times a second.
const STOP_CHECKS: Backoff = Backoff {
    initial: Duration::from_millis(1),
    max: Duration::from_millis(20),
    factor: 2.0,
    jitter: false,
};

/// What became of the proxy after the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// No request was accepted, so nothing was watched.
    NotAsked,
    /// `--shutdown-timeout 0`: nothing is waited for.
    NotWatched,
    /// Connections to the readiness address were refused this long after
    /// the first accepted request.
    Stopped(Duration),
    /// It still accepted connections when the time was up.
    StillAnswering,
    /// No look at it could be completed in time, or the watched address
    /// refused connections without ever having answered (nothing to
    /// claim a stop from).
    Unknown,
}

/// What one watch of the proxy saw.
pub(super) struct Watched {
    /// When the request that started it was accepted.
    from: Instant,
    /// When connections were first refused, if they were in time.
    stopped: Option<Instant>,
    /// Whether a look found it still accepting connections.
    answering: bool,
    /// `host:port` watched, for the log line.
    addr: String,
}

/// Looks, briskly and then every few milliseconds, whether the proxy still
/// accepts connections on its readiness address, until it does not or the
/// deadline. A plain TCP connect, not an HTTP request: a kept-alive
/// connection of the client's pool would outlive the listener, and a
/// refused connect is what an exited proxy looks like.
///
/// Where the accepted `request` went is known to have answered; any other
/// address counts as stopped only after a look found it accepting: an
/// address that never answered proves nothing.
pub(super) async fn watch(proxy: &Url, request: &Url, deadline: Instant) -> Watched {
    let mut watched = Watched {
        from: Instant::now(),
        stopped: None,
        answering: false,
        addr: address(proxy),
    };
    let addrs = match timeout_at(deadline, http::socket_addrs(proxy)).await {
        Ok(Ok(addrs)) if !addrs.is_empty() => addrs,
        Ok(Ok(_)) => return watched,
        Ok(Err(e)) => {
            debug!(
                "cannot resolve {}, so cannot watch the proxy stop: {e}",
                Redacted(proxy)
            );
            return watched;
        }
        Err(_elapsed) => return watched,
    };
    let answered = match timeout_at(deadline, http::socket_addrs(request)).await {
        Ok(Ok(asked)) => asked.iter().any(|addr| addrs.contains(addr)),
        _ => false,
    };
    let mut delays = STOP_CHECKS.delays();
    loop {
        match timeout_at(deadline, accepts_connections(&addrs)).await {
            Ok(false) if answered || watched.answering => {
                watched.stopped = Some(Instant::now());
                return watched;
            }
            Ok(false) => {
                debug!(
                    "{} refuses connections and never answered: cannot tell whether the proxy stopped",
                    watched.addr
                );
                return watched;
            }
            Ok(true) => watched.answering = true,
            Err(_elapsed) => return watched,
        }
        let pause = delays.next().unwrap_or(STOP_CHECKS.max);
        if Instant::now() + pause >= deadline {
            sleep_until(deadline).await;
            return watched;
        }
        sleep(pause).await;
    }
}

/// Whether any of the addresses accepts a TCP connection (which is closed
/// at once). Any failure to connect counts as "not listening there".
async fn accepts_connections(addrs: &[SocketAddr]) -> bool {
    for addr in addrs {
        if TcpStream::connect(addr).await.is_ok() {
            return true;
        }
    }
    false
}

/// One verdict from the watches of all accepted requests.
pub(super) fn stop_of(watches: &[Watched], total: Duration) -> Stop {
    let Some(first) = watches.iter().map(|w| w.from).min() else {
        return if total.is_zero() {
            Stop::NotWatched
        } else {
            Stop::NotAsked
        };
    };
    if let Some(stopped) = watches.iter().filter_map(|w| w.stopped).min() {
        return Stop::Stopped(stopped.saturating_duration_since(first));
    }
    if watches.iter().any(|w| w.answering) {
        Stop::StillAnswering
    } else {
        Stop::Unknown
    }
}

/// One line about the proxy's fate, when there is something to say.
pub(super) fn report_stop(stop: Stop, watches: &[Watched]) {
    // The watch that saw the stop, else the first one.
    let shown = watches
        .iter()
        .filter(|w| w.stopped.is_some())
        .min_by_key(|w| w.stopped)
        .or_else(|| watches.iter().min_by_key(|w| w.from));
    let addr = shown.map_or("?", |w| w.addr.as_str());
    match stop {
        Stop::Stopped(after) => info!(
            "the proxy stopped {} after the shutdown request (connections to {addr} are refused)",
            precise(after)
        ),
        // Counted from the first accepted request to now (the deadline),
        // not the whole --shutdown-timeout: the request itself took some.
        Stop::StillAnswering => warn!(
            "the proxy still accepts connections on {addr} {} after it accepted the shutdown request (--shutdown-timeout): it is draining open connections, for at most {GRACE_PERIOD_VAR} (default {GRACE_PERIOD_DEFAULT}), and the pod completes when it exits",
            human(
                watches
                    .iter()
                    .map(|w| w.from.elapsed())
                    .max()
                    .unwrap_or_default()
            )
        ),
        Stop::Unknown => debug!("could not look whether the proxy at {addr} stopped in time"),
        Stop::NotAsked | Stop::NotWatched => {}
    }
}

/// `host:port` of a URL, for log lines (no credentials, no path).
fn address(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Like `human`, with a tenth of a millisecond below 10 ms: a proxy that
/// exits at once does so in about 2 ms.
fn precise(d: Duration) -> String {
    if d < Duration::from_millis(10) {
        format!("{:.1}ms", d.as_secs_f64() * 1000.0)
    } else {
        human(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_stop_counts_from_the_first_accepted_request() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let watched = |from: u64, stopped: Option<u64>, answering: bool| Watched {
            from: at(from),
            stopped: stopped.map(at),
            answering,
            addr: String::new(),
        };
        let second = Duration::from_secs(1);
        assert_eq!(stop_of(&[], second), Stop::NotAsked);
        assert_eq!(stop_of(&[], Duration::ZERO), Stop::NotWatched);
        assert_eq!(
            stop_of(
                &[watched(5, Some(9), true), watched(2, Some(8), true)],
                second
            ),
            Stop::Stopped(Duration::from_millis(6))
        );
        assert_eq!(
            stop_of(&[watched(5, None, true), watched(2, None, false)], second),
            Stop::StillAnswering
        );
        assert_eq!(stop_of(&[watched(5, None, false)], second), Stop::Unknown);
    }
}
