//! The checks the wait loop runs. The loop asks a target one question
//! through [`Check`], "ready now, or not ready and why?", and knows nothing
//! of how it is answered: each kind of target is one file here, its reasons
//! one [`NotReady`]. Today there is one kind, the proxy's HTTP readiness
//! endpoint (`proxy`); a dependency check (`--wait-for`) is another file
//! beside it, chosen from the URL's scheme where the config is read.
//!
//! Invariant: a check never panics and never runs past its own attempt
//! timeout; whatever its peer sends is a reason, not an error of the gate.

pub mod proxy;

use std::{fmt, future::Future, time::Duration};

use reqwest::StatusCode;

use crate::wait::http::RequestError;

/// One target the wait loop waits for.
pub trait Check {
    /// One attempt: `Ok` when the target is ready.
    fn check(&self) -> impl Future<Output = Result<(), NotReady>>;
    /// What is awaited, for log and progress lines (never credentials).
    fn describe(&self) -> String;
    /// What an unfinished attempt was doing when the deadline cut it off,
    /// if that says more than the last finished one (a name lookup).
    fn cut_off(&self, _after: Duration) -> Option<NotReady> {
        None
    }
}

/// Why a check did not find the proxy ready; shown to users in progress lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// A response with a non-2xx status.
    Status(StatusCode),
    /// A 3xx, which is never followed, and where it pointed (resolved
    /// against the checked URL and redacted), if it said.
    Redirect(StatusCode, Option<String>),
    /// No response head within the attempt timeout.
    TimedOut(Duration),
    /// No response at all: refused, reset, malformed, ...
    Request(RequestError),
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::Status(status) => write!(f, "HTTP {status}"),
            NotReady::Redirect(status, Some(to)) => {
                write!(
                    f,
                    "HTTP {status} redirect to '{to}' (redirects are not followed)"
                )
            }
            NotReady::Redirect(status, None) => {
                write!(
                    f,
                    "HTTP {status} redirect without a Location (redirects are not followed)"
                )
            }
            NotReady::TimedOut(after) => {
                write!(
                    f,
                    "no response within {} (--attempt-timeout)",
                    crate::config::duration::human(*after)
                )
            }
            NotReady::Request(reason) => reason.fmt(f),
        }
    }
}
