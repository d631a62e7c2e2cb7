//! Asking the proxy (or proxies) to shut down once a supervised Job is done,
//! so the pod can complete.

use std::time::Duration;

use reqwest::{Client, StatusCode, Url};
use tokio::{
    task::JoinSet,
    time::{Instant, sleep, timeout_at},
};
use tracing::{error, info, warn};

use crate::{duration::human, probe::NotReady};

/// Linkerd ≥ 2.16 only serves `/shutdown` with this annotation; otherwise it answers 404.
pub const LINKERD_ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown: enabled";

/// Pause between retries of a refused connection (the proxy may be restarting its listener).
const RETRY_DELAY: Duration = Duration::from_millis(50);

/// POSTs to every URL at once; all of it ends within `total`, whatever the proxies do.
pub async fn request(client: &Client, urls: &[Url], total: Duration) {
    let deadline = Instant::now() + total;
    let mut requests = JoinSet::new();
    for url in urls {
        let client = client.clone();
        let url = url.clone();
        requests.spawn(async move {
            match timeout_at(deadline, post(&client, &url)).await {
                Ok(result) => report(&url, result),
                Err(_elapsed) => warn!(
                    "no answer from the proxy's shutdown endpoint {url} within {} (--shutdown-timeout); the pod may not complete until the proxy stops",
                    human(total)
                ),
            }
        });
    }
    while requests.join_next().await.is_some() {}
}

/// One POST, retried while the connection is refused.
async fn post(client: &Client, url: &Url) -> Result<StatusCode, NotReady> {
    loop {
        match client.post(url.clone()).send().await {
            Ok(response) => return Ok(response.status()),
            Err(e) => match NotReady::from_reqwest(&e) {
                NotReady::ConnectionRefused => sleep(RETRY_DELAY).await,
                other => return Err(other),
            },
        }
    }
}

fn report(url: &Url, result: Result<StatusCode, NotReady>) {
    match result {
        Ok(status) if status.is_success() => info!("asked the proxy to shut down at {url}"),
        Ok(StatusCode::NOT_FOUND) => error!(
            "the proxy's shutdown endpoint {url} answered 404: Linkerd 2.16 and later disable it unless the pod template has the annotation `{LINKERD_ANNOTATION}`; add it so the Job's pod can complete"
        ),
        Ok(status) => warn!("shutdown request to {url} failed: HTTP {status}"),
        Err(reason) => warn!("shutdown request to {url} failed: {reason}"),
    }
}
