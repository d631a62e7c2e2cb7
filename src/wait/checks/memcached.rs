//! `memcached://host[:port]`: the `version` command and its one-line
//! answer (memcached's text protocol). `VERSION …` is ready; an error line
//! (`SERVER_ERROR out of memory`, `ERROR`) is the server's own words and
//! "not ready". Nothing is stored or read. Port 11211 is among Linkerd's
//! default opaque ports.

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let answer = socket::ask(
        at,
        attempt,
        b"version\r\n",
        socket::has_line,
        NotReady::TimedOut(attempt.timeout),
    )
    .await?;
    read_answer(&answer)
}

/// The first line of the answer to `version`.
pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || socket::not_a(answer, "a memcached server");
    let Some(line) = socket::first_line(answer) else {
        return Err(unexpected());
    };
    if line.starts_with(b"VERSION ") && line.len() > b"VERSION ".len() {
        return Ok(());
    }
    if [&b"ERROR"[..], b"SERVER_ERROR", b"CLIENT_ERROR"]
        .iter()
        .any(|error| line.starts_with(error))
    {
        return Err(NotReady::Answer(socket::words(line)));
    }
    Err(unexpected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_version() {
        assert_eq!(read_answer(b"VERSION 1.6.18\r\n"), Ok(()));
        assert_eq!(
            read_answer(b"SERVER_ERROR out of memory\r\n"),
            Err(NotReady::Answer("SERVER_ERROR out of memory".to_string()))
        );
        for garbage in [&b"VERSION \r\n"[..], b"+PONG\r\n", b"VERSION 1.6"] {
            assert!(
                matches!(read_answer(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
