//! `mysql://host[:port]` (MariaDB too): the server speaks first, with its
//! initial handshake (protocol version 10) or, when it will not take the
//! connection (error 1040, too many connections; a host blocked), an ERR
//! packet, whose message is the reason shown. Nothing is sent: the check
//! leaves at the greeting. Through a Linkerd proxy a server-speaks-first
//! port must be opaque or skipped, or the proxy's protocol detection waits
//! for the client: a silent connection says so (`NotReady::NoGreeting`).
//! (Protocol: MySQL's "Connection Phase", `Protocol::HandshakeV10`,
//! `ERR_Packet`.)

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

const HANDSHAKE_V10: u8 = 10;
const ERR_PACKET: u8 = 0xff;

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let mut stream = socket::connect(at).await?;
    let answer = socket::exchange(
        &mut stream,
        b"",
        packet_complete,
        attempt.deadline,
        NotReady::NoGreeting(attempt.timeout),
    )
    .await?;
    read_greeting(&answer)
}

/// A packet is a 3-byte little-endian length, a sequence number, then the
/// payload.
fn payload_len(bytes: &[u8]) -> Option<usize> {
    let head = bytes.get(..3)?;
    Some(usize::from(head[0]) | usize::from(head[1]) << 8 | usize::from(head[2]) << 16)
}

pub(super) fn packet_complete(bytes: &[u8]) -> bool {
    payload_len(bytes).is_some_and(|len| bytes.len() >= len + 4)
}

pub(super) fn read_greeting(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || {
        NotReady::Unexpected(format!(
            "{} (is this a MySQL or MariaDB server?)",
            socket::described(answer)
        ))
    };
    let Some(len) = payload_len(answer).filter(|len| *len > 0) else {
        return Err(unexpected());
    };
    let payload = &answer[4.min(answer.len())..answer.len().min(len + 4)];
    match payload.first() {
        Some(&HANDSHAKE_V10) if payload.len() > 1 => Ok(()),
        Some(&ERR_PACKET) if payload.len() >= 3 => {
            let code = u16::from_le_bytes([payload[1], payload[2]]);
            let mut message = &payload[3..];
            // A `#` and a 5-character SQLSTATE, when the server adds one.
            if message.first() == Some(&b'#') && message.len() >= 6 {
                message = &message[6..];
            }
            Err(NotReady::Answer(format!(
                "{} (error {code})",
                String::from_utf8_lossy(message)
            )))
        }
        Some(&version) if version != ERR_PACKET && payload.len() > 1 && version < 32 => Err(
            NotReady::Unexpected(format!("a greeting of protocol version {version}, not 10")),
        ),
        _ => Err(unexpected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use sim_proxy::mysql_packet as packet;

    #[test]
    fn greetings_and_errors() {
        let greeting = packet(b"\x0a10.11.6-MariaDB\0\x01\0\0\0abcdefgh\0");
        assert!(packet_complete(&greeting));
        assert_eq!(read_greeting(&greeting), Ok(()));
        let too_many = packet(b"\xff\x10\x04Too many connections");
        assert_eq!(
            read_greeting(&too_many),
            Err(NotReady::Answer(
                "Too many connections (error 1040)".to_string()
            ))
        );
        let with_state = packet(b"\xff\x10\x04#08004Too many connections");
        assert_eq!(
            read_greeting(&with_state),
            Err(NotReady::Answer(
                "Too many connections (error 1040)".to_string()
            ))
        );
        for garbage in [&b"HTTP/1.1 400"[..], &packet(b"\x09old")[..], b"\x01\0\0\0"] {
            assert!(
                matches!(read_greeting(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
