//! What the network checks share: connecting to a target's host and port
//! (resolved as the HTTP client resolves, so a name that does not resolve
//! yet is "not ready", never a crash), and one bounded exchange: write the
//! protocol's first bytes, read until its answer is complete.
//!
//! Invariant: at most [`MAX_ANSWER`] bytes are read, and nothing waits
//! past the attempt's deadline.

use std::{io, net::SocketAddr, time::Duration};

use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::TcpStream,
    time::{Instant, timeout_at},
};

use super::{
    NotReady,
    tls::{self, Stream},
};
use crate::{
    config::targets::{Endpoint, tls::Tls},
    wait::http::RequestError,
};

/// The most any first answer is read. A greeting, an error packet or a
/// start-up error message are a few hundred bytes, but a NATS `INFO`
/// lists every cluster peer's URL (`connect_urls`) and a MongoDB `hello`
/// every member of its replica set: several KiB in a large cluster. 64
/// KiB bounds what a peer can make the gate read and hold (only while the
/// attempt lasts), whatever it sends.
pub const MAX_ANSWER: usize = 64 * 1024;

/// One attempt's bound: when it ends, and the `--attempt-timeout` that
/// set it (what a reason names).
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub deadline: Instant,
    pub timeout: Duration,
}

/// A connection to the target by the first of its addresses that takes
/// one, each in turn (the last failure is the reason). Each address gets
/// an equal share of what is left of the attempt, as the HTTP client's
/// connector does for `http://` targets: an address that drops packets
/// (a dead endpoint of a headless Service, a black-holed IPv6) must not
/// eat the whole attempt, every attempt, while another address serves.
pub async fn connect(at: &Endpoint, deadline: Instant) -> Result<TcpStream, NotReady> {
    let addrs = crate::wait::http::socket_addrs(&at.0).await.map_err(|e| {
        let host = at.0.host_str().unwrap_or_default();
        NotReady::Request(RequestError::Other(format!(
            "the name {host} does not resolve (yet): {e}"
        )))
    })?;
    let mut last = NotReady::Request(RequestError::Other("the name has no address".to_string()));
    let count = addrs.len();
    for (n, addr) in addrs.into_iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / u32::try_from(count - n).unwrap_or(u32::MAX);
        match timeout_at(Instant::now() + share, connect_to(addr)).await {
            Ok(Ok(stream)) => return Ok(stream),
            Ok(Err(e)) => last = NotReady::Request(refused(&e)),
            Err(_elapsed) => {
                last = NotReady::Request(RequestError::Other(format!(
                    "cannot connect: no answer from {addr} within {}",
                    crate::config::duration::human(share)
                )));
            }
        }
    }
    Err(last)
}

async fn connect_to(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(addr).await?;
    // The first bytes are one small write: do not let Nagle hold them.
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A connect error, worded like curl's (as the HTTP checks' reasons are).
pub fn refused(e: &io::Error) -> RequestError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => RequestError::ConnectionRefused,
        io::ErrorKind::ConnectionReset => RequestError::ConnectionReset,
        _ => RequestError::Other(format!("cannot connect: {e}")),
    }
}

/// A connection to the target, secured when its URL asks for TLS from the
/// first byte (`rediss://`, `?tls=true`).
pub async fn open(at: &Endpoint, attempt: Attempt) -> Result<Stream, NotReady> {
    let tcp = connect(at, attempt.deadline).await?;
    secure(tcp, at, attempt).await
}

/// `tcp`, secured as the target's URL asks: now, for a protocol that
/// speaks TLS from the first byte; after its own request (PostgreSQL's
/// SSLRequest, MySQL's, NATS's `INFO`, SMTP's `STARTTLS`) for the others.
pub async fn secure(tcp: TcpStream, at: &Endpoint, attempt: Attempt) -> Result<Stream, NotReady> {
    match &at.1 {
        Tls::Off => Ok(Stream::Plain(tcp)),
        Tls::On(secure) => tls::handshake(tcp, at, secure, attempt.deadline, attempt.timeout).await,
    }
}

/// One question to a target, the whole of most checks: [`open`], then
/// [`exchange`] within the attempt's deadline. A TLS alert in answer to
/// plaintext is a TLS port: the reason names the scheme to use.
pub async fn ask(
    at: &Endpoint,
    attempt: Attempt,
    request: &[u8],
    complete: impl Fn(&[u8]) -> bool,
    silent: NotReady,
) -> Result<Vec<u8>, NotReady> {
    let mut stream = open(at, attempt).await?;
    let answer = exchange(&mut stream, request, complete, attempt.deadline, silent).await;
    heard(&stream, at, answer)
}

