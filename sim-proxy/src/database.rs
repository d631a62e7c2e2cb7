//! A simulated PostgreSQL server, for the demo and the benchmark of
//! `--wait-for`: until `ready_after` it answers every start-up message as a
//! server that is starting up does (an ErrorResponse with SQLSTATE 57P03),
//! then with an authentication request, as a server that takes connections
//! does. It speaks no further: a client that would log in is closed. The
//! wire formats it uses are public for the tests' scripted servers.

use std::{
    io::{self, Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    time::Instant,
};

use crate::Accepting;

/// A loopback "PostgreSQL" that turns ready at an instant. Dropping it
/// stops accepting.
pub struct FakePostgres(Accepting);

impl FakePostgres {
    /// Listens on a free port of 127.0.0.1 at once; ready from `ready_at`.
    pub fn start(ready_at: Instant) -> io::Result<Self> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
        Accepting::start(listener, move |stream| {
            answer(stream, Instant::now() >= ready_at);
        })
        .map(FakePostgres)
    }

    pub fn addr(&self) -> SocketAddr {
        self.0.addr()
    }
}

/// Reads the start-up message, answers it, closes.
fn answer(mut stream: TcpStream, ready: bool) {
    let mut buf = [0u8; 1024];
    let _ = stream.read(&mut buf);
    let _ = stream.write_all(&if ready {
        // AuthenticationMD5Password with its salt.
        b"R\0\0\0\x0c\0\0\0\x05salt".to_vec()
    } else {
        postgres_starting_up()
    });
}

/// `FATAL 57P03 the database system is starting up`, as PostgreSQL sends it.
pub fn postgres_starting_up() -> Vec<u8> {
    postgres_error(&[
        (b'S', "FATAL"),
        (b'C', "57P03"),
        (b'M', "the database system is starting up"),
    ])
}

/// A PostgreSQL ErrorResponse with these fields (`S`everity, `C`ode,
/// `M`essage, ...): `E`, a length, then each field as a code byte and a
/// NUL-terminated string, and a final NUL.
pub fn postgres_error(fields: &[(u8, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (code, text) in fields {
        body.push(*code);
        body.extend_from_slice(text.as_bytes());
        body.push(0);
    }
    body.push(0);
    let mut message = vec![b'E'];
    message.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
    message.extend_from_slice(&body);
    message
}

/// A MySQL packet (sequence 0) around `payload`: a 3-byte little-endian
/// length, the sequence number, the payload.
pub fn mysql_packet(payload: &[u8]) -> Vec<u8> {
    let len = payload.len();
    let mut bytes = vec![len as u8, (len >> 8) as u8, (len >> 16) as u8, 0];
    bytes.extend_from_slice(payload);
    bytes
}
