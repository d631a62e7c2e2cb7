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
    probe::{NotReady, Redacted},
};

/// Linkerd ≥ 2.16 only serves `/shutdown` with this annotation; otherwise it answers 404.
pub const LINKERD_ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown: enabled";

/// Pause between retries (the proxy may be restarting its listener, or have
/// closed a kept-alive connection just as the POST went out).
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// POSTs to every URL at once; all of it ends within `total`, whatever the proxies do.
pub async fn request(client: &Client, urls: &[Url], total: Duration) {
    let deadline = Instant::now() + total;
    let mut requests = JoinSet::new();
    for url in urls {
        let client = client.clone();
        let url = url.clone();
        requests.spawn(async move {
            let mut last_failure = None;
            match timeout_at(deadline, post(&client, &url, &mut last_failure)).await {
                Ok(status) => report(&url, status),
                Err(_elapsed) => warn!(
                    "shutdown request to {} got no answer within {} (--shutdown-timeout; last: {}); the pod may not complete until the proxy stops",
                    Redacted(&url),
                    human(total),
                    last_failure.map_or_else(|| "no response".to_string(), |r: NotReady| r.to_string())
                ),
            }
        });
    }
    while requests.join_next().await.is_some() {}
}

/// One POST, retried after any transport failure (refused, reset, closed)
/// until the caller's deadline; `last_failure` says why, if it never got through.
async fn post(client: &Client, url: &Url, last_failure: &mut Option<NotReady>) -> StatusCode {
    loop {
        match client.post(url.clone()).send().await {
            Ok(response) => return response.status(),
            Err(e) => {
                *last_failure = Some(NotReady::from_reqwest(e));
                sleep(RETRY_DELAY).await;
            }
        }
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
