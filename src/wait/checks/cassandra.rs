//! `cassandra://host[:port]` (`cql://`): an `OPTIONS` request in native
//! protocol v4 (Cassandra 2.2 and later, ScyllaDB), which a node answers
//! before authentication. `SUPPORTED` is ready; an `ERROR` frame is not,
//! with the node's own message (overloaded, bootstrapping). A node whose
//! native transport is not started yet does not listen at all. Port 9042
//! is not among Linkerd's default opaque ports; the client speaks first,
//! so protocol detection passes it through as TCP. (Protocol: Cassandra's
//! `native_protocol_v4.spec`, sections 2 and 4.)

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

const VERSION: u8 = 0x04;
const RESPONSE: u8 = 0x80;
const OPCODE_ERROR: u8 = 0x00;
const OPCODE_OPTIONS: u8 = 0x05;
const OPCODE_SUPPORTED: u8 = 0x06;
const HEADER: usize = 9;
/// Our request's stream id: the response must carry it back.
const STREAM: i16 = 0x6177;

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let answer = socket::ask(
        at,
        attempt,
        &request(),
        frame_complete,
        NotReady::TimedOut(attempt.timeout),
    )
    .await?;
    read_answer(&answer)
}

/// The header (version, no flags, stream, opcode, body length 0); OPTIONS
/// has no body.
pub(super) fn request() -> Vec<u8> {
    let mut frame = vec![VERSION, 0];
    frame.extend_from_slice(&STREAM.to_be_bytes());
    frame.push(OPCODE_OPTIONS);
    frame.extend_from_slice(&0i32.to_be_bytes());
    frame
}

fn body_length(bytes: &[u8]) -> Option<usize> {
    let b = bytes.get(5..HEADER)?;
    usize::try_from(i32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok()
}

pub(super) fn frame_complete(bytes: &[u8]) -> bool {
    body_length(bytes).is_some_and(|n| bytes.len() >= HEADER + n)
}

/// The response frame: `SUPPORTED`, or an `ERROR` with its code and message.
pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || socket::not_a(answer, "a Cassandra node");
    let length = body_length(answer)
        .filter(|n| HEADER + n <= answer.len().min(socket::MAX_ANSWER))
        .ok_or_else(unexpected)?;
    // A node that does not speak v4 answers a protocol error in its own
    // version: the response bit is what every version shares.
    if answer[0] & RESPONSE == 0 {
        return Err(unexpected());
    }
    let body = &answer[HEADER..HEADER + length];
    match answer[4] {
        OPCODE_SUPPORTED if answer[2..4] == STREAM.to_be_bytes() => Ok(()),
        OPCODE_ERROR => {
            let (code, message) = error(body).ok_or_else(unexpected)?;
            Err(NotReady::Answer(format!(
                "{} ({} 0x{code:04X})",
                socket::words(message),
                error_name(code)
            )))
        }
        _ => Err(unexpected()),
    }
}

/// An ERROR body: `[int]` code, `[string]` message (a 2-byte length).
fn error(body: &[u8]) -> Option<(u32, &[u8])> {
    let code = body.get(..4)?;
    let code = u32::from_be_bytes([code[0], code[1], code[2], code[3]]);
    let length = body.get(4..6)?;
    let length = usize::from(u16::from_be_bytes([length[0], length[1]]));
    Some((code, body.get(6..6 + length)?))
}

fn error_name(code: u32) -> &'static str {
    match code {
        0x0000 => "Server error",
        0x000A => "Protocol error",
        0x0100 => "Bad credentials",
        0x1000 => "Unavailable",
        0x1001 => "Overloaded",
        0x1002 => "Is_bootstrapping",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: u8, body: &[u8]) -> Vec<u8> {
        let mut frame = vec![RESPONSE | VERSION, 0];
        frame.extend_from_slice(&STREAM.to_be_bytes());
        frame.push(opcode);
        frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
        frame.extend_from_slice(body);
        frame
    }

    #[test]
    fn the_request_is_options_v4_and_its_answer_is_read() {
        assert_eq!(request(), [4, 0, 0x61, 0x77, 5, 0, 0, 0, 0]);
        let supported = frame(
            OPCODE_SUPPORTED,
            b"\0\x01\0\x0bCQL_VERSION\0\x01\0\x053.4.5",
        );
        assert!(frame_complete(&supported));
        assert_eq!(read_answer(&supported), Ok(()));
        let bootstrapping = frame(OPCODE_ERROR, b"\0\0\x10\x02\0\x0fCannot read yet");
        assert_eq!(
            read_answer(&bootstrapping),
            Err(NotReady::Answer(
                "Cannot read yet (Is_bootstrapping 0x1002)".to_string()
            ))
        );
        for garbage in [
            &frame(OPCODE_ERROR, b"\0\0")[..],
            &frame(0x02, b"")[..],
            &request(),
            b"HTTP/1.1 400 Bad Request\r\n",
        ] {
            assert!(
                matches!(read_answer(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
