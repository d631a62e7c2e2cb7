//! An HTTP readiness check, the proxy's and that of an `http://`
//! `--wait-for` target alike: a GET whose status line decides (2xx is
//! ready; redirects are not followed, no system proxy is used), and a
//! bounded read of any not-ready body so the kept-alive connection can be
//! reused.
//!
//! A `--wait-for` target may say more of what "ready" means
//! (`config::expect`: statuses, a body substring, JSON values, headers,
//! HEAD); then the answer is judged against those, and the body is read,
//! at most [`EXPECT_BODY_LIMIT`] of it, within the attempt.
//!
//! Invariant: one attempt ends within `--attempt-timeout`; without
//! expectations a body is read only with a `Content-Length` of at most
//! 4 KiB, within 5 ms; with them, at most 8 KiB.

use std::time::Duration;

use reqwest::{Client, Url};
use tokio::time::{Instant, timeout_at};

use super::{Check, NotReady, socket};
use crate::{
    config::targets::expect::{Expect, JsonValue},
    report::redact::Redacted,
    wait::http::{self, RequestError},
};

/// The most of a body read to judge expectations: a health document is a
/// few hundred bytes; a body substring is looked for in this much, and a
/// JSON document longer than this is not judged (not ready, said so).
pub const EXPECT_BODY_LIMIT: usize = 8 * 1024;

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
            Ok(Err(e)) => return Err(NotReady::Request(e.into())),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if !self.expect.is_default() && self.expect.accepts(status.as_u16()) {
            return self.judge(response, deadline).await;
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

impl HttpCheck {
    /// An answer whose status the expectations accept: its headers, then
    /// (if any expectation needs it) its body.
    async fn judge(
        &self,
        mut response: reqwest::Response,
        deadline: Instant,
    ) -> Result<(), NotReady> {
        for (name, equal) in &self.expect.headers {
            // A header may come more than once (`set-cookie`, `vary`):
            // one of them equal is enough.
            let found = response.headers().get_all(name.as_str());
            let Some(first) = found.iter().next() else {
                return Err(NotReady::Unmet(format!("header {name} is missing")));
            };
            if let Some(equal) = equal
                && !found
                    .iter()
                    .any(|value| value.as_bytes() == equal.as_bytes())
            {
                return Err(NotReady::Unmet(format!(
                    "header {name} is \"{}\", expected {}",
                    socket::words(first.as_bytes()),
                    self.expect.shown(equal)
                )));
            }
        }
        if !self.expect.reads_body() {
            return Ok(());
        }
        let mut body = Vec::new();
        let mut complete = false;
        while body.len() <= EXPECT_BODY_LIMIT {
            match timeout_at(deadline, response.chunk()).await {
                Err(_elapsed) => return Err(NotReady::TimedOut(self.attempt_timeout)),
                Ok(Err(e)) => return Err(NotReady::Request(e.into())),
                Ok(Ok(None)) => {
                    complete = true;
                    break;
                }
                Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
            }
        }
        judge_body(&self.expect, &body, complete)
    }
}

/// Whether `body` (all of it if `complete`, else its first bytes) meets
/// the body and JSON expectations; what differed if not.
pub(super) fn judge_body(expect: &Expect, body: &[u8], complete: bool) -> Result<(), NotReady> {
    let read = &body[..body.len().min(EXPECT_BODY_LIMIT)];
    let complete = complete && body.len() <= EXPECT_BODY_LIMIT;
    for text in &expect.body {
        if !read
            .windows(text.len().max(1))
            .any(|w| w == text.as_bytes())
        {
            let part = if complete {
                "the body"
            } else {
                "the body's first 8 KiB"
            };
            return Err(NotReady::Unmet(format!(
                "{part} does not contain {}",
                expect.shown(text)
            )));
        }
    }
    if expect.json.is_empty() {
        return Ok(());
    }
    if !complete {
        return Err(NotReady::Unmet(
            "the body is longer than 8 KiB, the most read: its JSON is not judged".to_string(),
        ));
    }
    let document: serde_json::Value = serde_json::from_slice(read)
        .map_err(|e| NotReady::Unmet(format!("the body is not JSON ({e})")))?;
    for (pointer, values) in &expect.json {
        let wanted = || {
            let values: Vec<String> = values.iter().map(|v| expect.shown_json(v)).collect();
            match values.as_slice() {
                [one] => one.clone(),
                _ => format!("one of {}", values.join(", ")),
            }
        };
        let shown_pointer = if pointer.is_empty() {
            "the document"
        } else {
            pointer
        };
        match document.pointer(pointer) {
            None => {
                return Err(NotReady::Unmet(format!(
                    "{} is missing, expected {}",
                    shown_pointer.escape_debug(),
                    wanted()
                )));
            }
            Some(found) if !values.iter().any(|v| json_matches(found, v)) => {
                return Err(NotReady::Unmet(format!(
                    "{} is {}, expected {}",
                    shown_pointer.escape_debug(),
                    socket::words(found.to_string().as_bytes()),
                    wanted()
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Whether a JSON value is one written in an expectation; a number or a
/// boolean also matches the same text in a JSON string. Integers compare
/// exactly (an id of 2^53 + 1 is not 2^53); other numbers as floats.
fn json_matches(found: &serde_json::Value, wanted: &JsonValue) -> bool {
    match wanted {
        JsonValue::Null => found.is_null(),
        JsonValue::Bool(b) => found.as_bool() == Some(*b) || found.as_str() == Some(&b.to_string()),
        JsonValue::Number(text) => found.as_str() == Some(text) || number_matches(found, text),
        JsonValue::Text(text) => found.as_str() == Some(text),
    }
}

fn number_matches(found: &serde_json::Value, text: &str) -> bool {
    let integer = |v: &serde_json::Value| {
        v.as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from))
    };
    match (integer(found), text.parse::<i128>()) {
        (Some(found), Ok(wanted)) => found == wanted,
        _ => found
            .as_f64()
            .is_some_and(|n| Some(n) == text.parse::<f64>().ok()),
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

    use proptest::prelude::*;

    fn expect(fragment: &str) -> Expect {
        crate::config::targets::expect::parse(fragment).expect("test expectation parses")
    }

    #[test]
    fn bodies_and_json_are_judged_and_what_differed_is_said() {
        let up =
            br#"{"status":"UP","components":{"db":{"status":"UP"}},"n":3,"ok":true,"v":"200"}"#;
        for met in [
            "json=/status=UP",
            "json=/components/db/status=UP,UNKNOWN",
            "json=/n=3&json=/ok=true",
            "json=/v=200",
            "body=%22UP%22",
        ] {
            assert_eq!(judge_body(&expect(met), up, true), Ok(()), "{met}");
        }
        let cases = [
            ("json=/status=DOWN", r#"/status is "UP", expected "DOWN""#),
            (
                "json=/status=green,yellow",
                r#"/status is "UP", expected one of "green", "yellow""#,
            ),
            ("json=/health=UP", r#"/health is missing, expected "UP""#),
            ("json=/n=4", "/n is 3, expected 4"),
            ("body=DOWN", r#"the body does not contain "DOWN""#),
        ];
        for (unmet, said) in cases {
            assert_eq!(
                judge_body(&expect(unmet), up, true),
                Err(NotReady::Unmet(said.to_string())),
                "{unmet}"
            );
        }
        let not_json = judge_body(&expect("json=/status=UP"), b"<html>", true);
        assert!(
            matches!(&not_json, Err(NotReady::Unmet(s)) if s.starts_with("the body is not JSON")),
            "{not_json:?}"
        );
        let long = vec![b' '; EXPECT_BODY_LIMIT + 1];
        let cut = judge_body(&expect("json=/status=UP"), &long, false);
        assert!(matches!(&cut, Err(NotReady::Unmet(s)) if s.contains("longer than 8 KiB")));
    }

    proptest! {
        /// Whatever the body, judging it never panics.
        #[test]
        fn arbitrary_bodies_never_panic_the_json_check(
            body in proptest::collection::vec(any::<u8>(), 0..400),
            complete in any::<bool>(),
        ) {
            let _ = judge_body(&expect("json=/status=UP&body=x"), &body, complete);
        }
    }

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
