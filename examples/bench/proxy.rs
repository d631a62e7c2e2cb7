//! A scripted stand-in for the proxy's admin port, on loopback, built on std
//! threads and sockets only, so its timing is under the benchmark's control.
//!
//! `GET /ready` answers 503 until the flip instant, then 200. `POST /shutdown`
//! answers 200. Every request is recorded with its CLOCK_MONOTONIC arrival
//! time (when its head was complete, i.e. when the answer is decided).

use std::{
    io::{BufRead, BufReader, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::{self, JoinHandle},
    time::Duration,
};

use crate::process::now_ns;

/// Never ready.
pub const NEVER: u64 = u64::MAX;

#[derive(Debug, Clone)]
pub struct Request {
    pub at_ns: u64,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// Which connection carried it (1-based, in accept order).
    pub connection: usize,
}

/// When `/ready` turns from 503 to 200.
#[derive(Debug, Clone, Copy)]
enum Flip {
    /// At this CLOCK_MONOTONIC instant.
    At(u64),
    /// A `fraction` of the gate's current check interval after the first
    /// check that arrives at or after `not_before`: T then has a chosen phase
    /// within the gate's own schedule, whatever its period. `hint` stands in
    /// for the interval if that check is the very first.
    Phase {
        not_before: u64,
        fraction: f64,
        hint: u64,
    },
}

struct FlipState {
    flip: Flip,
    /// Arrival of the latest readiness check.
    last_check: Option<u64>,
}

struct Shared {
    flip: Mutex<FlipState>,
    log: Mutex<Vec<Request>>,
    stop: AtomicBool,
}

pub struct Proxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on 127.0.0.1 on an ephemeral port; `ready_at_ns` may be `0`
    /// (ready now) or `NEVER`.
    pub fn start(ready_at_ns: u64) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            flip: Mutex::new(FlipState {
                flip: Flip::At(ready_at_ns),
                last_check: None,
            }),
            log: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let for_acceptor = shared.clone();
        let acceptor = thread::spawn(move || accept_loop(&listener, &for_acceptor));
        Ok(Proxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Ready `fraction` (0..1) of a check interval after the first check
    /// at or after `not_before_ns`.
    pub fn flip_at_phase(&self, not_before_ns: u64, fraction: f64, hint_ns: u64) {
        if let Ok(mut state) = self.shared.flip.lock() {
            state.flip = Flip::Phase {
                not_before: not_before_ns,
                fraction,
                hint: hint_ns,
            };
        }
    }

    /// The instant `/ready` turned (or turns) ready, once it is known.
    pub fn flip_instant(&self) -> Option<u64> {
        match self.shared.flip.lock().ok()?.flip {
            Flip::At(at) if at != NEVER => Some(at),
            _ => None,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    pub fn count(&self, method: &str, path: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.method == method && r.path == path)
            .count()
    }

    /// Distinct connections that carried readiness checks.
    pub fn connections(&self) -> usize {
        let mut seen: Vec<usize> = self.requests().iter().map(|r| r.connection).collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    }

    /// Waits until `n` readiness checks arrived; false after `limit`.
    pub fn wait_for_checks(&self, n: usize, limit: Duration) -> bool {
        let deadline = now_ns() + limit.as_nanos() as u64;
        while now_ns() < deadline {
            if self.count("GET", "/ready") >= n {
                return true;
            }
            thread::sleep(Duration::from_millis(2));
        }
        false
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so the loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

impl Shared {
    /// The flip instant as seen by a check arriving at `at_ns`; the first
    /// check past `not_before` fixes a phase flip (and is itself answered 503).
    fn ready_at(&self, at_ns: u64) -> u64 {
        let Ok(mut state) = self.flip.lock() else {
            return NEVER;
        };
        let previous = state.last_check.replace(at_ns);
        match state.flip {
            Flip::At(t) => t,
            Flip::Phase {
                not_before,
                fraction,
                hint,
            } if at_ns >= not_before => {
                // The interval that just ended is the one the next check
                // will (about) repeat: the backoff has reached its cap.
                let interval = previous.map_or(hint, |p| at_ns.saturating_sub(p));
                let offset = ((interval as f64 * fraction) as u64).max(1);
                state.flip = Flip::At(at_ns + offset);
                at_ns + offset
            }
            Flip::Phase { .. } => NEVER,
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for (index, stream) in listener.incoming().enumerate() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        // A connection ends when the gate closes it (exit or exec closes its
        // close-on-exec socket); the read timeout bounds a stray one.
        thread::spawn(move || serve(stream, index + 1, &shared));
    }
}

fn serve(stream: TcpStream, connection: usize, shared: &Shared) {
    // Each answer is one write; without NODELAY a kept-alive connection could
    // meet Nagle + delayed ACK and add tens of milliseconds to a check.
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut words = line.split_whitespace();
        let method = words.next().unwrap_or_default().to_string();
        let path = words.next().unwrap_or_default().to_string();
        let mut body_len = 0usize;
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
            match header.split_once(':') {
                Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                    body_len = value.trim().parse().unwrap_or(0);
                }
                _ => {}
            }
        }
        if body_len > 0 {
            let mut body = vec![0; body_len.min(64 * 1024)];
            if std::io::Read::read_exact(&mut reader, &mut body).is_err() {
                return;
            }
        }
        let at_ns = now_ns();
        let status = match (method.as_str(), path.as_str()) {
            ("GET", "/ready") if at_ns >= shared.ready_at(at_ns) => 200,
            ("GET", "/ready") => 503,
            ("POST", "/shutdown") => 200,
            _ => 404,
        };
        if let Ok(mut log) = shared.log.lock() {
            log.push(Request {
                at_ns,
                method,
                path,
                status,
                connection,
            });
        }
        let (reason, body) = match status {
            200 => ("OK", "ready\n"),
            503 => ("Service Unavailable", "not ready\n"),
            _ => ("Not Found", "not found\n"),
        };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A loopback port that nothing listens on (bound, then released).
pub fn closed_port() -> std::io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
