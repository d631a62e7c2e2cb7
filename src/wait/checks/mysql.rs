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
use tokio::{io::AsyncWriteExt, time::timeout_at};

use crate::config::targets::{Endpoint, tls::Tls};

const HANDSHAKE_V10: u8 = 10;

/// What a silent connection's reason adds: where the port stands.
const PORT_NOTE: &str = "Linkerd's default opaque ports include 3306; for another port set \
     config.linkerd.io/opaque-ports or config.linkerd.io/skip-outbound-ports";
const ERR_PACKET: u8 = 0xff;

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let silent = NotReady::NoGreeting {
        after: attempt.timeout,
        port: PORT_NOTE,
    };
    if at.1 == Tls::Off {
        let answer = socket::ask(at, attempt, b"", packet_complete, silent).await?;
        return read_greeting(&answer);
    }
    // `ssl-mode`: the greeting in plaintext, then the SSL request (a
    // handshake response cut short), then the handshake.
    let mut tcp = socket::connect(at, attempt.deadline).await?;
    let greeting =
        socket::exchange(&mut tcp, b"", packet_complete, attempt.deadline, silent).await?;
    read_greeting(&greeting)?;
    if !offers_tls(&greeting) {
        return Err(NotReady::Tls(
            "the server does not offer TLS (no CLIENT_SSL in its greeting): turn TLS on in \
             the server, or use ssl-mode=DISABLED"
                .to_string(),
        ));
    }
    if timeout_at(attempt.deadline, tcp.write_all(&ssl_request()))
        .await
        .is_err()
    {
        return Err(NotReady::TimedOut(attempt.timeout));
    }
    socket::secure(tcp, at, attempt).await.map(drop)
}

/// The capability flags the SSL request sets: long password, protocol
/// 4.1, SSL, secure connection, plugin auth.
const CLIENT_SSL: u32 = 0x0800;
const CAPABILITIES: u32 = 0x0001 | 0x0200 | CLIENT_SSL | 0x8000 | 0x0008_0000;

/// Whether a greeting (whole, already read) sets CLIENT_SSL: after the
/// version's NUL, the connection id (4), the scramble (8), a filler (1),
/// the low 16 bits of the capabilities.
fn offers_tls(greeting: &[u8]) -> bool {
    let Some(payload) = greeting.get(5..) else {
        return false;
    };
    let Some(end) = payload.iter().position(|&b| b == 0) else {
        return false;
    };
    payload
        .get(end + 14..end + 16)
        .is_some_and(|low| u32::from(u16::from_le_bytes([low[0], low[1]])) & CLIENT_SSL != 0)
}

/// SSLRequest: capabilities, the largest packet, utf8, 23 zero bytes;
/// sequence number 1.
fn ssl_request() -> Vec<u8> {
    let mut packet = vec![32, 0, 0, 1];
    packet.extend_from_slice(&CAPABILITIES.to_le_bytes());
    packet.extend_from_slice(&(16u32 << 20).to_le_bytes());
    packet.push(33);
    packet.extend_from_slice(&[0; 23]);
    packet
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

/// MySQL's "host is not allowed to connect" (`ER_HOST_NOT_PRIVILEGED`):
/// the server refuses this client's address, and will until its grants
/// change.
const HOST_NOT_ALLOWED: u16 = 1130;

/// The greeting, or the error packet a server sends instead. Only a whole
/// packet counts, and a greeting only with its NUL-terminated server
/// version and what must follow it (connection id, the first 8 bytes of
/// the scramble, a filler): a protocol byte alone is no greeting.
pub(super) fn read_greeting(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || socket::not_a(answer, "a MySQL or MariaDB server");
    let Some(len) = payload_len(answer).filter(|len| *len > 0) else {
        return Err(unexpected());
    };
    let Some(payload) = answer.get(4..len + 4) else {
        return Err(unexpected());
    };
    match payload[0] {
        HANDSHAKE_V10 if answer[3] == 0 && is_greeting(&payload[1..]) => Ok(()),
        ERR_PACKET if payload.len() >= 3 => {
            let code = u16::from_le_bytes([payload[1], payload[2]]);
            let mut message = &payload[3..];
            // A `#` and a 5-character SQLSTATE, when the server adds one.
            if message.first() == Some(&b'#') && message.len() >= 6 {
                message = &message[6..];
            }
            let said = socket::words(message);
            Err(NotReady::Answer(if code == HOST_NOT_ALLOWED {
                format!("{said} (error {code}: {})", super::REFUSES_THIS_CLIENT)
            } else {
                format!("{said} (error {code})")
            }))
        }
        version if version != HANDSHAKE_V10 && payload.len() > 1 && version < 32 => Err(
            NotReady::Unexpected(format!("a greeting of protocol version {version}, not 10")),
        ),
        _ => Err(unexpected()),
    }
}

/// After the protocol byte: a server version of printable ASCII ending in
/// a NUL, then at least the 4-byte connection id, 8 scramble bytes and
/// the filler.
fn is_greeting(rest: &[u8]) -> bool {
    let Some(end) = rest.iter().position(|&b| b == 0) else {
        return false;
    };
    let version = &rest[..end];
    !version.is_empty() && version.iter().all(u8::is_ascii_graphic) && rest.len() - end > 13
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
        let host_not_allowed =
            packet(b"\xff\x6a\x04Host '10.0.0.7' is not allowed to connect to this MariaDB server");
        let reason = read_greeting(&host_not_allowed)
            .expect_err("refused")
            .to_string();
        assert!(reason.contains("(error 1130: "), "{reason}");
        assert!(reason.contains("waiting will not change"), "{reason}");
        for garbage in [
            &b"HTTP/1.1 400"[..],
            &packet(b"\x09old")[..],
            b"\x01\0\0\0",
            // Cut off after the protocol byte, or its version unterminated.
            &packet(b"\x0a5")[..],
            &packet(b"\x0a10.11.6-MariaDB")[..],
            &packet(b"\x0a10.11.6\0\x01\0\0")[..],
            // The length promises more than came.
            b"\x30\0\0\0\x0a10.11.6-MariaDB\0",
        ] {
            assert!(
                matches!(read_greeting(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
