//! Asking the proxy (or proxies) to shut down, when a supervised Job is done
//! or with `--shutdown-now`, so the pod can complete; then confirming that
//! it stopped.
//!
//! [`request`] logs what it learns and returns it as a [`Report`]: one
//! [`Answer`] per URL and what became of the proxy ([`Stop`]). The exit
//! code of `--shutdown-now` ([`Report::outcome`]) and any summary of the
//! failed requests ([`Report::failures`]) are read from there.

use std::{net::SocketAddr, time::Duration};

use reqwest::{Client, StatusCode, Url};
use tokio::{
    net::TcpStream,
    task::JoinSet,
    time::{Instant, sleep, sleep_until, timeout_at},
};
use tracing::{debug, error, info, warn};

use crate::{
    config::backoff::Backoff,
    config::duration::human,
    config::{Shutdown, Watch},
    report::exit_code::Outcome,
    report::redact::Redacted,
    wait::http::{self, RequestError},
};

/// Linkerd ≥ 2.16 only serves `/shutdown` with this annotation; otherwise it answers 404.
pub const LINKERD_ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown: enabled";

/// With this annotation (the default in recent Linkerd) the proxy is a
/// Kubernetes native sidecar, which ends on its own once the app containers
/// have: a Job's pod completes without any shutdown request.
pub const NATIVE_SIDECAR_ANNOTATION: &str = "config.beta.linkerd.io/proxy-enable-native-sidecar";

/// How long Linkerd's proxy drains open connections after a shutdown
/// request before it exits anyway, and its default.
const GRACE_PERIOD_VAR: &str = "LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD";
const GRACE_PERIOD_DEFAULT: &str = "2 minutes";

/// Pause between retries (the proxy may be restarting its listener, or have
/// closed a kept-alive connection just as the POST went out).
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// Pauses between two looks at whether the proxy still accepts connections:
/// a proxy without open connections exits within a few milliseconds of the
/// request, and the first looks must notice that at once; one that drains
/// is looked at 50 times a second.
const STOP_CHECKS: Backoff = Backoff {
    initial: Duration::from_millis(1),
    max: Duration::from_millis(20),
    factor: 2.0,
};

/// What one shutdown URL answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx: the proxy accepted the request.
    Accepted,
    /// The connection closed after the request went out, without an
    /// answer, and reconnecting was refused: the proxy exited on it before
    /// its answer was out. As good as accepted.
    Vanished,
    /// 404: the endpoint is disabled (Linkerd without [`LINKERD_ANNOTATION`]).
    NotFound,
    /// Any other status.
    Status(StatusCode),
    /// Every attempt failed to connect: no request left the gate.
    NoConnection(Option<RequestError>),
    /// No answer in time; the request may have reached the proxy. `waited`
    /// is false for `--shutdown-timeout 0`, which does not wait for one.
    Unanswered {
        waited: bool,
        last: Option<RequestError>,
    },
}

impl Answer {
    /// Known to have failed: not accepted, and not merely not waited for.
    pub fn failed(&self) -> bool {
        !matches!(
            self,
            Answer::Accepted | Answer::Vanished | Answer::Unanswered { waited: false, .. }
        )
    }

    /// Why it failed, in a few words (for [`Report::failures`]).
    fn reason(&self) -> String {
        let last = |last: &Option<RequestError>| {
            last.as_ref()
                .map_or_else(String::new, |r| format!(" (last failure: {r})"))
        };
        match self {
            Answer::Accepted => "accepted".to_string(),
            Answer::Vanished => "closed without an answer, then refused connections".to_string(),
            Answer::NotFound => format!("HTTP 404: add the pod annotation `{LINKERD_ANNOTATION}`"),
            Answer::Status(status) => format!("HTTP {status}"),
            Answer::NoConnection(failure) => format!("no connection{}", last(failure)),
            Answer::Unanswered {
                waited: true,
                last: failure,
            } => {
                format!("no answer within --shutdown-timeout{}", last(failure))
            }
            Answer::Unanswered { waited: false, .. } => "not waited for".to_string(),
        }
    }
}

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

/// The shutdown requests: each URL with its answer, and the proxy's fate.
#[derive(Debug, Clone)]
pub struct Report {
    pub requests: Vec<(Url, Answer)>,
    /// What the watch found; it logs its own line, so only tests read it.
    #[cfg_attr(
        not(test),
        expect(dead_code, reason = "the watch logs it; tests read it")
    )]
    pub stop: Stop,
}

