//! The report of the shutdown requests: each URL with its answer, and what
//! became of the proxy; `--shutdown-now`'s exit code and the lines that
//! summarise the failed requests are read from it.
//!
//! Invariant: only a request known to have failed counts as failed, and its
//! line shows the URL without credentials.

use reqwest::Url;

use super::{requests::Answer, stop::Stop};
use crate::report::{exit_code::Outcome, redact::Redacted};

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

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    use crate::wait::http::RequestError;

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
}
