//! `zookeeper://host[:port]` (`zk://`): the `srvr` four-letter word (the
//! one ZooKeeper 3.5+ allows by default) and its answer, read until the
//! server closes. An answer naming the server's `Mode` (leader, follower,
//! observer, standalone) is ready; "This ZooKeeper instance is not
//! currently serving requests" (no quorum yet) is not, in its own words.
//! Port 2181 is not among Linkerd's default opaque ports; the client
//! speaks first, so protocol detection passes it through as TCP.

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

/// The modes of a server that serves sessions. Not `read-only`: a server
/// cut off from its quorum (readonlymode.enabled) takes only clients
/// that ask for read-only sessions, and an app's ordinary session is
/// refused until the quorum is back.
const MODES: [&str; 4] = ["leader", "follower", "observer", "standalone"];

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    // The server answers and closes: read until then.
    let answer = socket::ask(
        at,
        attempt,
        b"srvr",
        |_| false,
        NotReady::TimedOut(attempt.timeout),
    )
    .await?;
    read_answer(&answer)
}

pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let text = String::from_utf8_lossy(answer);
    let mode = text
        .lines()
        .find_map(|line| line.strip_prefix("Mode:"))
        .map(str::trim);
    match mode {
        Some(mode) if MODES.contains(&mode) => Ok(()),
        Some("read-only") => Err(NotReady::Answer(
            "Mode: read-only (the server is cut off from its quorum, and refuses ordinary \
             sessions until it is back)"
                .to_string(),
        )),
        _ if text.contains("not currently serving requests") => {
            Err(NotReady::Answer(socket::words(text.trim().as_bytes())))
        }
        _ => Err(socket::not_a(answer, "a ZooKeeper server")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_to_srvr() {
        let standalone = b"Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\nOutstanding: 0\nZxid: 0x0\nMode: standalone\nNode count: 5\n";
        assert_eq!(read_answer(standalone), Ok(()));
        assert_eq!(
            read_answer(b"This ZooKeeper instance is not currently serving requests\n"),
            Err(NotReady::Answer(
                "This ZooKeeper instance is not currently serving requests".to_string()
            ))
        );
        let read_only = read_answer(b"Zookeeper version: 3.8.0\nMode: read-only\n");
        assert!(
            matches!(&read_only, Err(NotReady::Answer(said)) if said.contains("quorum")),
            "{read_only:?}"
        );
        for garbage in [&b"Mode: sleeping\n"[..], b"imok", b""] {
            assert!(
                matches!(read_answer(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
