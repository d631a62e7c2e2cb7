//! `unix:///path`: ready when a connection to the socket is accepted (a
//! sidecar's API socket, a database's local socket).

use std::{
    io,
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
};

use super::{NotReady, socket};
use crate::wait::detached::{InFlight, Shared, shared, unshared};

/// `connect` calls under way, by path. Even a non-blocking connect(2)
/// resolves the path synchronously, and on a stuck mount that never
/// returns: it must not hold the runtime's thread (`detached`).
static CONNECTS: InFlight<PathBuf, Shared<()>> = InFlight::new("connect");

/// The caller bounds the connect by the attempt's deadline.
pub async fn check(path: &Path) -> Result<(), NotReady> {
    let owned = path.to_path_buf();
    let connect = CONNECTS
        .run(&owned.clone(), move || {
            // Accepted is all this check asks: the connection is closed at once.
            shared(UnixStream::connect(&owned).map(drop))
        })
        .await;
    match connect.and_then(unshared) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(NotReady::Missing(path.to_path_buf())),
        Err(e) => Err(NotReady::Request(socket::refused(&e))),
    }
}

/// Why an attempt cut off at its deadline got no answer, if the `connect`
/// is what still hangs.
pub fn stuck(path: &Path) -> Option<NotReady> {
    CONNECTS
        .running(&path.to_path_buf())
        .then(|| super::stuck_path("connect", path))
}