impl Report {
    /// One line per request known to have failed, its URL without
    /// credentials: the place to read them from for a summary.
    pub fn failures(&self) -> Vec<String> {
        self.requests
            .iter()
            .filter(|(_, answer)| answer.failed())
            .map(|(url, answer)| {
                format!(
                    "shutdown request to {} failed: {}",
                    Redacted(url),
                    answer.reason()
                )
            })
            .collect()
    }

    /// `--shutdown-now`'s exit: 0 when no request failed, else 69.
    pub fn outcome(&self) -> Outcome {
        if self.requests.iter().any(|(_, answer)| answer.failed()) {
            Outcome::ShutdownFailed
        } else {
            Outcome::Ready
        }
    }
}

/// POSTs to every URL at once, then, once one is accepted, watches the
/// proxy's readiness address until it refuses connections; all of it ends
/// within `--shutdown-timeout`, whatever the proxies do. With a timeout of
/// zero the requests are started but not waited for: an answer already
/// there is reported, nothing else is known.
pub async fn request(client: &Client, shutdown: &Shutdown) -> Report {
    let total = shutdown.timeout;
    let deadline = Instant::now() + total;
    let mut requests = JoinSet::new();
    for (index, url) in shutdown.urls.iter().enumerate() {
        let client = client.clone();
        let url = url.clone();
        let watched_url = match shutdown.watch {
            Watch::Readiness => shutdown.proxy.clone(),
            Watch::RequestAddress => url.clone(),
        };
        requests.spawn(async move {
            let mut attempts = Attempts::default();
            let answer = match timeout_at(deadline, post(&client, &url, &mut attempts)).await {
                Ok(posted) => answered(&url, posted),
                Err(_elapsed) => unanswered(&url, total, attempts),
            };
            // Each accepted request watches for itself: the common case is
            // one URL, and a hung other one must not delay the watch. The
            // request's own address has answered; another one (Istio's
            // readiness port) must be seen answering before its refusals
            // can mean "stopped".
            let watched = match answer {
                Answer::Accepted | Answer::Vanished if !total.is_zero() => {
                    Some(watch(&watched_url, &url, deadline).await)
                }
                _ => None,
            };
            (index, answer, watched)
        });
    }
    let mut answers = vec![None; shutdown.urls.len()];
    let mut watches = Vec::new();
    while let Some(joined) = requests.join_next().await {
        // A request task only panics on a bug; its URL then counts as unanswered.
        let Ok((index, answer, watched)) = joined else {
            continue;
        };
        answers[index] = Some(answer);
        watches.extend(watched);
    }
    let stop = stop_of(&watches, total);
    report_stop(stop, &watches);
    let report = Report {
        requests: shutdown
            .urls
            .iter()
            .cloned()
            .zip(answers.into_iter().map(|answer| {
                answer.unwrap_or(Answer::Unanswered {
                    waited: true,
                    last: None,
                })
            }))
            .collect(),
        stop,
    };
    // A Job that does not complete because the proxy was not stopped says why
    // in `kubectl describe pod` too (the termination message), one line per
    // failed request, as logged.
    for line in report.failures() {
        crate::report::termination_log::append(&line);
    }
    report
}

/// What the attempts at one URL are known to have done. reqwest tells a
/// failure to connect (nothing was sent) from a later one, but not whether a
/// request was written before it failed or while it is still under way, so
/// those count as "may have reached the proxy".
#[derive(Default)]
struct Attempts {
    /// An attempt was under way when the time was up.
    in_flight: bool,
    /// An attempt failed after connecting (reset, closed, malformed answer).
    failed_after_connecting: bool,
    last_failure: Option<RequestError>,
}

/// How a POST ended, when it did.
enum Posted {
    Status(StatusCode),
    /// See [`Answer::Vanished`].
    Vanished,
}

/// One POST, retried after any transport failure (refused, reset, closed)
/// until the caller's deadline; `attempts` records what happened, should it
/// never get an answer.
async fn post(client: &Client, url: &Url, attempts: &mut Attempts) -> Posted {
    loop {
        attempts.in_flight = true;
        let result = client.post(url.clone()).send().await;
        attempts.in_flight = false;
        match result {
            Ok(response) => return Posted::Status(response.status()),
            Err(e) => {
                let after_connecting = !e.is_connect();
                let failure = RequestError::from(e);
                // A proxy that exits on the request can close the connection
                // before its answer is out. A connection that then cannot
                // even be made again is a listener that is gone, not one
                // that drops connections: the proxy stopped.
                if attempts.failed_after_connecting && failure == RequestError::ConnectionRefused {
                    return Posted::Vanished;
                }
                attempts.failed_after_connecting |= after_connecting;
                attempts.last_failure = Some(failure);
                sleep(RETRY_DELAY).await;
            }
        }
    }
}

