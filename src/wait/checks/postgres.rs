//! `postgres://[user@]host[:port][/db]`: a StartupMessage, and the first
//! message of the answer, read as libpq's `PQping` (pg_isready) reads it.
//! An authentication request means the server is up and accepting
//! connections; so does any error but one, since a wrong user, database or
//! `pg_hba.conf` entry is the server speaking: only SQLSTATE 57P03
//! (cannot connect now: starting up, shutting down, in recovery) is "not
//! ready". No password is ever sent: the check leaves at the first answer.
//! With `sslmode=require` and above: SSLRequest, `S`, the handshake, then
//! the StartupMessage inside TLS, as libpq does.
//! (Protocol: PostgreSQL's "Message Flow", "Start-up", and "Message
//! Formats"; libpq's `internal_ping` explains the reading.)

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::{Endpoint, tls::Tls};

/// Protocol 3.0, the only one servers since 7.4 speak.
const PROTOCOL_3_0: u32 = 3 << 16;

/// The SQLSTATE of "the database system is starting up" (and shutting
/// down, in recovery, not yet accepting connections).
const CANNOT_CONNECT_NOW: &str = "57P03";

pub async fn check(
    at: &Endpoint,
    user: &str,
    database: &str,
    attempt: Attempt,
) -> Result<(), NotReady> {
    let request = startup_message(user, database);
    let silent = NotReady::TimedOut(attempt.timeout);
    if at.1 == Tls::Off {
        let answer = socket::ask(at, attempt, &request, first_message_complete, silent).await?;
        return read_answer(&answer);
    }
    let mut tcp = socket::connect(at, attempt.deadline).await?;
    let said = socket::exchange(
        &mut tcp,
        &SSL_REQUEST,
        |b| !b.is_empty(),
        attempt.deadline,
        silent.clone(),
    )
    .await?;
    match said.as_slice() {
        b"S" => {}
        b"N" => {
            return Err(NotReady::Tls(
                "the server does not accept TLS (it answered N to SSLRequest): turn ssl on \
                 in the server, or use sslmode=disable"
                    .to_string(),
            ));
        }
        // libpq refuses bytes after the `S` (CVE-2021-23222): they would
        // be read as if they came inside TLS.
        [b'S', ..] => {
            return Err(NotReady::Tls(
                "the server sent more than S in answer to SSLRequest (CVE-2021-23222: \
                 a man in the middle?)"
                    .to_string(),
            ));
        }
        other => return Err(socket::not_a(other, "a PostgreSQL server")),
    }
    let mut stream = socket::secure(tcp, at, attempt).await?;
    let answer = socket::exchange(
        &mut stream,
        &request,
        first_message_complete,
        attempt.deadline,
        silent,
    )
    .await?;
    read_answer(&answer)
}

/// "Encrypt this connection": length 8, code 1234 5679.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// Length, protocol version, then `name\0value\0` pairs and a final NUL.
fn startup_message(user: &str, database: &str) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&PROTOCOL_3_0.to_be_bytes());
    for (name, value) in [
        ("user", user),
        ("database", database),
        ("application_name", "linkerd-await"),
    ] {
        for part in [name, value] {
            body.extend_from_slice(part.as_bytes());
            body.push(0);
        }
    }
    body.push(0);
    let len = u32::try_from(body.len() + 4).unwrap_or(u32::MAX);
    let mut message = len.to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    message
}

/// A message is a type byte, a 4-byte length (counting itself) and the
/// rest; whole once that many bytes are in.
pub(super) fn first_message_complete(bytes: &[u8]) -> bool {
    match message_len(bytes) {
        Some(len) => bytes.len() > len,
        None => false,
    }
}

fn message_len(bytes: &[u8]) -> Option<usize> {
    let len = bytes.get(1..5)?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    usize::try_from(len).ok()
}

/// The server's first message, as `PQping` reads it. Only a whole
/// message of a plausible length counts: a first byte `R` alone is no
/// authentication request (a VNC server's `RFB 003.008` starts so too).
pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let not_postgres = || socket::not_a(answer, "a PostgreSQL server");
    let Some(len) = message_len(answer).filter(|len| (4..socket::MAX_ANSWER).contains(len)) else {
        return Err(not_postgres());
    };
    // The message whole: its body is what follows the type and the length.
    let Some(body) = answer.get(5..=len) else {
        return Err(not_postgres());
    };
    match answer[0] {
        // An authentication request (or AuthenticationOk): up.
        b'R' if is_authentication_request(body) => Ok(()),
        b'E' => {
            let field = |code: u8| error_field(body, code);
            match field(b'C') {
                Some(code) if code == CANNOT_CONNECT_NOW => Err(NotReady::Answer(format!(
                    "{} ({code})",
                    field(b'M').unwrap_or_else(|| "cannot connect now".to_string())
                ))),
                // Any other error is the server speaking: up (PQping).
                Some(_) => Ok(()),
                None => Err(not_postgres()),
            }
        }
        _ => Err(not_postgres()),
    }
}

