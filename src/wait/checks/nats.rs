//! `nats://host[:port]`: the server speaks first, with `INFO {…}` (the
//! NATS client protocol). An `INFO` line with its JSON object is ready,
//! whether or not the server wants credentials (the check never sends
//! `CONNECT`); `-ERR '…'` (maximum connections exceeded) is "not ready" in
//! the server's words. Through a Linkerd proxy a server that speaks first
//! needs its port opaque, and 4222 is not among the default opaque ports:
//! a silent connection says so.

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

/// What a silent connection's reason adds: where the port stands.
const PORT_NOTE: &str = "4222 is not among Linkerd's default opaque ports: set \
     config.linkerd.io/opaque-ports (or config.linkerd.io/skip-outbound-ports) for it";

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let answer = socket::ask(
        at,
        attempt,
        b"",
        socket::has_line,
        NotReady::NoGreeting {
            after: attempt.timeout,
            port: PORT_NOTE,
        },
    )
    .await?;
    read_greeting(&answer)
}

/// The server's first line.
pub(super) fn read_greeting(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || socket::not_a(answer, "a NATS server");
    let Some(line) = socket::first_line(answer) else {
        return Err(unexpected());
    };
    if let Some(info) = line.strip_prefix(b"INFO ") {
        let info = info.trim_ascii();
        return if info.starts_with(b"{") && info.ends_with(b"}") {
            Ok(())
        } else {
            Err(unexpected())
        };
    }
    if line.starts_with(b"-ERR") {
        return Err(NotReady::Answer(socket::words(line)));
    }
    Err(unexpected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greetings() {
        let info = b"INFO {\"server_id\":\"N\",\"version\":\"2.9.10\",\"auth_required\":true} \r\n";
        assert_eq!(read_greeting(info), Ok(()));
        assert_eq!(
            read_greeting(b"-ERR 'maximum connections exceeded'\r\n"),
            Err(NotReady::Answer(
                "-ERR 'maximum connections exceeded'".to_string()
            ))
        );
        for garbage in [
            &b"INFO \r\n"[..],
            b"INFO {\"a\":1",
            b"+OK\r\n",
            b"INFO x\r\n",
        ] {
            assert!(
                matches!(read_greeting(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