/// Says what is known when no answer came in time, and nothing more.
fn unanswered(url: &Url, total: Duration, mut attempts: Attempts) -> Answer {
    let shown = Redacted(url);
    // Stuck in the name lookup: nothing was sent, whatever DNS does later.
    if !attempts.failed_after_connecting
        && let Some(unresolved) = http::unresolved(url)
    {
        attempts.in_flight = false;
        attempts.last_failure = Some(unresolved);
    }
    let last = attempts
        .last_failure
        .as_ref()
        .map_or_else(String::new, |r| format!("; last failure: {r}"));
    let maybe_sent = attempts.in_flight || attempts.failed_after_connecting;
    if !maybe_sent {
        // Every attempt ended while connecting: no request left the gate.
        warn!(
            "no connection could be made to {shown} within {} (--shutdown-timeout{last}); the pod may not complete until the proxy stops",
            human(total)
        );
        return Answer::NoConnection(attempts.last_failure);
    }
    if total.is_zero() {
        warn!(
            "did not wait for an answer from {shown} (--shutdown-timeout 0{last}); the request may or may not have reached the proxy"
        );
    } else {
        warn!(
            "no answer from {shown} within {} (--shutdown-timeout{last}); the request may have reached the proxy, and if it did not, the pod may not complete until the proxy stops",
            human(total)
        );
    }
    Answer::Unanswered {
        waited: !total.is_zero(),
        last: attempts.last_failure,
    }
}

fn answered(url: &Url, posted: Posted) -> Answer {
    let url = Redacted(url);
    let status = match posted {
        Posted::Status(status) => status,
        Posted::Vanished => {
            info!(
                "asked the proxy to shut down at {url}: it closed the connection without an answer and now refuses connections"
            );
            return Answer::Vanished;
        }
    };
    match status {
        status if status.is_success() => {
            info!("asked the proxy to shut down at {url}");
            Answer::Accepted
        }
        StatusCode::NOT_FOUND => {
            error!(
                "the proxy's shutdown endpoint {url} answered 404: Linkerd 2.16 and later disable it unless the pod template has the annotation `{LINKERD_ANNOTATION}`; add it so the Job's pod can complete. With a native-sidecar proxy (`{NATIVE_SIDECAR_ANNOTATION}`, the default in recent Linkerd) the pod completes without any shutdown request, and --shutdown is not needed at all"
            );
            Answer::NotFound
        }
        status => {
            warn!("shutdown request to {url} failed: HTTP {status}");
            Answer::Status(status)
        }
    }
}

/// What one watch of the proxy saw.
struct Watched {
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
async fn watch(proxy: &Url, request: &Url, deadline: Instant) -> Watched {
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
fn stop_of(watches: &[Watched], total: Duration) -> Stop {
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
fn report_stop(stop: Stop, watches: &[Watched]) {
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

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn only_known_failures_fail_and_each_gets_a_line_without_credentials() {
        let report = Report {
            requests: vec![
                (url("http://localhost:4191/shutdown"), Answer::Accepted),
                (url("http://u:secret@localhost:1/a"), Answer::NotFound),
                (
                    url("http://localhost:2/b"),
                    Answer::Status(StatusCode::INTERNAL_SERVER_ERROR),
                ),
                (
                    url("http://localhost:3/c"),
                    Answer::NoConnection(Some(RequestError::ConnectionRefused)),
                ),
                (
                    url("http://localhost:4/d"),
                    Answer::Unanswered {
                        waited: true,
                        last: None,
                    },
                ),
                (
                    url("http://localhost:5/e"),
                    Answer::Unanswered {
                        waited: false,
                        last: None,
                    },
                ),
            ],
            stop: Stop::NotAsked,
        };
        let lines = report.failures();
        assert_eq!(lines.len(), 4, "{lines:?}");
        for (line, want) in lines.iter().zip([
            "http://***@localhost:1/a failed: HTTP 404: add the pod annotation",
            "http://localhost:2/b failed: HTTP 500 Internal Server Error",
            "http://localhost:3/c failed: no connection (last failure: connection refused)",
            "http://localhost:4/d failed: no answer within --shutdown-timeout",
        ]) {
            assert!(line.contains(want), "{line:?} lacks {want:?}");
            assert!(!line.contains("secret"), "{line}");
        }
        assert_eq!(report.outcome(), Outcome::ShutdownFailed);
        let accepted = Report {
            requests: vec![(url("http://localhost:4191/shutdown"), Answer::Accepted)],
            stop: Stop::StillAnswering,
        };
        assert!(accepted.failures().is_empty());
        assert_eq!(accepted.outcome(), Outcome::Ready);
    }

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
