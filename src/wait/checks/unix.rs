//! `unix:///path`: ready when a connection to the socket is accepted (a
//! sidecar's API socket, a database's local socket).

use std::{io, path::Path};

use tokio::net::UnixStream;

use super::{NotReady, socket};

/// The caller bounds the connect by the attempt's deadline.
pub async fn check(path: &Path) -> Result<(), NotReady> {
    match UnixStream::connect(path).await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(NotReady::Missing(path.to_path_buf())),
        Err(e) => Err(NotReady::Request(socket::refused(&e))),
    }
}
