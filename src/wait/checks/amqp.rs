//! `amqp://host[:port][/vhost]`: the AMQP 0-9-1 protocol header, and the
//! server's first frame. `Connection.Start` (a method frame on channel 0,
//! class 10, method 10) is ready: the broker is up and would now ask for
//! credentials, which the check never sends. A server that answers with a
//! protocol header of its own speaks another version of AMQP. Port 5672
//! is not among Linkerd's default opaque ports; the client speaks first,
//! so protocol detection passes it through as TCP.

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

/// "AMQP", then protocol 0-9-1.
const PROTOCOL_HEADER: &[u8; 8] = b"AMQP\x00\x00\x09\x01";
const METHOD_FRAME: u8 = 1;
const FRAME_END: u8 = 0xce;
/// `Connection.Start`: class 10, method 10.
const CONNECTION_START: [u8; 4] = [0, 10, 0, 10];

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let answer = socket::ask(
        at,
        attempt,
        PROTOCOL_HEADER,
        frame_complete,
        NotReady::TimedOut(attempt.timeout),
    )
    .await?;
    read_answer(&answer)
}

/// A frame is a type byte, a channel (2 bytes), a size (4), the payload
/// and the frame-end byte; a protocol header is 8 bytes.
pub(super) fn frame_complete(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"AMQP") {
        return bytes.len() >= 8;
    }
    frame_size(bytes).is_some_and(|size| bytes.len() > 7 + size)
}

fn frame_size(bytes: &[u8]) -> Option<usize> {
    let size = bytes.get(3..7)?;
    usize::try_from(u32::from_be_bytes([size[0], size[1], size[2], size[3]])).ok()
}

pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || socket::not_a(answer, "an AMQP 0-9-1 broker");
    // A broker that does not take the header answers with the one it
    // speaks (AMQP 0-9-1, section 4.2.2), and closes.
    if let Some(version) = answer.strip_prefix(b"AMQP").and_then(|v| v.get(..4)) {
        return Err(NotReady::Answer(match version {
            [0, 0, 9, 1] => "the broker answered the AMQP 0-9-1 header with its own \
                 protocol header, not Connection.Start: it refused the connection"
                .to_string(),
            [0 | 2 | 3, 1, 0, 0] => "the server speaks AMQP 1.0 only, not 0-9-1 (an AMQP \
                 1.0 broker: wait for its port with tcp://)"
                .to_string(),
            [_, major, minor, revision] => {
                format!("the broker speaks AMQP {major}-{minor}-{revision} only, not 0-9-1")
            }
            _ => return Err(unexpected()),
        }));
    }
    let Some(size) = frame_size(answer).filter(|size| *size < socket::MAX_ANSWER) else {
        return Err(unexpected());
    };
    let whole = answer
        .get(..8 + size)
        .filter(|frame| frame[7 + size] == FRAME_END);
    match whole {
        Some(frame)
            if frame[0] == METHOD_FRAME
                && frame[1..3] == [0, 0]
                && frame.get(7..11) == Some(&CONNECTION_START[..]) =>
        {
            Ok(())
        }
        _ => Err(unexpected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![kind, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f.push(FRAME_END);
        f
    }

    #[test]
    fn answers_to_the_protocol_header() {
        let start = frame(METHOD_FRAME, b"\x00\x0a\x00\x0a\x00\x09rest");
        assert!(frame_complete(&start));
        assert_eq!(read_answer(&start), Ok(()));
        assert_eq!(
            read_answer(b"AMQP\x00\x00\x09\x00"),
            Err(NotReady::Answer(
                "the broker speaks AMQP 0-9-0 only, not 0-9-1".to_string()
            ))
        );
        for (header, said) in [
            (&b"AMQP\x00\x00\x09\x01"[..], "refused the connection"),
            (b"AMQP\x03\x01\x00\x00", "speaks AMQP 1.0 only"),
        ] {
            let reason = read_answer(header).expect_err("not ready").to_string();
            assert!(reason.contains(said), "{reason}");
            assert!(!reason.contains("0-9-1 only, not 0-9-1"), "{reason}");
        }
        let close = frame(METHOD_FRAME, b"\x00\x0a\x00\x32\x01\x40");
        for garbage in [
            &close[..],
            &start[..start.len() - 1],
            b"HTTP/1.1 400",
            b"\x01\0\0",
        ] {
            assert!(
                matches!(read_answer(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
