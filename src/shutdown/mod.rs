//! Asking the proxy (or proxies) to shut down, when a supervised Job is done
//! or with `--shutdown-now`, so the pod can complete; then confirming that
//! it stopped.
//!
//! Invariant: everything here ends within `--shutdown-timeout`, whatever
//! the proxies and DNS do. [`request`] sends every request at once
//! (`requests`), watches the proxy stop once one is accepted (`stop`), and
//! returns what it learnt as a [`Report`] (`report`), from which the exit
//! code of `--shutdown-now` and the summary of failed requests are read.

mod report;
mod requests;
mod stop;

use reqwest::Client;
use tokio::{
    task::JoinSet,
    time::{Instant, timeout_at},
};

pub use self::{report::Report, requests::Answer};
use self::{
    requests::{Attempts, answered, post, unanswered},
    stop::{report_stop, stop_of, watch},
};
use crate::config::{Shutdown, Watch};

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
