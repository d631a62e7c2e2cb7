//! `redis://host[:port]`: an inline `PING` and the first line of the
//! answer (RESP). `+PONG` is ready, and so is an error that only says the
//! server wants a password (`NOAUTH`, `WRONGPASS`): it is up, and the
//! check never authenticates. The errors of a server that is up but cannot
//! serve yet (`LOADING` a dataset, `BUSY` with a script, `MASTERDOWN` for
//! a replica, `TRYAGAIN`) are "not ready"; any other error is the server
//! speaking, so up, as for PostgreSQL.

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

/// Error prefixes of a server that is up but cannot serve yet.
const NOT_YET: [&str; 4] = ["LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN"];

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let mut stream = socket::connect(at).await?;
    let answer = socket::exchange(
        &mut stream,
        b"PING\r\n",
        |bytes| bytes.contains(&b'\n'),
        attempt.deadline,
        NotReady::TimedOut(attempt.timeout),
    )
    .await?;
    read_answer(&answer)
}

/// The first line of the answer to `PING`.
pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || {
        NotReady::Unexpected(format!(
            "{} (is this a Redis server?)",
            socket::described(answer)
        ))
    };
    let Some(end) = answer.windows(2).position(|w| w == b"\r\n") else {
        return Err(unexpected());
    };
    let line = String::from_utf8_lossy(&answer[..end]);
    match line.split_at_checked(1) {
        Some(("+", "PONG")) => Ok(()),
        Some(("-", error)) if NOT_YET.iter().any(|code| error.starts_with(code)) => {
            Err(NotReady::Answer(error.to_string()))
        }
        // NOAUTH, WRONGPASS, or any other error: a Redis server answered.
        Some(("-", _)) => Ok(()),
        _ => Err(unexpected()),
    }
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
