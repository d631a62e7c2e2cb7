//! The mesh's outbound listener, simulated: what an app's connection to a
//! dependency meets in a meshed pod. Like linkerd2-proxy behind
//! proxy-init's iptables redirect, it **accepts every connection at once**,
//! whether or not the destination is up, then connects to the destination:
//! if that is refused it closes the app's connection without a word; if it
//! succeeds it forwards bytes both ways. So a TCP connect "succeeds" with
//! the dependency down, and only an answer in the dependency's protocol
//! shows that it is up.

use std::{
    io,
    net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream},
    thread,
    time::Duration,
};

use crate::Accepting;

/// Every `--wait-for` scheme the gate checks by its protocol's first exchange
/// over TCP (all but `tcp://`, which this listener's accept fools), by its
/// first name (not `postgresql`, `mariadb`, `zk`, `cql`). The tests go
/// through them all, the benchmark's every-kind run too; a unit test of the
/// gate holds this list to its table of schemes.
pub const PROTOCOL_SCHEMES: [&str; 13] = [
    "postgres",
    "redis",
    "mysql",
    "http",
    "memcached",
    "nats",
    "zookeeper",
    "amqp",
    "kafka",
    "grpc",
    "mongodb",
    "cassandra",
    "smtp",
];

/// How long the simulated proxy tries the destination before giving up on
/// a connection (linkerd2-proxy's own connect timeout is longer; a test
/// wants the close soon).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// A loopback listener forwarding to one destination. Dropping it stops
/// accepting; forwarded connections run to their end.
pub struct Outbound(Accepting);

impl Outbound {
    /// Listens on a free port of 127.0.0.1 and forwards to `destination`.
    pub fn start(destination: SocketAddr) -> io::Result<Self> {
        Self::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), destination)
    }

    /// Listens on `listen` (port 0: a free one) and forwards to `destination`.
    pub fn bind(listen: SocketAddr, destination: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(listen)?;
        Accepting::start(listener, move |app| forward(app, destination)).map(Outbound)
    }

    pub fn addr(&self) -> SocketAddr {
        self.0.addr()
    }

    pub fn port(&self) -> u16 {
        self.addr().port()
    }
}

/// One accepted connection: to the destination, or closed.
fn forward(app: TcpStream, destination: SocketAddr) {
    let Ok(upstream) = TcpStream::connect_timeout(&destination, CONNECT_TIMEOUT) else {
        // The destination is down: the app sees its accepted connection
        // close, with nothing read.
        return;
    };
    let (Ok(app_reader), Ok(upstream_reader)) = (app.try_clone(), upstream.try_clone()) else {
        return;
    };
    let _ = app.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    thread::spawn(move || pipe(app_reader, upstream));
    pipe(upstream_reader, app);
}

/// Copies until the reader ends, then ends the writer's direction too.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn accepts_with_the_destination_down_then_closes_and_forwards_once_it_is_up() {
        let down = crate::closed_port().expect("port");
        let outbound =
            Outbound::start(SocketAddr::from((Ipv4Addr::LOCALHOST, down))).expect("outbound");
        let mut app = TcpStream::connect(outbound.addr()).expect("accepted while down");
        let mut buf = Vec::new();
        let _ = app.read_to_end(&mut buf);
        assert!(buf.is_empty());

        let server = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let outbound = Outbound::start(server.local_addr().expect("addr")).expect("outbound");
        thread::spawn(move || {
            let (mut conn, _) = server.accept().expect("accept");
            let mut ping = [0u8; 4];
            conn.read_exact(&mut ping).expect("read");
            conn.write_all(b"pong").expect("write");
        });
        let mut app = TcpStream::connect(outbound.addr()).expect("connect");
        app.write_all(b"ping").expect("write");
        let mut pong = [0u8; 4];
        app.read_exact(&mut pong).expect("read");
        assert_eq!(&pong, b"pong");
    }
}
