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
mod database;
mod http;
mod outbound;
mod reserve;
mod timeline;

use std::{
    io::{self, BufReader},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

pub use accepting::Accepting;
pub use database::{FakePostgres, mysql_packet, postgres_error, postgres_starting_up};
pub use outbound::{Outbound, PROTOCOL_SCHEMES};
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

/// A loopback HTTP/1.1 server that plays the proxy's admin port. Dropping it
/// stops accepting connections; connections already open run to their end.
pub struct FakeProxy {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    listening: Arc<Listening>,
}

/// The listening socket, as the connection threads and the owner see it:
/// whether to keep accepting, and a duplicate of its descriptor with which
/// [`Listening::close`] stops it from any thread.
struct Listening {
    stop: AtomicBool,
    socket: TcpListener,
}

impl Listening {
    /// From now on connections are refused, as when the proxy process exits.
    /// `shutdown(2)` on a listening socket makes Linux drop it out of the
    /// LISTEN state at once (new SYNs get a RST) and wakes the thread blocked
    /// in `accept(2)`, which then sees `stop` and ends; closing the
    /// descriptor alone would do neither while that thread holds another.
    fn close(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = socket2::SockRef::from(&self.socket).shutdown(std::net::Shutdown::Both);
    }
}

impl FakeProxy {
    /// Serves `script` on a free port of 127.0.0.1. Once it has accepted a
    /// shutdown request ([`is_accepted_shutdown`]: a POST to `/shutdown` or
    /// `/quitquitquit` answered 2xx) it stops listening right after that
    /// answer, and connections are refused, as the real proxy without open
    /// connections does within milliseconds.
    ///
    /// # Panics
    /// If no loopback port can be bound (test support: nothing to recover).
    pub fn start(script: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Self {
        Self::try_start(script).expect("bind a loopback port for the fake proxy")
    }

    /// [`FakeProxy::start`], with the bind error returned.
    pub fn try_start(
        script: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        Self::serving(
            listener,
            Arc::new(script),
            Arc::new(|_: &Request, _| {}),
            true,
        )
    }

    /// [`FakeProxy::start`], for a proxy that keeps listening after it
    /// accepted a shutdown request, as one draining open connections does
    /// (for up to `LINKERD2_PROXY_SHUTDOWN_GRACE_PERIOD`).
    ///
    /// # Panics
    /// If no loopback port can be bound (test support: nothing to recover).
    pub fn draining(script: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .expect("bind a loopback port for the fake proxy");
        Self::observed(listener, Arc::new(script), Arc::new(|_: &Request, _| {}))
            .expect("a bound listener has a local address")
    }

    /// Ready (200) from the n-th request on; 503 before.
    pub fn ready_after(n: usize) -> Self {
        Self::start(move |_, i| {
            if i >= n {
                Reply::Status(200)
            } else {
                Reply::Status(503)
            }
        })
    }

    /// Serves on an already-bound listener (e.g. one on ::1, or a
    /// [`Reserved`] port), stopping after an accepted shutdown as
    /// [`FakeProxy::start`] does.
    ///
    /// # Panics
    /// If the listener has no local address (it always has once bound).
    pub fn serve(listener: TcpListener, script: Arc<Script>) -> Self {
        Self::serving(listener, script, Arc::new(|_: &Request, _| {}), true)
            .expect("a bound listener has a local address")
    }

    /// Serves on `listener`, telling `observer` what each request was
    /// answered; it keeps listening after a shutdown request (the observer
    /// decides what an accepted one means, as the `sim-proxy` example does).
    pub fn observed(
        listener: TcpListener,
        script: Arc<Script>,
        observer: Arc<Observer>,
    ) -> io::Result<Self> {
        Self::serving(listener, script, observer, false)
    }

    /// Serves on `listener`; with `exit_on_shutdown`, stops listening right
    /// after answering an accepted shutdown request.
    fn serving(
        listener: TcpListener,
        script: Arc<Script>,
        observer: Arc<Observer>,
        exit_on_shutdown: bool,
    ) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let requests = Arc::new(Mutex::new(Vec::new()));
        let listening = Arc::new(Listening {
            stop: AtomicBool::new(false),
            socket: listener.try_clone()?,
        });
        let (log, stopping) = (requests.clone(), listening.clone());
        let observer: Arc<Observer> = if exit_on_shutdown {
            let listening = listening.clone();
            Arc::new(move |request: &Request, answered: Answered| {
                observer(request, answered);
                if is_accepted_shutdown(request, answered) {
                    listening.close();
                }
            })
        } else {
            observer
        };
        thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                if stopping.stop.load(Ordering::SeqCst) {
                    return;
                }
                // A failed accept (e.g. the client already gave up) concerns that client only.
                let Ok(stream) = stream else { continue };
                let connection = Connection {
                    number: index + 1,
                    log: log.clone(),
                    script: script.clone(),
                    observer: observer.clone(),
                };
                // A connection's I/O error ends that connection, nothing else.
                thread::spawn(move || connection.run(stream));
            }
        });
        Ok(FakeProxy {
            addr,
            requests,
            listening,
        })
    }

    /// Stops listening now: connections are refused from here on, as when
    /// the proxy process exits (connections already open run to their end).
    pub fn stop_listening(&self) {
        self.listening.close();
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port(), path)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }

    /// Requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Waits until the requests so far satisfy `done`; false after `limit`.
    pub fn wait_until(&self, limit: Duration, done: impl Fn(&[Request]) -> bool) -> bool {
        let start = Instant::now();
        loop {
            if done(&lock(&self.requests)) {
                return true;
            }
            if start.elapsed() >= limit {
                return false;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Blocks until `n` requests have arrived.
    ///
    /// # Panics
    /// After `limit`, naming how many arrived (a test's failure message).
    pub fn wait_for_requests(&self, n: usize, limit: Duration) {
        assert!(
            self.wait_until(limit, |all| all.len() >= n),
            "only {} of {n} requests arrived",
            self.requests().len()
        );
    }
}

impl Drop for FakeProxy {
    fn drop(&mut self) {
        // Also for a proxy whose connections (which may hold the socket's
        // duplicate) outlive it: connections are refused from here on.
        self.listening.close();
        // Should the accept loop not have woken (shutdown(2) on a listening
        // socket wakes it on Linux), a connection does; if that fails the
        // loop ends at the next connection instead: harmless.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

/// The log stays usable after a panicking script: a test then fails on its
/// own assertion, not on a poisoned lock.
fn lock(requests: &Mutex<Vec<Request>>) -> MutexGuard<'_, Vec<Request>> {
    requests.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One accepted connection and what it needs to answer its requests.
struct Connection {
    number: usize,
    log: Arc<Mutex<Vec<Request>>>,
    script: Arc<Script>,
    observer: Arc<Observer>,
}

impl Connection {
    fn run(self, stream: TcpStream) {
        let _ = self.serve(stream);
    }

    fn serve(&self, stream: TcpStream) -> io::Result<()> {
        // Each answer is one write; without NODELAY a kept-alive connection
        // could meet Nagle + delayed ACK and add tens of milliseconds to a check
        // (the benchmark measures exactly that path).
        stream.set_nodelay(true)?;
        let mut writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        while let Some(head) = http::read_request(&mut reader)? {
            let request = Request {
                method: head.method,
                path: head.target,
                headers: head.headers,
                at: Instant::now(),
                connection: self.number,
            };
            let index = {
                let mut all = lock(&self.log);
                all.push(request.clone());
                all.len()
            };
            let reply = (self.script)(&request, index);
            let answer = http::Answer {
                head_only: request.method == "HEAD",
                keep_alive: head.keep_alive,
            };
            let answered = answer.head(&mut writer, &reply)?;
            (self.observer)(&request, answered);
            match reply {
                Reply::Status(_)
                | Reply::Redirect(_)
                | Reply::Sized { .. }
                | Reply::Body { .. }
                    if head.keep_alive => {}
                Reply::Status(_)
                | Reply::Redirect(_)
                | Reply::Sized { .. }
                | Reply::Body { .. }
                | Reply::Close => {
                    return Ok(());
                }
                Reply::EndlessBody(_) | Reply::SlowBody { .. } => {
                    return answer.stream_body(&mut writer, &reply);
                }
                Reply::Hang => {
                    // Hold the connection without a word until the client leaves.
                    io::copy(&mut reader, &mut io::sink())?;
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

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
