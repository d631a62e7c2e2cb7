//! Shared test support, one owner per concern:
//!
//! - here: the scripted fake proxy admin server on loopback (`FakeProxy`),
//!   and loopback ports that refuse connections (`closed_port`, `RefusedPort`);
//! - `process`: the gate as a bounded process (`gate`, `Running`, `Gate`,
//!   `LineReader`, `output`, `poll`);
//! - `proxies`: the proxy scripts most tests need (never ready, ready on cue,
//!   answering shutdown requests a given way);
//! - `procfs`: what `/proc` says about a process (state, parent, children,
//!   namespace PID, signal masks);
//! - `pidns`: running the gate as PID 1 of a new PID namespace;
//! - `parents`: parents with an unusual signal state (ignored, blocked);
//! - `scratch`: temporary directories the app and the test share;
//! - `usage`: the options table and usage-error checks for command-line tests;
//! - `pty`: an interactive bash on a pseudo-terminal.
//!
//! Each integration test file uses only part of this module (hence the
//! allowances: what one file leaves unused, another uses).
#![allow(dead_code, unused_imports)]

mod parents;
mod pidns;
mod process;
mod procfs;
mod proxies;
pub mod pty;
mod scratch;
mod usage;

pub use parents::*;
pub use pidns::*;
pub use process::*;
pub use procfs::*;
pub use proxies::*;
pub use scratch::*;
pub use usage::*;

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

/// Path of the binary under test.
pub const GATE: &str = env!("CARGO_BIN_EXE_linkerd-await");

/// Every test process is killed after this long, whatever it is doing.
pub const PROCESS_LIMIT: Duration = Duration::from_secs(20);

/// One request the fake proxy received.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub at: Instant,
    /// Which connection (1-based, in accept order) carried it.
    pub connection: usize,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What the fake proxy does with a request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A response with this status and a short body; the connection stays open.
    Status(u16),
    /// A 302 to this location.
    Redirect(String),
    /// This status, then a body that never ends (chunks until the peer leaves).
    EndlessBody(u16),
    /// This status, then a body that trickles in, one byte every 50 ms, until
    /// the peer leaves: chunked, or (`chunked: false`) with no length at all,
    /// so only the end of the connection could end it.
    SlowBody { status: u16, chunked: bool },
    /// Read the request and never answer (the connection stays open).
    Hang,
    /// Close the connection without answering.
    Close,
}

type Script = dyn Fn(&Request, usize) -> Reply + Send + Sync;

/// A loopback HTTP/1.1 server that plays the proxy's admin port. The script
/// decides each reply from the request and its 1-based index.
pub struct FakeProxy {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
}

impl FakeProxy {
    pub fn start(script: impl Fn(&Request, usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
        Self::serve(listener, Arc::new(script))
    }

    /// Ready (200) from the n-th readiness request on; 503 before.
    pub fn ready_after(n: usize) -> Self {
        Self::start(move |_, i| {
            if i >= n {
                Reply::Status(200)
            } else {
                Reply::Status(503)
            }
        })
    }

    /// Serves on an already-bound listener (e.g. one on ::1).
    pub fn serve(listener: TcpListener, script: Arc<Script>) -> Self {
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (reqs, stopping) = (requests.clone(), stop.clone());
        thread::spawn(move || {
            for (index, stream) in listener.incoming().enumerate() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (reqs, script) = (reqs.clone(), script.clone());
                thread::spawn(move || handle(stream, index + 1, &reqs, &*script));
            }
        });
        FakeProxy {
            addr,
            requests,
            stop,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port(), path)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().expect("requests lock").clone()
    }

    /// Requests whose path is `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Request> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Blocks until `n` requests have arrived (or panics after `limit`).
    pub fn wait_for_requests(&self, n: usize, limit: Duration) {
        let start = Instant::now();
        while self.requests().len() < n {
            assert!(
                start.elapsed() < limit,
                "only {} of {n} requests arrived",
                self.requests().len()
            );
            thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for FakeProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and ends.
        let _ = TcpStream::connect(self.addr);
    }
}

fn handle(stream: TcpStream, connection: usize, requests: &Mutex<Vec<Request>>, script: &Script) {
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or_default().to_string();
        let path = parts.next().unwrap_or_default().to_string();
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            match reader.read_line(&mut header) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((k, v)) = header.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let request = Request {
            method,
            path,
            headers,
            at: Instant::now(),
            connection,
        };
        let index = {
            let mut all = requests.lock().expect("requests lock");
            all.push(request.clone());
            all.len()
        };
        let written = match script(&request, index) {
            Reply::Status(code) => {
                let body = format!("status {code}\n");
                writer.write_all(
                    format!(
                        "HTTP/1.1 {code} X\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )
            }
            Reply::Redirect(to) => writer.write_all(
                format!("HTTP/1.1 302 Found\r\nlocation: {to}\r\ncontent-length: 0\r\n\r\n")
                    .as_bytes(),
            ),
            Reply::EndlessBody(code) => {
                let head = format!("HTTP/1.1 {code} X\r\ntransfer-encoding: chunked\r\n\r\n");
                if writer.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!("{:x}\r\n{}\r\n", 1024, "x".repeat(1024));
                // Until the client goes away; bounded so a stuck test cannot spin forever.
                let start = Instant::now();
                while start.elapsed() < PROCESS_LIMIT {
                    if writer.write_all(chunk.as_bytes()).is_err() {
                        return;
                    }
                }
                return;
            }
            Reply::SlowBody { status, chunked } => {
                let framing = if chunked {
                    "transfer-encoding: chunked\r\n"
                } else {
                    ""
                };
                let head = format!("HTTP/1.1 {status} X\r\n{framing}\r\n");
                if writer.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let piece: &[u8] = if chunked { b"1\r\nx\r\n" } else { b"x" };
                // A write fails soon after the client closed; bounded like EndlessBody.
                let start = Instant::now();
                while start.elapsed() < PROCESS_LIMIT {
                    if writer.write_all(piece).is_err() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(50));
                }
                return;
            }
            Reply::Hang => {
                thread::sleep(PROCESS_LIMIT);
                return;
            }
            Reply::Close => return,
        };
        if written.is_err() {
            return;
        }
    }
}

/// A port on loopback that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}

/// A loopback port where connections are refused (a bound socket that does
/// not listen) until `listen`. Unlike `closed_port`, no other test can take
/// the port in the meantime, so "refused" is guaranteed.
pub struct RefusedPort {
    fd: std::os::fd::OwnedFd,
    pub port: u16,
}

impl RefusedPort {
    pub fn new() -> Self {
        use std::os::fd::FromRawFd;
        // SAFETY: socket calls on a fresh fd owned right away; every
        // out-parameter is a zeroed sockaddr_in of the size passed.
        unsafe {
            let raw = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(raw >= 0, "socket: {}", std::io::Error::last_os_error());
            let fd = std::os::fd::OwnedFd::from_raw_fd(raw);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::bind(raw, (&raw const addr).cast(), len);
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let mut bound: libc::sockaddr_in = std::mem::zeroed();
            let mut bound_len = len;
            let rc = libc::getsockname(raw, (&raw mut bound).cast(), &mut bound_len);
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            RefusedPort {
                fd,
                port: u16::from_be(bound.sin_port),
            }
        }
    }

    /// Starts accepting on the port (e.g. for `FakeProxy::serve`).
    pub fn listen(self) -> TcpListener {
        use std::os::fd::AsRawFd;
        // SAFETY: listen(2) on a bound socket we own.
        let rc = unsafe { libc::listen(self.fd.as_raw_fd(), 128) };
        assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
        TcpListener::from(self.fd)
    }
}