/// An `AuthenticationXxx` body a server sends first: its code, and the
/// length that code has (Message Formats): Ok, KerberosV5, cleartext, GSS
/// and SSPI carry nothing more, MD5 a 4-byte salt, SASL a list of
/// NUL-terminated mechanism names ending in an empty one.
fn is_authentication_request(body: &[u8]) -> bool {
    let Some((code, rest)) = body.split_first_chunk::<4>() else {
        return false;
    };
    match u32::from_be_bytes(*code) {
        0 | 2 | 3 | 7 | 9 => rest.is_empty(),
        5 => rest.len() == 4,
        10 => rest.len() >= 2 && rest.ends_with(&[0, 0]) && rest[0] != 0,
        _ => false,
    }
}

/// A field of an ErrorResponse: `code` byte, then a NUL-terminated string,
/// shown as a peer's words (escaped, bounded).
fn error_field(body: &[u8], code: u8) -> Option<String> {
    let mut rest = body;
    while let Some((&kind, tail)) = rest.split_first() {
        if kind == 0 {
            return None;
        }
        let end = tail.iter().position(|&b| b == 0)?;
        if kind == code {
            return Some(socket::words(&tail[..end]));
        }
        rest = &tail[end + 1..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    use sim_proxy::postgres_error as error;

    #[test]
    fn every_first_authentication_request_counts_whole() {
        let request = |code: u32, rest: &[u8]| {
            let mut m = vec![b'R'];
            m.extend_from_slice(&(8 + rest.len() as u32).to_be_bytes());
            m.extend_from_slice(&code.to_be_bytes());
            m.extend_from_slice(rest);
            m
        };
        for message in [
            request(0, b""),
            request(3, b""),
            request(5, b"salt"),
            request(10, b"SCRAM-SHA-256\0\0"),
            request(10, b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0"),
        ] {
            assert!(first_message_complete(&message), "{message:?}");
            assert_eq!(read_answer(&message), Ok(()), "{message:?}");
        }
    }

    #[test]
    fn a_servers_message_cannot_forge_a_log_line_or_fill_it() {
        let long = "x".repeat(3000);
        let forged = error(&[
            (b'C', "57P03"),
            (
                b'M',
                "starting\n2026-01-01T00:00:00Z INFO starting /app\x1b[2J",
            ),
        ]);
        let reason = read_answer(&forged).expect_err("not ready").to_string();
        assert!(!reason.contains(['\n', '\x1b']), "{reason:?}");
        assert!(reason.contains("starting\\n2026"), "{reason:?}");
        let reason = read_answer(&error(&[(b'C', "57P03"), (b'M', &long)]))
            .expect_err("not ready")
            .to_string();
        assert!(reason.len() < 300, "{} bytes", reason.len());
    }

    #[test]
    fn the_startup_message_carries_user_and_database_and_its_length() {
        let message = startup_message("app", "orders");
        assert_eq!(message_len(&[0, 0, 0, 0, 0]), Some(0));
        let len = u32::from_be_bytes([message[0], message[1], message[2], message[3]]);
        assert_eq!(len as usize, message.len());
        assert_eq!(&message[4..8], &[0, 3, 0, 0]);
        let text = String::from_utf8_lossy(&message[8..]);
        assert!(
            text.starts_with("user\0app\0database\0orders\0"),
            "{text:?}"
        );
        assert!(message.ends_with(b"\0\0"));
    }

    #[test]
    fn answers_are_read_as_pqping_reads_them() {
        let auth_md5 = [b'R', 0, 0, 0, 12, 0, 0, 0, 5, 1, 2, 3, 4];
        assert_eq!(read_answer(&auth_md5), Ok(()));
        let no_role = error(&[
            (b'S', "FATAL"),
            (b'C', "28000"),
            (b'M', "role \"x\" does not exist"),
        ]);
        assert_eq!(read_answer(&no_role), Ok(()));
        let starting = error(&[
            (b'S', "FATAL"),
            (b'C', "57P03"),
            (b'M', "the database system is starting up"),
        ]);
        assert_eq!(
            read_answer(&starting),
            Err(NotReady::Answer(
                "the database system is starting up (57P03)".to_string()
            ))
        );
        for garbage in [
            &b"HTTP/1.1 400 Bad Request\r\n"[..],
            b"R",
            b"E\0\0\0\x05\0",
            // A VNC greeting, a bare header, a cut-off or unknown request.
            b"RFB 003.008\n",
            b"R\0\0\0\x08",
            b"R\0\0\0\x0c\0\0\0\x05sa",
            b"R\0\0\0\x08\0\0\0\x63",
            b"R\0\0\0\x0c\0\0\0\x00salt",
        ] {
            assert!(
                matches!(read_answer(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
