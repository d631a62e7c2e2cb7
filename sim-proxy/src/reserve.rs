//! Ports as a proxy that is not up yet shows them: refusing connections.

use std::{
    io,
    net::{Ipv4Addr, SocketAddr, TcpListener},
};

use socket2::{Domain, Socket, Type};

/// A socket bound to its address but not listening yet: connections to it are
/// refused (the kernel answers a SYN with a RST, exactly as for a closed port),
/// yet its port is already known and held, so nothing else can take it. This
/// is how a proxy that has not started its admin server looks to the app.
pub struct Reserved {
    socket: Socket,
    addr: SocketAddr,
}

impl Reserved {
    /// Binds `addr` (port 0 picks a free port) without listening.
    pub fn bind(addr: SocketAddr) -> io::Result<Reserved> {
        // socket2 sets close-on-exec, as std does: a gate or app the caller
        // spawns must not inherit the proxy's socket.
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        // As std does for listeners: a restarted simulator can rebind at once.
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        let addr = socket
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("a TCP socket bound to a non-IP address"))?;
        Ok(Reserved { socket, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts listening: from now on connections are accepted.
    pub fn listen(self) -> io::Result<TcpListener> {
        self.socket.listen(1024)?;
        Ok(self.socket.into())
    }
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released; another
/// process could take it meanwhile, which [`Reserved`] rules out).
pub fn closed_port() -> io::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
