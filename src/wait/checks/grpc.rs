//! `grpc://host:port[/service]`: the standard gRPC health check,
//! `grpc.health.v1.Health/Check` for the named service (empty: the whole
//! server), over HTTP/2 cleartext with prior knowledge on hyper's client.
//! `SERVING` is ready. `NOT_SERVING`, `SERVICE_UNKNOWN`, `UNKNOWN` and
//! every non-OK `grpc-status` are not: through a Linkerd proxy,
//! `UNAVAILABLE` is what the proxy itself answers while no endpoint of
//! the target is ready. A server without the health service answers
//! `UNIMPLEMENTED`: it is up and serving gRPC, so that is ready, with a
//! warning (the caller's) that the check proved no more than that.
//! (Protocol: gRPC's "Health Checking Protocol" and "gRPC over HTTP2".)
//!
//! The two messages are one string field and one enum field: encoded and
//! read here by hand, checked against the reference implementation
//! (grpcio) by the tests.

use std::{
    error::Error as _,
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

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
use tokio::{task::AbortHandle, time::timeout_at};

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

const PATH: &str = "/grpc.health.v1.Health/Check";

/// What a check that found the server up learnt.
#[derive(Debug, PartialEq, Eq)]
pub enum Serving {
    /// The health service answered `SERVING`.
    Yes,
    /// No health service (`UNIMPLEMENTED`): up and answering gRPC, no more.
    NoHealthService,
}

pub async fn check(at: &Endpoint, service: &str, attempt: Attempt) -> Result<Serving, NotReady> {
    let stream = socket::connect(at, attempt.deadline).await?;
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
        // Trailers-Only: an error answered in the headers, no body.
        if let Some(status) = grpc_status(&parts.headers) {
            return verdict(status, &parts.headers, &[]);
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
        verdict(status, &trailers, &body.to_bytes())
    };
    match timeout_at(attempt.deadline, ask).await {
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

/// `HealthCheckRequest { string service = 1; }` in a gRPC frame: not
/// compressed, its length, then field 1 (tag 0x0a) unless empty.
pub(super) fn health_check_request(service: &str) -> Vec<u8> {
    let mut message = Vec::new();
    if !service.is_empty() {
        message.push(0x0a);
        push_varint(&mut message, service.len() as u64);
        message.extend_from_slice(service.as_bytes());
    }
    let mut frame = vec![0];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(&message);
    frame
}

fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
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
        12 => Ok(Serving::NoHealthService),
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

/// The `status` field of the one `HealthCheckResponse` in a gRPC frame
/// (0, `UNKNOWN`, when absent, as proto3 leaves a default out).
pub(super) fn serving_status(body: &[u8]) -> Result<u64, NotReady> {
    let unexpected = || socket::not_a(body, "a gRPC health service");
    let (&compressed, rest) = body.split_first().ok_or_else(unexpected)?;
    let (length, mut message) = rest.split_at_checked(4).ok_or_else(unexpected)?;
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    // Nothing asked for compression, so a compressed message is not an answer to us.
    if compressed != 0 || message.len() != length {
        return Err(unexpected());
    }
    let mut status = 0;
    while !message.is_empty() {
        let key = varint(&mut message).ok_or_else(unexpected)?;
        match (key >> 3, key & 7) {
            (1, 0) => status = varint(&mut message).ok_or_else(unexpected)?,
            (_, 0) => drop(varint(&mut message).ok_or_else(unexpected)?),
            (_, wire) => {
                let skip = match wire {
                    1 => 8,
                    5 => 4,
                    2 => usize::try_from(varint(&mut message).ok_or_else(unexpected)?)
                        .map_err(|_| unexpected())?,
                    _ => return Err(unexpected()),
                };
                message = message.get(skip..).ok_or_else(unexpected)?;
            }
        }
    }
    Ok(status)
}

fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn serving_name(status: u64) -> String {
    match status {
        0 => "UNKNOWN".to_string(),
        1 => "SERVING".to_string(),
        2 => "NOT_SERVING".to_string(),
        3 => "SERVICE_UNKNOWN".to_string(),
        other => format!("status {other}"),
    }
}

fn status_name(code: u32) -> &'static str {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    usize::try_from(code)
        .ok()
        .and_then(|code| NAMES.get(code))
        .copied()
        .unwrap_or("(not a gRPC status code)")
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

/// Where hyper runs a connection's tasks: on the runtime, remembered so
/// that [`EndTasks`] can end them with the attempt.
#[derive(Clone, Default)]
struct AttemptTasks(Arc<Mutex<Vec<AbortHandle>>>);

impl<F> Executor<F> for AttemptTasks
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, task: F) {
        let handle = tokio::spawn(task).abort_handle();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }
}

struct EndTasks(AttemptTasks);

impl Drop for EndTasks {
    fn drop(&mut self) {
        let tasks = std::mem::take(&mut *self.0.0.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use hyper::header::HeaderValue;

    fn response(status: u8) -> Vec<u8> {
        vec![0, 0, 0, 0, 2, 0x08, status]
    }

    fn trailers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_request_names_the_service_and_the_answer_is_read() {
        assert_eq!(health_check_request(""), [0, 0, 0, 0, 0]);
        assert_eq!(
            health_check_request("app.Orders"),
            b"\0\0\0\0\x0c\x0a\x0aapp.Orders"
        );
        let none = HeaderMap::new();
        assert_eq!(verdict(Ok(0), &none, &response(1)), Ok(Serving::Yes));
        assert_eq!(
            verdict(Ok(0), &none, &response(2)),
            Err(NotReady::Answer(
                "the health service answers NOT_SERVING".to_string()
            ))
        );
        // proto3 leaves UNKNOWN (0) out: an empty message.
        assert_eq!(
            verdict(Ok(0), &none, &[0, 0, 0, 0, 0]),
            Err(NotReady::Answer(
                "the health service answers UNKNOWN".to_string()
            ))
        );
        assert_eq!(verdict(Ok(12), &none, &[]), Ok(Serving::NoHealthService));
        assert_eq!(
            verdict(
                Ok(14),
                &trailers(&[("grpc-message", "no%20endpoints%0A")]),
                &[]
            ),
            Err(NotReady::Answer(
                "grpc-status 14 UNAVAILABLE: no endpoints\\n (through a mesh: no endpoint of \
                 the target is ready yet)"
                    .to_string()
            ))
        );
        for garbage in [
            &b""[..],
            b"\x01\0\0\0\x02\x08\x01",
            b"\0\0\0\0\x05\x08\x01",
            b"\0\0\0\0\x01\x0f",
        ] {
            assert!(
                matches!(verdict(Ok(0), &none, garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
        assert!(matches!(
            verdict(Err("\"x\" (1 bytes)".to_string()), &none, &[]),
            Err(NotReady::Unexpected(_))
        ));
    }

    #[test]
    fn unknown_fields_are_skipped() {
        // field 2 (varint), field 3 (bytes), then status SERVING.
        let message = [0x10, 0x05, 0x1a, 0x02, b'h', b'i', 0x08, 0x01];
        let mut frame = vec![0, 0, 0, 0, message.len() as u8];
        frame.extend_from_slice(&message);
        assert_eq!(serving_status(&frame), Ok(1));
    }
}
