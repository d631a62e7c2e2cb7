//! An HTTP readiness check, the proxy's and that of an `http://`
//! `--wait-for` target alike: a GET whose status line decides (2xx is
//! ready; redirects are not followed, no system proxy is used), and a
//! bounded read of any not-ready body so the kept-alive connection can be
//! reused.
//!
//! A `--wait-for` target may say more of what "ready" means
//! (`config::expect`: statuses, a body substring, JSON values, headers,
//! HEAD); then the answer is judged against those, and the body is read,
//! at most 8 KiB of it, within the attempt (`judge`).
//!
//! Invariant: one attempt ends within `--attempt-timeout`; without
//! expectations a body is read only with a `Content-Length` of at most
//! 4 KiB, within 5 ms; with them, at most 8 KiB.

use std::time::Duration;

use reqwest::{Client, Url};
use tokio::time::{Instant, timeout_at};

use super::{Check, NotReady, judge, tls};
use crate::{
    config::targets::expect::Expect,
    report::redact::Redacted,
    wait::http::{self, RequestError},
};

/// Enough to let a small error page finish so the connection can be reused.
/// A body is read only when its `Content-Length` says it is at most this
/// long: a larger one, or one of unknown length (chunked, or ended by the
/// connection), is not read at all, and the connection is dropped instead,
/// so no proxy can make the gate read much.
const BODY_LIMIT: u64 = 4 * 1024;

/// How long the rest of a not-ready answer's body may take once its head is
/// in. The status line alone decides readiness; the body is read only so the
/// connection can be reused. On loopback a small error page written with the
/// head, or right after it, arrives within microseconds, so a few ms keep
/// reuse for every ordinary proxy. A body that trickles in, never ends or has
/// no length (it ends only when the connection does) is cut off here and its
/// connection dropped, instead of costing a whole `--attempt-timeout` per
/// check. 5 ms is the first backoff delay and a tenth of the default cap
/// (50 ms), so even a proxy that always sends such bodies barely slows the
/// checks or delays noticing readiness.
const BODY_GRACE: Duration = Duration::from_millis(5);

/// Checks one URL.
pub struct HttpCheck {
    client: Client,
    url: Url,
    attempt_timeout: Duration,
    expect: Expect,
}

impl HttpCheck {
    pub fn new(client: Client, url: Url, attempt_timeout: Duration) -> Self {
        HttpCheck {
            client,
            url,
            attempt_timeout,
            expect: Expect::default(),
        }
    }

    /// The same check, judged against these expectations.
    pub fn expecting(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }

    /// The checked URL, for logs (without credentials).
    pub fn url(&self) -> Redacted<'_> {
        Redacted(&self.url)
    }

    /// Why an attempt cut off after `after` got no answer: the name
    /// lookup, if that was still under way, else no response in time.
    fn unanswered(&self, after: Duration) -> NotReady {
        http::unresolved(&self.url).map_or(NotReady::TimedOut(after), NotReady::Request)
    }
}

impl Check for HttpCheck {
    fn describe(&self) -> String {
        self.url().to_string()
    }

    fn cut_off(&self, after: Duration) -> Option<NotReady> {
        match self.unanswered(after) {
            reason @ NotReady::Request(RequestError::Unresolved(_)) => Some(reason),
            _ => None,
        }
    }

    /// One check: ready iff the response status is 2xx (or, with
    /// expectations, iff the answer meets them).
    async fn check(&self) -> Result<(), NotReady> {
        let deadline = Instant::now() + self.attempt_timeout;
        let request = if self.expect.head {
            self.client.head(self.url.clone())
        } else {
            self.client.get(self.url.clone())
        };
        let mut response = match timeout_at(deadline, request.send()).await {
            Err(_elapsed) => return Err(self.unanswered(self.attempt_timeout)),
            Ok(Err(e)) => {
                // TLS: rustls's reason, in words (`tls`).
                if let Some(reason) = tls::request_failed(&e, self.url.scheme()) {
                    return Err(reason);
                }
                return Err(NotReady::Request(e.into()));
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !self.expect.is_default() && self.expect.accepts(status.as_u16()) {
            return judge::answer(&self.expect, response, deadline, self.attempt_timeout).await;
        }
        if status.is_success() && self.expect.is_default() {
            // The body is irrelevant and the connection will not be needed again.
            return Ok(());
        }
        let reason = if !self.expect.status.is_empty() {
            NotReady::Unmet(format!(
                "HTTP {status}, expected {}",
                self.expect.statuses()
            ))
        } else if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| shown_location(&self.url, v.as_bytes()));
            NotReady::Redirect(status, to)
        } else {
            NotReady::Status(status)
        };
        // Finish a small body so the connection can be reused for the next check;
        // give up on a large, slow, endless or stalled one: dropping a response
        // whose body is unfinished drops its connection.
        if response
            .content_length()
            .is_some_and(|len| len <= BODY_LIMIT)
        {
            let _ = timeout_at(
                deadline.min(Instant::now() + BODY_GRACE),
                drain(&mut response),
            )
            .await;
        }
        Err(reason)
    }
}

/// A redirect's `Location` as logs show it: resolved against the checked URL
/// (where a client following it would go) and redacted, since it may carry
/// credentials, given or inherited from `base`. A value that is no URL at all
/// is not echoed: it could hold credentials the parser cannot find.
fn shown_location(base: &Url, location: &[u8]) -> String {
    match base.join(&String::from_utf8_lossy(location)) {
        Ok(to) => Redacted(&to).to_string(),
        Err(_) => "(not a valid URL)".to_string(),
    }
}

/// Reads the body (whose length the caller checked) to its end.
async fn drain(response: &mut reqwest::Response) {
    while let Ok(Some(_)) = response.chunk().await {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn redirect_location_is_resolved_and_redacted() {
        let base = url("http://user:secret@127.0.0.1:4191/ready");
        let cases: [(&[u8], &str); 4] = [
            (b"/elsewhere", "http://***@127.0.0.1:4191/elsewhere"),
            (b"http://u:pw@10.0.0.1/x", "http://***@10.0.0.1/x"),
            (b"//u:pw@example.test/x", "http://***@example.test/x"),
            (b"http://u:pw@[not-a-host/", "(not a valid URL)"),
        ];
        for (location, shown) in cases {
            assert_eq!(shown_location(&base, location), shown);
        }
    }
}
