//! The database a whole fleet waits for, on loopback: it refuses every
//! connection for its first 10 s (accepted, then reset at once: a server
//! can count only what it accepts), answers "starting up" for 5 s
//! (PostgreSQL's 57P03, Redis's `-LOADING`), then answers ready; and it
//! counts every connection per 100 ms from its start.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    os::fd::AsRawFd,
    sync::{Arc, Mutex},
    thread,
    time::Duration,
};

use super::figures::{BUCKET_MS, READY_AT_MS, REFUSING_MS};
use crate::bench::process::now_ns;

/// The protocols of the fleet runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Postgres,
    Redis,
}

impl Protocol {
    pub fn scheme(self) -> &'static str {
        match self {
            Protocol::Postgres => "postgres",
            Protocol::Redis => "redis",
        }
    }

    /// What the first exchange is answered with, starting or ready.
    fn answer(self, ready: bool) -> Vec<u8> {
        match (self, ready) {
            (Protocol::Postgres, false) => sim_proxy::postgres_starting_up(),
            // AuthenticationMD5Password with its salt: up.
            (Protocol::Postgres, true) => b"R\0\0\0\x0c\0\0\0\x05salt".to_vec(),
            (Protocol::Redis, false) => {
                b"-LOADING Redis is loading the dataset in memory\r\n".to_vec()
            }
            (Protocol::Redis, true) => b"+PONG\r\n".to_vec(),
        }
    }

    /// A client's first message, for the bench's own fixed-interval loop.
    pub fn request(self) -> Vec<u8> {
        match self {
            Protocol::Postgres => {
                let mut body = 196_608u32.to_be_bytes().to_vec();
                body.extend_from_slice(b"user\0postgres\0\0");
                let mut message = ((body.len() + 4) as u32).to_be_bytes().to_vec();
                message.extend(body);
                message
            }
            Protocol::Redis => b"PING\r\n".to_vec(),
        }
    }

    /// Whether `reply` is the ready answer.
    pub fn is_ready(self, reply: &[u8]) -> bool {
        reply.starts_with(&self.answer(true))
    }
}

/// Connections per 100 ms since the start, and when it started.
pub struct PhasedServer {
    pub addr: SocketAddr,
    counts: Arc<Mutex<Vec<u64>>>,
}

impl PhasedServer {
    /// Listens at once; its phases run from `started_ns`.
    pub fn start(protocol: Protocol, started_ns: u64) -> Result<PhasedServer, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| e.to_string())?;
        // A fleet connects at once: std listens with a backlog of 128, and a
        // full backlog drops SYNs that the clients resend a second later,
        // which would be the kernel's schedule, not the gates'. listen(2)
        // again raises it (to the kernel's somaxconn at most).
        // SAFETY: listen(2) on the listener's own open socket.
        unsafe { libc::listen(listener.as_raw_fd(), 4096) };
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let counts = Arc::new(Mutex::new(Vec::new()));
        let counting = counts.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let at_ms = (now_ns().saturating_sub(started_ns)) / 1_000_000;
                if let Ok(mut counts) = counting.lock() {
                    let bucket = (at_ms / BUCKET_MS) as usize;
                    if counts.len() <= bucket {
                        counts.resize(bucket + 1, 0);
                    }
                    counts[bucket] += 1;
                }
                if at_ms < REFUSING_MS {
                    reset(stream);
                } else {
                    let ready = at_ms >= READY_AT_MS;
                    thread::spawn(move || answer(stream, protocol.answer(ready)));
                }
            }
        });
        Ok(PhasedServer { addr, counts })
    }

    /// The counts so far, per 100 ms.
    pub fn counts(&self) -> Vec<u64> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// Closes with a reset (SO_LINGER 0): the refusal a client sees at once.
fn reset(stream: TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt(2) on the stream's own socket with a linger we own.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Reads the client's first message, answers, closes.
fn answer(mut stream: TcpStream, reply: Vec<u8>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut buf = [0u8; 512];
    if matches!(stream.read(&mut buf), Ok(1..)) {
        let _ = stream.write_all(&reply);
    }
}
