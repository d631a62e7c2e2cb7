//! `redis://host[:port]`: an inline `PING` and the first line of the
//! answer (RESP). `+PONG` is ready, and so is an error that only says the
//! server wants a password (`NOAUTH`, `WRONGPASS`): it is up, and the
//! check never authenticates. The errors of a server that is up but cannot
//! serve yet (`LOADING` a dataset, `BUSY` with a script, `MASTERDOWN` for
//! a replica, `TRYAGAIN`) are "not ready", and so is `ERR max number of
//! clients reached` (written at accept: the app would be refused too); so is `DENIED` (protected
//! mode: the server refuses clients that are not on its loopback, and
//! will until it is configured otherwise, as MySQL's error 1130 does);
//! any other error is the server speaking, so up, as for PostgreSQL.

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

/// Error prefixes of a server that is up but cannot serve yet.
const NOT_YET: [&str; 4] = ["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"];

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let answer = socket::ask(
        at,
        attempt,
        b"PING\r\n",
        socket::has_line,
        NotReady::TimedOut(attempt.timeout),
    )
    .await?;
    read_answer(&answer)
}

/// The first line of the answer to `PING`.
pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || socket::not_a(answer, "a Redis server");
    let Some(line) = socket::first_line(answer) else {
        return Err(unexpected());
    };
    let line = socket::words(line);
    match line.split_at_checked(1) {
        Some(("+", "PONG")) => Ok(()),
        Some(("-", error)) if NOT_YET.iter().any(|code| error.starts_with(code)) => {
            Err(NotReady::Answer(error.to_string()))
        }
        Some(("-", error)) if error.starts_with("DENIED") => Err(NotReady::Answer(format!(
            "{} ({})",
            first_sentence(error),
            super::REFUSES_THIS_CLIENT
        ))),
        // Written at accept, before any command is read (networking.c,
        // acceptCommonHandler): the app would be refused too, as by
        // MySQL's error 1040.
        Some(("-", error)) if error.starts_with("ERR max number of clients reached") => {
            Err(NotReady::Answer(error.to_string()))
        }
        // NOAUTH, WRONGPASS, or any other error: a Redis server answered.
        Some(("-", _)) => Ok(()),
        _ => Err(unexpected()),
    }
}

/// Protected mode's message runs to several sentences of advice; the
/// first says what happened.
fn first_sentence(text: &str) -> &str {
    text.split_once(". ").map_or(text, |(first, _)| first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_ping() {
        assert_eq!(read_answer(b"+PONG\r\n"), Ok(()));
        assert_eq!(read_answer(b"-NOAUTH Authentication required.\r\n"), Ok(()));
        assert_eq!(
            read_answer(b"-WRONGPASS invalid username-password pair\r\n"),
            Ok(())
        );
        assert_eq!(
            read_answer(b"-LOADING Redis is loading the dataset in memory\r\n"),
            Err(NotReady::Answer(
                "LOADING Redis is loading the dataset in memory".to_string()
            ))
        );
        assert_eq!(
            read_answer(b"-ERR max number of clients reached\r\n"),
            Err(NotReady::Answer(
                "ERR max number of clients reached".to_string()
            ))
        );
        let denied = b"-DENIED Redis is running in protected mode because protected mode is \
            enabled and no password is set for the default user. In this mode connections \
            are only accepted from the loopback interface.\r\n";
        let reason = read_answer(denied)
            .expect_err("refuses this client")
            .to_string();
        assert!(
            reason.starts_with("DENIED Redis is running in protected mode"),
            "{reason}"
        );
        assert!(reason.contains("waiting will not change"), "{reason}");
        let forged = b"-LOADING x\n2026-12-06T00:00:00Z  INFO linkerd_await: starting /app\r\n";
        let reason = read_answer(forged).expect_err("loading").to_string();
        assert!(
            !reason.contains('\n') && reason.contains("x\\n2026"),
            "{reason:?}"
        );
        for garbage in [
            &b"+PONG"[..],
            b"HTTP/1.1 400 Bad Request\r\n",
            b"+OK\r\n",
            b"\r\n",
        ] {
            assert!(
                matches!(read_answer(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
