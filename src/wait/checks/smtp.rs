//! `smtp://host[:port]` (25), `smtps://` (465, TLS from the first byte)
//! and `smtp://...?starttls=true` (587): the server speaks first, and its
//! greeting says whether it serves: `220` is ready, `421` ("service not
//! available, closing") is not, nor is `554` (no service for this client).
//! With STARTTLS: `EHLO`, the `STARTTLS` the server must offer, its `220`,
//! then the handshake, verified. No mail, no `AUTH`: `QUIT`.

use tokio::{io::AsyncWriteExt, time::timeout_at};

use super::{
    NotReady,
    socket::{self, Attempt},
    tls::{self, Stream},
};
use crate::config::targets::{Endpoint, tls::Tls};

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let starttls = matches!(at.1, Tls::On(_)) && at.0.scheme() == "smtp";
    let mut stream = if starttls {
        Stream::Plain(socket::connect(at, attempt.deadline).await?)
    } else {
        socket::open(at, attempt).await?
    };
    // A port of implicit TLS (465) waits for a ClientHello as the check
    // waits for a greeting: silence is all either side sees.
    let port = if matches!(stream, Stream::Plain(_)) {
        "Linkerd treats 25 and 587 as opaque by default; if the port speaks TLS at once, \
         as 465 does, use smtps://"
    } else {
        "Linkerd treats 25 and 587 as opaque by default"
    };
    let silent = NotReady::NoGreeting {
        after: attempt.timeout,
        port,
    };
    let greeting =
        socket::exchange(&mut stream, b"", reply_complete, attempt.deadline, silent).await?;
    if matches!(stream, Stream::Plain(_)) && tls::is_tls_record(&greeting) {
        return Err(tls::speaks_tls(at.0.scheme()));
    }
    read_greeting(&greeting)?;
    if starttls {
        stream = upgrade(stream, at, attempt).await?;
    }
    // Polite: a server logs a client that leaves without a word.
    let _ = timeout_at(attempt.deadline, stream.write_all(b"QUIT\r\n")).await;
    Ok(())
}

/// `EHLO`, `STARTTLS`, the handshake.
async fn upgrade(mut stream: Stream, at: &Endpoint, attempt: Attempt) -> Result<Stream, NotReady> {
    let silent = || NotReady::TimedOut(attempt.timeout);
    let ehlo = socket::exchange(
        &mut stream,
        b"EHLO localhost\r\n",
        reply_complete,
        attempt.deadline,
        silent(),
    )
    .await?;
    let offered = reply(&ehlo).is_some_and(|(code, lines)| {
        code == 250
            && lines
                .iter()
                .any(|l| l.eq_ignore_ascii_case("STARTTLS") || l.starts_with("STARTTLS "))
    });
    if !offered {
        return Err(NotReady::Tls(
            "the server does not offer STARTTLS (not in its EHLO answer): use smtp:// \
             without starttls=true, or turn TLS on in the server"
                .to_string(),
        ));
    }
    let go = socket::exchange(
        &mut stream,
        b"STARTTLS\r\n",
        reply_complete,
        attempt.deadline,
        silent(),
    )
    .await?;
    match reply(&go) {
        Some((220, _)) => {}
        _ => {
            return Err(NotReady::Tls(format!(
                "the server refused STARTTLS: {}",
                socket::described(&go)
            )));
        }
    }
    let (Stream::Plain(tcp), Tls::On(secure)) = (stream, &at.1) else {
        return Err(NotReady::Tls("STARTTLS over TLS".to_string()));
    };
    tls::handshake(tcp, at, secure, attempt.deadline, attempt.timeout).await
}

/// The greeting: `220` ready; `421`, `554` and anything else not.
pub(super) fn read_greeting(bytes: &[u8]) -> Result<(), NotReady> {
    let Some((code, lines)) = reply(bytes) else {
        return Err(socket::not_a(bytes, "an SMTP server"));
    };
    let said = socket::words(lines.join(" ").as_bytes());
    match code {
        220 => Ok(()),
        421 => Err(NotReady::Answer(format!("421 {said}"))),
        554 => Err(NotReady::Answer(format!(
            "554 {said} ({})",
            super::REFUSES_THIS_CLIENT
        ))),
        _ => Err(socket::not_a(bytes, "an SMTP server")),
    }
}

/// A whole reply: its last line is `NNN ` or just `NNN`, ended.
pub(super) fn reply_complete(bytes: &[u8]) -> bool {
    reply(bytes).is_some()
}

/// A reply's code and the text of its lines (RFC 5321 §4.2: `NNN-text`
/// for every line but the last, `NNN text` for the last).
fn reply(bytes: &[u8]) -> Option<(u16, Vec<String>)> {
    let text = std::str::from_utf8(bytes).ok()?;
    let mut lines = Vec::new();
    let mut code = None;
    for line in text.split_inclusive('\n') {
        let line = line.strip_suffix('\n')?.trim_end_matches('\r');
        let (number, rest) = line.split_at_checked(3)?;
        let number: u16 = number.parse().ok().filter(|n| (200..600).contains(n))?;
        if code.is_some_and(|c| c != number) {
            return None;
        }
        code = Some(number);
        match rest.split_at_checked(1) {
            Some(("-", more)) => lines.push(more.to_string()),
            Some((" ", last)) => {
                lines.push(last.to_string());
                return Some((number, lines));
            }
            None => return Some((number, lines)),
            Some(_) => return None,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        assert_eq!(read_greeting(b"220 mx.example ESMTP Postfix\r\n"), Ok(()));
        assert_eq!(read_greeting(b"220-mx.example\r\n220 ready\r\n"), Ok(()));
        assert_eq!(
            read_greeting(b"421 4.3.2 Service shutting down\r\n"),
            Err(NotReady::Answer(
                "421 4.3.2 Service shutting down".to_string()
            ))
        );
        assert!(matches!(
            read_greeting(b"554 5.7.1 no\r\n"),
            Err(NotReady::Answer(said)) if said.contains("refuses this client")
        ));
        for garbage in [
            &b"+OK POP3\r\n"[..],
            b"220",
            b"220-a\r\n250 b\r\n",
            b"HTTP/1.1 400\r\n",
        ] {
            assert!(
                matches!(read_greeting(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
        assert!(!reply_complete(b"220-mx.example\r\n"));
        assert_eq!(
            reply(b"250-mx\r\n250-SIZE 1000\r\n250 STARTTLS\r\n"),
            Some((
                250,
                vec!["mx".into(), "SIZE 1000".into(), "STARTTLS".into()]
            ))
        );
    }
}
