//! [`FakeProxy`]: the scripted admin server itself, its listening socket
//! (which a shutdown closes, as the real proxy's does), and one thread per
//! connection answering request after request.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

use crate::{
    Answered, Observer, Reply, Request, Script, connection::Connection, is_accepted_shutdown,
};

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
pub(crate) fn lock(requests: &Mutex<Vec<Request>>) -> MutexGuard<'_, Vec<Request>> {
    requests.lock().unwrap_or_else(PoisonError::into_inner)
}
