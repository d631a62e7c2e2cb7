//! `nats://host[:port]`: the server speaks first, with `INFO {…}` (the
//! NATS client protocol), and that alone does not prove it will serve:
//! nats-server writes `INFO` to every connection it accepts and only then
//! decides to refuse it (`-ERR 'maximum connections exceeded'`, written
//! right after, server.go `createClient`), and a server in lame duck mode
//! (`"ldm":true`) is shutting down. So the check reads the `INFO` object,
//! then the server's next word:
//!
//! - no credentials and no TLS required: `PING`, answered `PONG` (ready)
//!   or `-ERR` (not ready, in the server's words); a server accepts
//!   `PING` before `CONNECT` when it wants no credentials;
//! - credentials or TLS required (`auth_required`, `tls_required`): it
//!   sends nothing (a `PING` would be an authentication error in the
//!   server's log, or break the TLS handshake the server waits for) and
//!   listens for [`REFUSAL_GRACE`]: silence is ready, an `-ERR` or a
//!   close is not.
//!
//! The check never sends `CONNECT`. Through a Linkerd proxy a server that
//! speaks first needs its port opaque, and 4222 is not among the default
//! opaque ports: a silent connection says so.

use std::time::Duration;

use tokio::time::Instant;

use super::{
    NotReady,
    socket::{self, Attempt},
    tls::{self, Stream},
};
use crate::config::targets::{
    Endpoint,
    tls::{Secure, Tls},
};

/// What a silent connection's reason adds: where the port stands.
const PORT_NOTE: &str = "4222 is not among Linkerd's default opaque ports: set \
     config.linkerd.io/opaque-ports (or config.linkerd.io/skip-outbound-ports) for it";

/// How long, after `INFO`, a refusal is waited for where no `PING` can be
/// sent. nats-server writes it from the same goroutine right after the
/// `INFO`, so it arrives with it or within microseconds; this is to spare
/// for a loaded server or proxy, and is what the ready path costs there.
const REFUSAL_GRACE: Duration = Duration::from_millis(50);

/// What the `INFO` object says that decides the next step.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Info {
    /// Credentials required: no `PING` is sent.
    listen_only: bool,
    /// TLS required: the client upgrades after `INFO`, as NATS clients do.
    tls: bool,
}

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let mut tcp = socket::connect(at, attempt.deadline).await?;
    let silent = NotReady::NoGreeting {
        after: attempt.timeout,
        port: PORT_NOTE,
    };
    let greeting =
        socket::exchange(&mut tcp, b"", socket::has_line, attempt.deadline, silent).await?;
    if tls::is_tls_record(&greeting) {
        // handshake_first: the server wants TLS before its INFO.
        return Err(NotReady::Tls(
            "the server wants TLS first (handshake_first), which the check does not \
             speak: set the server's TLS to send INFO first (the default)"
                .to_string(),
        ));
    }
    let info = read_greeting(&greeting)?;
    // `tls://`, or a server that requires TLS of a `nats://` client: the
    // upgrade comes now, verified (with the default roots for the latter).
    let mut stream = match (&at.1, info.tls) {
        (Tls::On(_), _) => socket::secure(tcp, at, attempt).await?,
        (Tls::Off, true) => {
            let verified = Endpoint(at.0.clone(), Tls::On(Secure::verified()));
            socket::secure(tcp, &verified, attempt).await?
        }
        (Tls::Off, false) => Stream::Plain(tcp),
    };
    if matches!(stream, Stream::Tls(_)) {
        return after_info(&mut stream, &info, attempt, b"").await;
    }
    after_info(&mut stream, &info, attempt, &greeting).await
}

/// What follows the `INFO`: the server's next word (`greeting`: what came
/// with the `INFO` in plaintext).
async fn after_info(
    stream: &mut Stream,
    info: &Info,
    attempt: Attempt,
    greeting: &[u8],
) -> Result<(), NotReady> {
    // The refusal may have come with the INFO, in the same read.
    let end = greeting
        .iter()
        .position(|&b| b == b'\n')
        .map_or(greeting.len(), |n| n + 1);
    if let Some(verdict) = next_word(&greeting[end..]) {
        return verdict;
    }
    if info.listen_only {
        // Silence until the grace ends (the sentinel below) is a server
        // that kept the connection.
        let grace = attempt.deadline.min(Instant::now() + REFUSAL_GRACE);
        let kept = NotReady::TimedOut(REFUSAL_GRACE);
        return match socket::exchange(stream, b"", has_word, grace, kept.clone()).await {
            Ok(answer) => next_word(&answer).unwrap_or(Ok(())),
            Err(reason) if reason == kept => Ok(()),
            Err(NotReady::Closed) => Err(closed_after_info()),
            Err(other) => Err(other),
        };
    }
    let silent = NotReady::TimedOut(attempt.timeout);
    match socket::exchange(stream, b"PING\r\n", has_word, attempt.deadline, silent).await {
        Ok(answer) => next_word(&answer).unwrap_or(Err(closed_after_info())),
        Err(NotReady::Closed) => Err(closed_after_info()),
        Err(other) => Err(other),
    }
}

