//! `--install <DIR>`: for images you cannot rebuild. The gate copies its own
//! binary to `<DIR>/linkerd-await` and exits, so an init container with the
//! gate's image can put it in a volume the app container then runs it from.
//! A scratch image has no `cp`, hence the gate copies itself.
//!
//! The copy is atomic: written to a temporary file in `<DIR>`, synced, then
//! renamed over any old copy, so the app container never finds a half-written
//! binary, and an old copy being executed ("text file busy") is no obstacle.
//! No network, no waiting: it takes milliseconds.

use std::{
    fs::{self, File, OpenOptions, Permissions},
    io,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use tracing::{info, warn};

use crate::error::Error;

/// The running binary. Not `argv[0]`, which may be a bare name found on PATH.
const SELF_EXE: &str = "/proc/self/exe";
/// The name of the copy in `<DIR>`.
pub const NAME: &str = "linkerd-await";

/// Copies the running binary to `dir/linkerd-await` (mode 0755); returns its path.
pub fn install(dir: &Path) -> Result<PathBuf, Error> {
    let target = dir.join(NAME);
    // Unique per process, in `dir` itself: rename(2) is atomic only within
    // one filesystem, and two init containers sharing the volume must not
    // write into each other's file.
    let temp = dir.join(format!(".{NAME}.{}.tmp", std::process::id()));
    let mut source = File::open(SELF_EXE).map_err(|e| {
        Error::os(
            "cannot read the gate's own binary /proc/self/exe (is /proc mounted?)",
            e,
        )
    })?;
    let cannot = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source: io::Error| Error::Install {
            path,
            action,
            source,
        }
    };
    let mut file = OpenOptions::new()
        .write(true)
        // O_EXCL: never write through a file (or symlink) someone else put there.
        .create_new(true)
        .mode(0o755)
        .open(&temp)
        .map_err(cannot("cannot create a file in", dir))?;
    let written = (|| {
        // std's copy uses copy_file_range/sendfile on Linux: no userspace buffer.
        io::copy(&mut source, &mut file)?;
        // The umask may have taken bits off the mode given to open(2).
        file.set_permissions(Permissions::from_mode(0o755))?;
        // Data on disk before the rename makes the name point at it; otherwise
        // a crash could leave `linkerd-await` empty.
        file.sync_all()
    })();
    drop(file);
    if let Err(e) = written.map_err(cannot("cannot write the copy", &temp)) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    if let Err(e) = fs::rename(&temp, &target) {
        let _ = fs::remove_file(&temp);
        return Err(cannot("cannot rename the copy to", &target)(e));
    }
    // The rename itself is durable only once the directory is synced. The
    // copy is in place and usable either way, so a failure here (some
    // filesystems refuse fsync on a directory) is only a warning.
    if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
        warn!(
            "installed {}, but cannot sync {}: {e}",
            target.display(),
            dir.display()
        );
    }
    info!("installed {}", target.display());
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn copies_itself_with_mode_0755_over_an_old_copy_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(NAME), b"old").expect("old copy");
        let target = install(dir.path()).expect("install");
        let me = fs::read(SELF_EXE).expect("read self");
        assert_eq!(fs::read(&target).expect("read copy"), me);
        assert_eq!(fs::metadata(&target).expect("stat").mode() & 0o7777, 0o755);
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, [NAME]);
    }

    #[test]
    fn a_missing_directory_names_the_path() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing");
        let e = install(&missing).expect_err("no such directory");
        assert_eq!(e.outcome(), crate::exit_code::Outcome::CannotCreate);
        assert!(e.to_string().contains(&*missing.to_string_lossy()), "{e}");
    }
}
