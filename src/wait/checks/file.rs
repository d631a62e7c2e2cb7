//! `file:///path`: ready when the path exists (a secret or a config file
//! that an injector or another container writes).

use std::{
    io,
    path::{Path, PathBuf},
};

use super::NotReady;
use crate::wait::{
    detached::{InFlight, Shared, shared, unshared},
    http::RequestError,
};

/// `stat` calls under way, by path: on a stuck NFS, CSI or FUSE mount one
/// never returns, and must not hold the runtime's thread (`detached`).
static STATS: InFlight<PathBuf, Shared<()>> = InFlight::new("stat");

pub async fn check(path: &Path) -> Result<(), NotReady> {
    let owned = path.to_path_buf();
    // One stat(2), no following of the file's content: existence is the
    // whole contract. A dangling symlink does not exist yet.
    let stat = STATS
        .run(&owned.clone(), move || {
            shared(std::fs::metadata(&owned).map(drop))
        })
        .await;
    match stat.and_then(unshared) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(NotReady::Missing(path.to_path_buf())),
        Err(e) => Err(NotReady::Request(RequestError::Other(format!(
            "{}: {e}",
            path.display().to_string().escape_debug()
        )))),
    }
}

/// Why an attempt cut off at its deadline got no answer, if the `stat` is
/// what still hangs.
pub fn stuck(path: &Path) -> Option<NotReady> {
    STATS
        .running(&path.to_path_buf())
        .then(|| super::stuck_path("stat", path))
}
