//! `grpc://host:port[/service]`: the standard gRPC health check,
//! `grpc.health.v1.Health/Check` for the named service (empty: the whole
//! server), over HTTP/2 cleartext with prior knowledge on hyper's client.
//! `SERVING` is ready. `NOT_SERVING`, `SERVICE_UNKNOWN`, `UNKNOWN` and
//! every non-OK `grpc-status` are not: through a Linkerd proxy,
//! `UNAVAILABLE` is what the proxy itself answers while no endpoint of
//! the target is ready.
//!
//! `UNIMPLEMENTED` is not ready either, as for grpc-health-probe and the
//! kubelet's gRPC probe: it is what a server without the health service
//! answers, but also what a mesh proxy's own reply can be (Envoy answers a
//! request for a route it lacks with `grpc-status: 12`), so it proves
//! nothing of the target. `#unimplemented=ready` on the URL opts in to
//! taking it as ready, and only from an answer that is gRPC's own
//! (`content-type: application/grpc`); the caller warns once.
//! (Protocol: gRPC's "Health Checking Protocol" and "gRPC over HTTP2".)
//!
//! The messages: `health.rs`; the connection's tasks: `tasks.rs`.

mod health;
mod tasks;

use std::error::Error as _;

use http_body_util::{BodyExt, Full, Limited};
use hyper::{
    HeaderMap, Request, StatusCode,
    body::Bytes,
    client::conn::http2,
    header::{CONTENT_TYPE, TE, USER_AGENT},
    rt::Executor,
};
use hyper_util::rt::TokioIo;
use percent_encoding::percent_decode_str;
use tokio::time::timeout_at;

pub(super) use self::health::{health_check_request, serving_status};
use self::{
    health::{serving_name, status_name},
    tasks::{AttemptTasks, EndTasks},
};
use super::{
    NotReady,
    socket::{self, Attempt},
    tls,
};
use crate::config::targets::Endpoint;

const PATH: &str = "/grpc.health.v1.Health/Check";

/// What a check that found the server up learnt.
#[derive(Debug, PartialEq, Eq)]
pub enum Serving {
    /// The health service answered `SERVING`.
    Yes,
    /// No health service (`UNIMPLEMENTED`), taken as ready as the URL
    /// asked: up and answering gRPC, no more.
    NoHealthService,
}

/// What the answer's headers say that the verdict weighs.
#[derive(Debug, Clone, Copy)]
pub(super) struct Answer {
    /// `content-type: application/grpc`: a gRPC server's own answer.
    pub grpc: bool,
    /// `#unimplemented=ready`.
    pub unimplemented_ready: bool,
}

