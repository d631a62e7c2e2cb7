//! The two messages of gRPC's health service, `HealthCheckRequest {
//! string service = 1; }` and `HealthCheckResponse { ServingStatus status
//! = 1; }`, each in a gRPC frame, encoded and read here by hand (one
//! string field and one enum field do not need a protobuf library), and
//! the names of gRPC's status codes. Checked against the reference
//! implementation (grpcio) by the tests.

use super::super::{NotReady, socket};

/// `HealthCheckRequest { string service = 1; }` in a gRPC frame: not
/// compressed, its length, then field 1 (tag 0x0a) unless empty.
pub(in crate::wait::checks) fn health_check_request(service: &str) -> Vec<u8> {
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

/// The `status` field of the one `HealthCheckResponse` in a gRPC frame
/// (0, `UNKNOWN`, when absent, as proto3 leaves a default out).
pub(in crate::wait::checks) fn serving_status(body: &[u8]) -> Result<u64, NotReady> {
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

pub(super) fn serving_name(status: u64) -> String {
    match status {
        0 => "UNKNOWN".to_string(),
        1 => "SERVING".to_string(),
        2 => "NOT_SERVING".to_string(),
        3 => "SERVICE_UNKNOWN".to_string(),
        other => format!("status {other}"),
    }
}

pub(super) fn status_name(code: u32) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_names_the_service() {
        assert_eq!(health_check_request(""), [0, 0, 0, 0, 0]);
        assert_eq!(
            health_check_request("app.Orders"),
            b"\0\0\0\0\x0c\x0a\x0aapp.Orders"
        );
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