/// The server's first line: its `INFO` object, or its refusal.
pub(super) fn read_greeting(answer: &[u8]) -> Result<Info, NotReady> {
    let unexpected = || socket::not_a(answer, "a NATS server");
    let Some(line) = socket::first_line(answer) else {
        return Err(unexpected());
    };
    if line.starts_with(b"-ERR") {
        return Err(NotReady::Answer(socket::words(line)));
    }
    let info = line.strip_prefix(b"INFO ").ok_or_else(unexpected)?;
    let info: serde_json::Value = serde_json::from_slice(info.trim_ascii())
        .ok()
        .filter(serde_json::Value::is_object)
        .ok_or_else(unexpected)?;
    let flag = |name: &str| info.get(name).and_then(serde_json::Value::as_bool) == Some(true);
    if flag("ldm") {
        return Err(NotReady::Answer(
            "the server is in lame duck mode (shutting down; its clients move to other \
             servers)"
                .to_string(),
        ));
    }
    Ok(Info {
        listen_only: flag("auth_required"),
        tls: flag("tls_required"),
    })
}

/// Whether a line has come, past any `PING` or `INFO` the server sends
/// on its own.
fn has_word(bytes: &[u8]) -> bool {
    next_word(bytes).is_some()
}

/// The verdict of the server's next word, if a whole one has come: `PONG`
/// is ready; `-ERR` is not, in its words, unless it only wants
/// credentials (`Authorization Violation`): up, like Redis's `NOAUTH`.
fn next_word(bytes: &[u8]) -> Option<Result<(), NotReady>> {
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if !line.ends_with(b"\n") {
            break;
        }
        let line = line.trim_ascii();
        if line == b"PONG" {
            return Some(Ok(()));
        }
        if line.starts_with(b"-ERR") {
            let said = socket::words(line);
            let credentials =
                said.contains("Authorization Violation") || said.contains("Authentication");
            return Some(if credentials {
                Ok(())
            } else {
                Err(NotReady::Answer(said))
            });
        }
    }
    None
}

/// A server that closed the connection after its `INFO`, without a word.
fn closed_after_info() -> NotReady {
    NotReady::Answer("the server closed the connection after its INFO (shutting down?)".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        let info = b"INFO {\"server_id\":\"N\",\"version\":\"2.9.10\",\"auth_required\":true} \r\n";
        assert_eq!(
            read_greeting(info),
            Ok(Info {
                listen_only: true,
                tls: false
            })
        );
        assert_eq!(
            read_greeting(b"INFO {\"server_id\":\"N\",\"tls_required\":true}\r\n"),
            Ok(Info {
                listen_only: false,
                tls: true
            })
        );
        assert_eq!(
            read_greeting(b"-ERR 'maximum connections exceeded'\r\n"),
            Err(NotReady::Answer(
                "-ERR 'maximum connections exceeded'".to_string()
            ))
        );
        let lame = read_greeting(b"INFO {\"ldm\":true}\r\n").expect_err("lame duck");
        assert!(lame.to_string().contains("lame duck"), "{lame}");
        for garbage in [
            &b"INFO \r\n"[..],
            b"INFO {\"a\":1",
            b"+OK\r\n",
            b"INFO x\r\n",
            b"INFO [1]\r\n",
        ] {
            assert!(
                matches!(read_greeting(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }

    #[test]
    fn the_word_after_info() {
        assert_eq!(next_word(b"PONG\r\n"), Some(Ok(())));
        assert_eq!(next_word(b"PING\r\nPONG\r\n"), Some(Ok(())));
        assert_eq!(next_word(b"PON"), None);
        assert_eq!(
            next_word(b"-ERR 'Authorization Violation'\r\n"),
            Some(Ok(()))
        );
        assert_eq!(
            next_word(b"-ERR 'maximum connections exceeded'\r\n"),
            Some(Err(NotReady::Answer(
                "-ERR 'maximum connections exceeded'".to_string()
            )))
        );
    }
}
