//! Scripted TCP servers for what real database servers cannot show on
//! demand: a PostgreSQL that is starting up (57P03), a Redis still loading,
//! a MariaDB with too many connections, a server that accepts and never
//! answers, one that answers garbage.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, TcpListener, TcpStream},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use sim_proxy::Accepting;

/// What the server does with each connection.
#[derive(Debug, Clone)]
pub enum Says {
    /// Reads the client's first bytes, then writes these and closes.
    Answer(Vec<u8>),
    /// Writes these at once (a server that speaks first), then waits for
    /// the client to leave.
    Greeting(Vec<u8>),
    /// Reads and never answers, until the client leaves.
    Nothing,
}

/// A loopback server that answers every connection as `Says`; counts them
/// and keeps every byte it received. Dropping it stops accepting.
pub struct FakeServer {
    accepting: Accepting,
    connections: Arc<AtomicUsize>,
    received: Arc<Mutex<Vec<u8>>>,
}

impl FakeServer {
    pub fn start(says: Says) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        Self::on(listener, says)
    }

    /// Serves on an already-bound listener (a given address and port).
    pub fn on(listener: TcpListener, says: Says) -> Self {
        let connections = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (counted, kept) = (connections.clone(), received.clone());
        let accepting = Accepting::start(listener, move |stream| {
            counted.fetch_add(1, Ordering::SeqCst);
            serve(stream, &says, &kept);
        })
        .expect("a bound listener has an address");
        FakeServer {
            accepting,
            connections,
            received,
        }
    }

    pub fn port(&self) -> u16 {
        self.accepting.addr().port()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Every byte any client sent, in arrival order per connection.
    pub fn received(&self) -> Vec<u8> {
        self.received.lock().expect("received lock").clone()
    }
}

fn serve(mut stream: TcpStream, says: &Says, received: &Mutex<Vec<u8>>) {
    let mut buf = [0u8; 1024];
    let mut read = |stream: &mut TcpStream| match stream.read(&mut buf) {
        Ok(n) if n > 0 => {
            received
                .lock()
                .expect("received lock")
                .extend_from_slice(&buf[..n]);
            true
        }
        _ => false,
    };
    match says {
        Says::Answer(bytes) => {
            read(&mut stream);
            let _ = stream.write_all(bytes);
        }
        Says::Greeting(bytes) => {
            let _ = stream.write_all(bytes);
            while read(&mut stream) {}
        }
        Says::Nothing => while read(&mut stream) {},
    }
}

pub use sim_proxy::{
    mysql_packet, postgres_error as pg_error, postgres_starting_up as pg_starting_up,
};

/// MariaDB refusing a connection: ERR 1040.
pub fn mysql_too_many_connections() -> Vec<u8> {
    mysql_packet(b"\xff\x10\x04Too many connections")
}
