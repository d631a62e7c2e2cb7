//! The one simulated service-mesh proxy admin server, shared by linkerd-await's
//! integration tests, its `demo` and `sim-proxy` examples and its benchmark
//! (`cargo xtask bench`).
//!
//! A [`FakeProxy`] is a loopback HTTP/1.1 server driven by a *script*: a
//! function from each request (and its 1-based index) to a [`Reply`]. It keeps
//! a log of every request, so a test can check what the gate sent and when.
//! Like the real proxy with nothing open, it stops listening right after it
//! accepted a shutdown request (a 2xx to a POST to `/shutdown` or
//! `/quitquitquit`), so a gate that watches for the stop sees it within
//! milliseconds; [`FakeProxy::draining`] keeps listening instead, as a
//! proxy that drains open connections does.
//! [`Outbound`] plays the proxy's other side, its outbound listener: it
//! accepts every connection, then forwards it to the dependency or closes it.
//! [`FakePostgres`] is a dependency behind it that turns ready at an instant.
//! [`Timeline`] is the script the examples use (not ready until an instant,
//! then 200; shutdown endpoints like Linkerd's and Envoy's), and [`Reserved`]
//! a port that refuses connections until it listens, as a proxy that has not
//! started yet does.
//!
//! Only what a startup gate needs of HTTP/1.1 is implemented, on std's
//! blocking sockets with one thread per connection: a gate makes a few
//! sequential requests.

mod accepting;
mod connection;
mod database;
mod http;
mod outbound;
mod proxy;
mod reserve;
mod timeline;

use std::time::Instant;

pub use accepting::Accepting;
pub use database::{FakePostgres, mysql_packet, postgres_error, postgres_starting_up};
pub use outbound::{Outbound, PROTOCOL_SCHEMES};
pub use proxy::FakeProxy;
pub use reserve::{Reserved, closed_port};
pub use timeline::{FailMode, SHUTDOWN_PATHS, Timeline, is_accepted_shutdown};

/// One request the proxy received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The target's path, without a query; an absolute-form target
    /// (`http://host/path`) is reduced to its path.
    pub path: String,
    pub headers: Vec<(String, String)>,
    /// When its head (and body) had arrived, i.e. when the reply was decided.
    pub at: Instant,
    /// Which connection (1-based, in accept order) carried it.
    pub connection: usize,
}

impl Request {
    /// The first header of that name (names are case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the proxy does with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// A response with this status and a one-line body (its reason phrase);
    /// the connection stays open unless the client asked to close it.
    Status(u16),
    /// A 302 to this location.
    Redirect(String),
    /// This status with a body of `len` bytes and its `content-length`.
    Sized { status: u16, len: usize },
    /// This status, these extra headers, this body (with its length): a
    /// health document, for the `http://` expectations.
    Body {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// This status, then a body that never ends (chunks until the peer leaves).
    EndlessBody(u16),
    /// This status, then a body that trickles in, one byte every 50 ms, until
    /// the peer leaves: chunked, or (`chunked: false`) with no length at all,
    /// so only the end of the connection could end it.
    SlowBody { status: u16, chunked: bool },
    /// Read the request and never answer (the connection stays open until the
    /// client leaves).
    Hang,
    /// Close the connection without answering.
    Close,
}

/// What was sent back for a request, as an [`Observer`] hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    /// A response head with this status (for the streaming bodies: the head only).
    Status(u16),
    /// Nothing, and the connection is held ([`Reply::Hang`]).
    Hung,
    /// Nothing, and the connection closed ([`Reply::Close`]).
    Closed,
}

impl std::fmt::Display for Answered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Answered::Status(code) => write!(f, "{code}"),
            Answered::Hung => f.write_str("(no answer: hang)"),
            Answered::Closed => f.write_str("(closed without answer)"),
        }
    }
}

/// Decides the reply to a request; the index counts every request the proxy
/// received, from 1.
pub type Script = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// Hears each request once its answer is written (a reply that never answers:
/// once decided), from the connection's thread.
pub type Observer = dyn Fn(&Request, Answered) + Send + Sync;

#[cfg(test)]
mod tests {
    use super::*;
    use std::{
        io::{self, Read, Write},
        net::{SocketAddr, TcpStream},
        thread,
        time::Duration,
    };

    fn refused(addr: SocketAddr) -> bool {
        matches!(TcpStream::connect(addr), Err(e) if e.kind() == io::ErrorKind::ConnectionRefused)
    }

    fn post(addr: SocketAddr, path: &str) -> String {
        let mut stream = TcpStream::connect(addr).expect("connect");
        let request = format!("POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("write");
        let mut answer = [0u8; 12];
        stream.read_exact(&mut answer).expect("read");
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[test]
    fn a_proxy_exiting_on_shutdown_refuses_connections_once_it_accepted_one() {
        let proxy = FakeProxy::start(|req, _| match req.path.as_str() {
            "/shutdown" => Reply::Status(200),
            _ => Reply::Status(404),
        });
        assert_eq!(post(proxy.addr(), "/other"), "HTTP/1.1 404");
        assert!(!refused(proxy.addr()), "still listening after a 404");
        assert_eq!(post(proxy.addr(), "/shutdown"), "HTTP/1.1 200");
        // The observer runs right after the answer is written: allow it a moment.
        let start = Instant::now();
        while !refused(proxy.addr()) {
            assert!(start.elapsed() < Duration::from_secs(5), "still listening");
            thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_draining_proxy_keeps_listening_after_it_accepted_a_shutdown() {
        let proxy = FakeProxy::draining(|_, _| Reply::Status(200));
        assert_eq!(post(proxy.addr(), "/shutdown"), "HTTP/1.1 200");
        assert_eq!(post(proxy.addr(), "/shutdown"), "HTTP/1.1 200");
        assert!(!refused(proxy.addr()));
    }

    #[test]
    fn stop_listening_and_drop_refuse_connections_at_once() {
        let proxy = FakeProxy::start(|_, _| Reply::Status(200));
        let addr = proxy.addr();
        assert!(!refused(addr));
        proxy.stop_listening();
        assert!(refused(addr));
        drop(proxy);
        assert!(refused(addr));
        let proxy = FakeProxy::start(|_, _| Reply::Hang);
        let addr = proxy.addr();
        // A connection left open holds no listening socket up.
        let _open = TcpStream::connect(addr).expect("connect");
        drop(proxy);
        assert!(refused(addr));
    }
}
