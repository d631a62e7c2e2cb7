//! The checks the wait loop runs. The loop asks a target one question
//! through [`Check`], "ready now, or not ready and why?", and knows nothing
//! of how it is answered: each kind of target is one file here, its reasons
//! one [`NotReady`]. The proxy's readiness endpoint is an `http` check;
//! each `--wait-for` scheme is a [`Dependency`], dispatched from the typed
//! target (`config::targets`) to its file: `tcp`, `http`, `postgres`,
//! `redis`, `mysql`, `memcached`, `nats`, `zookeeper`, `amqp`, `kafka`,
//! `grpc`, `mongodb`, `cassandra`, `smtp`, `dns`, `file`, `unix`. What the network ones share
//! (connect, TLS where the URL asks, one bounded exchange): `socket`, `tls`.
//!
//! Invariant: a check never panics and never runs past its own attempt
//! timeout; whatever its peer sends is a reason, not an error of the gate.

mod amqp;
mod cassandra;
mod dependency;
mod dns;
mod file;
mod grpc;
pub mod http;
mod judge;
mod kafka;
mod memcached;
mod mongodb;
mod mongodb_srv;
mod mysql;
mod nats;
mod postgres;
mod redis;
mod smtp;
mod socket;
mod tcp;
pub mod tls;
mod unix;
mod zookeeper;

use std::{fmt, future::Future, path::PathBuf, time::Duration};

use reqwest::StatusCode;

pub use self::dependency::Dependency;
use crate::{config::duration::human, wait::http::RequestError};

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

/// Why a check did not find its target ready; shown to users in progress
/// lines and timeout messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// A response with a non-2xx status.
    Status(StatusCode),
    /// A 3xx, which is never followed, and where it pointed (resolved
    /// against the checked URL and redacted), if it said.
    Redirect(StatusCode, Option<String>),
    /// No answer within the attempt timeout.
    TimedOut(Duration),
    /// No connection, or no HTTP response: refused, reset, no name, ...
    Request(RequestError),
    /// The server answered in its protocol that it is not ready yet:
    /// its own words (`the database system is starting up (57P03)`).
    Answer(String),
    /// The connection was closed before any answer (through a mesh: the
    /// proxy accepted, then found the target down).
    Closed,
    /// Something that is not an answer of the protocol checked, described.
    Unexpected(String),
    /// Connected, but a server that speaks first (MySQL, NATS) said
    /// nothing within the attempt timeout; `port` says where its port
    /// stands with Linkerd's protocol detection.
    NoGreeting { after: Duration, port: &'static str },
    /// A path that does not exist (yet).
    Missing(PathBuf),
    /// An answer that does not meet the target's expectations: what
    /// differed (`/status is "DOWN", expected "UP"`).
    Unmet(String),
    /// [`NotReady::Closed`] where the other form of the scheme may be
    /// the cause, and the hint names it: a TLS port closes so on
    /// plaintext, and a plaintext one (etcd's) on a ClientHello.
    ClosedHinting(String),
    /// TLS failed, in words that point at the fix (`tls::words`).
    Tls(String),
    /// The server asked for a client certificate and, given none, ended
    /// the session: it proved its identity first, so it is up. Never
    /// leaves a check's caller: `Dependency` takes it as ready, with a
    /// WARN that the gate sends no certificate (the app will).
    ClientCertDemanded,
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
                    human(*after)
                )
            }
            NotReady::Request(reason) => reason.fmt(f),
            NotReady::Answer(said) => f.write_str(said),
            NotReady::Closed => f.write_str("connection closed without an answer"),
            NotReady::Unexpected(what) => write!(f, "unexpected answer: {what}"),
            NotReady::NoGreeting { after, port } => write!(
                f,
                "connected, but no greeting within {} (--attempt-timeout): the server may be \
                 slow to accept, or the mesh may not reach it; or, through a Linkerd proxy, \
                 its port may not be opaque, so protocol detection waits for the client \
                 ({port})",
                human(*after)
            ),
            NotReady::Missing(path) => write!(f, "{} does not exist", path.display()),
            NotReady::Unmet(what) => f.write_str(what),
            NotReady::ClosedHinting(hint) => {
                write!(f, "connection closed without an answer ({hint})")
            }
            NotReady::Tls(what) => f.write_str(what),
            NotReady::ClientCertDemanded => {
                f.write_str("the server demands a client certificate, which the gate never sends")
            }
        }
    }
}

/// Said of a server that is up but refuses this client (Redis protected
/// mode, MySQL's host not allowed): not ready, like any refusal, but the
/// reason must say that time alone will not fix it.
const REFUSES_THIS_CLIENT: &str = "the server refuses this client, and waiting will not change that: the app would be \
     refused too; fix the server's access rules";

/// A path call (`stat`, `connect`) that had not returned when an attempt
/// ended: the filesystem is what does not answer.
fn stuck_path(call: &str, path: &std::path::Path) -> NotReady {
    NotReady::Request(RequestError::Other(format!(
        "{call} of {} did not return (a hung filesystem or mount?)",
        path.display().to_string().escape_debug()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    proptest! {
        /// Whatever a server (or something that is not one) sends, every
        /// check reads it as an answer or a reason, never a panic.
        #[test]
        fn arbitrary_bytes_from_a_server_never_panic_any_check(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let _ = postgres::first_message_complete(&bytes);
            let _ = postgres::read_answer(&bytes);
            let _ = redis::read_answer(&bytes);
            let _ = mysql::packet_complete(&bytes);
            let _ = mysql::read_greeting(&bytes);
            let _ = memcached::read_answer(&bytes);
            let _ = nats::read_greeting(&bytes);
            let _ = zookeeper::read_answer(&bytes);
            let _ = amqp::frame_complete(&bytes);
            let _ = amqp::read_answer(&bytes);
            let _ = kafka::response_complete(&bytes);
            let _ = kafka::read_answer(&bytes);
            let _ = grpc::serving_status(&bytes);
            let _ = mongodb::message_complete(&bytes);
            let _ = mongodb::read_answer(&bytes, 0);
            let _ = cassandra::frame_complete(&bytes);
            let _ = cassandra::read_answer(&bytes);
            let _ = socket::described(&bytes);
            let _ = socket::words(&bytes);
        }
    }
}