/// What a first exchange heard, read for the sign of a TLS port where it
/// went in plaintext: a TLS alert in answer, or a close (what OpenSSL's
/// servers do with plaintext): the reason names the scheme to use.
pub fn heard(
    stream: &Stream,
    at: &Endpoint,
    answer: Result<Vec<u8>, NotReady>,
) -> Result<Vec<u8>, NotReady> {
    let plain = matches!(stream, Stream::Plain(_));
    let answer = match answer {
        Err(NotReady::Closed) if plain => return Err(tls::closed_on_plaintext(at.0.scheme())),
        other => other?,
    };
    if plain && tls::is_tls_record(&answer) {
        return Err(tls::speaks_tls(at.0.scheme()));
    }
    Ok(answer)
}

/// An answer whose first line has ended: whole, for a line protocol.
pub fn has_line(bytes: &[u8]) -> bool {
    bytes.contains(&b'\n')
}

/// The answer's first line, without its CRLF; `None` if it never ended.
pub fn first_line(answer: &[u8]) -> Option<&[u8]> {
    answer
        .windows(2)
        .position(|w| w == b"\r\n")
        .map(|end| &answer[..end])
}

/// What a check says of bytes that are not its protocol's answer:
/// `"…" (N bytes) (is this a Redis server?)`.
pub fn not_a(answer: &[u8], server: &str) -> NotReady {
    NotReady::Unexpected(format!("{} (is this {server}?)", described(answer)))
}

/// Writes `request` (if any), then reads until `complete` says the answer
/// is whole, the peer closes, [`MAX_ANSWER`] bytes have come, or the
/// deadline passes. Returns what came; `NotReady::Closed` if nothing did,
/// `silent` if the deadline passed before a single byte.
pub(super) async fn exchange(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    request: &[u8],
    complete: impl Fn(&[u8]) -> bool,
    deadline: Instant,
    silent: NotReady,
) -> Result<Vec<u8>, NotReady> {
    if !request.is_empty() {
        match timeout_at(deadline, stream.write_all(request)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(closed_or(&e)),
            Err(_elapsed) => return Err(silent),
        }
    }
    let mut answer = Vec::new();
    let mut buf = [0u8; 512];
    while answer.len() < MAX_ANSWER && !complete(&answer) {
        match timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n.min(MAX_ANSWER - answer.len())]),
            // A reset after some bytes still leaves those to judge.
            Ok(Err(_)) if !answer.is_empty() => break,
            Ok(Err(e)) => return Err(closed_or(&e)),
            Err(_elapsed) if answer.is_empty() => return Err(silent),
            Err(_elapsed) => break,
        }
    }
    if answer.is_empty() {
        return Err(NotReady::Closed);
    }
    Ok(answer)
}

/// A reset or a broken pipe before any answer is the same as a close: the
/// server (or the proxy in front of it) went away without a word.
pub(super) fn closed_or(e: &io::Error) -> NotReady {
    // Inside TLS: an alert (a demand for a client certificate) or a
    // record that is not TLS.
    if let Some(error) = tls::rustls_error(e) {
        return tls::reason(error, "", false);
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof => NotReady::Closed,
        _ => NotReady::Request(RequestError::Other(e.to_string())),
    }
}

/// Bytes that are not the expected answer, as a reason shows them: the
/// first few, printable ASCII as it is, the rest escaped.
pub fn described(bytes: &[u8]) -> String {
    const SHOWN: usize = 40;
    let shown: String = bytes[..bytes.len().min(SHOWN)].escape_ascii().to_string();
    let more = if bytes.len() > SHOWN { "..." } else { "" };
    format!("\"{shown}{more}\" ({} bytes)", bytes.len())
}

/// The most characters of a peer's own words (an error message) a reason
/// shows: enough for any real server's message, not a page per line.
pub const MAX_WORDS: usize = 200;

/// A peer's words (an error message it chose) as a reason shows them:
/// control characters, line and paragraph separators, bidi overrides and
/// invisible characters escaped ([`escaped`]), so no server can break a
/// log line, forge one (`\n` ... `INFO starting /app`) or make one read
/// otherwise than it is, and at most [`MAX_WORDS`] characters.
pub fn words(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut shown = String::new();
    for (n, c) in text.chars().enumerate() {
        if n == MAX_WORDS {
            shown.push_str("...");
            break;
        }
        if escaped(c) {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// Whether a character of a peer's words is shown escaped: what is not
/// text on a line of its own. C0 and C1 controls; U+2028 and U+2029, which
/// JSON log readers and many terminals take for line breaks; the bidi
/// controls (U+061C, U+200E/F, U+202A-E, U+2066-9: "Trojan Source", CVE-2021-42574),
/// which reorder what follows them; and the zero-width and invisible
/// characters, which hide text (U+200B-D, U+2060-4, U+FEFF).
pub fn escaped(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}'
                | '\u{2029}'
                | '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peers_words_keep_to_one_plain_line() {
        let said = "ok\u{2028}INFO forged\u{2029}x\u{202E}gnirts\u{200B}\r\nz, caf\u{e9} \u{4e2d}";
        assert_eq!(
            words(said.as_bytes()),
            "ok\\u{2028}INFO forged\\u{2029}x\\u{202e}gnirts\\u{200b}\\r\\nz, caf\u{e9} \u{4e2d}"
        );
    }
}