pub async fn check(
    at: &Endpoint,
    service: &str,
    unimplemented_ready: bool,
    attempt: Attempt,
) -> Result<Serving, NotReady> {
    let stream = socket::open(at, attempt).await?;
    let plain = matches!(stream, tls::Stream::Plain(_));
    // Every task hyper spawns for this connection ends with the attempt,
    // whatever the peer does: a check never outlives its own bound.
    let tasks = AttemptTasks::default();
    let _end = EndTasks(tasks.clone());
    let ask = async {
        let (mut sender, connection) = http2::Builder::new(tasks.clone())
            .handshake(TokioIo::new(stream))
            .await
            .map_err(not_answered)?;
        tasks.execute(connection);
        let response = sender
            .send_request(request(at, service, attempt)?)
            .await
            .map_err(not_answered)?;
        if response.status() != StatusCode::OK {
            return Err(NotReady::Status(response.status()));
        }
        let (parts, body) = response.into_parts();
        let answer = Answer {
            grpc: parts
                .headers
                .get(CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc")),
            unimplemented_ready,
        };
        // Trailers-Only: an error answered in the headers, no body.
        if let Some(status) = grpc_status(&parts.headers) {
            return verdict(status, &parts.headers, &[], answer);
        }
        let body = Limited::new(body, socket::MAX_ANSWER)
            .collect()
            .await
            .map_err(|e| match e.downcast::<hyper::Error>() {
                Ok(e) => not_answered(*e),
                Err(e) => NotReady::Unexpected(format!("a response body: {e}")),
            })?;
        let trailers = body.trailers().cloned().unwrap_or_default();
        let Some(status) = grpc_status(&trailers) else {
            return Err(NotReady::Unexpected(
                "an HTTP/2 answer without grpc-status (is this a gRPC server?)".to_string(),
            ));
        };
        verdict(status, &trailers, &body.to_bytes(), answer)
    };
    match timeout_at(attempt.deadline, ask).await {
        // A TLS port (Go's among them) closes on the plaintext preface.
        Ok(Err(NotReady::Closed)) if plain => Err(tls::closed_on_plaintext(at.0.scheme())),
        Ok(answer) => answer,
        Err(_elapsed) => Err(NotReady::TimedOut(attempt.timeout)),
    }
}

/// The POST of one `HealthCheckRequest`, to the authority as given (a
/// mesh routes HTTP/2 by it), bounded on the server too (`grpc-timeout`).
fn request(
    at: &Endpoint,
    service: &str,
    attempt: Attempt,
) -> Result<Request<Full<Bytes>>, NotReady> {
    let host = at.0.host_str().unwrap_or_default();
    let port = at.0.port().unwrap_or_default();
    let millis = attempt.timeout.as_millis().clamp(1, 99_999_999);
    Request::post(format!("http://{host}:{port}{PATH}"))
        .header(CONTENT_TYPE, "application/grpc")
        .header(TE, "trailers")
        .header("grpc-timeout", format!("{millis}m"))
        .header(
            USER_AGENT,
            concat!("linkerd-await/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(health_check_request(service))))
        .map_err(|e| NotReady::Unexpected(format!("cannot build the request: {e}")))
}

/// `grpc-status`, if the headers hold one: a number, or what it is not.
fn grpc_status(headers: &HeaderMap) -> Option<Result<u32, String>> {
    let value = headers.get("grpc-status")?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| socket::described(value.as_bytes())),
    )
}

/// What a finished call says: its status, its message and, for OK, the
/// `HealthCheckResponse` in `body`.
pub(super) fn verdict(
    status: Result<u32, String>,
    headers: &HeaderMap,
    body: &[u8],
    answer: Answer,
) -> Result<Serving, NotReady> {
    let status = status.map_err(|v| NotReady::Unexpected(format!("grpc-status {v}")))?;
    match status {
        0 => match serving_status(body)? {
            1 => Ok(Serving::Yes),
            other => Err(NotReady::Answer(format!(
                "the health service answers {}",
                serving_name(other)
            ))),
        },
        12 if answer.unimplemented_ready && answer.grpc => Ok(Serving::NoHealthService),
        12 => Err(NotReady::Answer(format!(
            "grpc-status 12 UNIMPLEMENTED: no health service answered{} (a server without \
             grpc.health.v1.Health, or a proxy without a route to it): register the health \
             service in the app, or add #unimplemented=ready to the URL to take a server's \
             gRPC answer as ready",
            if answer.grpc {
                ""
            } else {
                ", in an answer that is not gRPC's own (no content-type: application/grpc)"
            }
        ))),
        code => {
            let said = headers
                .get("grpc-message")
                .map(|m| {
                    percent_decode_str(&String::from_utf8_lossy(m.as_bytes())).collect::<Vec<u8>>()
                })
                .filter(|m| !m.is_empty())
                .map(|m| format!(": {}", socket::words(&m)))
                .unwrap_or_default();
            let hint = match code {
                5 => " (the health service does not know this service yet)",
                14 => " (through a mesh: no endpoint of the target is ready yet)",
                _ => "",
            };
            Err(NotReady::Answer(format!(
                "grpc-status {code} {}{said}{hint}",
                status_name(code)
            )))
        }
    }
}

/// A hyper error as a reason: the peer went away (through a mesh: the
/// proxy accepted, then found the target down), or it does not speak
/// HTTP/2 (an HTTP/1 server answers the preface with a 400).
fn not_answered(e: hyper::Error) -> NotReady {
    let mut source = e.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return socket::closed_or(io);
        }
        source = cause.source();
    }
    if e.is_closed() || e.is_canceled() || e.is_incomplete_message() {
        return NotReady::Closed;
    }
    NotReady::Unexpected(format!("no HTTP/2 answer ({e}) (is this a gRPC server?)"))
}

#[cfg(test)]
mod tests;
