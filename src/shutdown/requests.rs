//! The shutdown requests and their answers: one POST per URL, retried after
//! a transport failure until the deadline, and what is known of each.
//!
//! Invariant: an answer never claims more than the gate knows. reqwest
//! tells a failure to connect (nothing was sent) from a later one, but not
//! whether a request was written, so a line says "may have reached the
//! proxy" unless an answer, a failed connect or a name that never resolved
//! proves otherwise; URLs are shown without their credentials.

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use tokio::time::sleep;
use tracing::{error, info, warn};

use crate::{
    config::duration::human,
    report::redact::Redacted,
    wait::http::{self, RequestError},
};

/// Linkerd ≥ 2.16 only serves `/shutdown` with this annotation; otherwise it answers 404.
pub const LINKERD_ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown: enabled";

/// With this annotation (the default in recent Linkerd) the proxy is a
/// Kubernetes native sidecar, which ends on its own once the app containers
/// have: a Job's pod completes without any shutdown request. (Its older
/// name, `config.beta.linkerd.io/...`, is deprecated: not the one to tell
/// anyone to add.)
pub const NATIVE_SIDECAR_ANNOTATION: &str = "config.linkerd.io/proxy-enable-native-sidecar";

/// Pause between retries (the proxy may be restarting its listener, or have
/// closed a kept-alive connection just as the POST went out).
const RETRY_DELAY: Duration = Duration::from_millis(50);

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
    pub(super) fn reason(&self) -> String {
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

/// What the attempts at one URL are known to have done. reqwest tells a
/// failure to connect (nothing was sent) from a later one, but not whether a
/// request was written before it failed or while it is still under way, so
/// those count as "may have reached the proxy".
#[derive(Default)]
pub(super) struct Attempts {
    /// An attempt was under way when the time was up.
    in_flight: bool,
    /// An attempt failed after connecting (reset, closed, malformed answer).
    failed_after_connecting: bool,
    last_failure: Option<RequestError>,
}

/// How a POST ended, when it did.
pub(super) enum Posted {
    Status(StatusCode),
    /// See [`Answer::Vanished`].
    Vanished,
}

/// One POST, retried after any transport failure (refused, reset, closed)
/// until the caller's deadline; `attempts` records what happened, should it
/// never get an answer.
pub(super) async fn post(client: &Client, url: &Url, attempts: &mut Attempts) -> Posted {
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
pub(super) fn unanswered(url: &Url, total: Duration, mut attempts: Attempts) -> Answer {
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

pub(super) fn answered(url: &Url, posted: Posted) -> Answer {
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
