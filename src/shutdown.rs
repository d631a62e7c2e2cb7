//! Asking the proxy (or proxies) to shut down once a supervised Job is done,
//! so the pod can complete.

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use tokio::{
    task::JoinSet,
    time::{Instant, sleep, timeout_at},
};
use tracing::{error, info, warn};

use crate::{
    duration::human,
    http::{Redacted, RequestError},
};

/// Linkerd ≥ 2.16 only serves `/shutdown` with this annotation; otherwise it answers 404.
pub const LINKERD_ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown: enabled";

/// Pause between retries (the proxy may be restarting its listener, or have
/// closed a kept-alive connection just as the POST went out).
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// POSTs to every URL at once; all of it ends within `total`, whatever the
/// proxies do. With a `total` of zero the requests are started but not
/// waited for: an answer already there is reported, nothing else is known.
pub async fn request(client: &Client, urls: &[Url], total: Duration) {
    let deadline = Instant::now() + total;
    let mut requests = JoinSet::new();
    for url in urls {
        let client = client.clone();
        let url = url.clone();
        requests.spawn(async move {
            let mut attempts = Attempts::default();
            match timeout_at(deadline, post(&client, &url, &mut attempts)).await {
                Ok(status) => report(&url, status),
                Err(_elapsed) => report_unanswered(&url, total, &attempts),
            }
        });
    }
    while requests.join_next().await.is_some() {}
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

/// One POST, retried after any transport failure (refused, reset, closed)
/// until the caller's deadline; `attempts` records what happened, should it
/// never get an answer.
async fn post(client: &Client, url: &Url, attempts: &mut Attempts) -> StatusCode {
    loop {
        attempts.in_flight = true;
        let result = client.post(url.clone()).send().await;
        attempts.in_flight = false;
        match result {
            Ok(response) => return response.status(),
            Err(e) => {
                attempts.failed_after_connecting |= !e.is_connect();
                attempts.last_failure = Some(e.into());
                sleep(RETRY_DELAY).await;
            }
        }
    }
}

/// Says what is known when no answer came in time, and nothing more.
fn report_unanswered(url: &Url, total: Duration, attempts: &Attempts) {
    let url = Redacted(url);
    let last = attempts
        .last_failure
        .as_ref()
        .map_or_else(String::new, |r| format!("; last failure: {r}"));
    let maybe_sent = attempts.in_flight || attempts.failed_after_connecting;
    if !maybe_sent {
        // Every attempt ended while connecting: no request left the gate.
        warn!(
            "no connection could be made to {url} within {} (--shutdown-timeout{last}); the pod may not complete until the proxy stops",
            human(total)
        );
    } else if total.is_zero() {
        warn!(
            "did not wait for an answer from {url} (--shutdown-timeout 0{last}); the request may or may not have reached the proxy"
        );
    } else {
        warn!(
            "no answer from {url} within {} (--shutdown-timeout{last}); the request may have reached the proxy, and if it did not, the pod may not complete until the proxy stops",
            human(total)
        );
    }
}

fn report(url: &Url, status: StatusCode) {
    let url = Redacted(url);
    match status {
        status if status.is_success() => info!("asked the proxy to shut down at {url}"),
        StatusCode::NOT_FOUND => error!(
            "the proxy's shutdown endpoint {url} answered 404: Linkerd 2.16 and later disable it unless the pod template has the annotation `{LINKERD_ANNOTATION}`; add it so the Job's pod can complete"
        ),
        status => warn!("shutdown request to {url} failed: HTTP {status}"),
    }
}
