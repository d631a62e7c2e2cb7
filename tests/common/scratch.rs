//! Scratch directories the app and the test share, removed on drop (app
//! loops that wait on a file there also stop once it is gone, so nothing
//! outlives a failed test).

use std::{fs, path::Path};

/// A new empty directory under the system's temp dir.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("linkerd-await-test-")
        .tempdir()
        .expect("create temp dir")
}

/// `path` as an argument for an app's command line.
pub fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temp dir is UTF-8")
}

/// Creates the empty file `dir/name`.
pub fn touch(dir: &Path, name: &str) {
    fs::write(dir.join(name), b"").expect("create file");
}
