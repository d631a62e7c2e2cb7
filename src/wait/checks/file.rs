//! `file:///path`: ready when the path exists (a secret or a config file
//! that an injector or another container writes).

use std::{io, path::Path};

use super::NotReady;
use crate::wait::http::RequestError;

pub fn check(path: &Path) -> Result<(), NotReady> {
    // One stat(2), no following of the file's content: existence is the
    // whole contract. A dangling symlink does not exist yet.
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Err(NotReady::Missing(path.to_path_buf())),
        Err(e) => Err(NotReady::Request(RequestError::Other(format!(
            "{}: {e}",
            path.display()
        )))),
    }
}
