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
    future::Future,
    io,
    os::unix::fs::{OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
    time::Duration,
};

use tracing::{debug, info, warn};

use crate::{report::error::Error, report::exit_code::Outcome, signals::Sig};

/// The running binary. Not `argv[0]`, which may be a bare name found on PATH.
const SELF_EXE: &str = "/proc/self/exe";
/// The name of the copy in `<DIR>`.
pub const NAME: &str = "linkerd-await";

/// Temporary files are `.linkerd-await.<16 hex digits>.tmp`.
const TEMP_PREFIX: &str = ".linkerd-await.";
const TEMP_SUFFIX: &str = ".tmp";

/// A temporary file of ours untouched for this long is a leftover of an
/// interrupted install (OOM-killed, node pressure), not another installer's
/// copy in progress (which writes to it all along): removed after a
/// successful install so that restarts do not fill the volume.
const STALE_AFTER: Duration = Duration::from_secs(600);

/// Copies the running binary to `dir/linkerd-await` (mode 0755). A
/// termination signal (`stop`) during the copy ends it: the temporary file
/// is removed and the gate ends by that signal.
pub async fn install(
    dir: &Path,
    stop: impl Future<Output = Result<Sig, Error>>,
) -> Result<Outcome, Error> {
    let target = dir.join(NAME);
    let source = File::open(SELF_EXE).map_err(|e| {
        Error::os(
            "cannot read the gate's own binary /proc/self/exe (is /proc mounted?)",
            e,
        )
    })?;
    let (temp, file) = create_temp(dir)?;
    // The copy runs on a thread of its own, so that slow storage (a
    // network volume) cannot keep a `kubectl delete` or an OOM-killer's
    // SIGTERM waiting: the signal is read here meanwhile.
    let copying = {
        let temp = temp.clone();
        tokio::task::spawn_blocking(move || write_copy(source, file, &temp))
    };
    let written = tokio::select! {
        biased;
        sig = stop => {
            // The thread may still be writing: unlinking the file is safe
            // all the same, and the process ends before it matters.
            let _ = fs::remove_file(&temp);
            let sig = sig?;
            info!("received {sig} while installing; removed the partial copy");
            return Ok(Outcome::Signalled(sig.number()));
        }
        joined = copying => joined.unwrap_or_else(|_| {
            Err(Error::os("the copy stopped", io::Error::other("copy thread panicked")))
        }),
    };
    if let Err(e) = written {
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
    remove_leftovers(dir);
    Ok(Outcome::Ready)
}

fn cannot(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> Error {
    let path = path.to_path_buf();
    move |source: io::Error| Error::Install {
        path,
        action,
        source,
    }
}

/// A new temporary file in `dir` (rename(2) is atomic only within one
/// filesystem). Its name is random, not the PID: in a container the gate is
/// always PID 1, so a name from the PID would be the same after every
/// restart (a leftover would block all of them) and in every installer
/// sharing the volume.
fn create_temp(dir: &Path) -> Result<(PathBuf, File), Error> {
    let mut last = None;
    for _ in 0..8 {
        let temp = dir.join(format!(
            "{TEMP_PREFIX}{:016x}{TEMP_SUFFIX}",
            crate::random::u64()
        ));
        match OpenOptions::new()
            .write(true)
            // O_EXCL: never write through a file (or symlink) someone else put there.
            .create_new(true)
            .mode(0o755)
            .open(&temp)
        {
            Ok(file) => return Ok((temp, file)),
            // Taken (a leftover, or a symlink planted there): another name.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(cannot("cannot create a file in", dir)(e)),
        }
    }
    let e = last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists));
    Err(cannot("cannot create a file in", dir)(e))
}

/// The copy into the open temporary file, synced to disk.
fn write_copy(mut source: File, mut file: File, temp: &Path) -> Result<(), Error> {
    (|| {
        // std's copy uses copy_file_range/sendfile on Linux: no userspace buffer.
        io::copy(&mut source, &mut file)?;
        // The umask may have taken bits off the mode given to open(2).
        file.set_permissions(Permissions::from_mode(0o755))?;
        // Data on disk before the rename makes the name point at it; otherwise
        // a crash could leave `linkerd-await` empty.
        file.sync_all()
    })()
    .map_err(cannot("cannot write the copy", temp))
}

/// Removes our temporary files that an interrupted install left behind:
/// regular files only (never a symlink someone put there), untouched for
/// [`STALE_AFTER`]. Best effort: a failure is a debug line.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        // DirEntry::metadata does not follow symlinks.
        let stale = entry.metadata().is_ok_and(|m| {
            m.file_type().is_file()
                && m.modified()
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|age| age >= STALE_AFTER)
        });
        if stale {
            match fs::remove_file(entry.path()) {
                Ok(()) => debug!("removed a leftover of an interrupted install: {name}"),
                Err(e) => debug!("cannot remove the leftover {name}: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// A termination signal that never comes.
    async fn never() -> Result<Sig, Error> {
        std::future::pending().await
    }

    fn install_now(dir: &Path) -> Result<Outcome, Error> {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(install(dir, never()))
    }

    #[test]
    fn copies_itself_with_mode_0755_over_an_old_copy_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        fs::write(dir.path().join(NAME), b"old").expect("old copy");
        assert_eq!(install_now(dir.path()).expect("install"), Outcome::Ready);
        let target = dir.path().join(NAME);
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
        let e = install_now(&missing).expect_err("no such directory");
        assert_eq!(e.outcome(), crate::report::exit_code::Outcome::CannotCreate);
        assert!(e.to_string().contains(&*missing.to_string_lossy()), "{e}");
    }

    #[test]
    fn leftovers_of_ours_are_removed_only_when_stale_and_never_through_a_symlink() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name);
        let old = std::time::SystemTime::now() - STALE_AFTER - Duration::from_secs(1);
        let stale = ".linkerd-await.1.tmp";
        File::create(path(stale))
            .and_then(|f| f.set_modified(old))
            .expect("stale leftover");
        let fresh = ".linkerd-await.2.tmp";
        fs::write(path(fresh), b"").expect("fresh temp file");
        let other = "unrelated.tmp";
        File::create(path(other))
            .and_then(|f| f.set_modified(old))
            .expect("other file");
        let link = ".linkerd-await.3.tmp";
        std::os::unix::fs::symlink(path(other), path(link)).expect("symlink");
        remove_leftovers(dir.path());
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, [fresh, link, other]);
    }
}
