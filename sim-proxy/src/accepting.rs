//! The accept loop the TCP simulators share (the outbound listener, the
//! simulated PostgreSQL, the tests' scripted servers): every connection is
//! handed to its own thread, until the owner drops it.

use std::{
    io,
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread,
    time::Duration,
};

/// A listener whose connections each run `handle` on a thread of their
/// own. Dropping it stops accepting; connections already open run to
/// their end.
pub struct Accepting {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Accepting {
    pub fn start(
        listener: TcpListener,
        handle: impl Fn(TcpStream) + Send + Sync + 'static,
    ) -> io::Result<Self> {
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let handle = Arc::new(handle);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    return;
                }
                // A failed accept concerns that client only.
                let Ok(stream) = stream else { continue };
                let handle = handle.clone();
                thread::spawn(move || handle(stream));
            }
        });
        Ok(Accepting { addr, stop })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Accepting {
    fn drop(&mut self) {
        // The accept loop sees the flag on the next connection, this one,
        // and ends, closing the listener.
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}
