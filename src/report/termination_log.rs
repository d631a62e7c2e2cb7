//! The termination message: one line appended to the file Kubernetes shows in
//! `kubectl describe pod` (`terminationMessagePath`, `/dev/termination-log`
//! by default), when the gate ends with its own failure, so a pod that never
//! started its app says why without anyone reading its logs.
//!
//! The file is only ever appended to: with `--shutdown` the app may have
//! written its own message first. Nothing is written on success, and a
//! failure to write is a debug line, never a failure of its own.
//!
//! `set` is called once, from the config; failure paths call [`append`].

use std::{
    ffi::OsString,
    fs::OpenOptions,
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use tracing::debug;

use crate::report::logging::{Early, Rejected};

/// Where kubelet mounts the file in every container (the Pod API's default
/// `terminationMessagePath`).
pub const DEFAULT_PATH: &str = "/dev/termination-log";

/// Read directly (not through clap) where the config could not be read, and
/// because an empty value means "off" here, not "unset" as for other variables.
pub const VAR: &str = "LINKERD_AWAIT_TERMINATION_LOG";

/// kubelet keeps the last 4096 bytes of the file (`MaxContainerTerminationMessageLength`):
/// one line of ours stays well under that, leaving room for the app's own message.
pub const MAX_LINE: usize = 1024;

/// Every line starts with this, so it is told apart from the app's message.
const PREFIX: &str = "linkerd-await: ";

/// Where the termination message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TerminationLog {
    /// `/dev/termination-log`, only if it exists (kubelet creates it): never
    /// created, so outside Kubernetes nothing is written.
    Default,
    /// A path given with `--termination-log`; created if missing.
    Path(PathBuf),
    /// An empty `--termination-log`: no message.
    Off,
}

impl TerminationLog {
    /// From the typed flag, else the variable: unset means the default, an
    /// empty (or blank) value turns the message off.
    pub fn from_setting(value: Option<OsString>) -> TerminationLog {
        match value {
            None => TerminationLog::Default,
            Some(value) => match value.to_str().map(str::trim) {
                Some("") => TerminationLog::Off,
                Some(text) => TerminationLog::Path(PathBuf::from(text)),
                // Not UTF-8: a path all the same.
                None => TerminationLog::Path(PathBuf::from(value)),
            },
        }
    }

    /// Appends `message` as one line: newlines become spaces, and the line is
    /// cut to [`MAX_LINE`] bytes. Never truncates the file; errors are only logged.
    pub fn append(&self, message: &str) {
        let (path, create) = match self {
            TerminationLog::Off => return,
            TerminationLog::Default => (Path::new(DEFAULT_PATH), false),
            TerminationLog::Path(path) => (path.as_path(), true),
        };
        if let Err(e) = write_line(path, create, &line(message)) {
            debug!(
                "cannot write the termination message to {}: {e}",
                path.display()
            );
        }
    }
}

/// Opens, appends one line with one `write`, closes.
fn write_line(path: &Path, create: bool, line: &str) -> std::io::Result<()> {
    let open = |create_new: bool| {
        OpenOptions::new()
            // O_APPEND, never O_TRUNC: the app's message (if any) stays, and a
            // single write lands whole at the end even with other writers.
            .append(true)
            // O_CREAT|O_EXCL never follows a symlink, dangling or not: the
            // gate creates a file only where nothing was, never the target of
            // a link someone else put there.
            .create_new(create_new)
            .mode(0o644)
            // A FIFO with no reader would block the open forever; with
            // O_NONBLOCK it fails (ENXIO) instead. No effect on a regular file.
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
    };
    // An existing file (kubelet's bind-mounted one, or one the app wrote
    // first) is appended to; only a missing one is created.
    let mut file = match open(false) {
        Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => match open(true) {
            // Created by another writer in between: append to it.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => open(false),
            created => created,
        },
        opened => opened,
    }?;
    // std opens with O_CLOEXEC: an app started after this does not inherit it.
    file.write_all(line.as_bytes())
}

/// `linkerd-await: <message>\n`, on one line, at most `MAX_LINE` bytes.
fn line(message: &str) -> String {
    let flat: String = message
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut line = format!("{PREFIX}{flat}");
    let limit = MAX_LINE - 1; // the newline
    if line.len() > limit {
        const CUT: &str = "...";
        let mut end = limit - CUT.len();
        while !line.is_char_boundary(end) {
            end -= 1;
        }
        line.truncate(end);
        line.push_str(CUT);
    }
    line.push('\n');
    line
}

/// The message of a refused command line: clap's text without its usage
/// and help lines (a `tip:` naming the variable to fix is kept).
pub fn rejected(rejected: &Rejected) -> String {
    match &rejected.error {
        Early::Usage(e) => {
            let text = e.render().to_string();
            let lines: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|line| !line.starts_with("Usage:"))
                .filter(|line| !line.is_empty() && !line.starts_with("For more information"))
                .collect();
            let text = lines.join(" ");
            format!(
                "usage error: {}",
                text.strip_prefix("error: ").unwrap_or(&text)
            )
        }
        Early::Config(e) => format!("configuration error: {e}"),
    }
}

/// The process's termination log, set once from the config.
static GLOBAL: OnceLock<TerminationLog> = OnceLock::new();

/// Sets the process's termination log; a second call is ignored.
pub fn set(log: TerminationLog) {
    let _ = GLOBAL.set(log);
}

/// Appends `message` to the process's termination log (nothing before
/// [`set`]). Call it where the gate ends with its own failure, with the same
/// text as the log line.
pub fn append(message: &str) {
    if let Some(log) = GLOBAL.get() {
        log.append(message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setting() {
        let set = |v: &str| TerminationLog::from_setting(Some(OsString::from(v)));
        assert_eq!(TerminationLog::from_setting(None), TerminationLog::Default);
        assert_eq!(set(""), TerminationLog::Off);
        assert_eq!(set("  "), TerminationLog::Off);
        assert_eq!(
            set(" /tmp/x "),
            TerminationLog::Path(PathBuf::from("/tmp/x"))
        );
    }

    #[test]
    fn one_line_under_the_limit() {
        assert_eq!(line("a\nb\r\n"), "linkerd-await: a b\n");
        let long = line(&"é".repeat(4000));
        assert!(long.len() <= MAX_LINE, "{}", long.len());
        assert!(long.ends_with("...\n"));
        assert_eq!(long.matches('\n').count(), 1);
    }

    #[test]
    fn appends_and_never_truncates() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("termination-log");
        std::fs::write(&path, "app: my own message\n").expect("write");
        let log = TerminationLog::Path(path.clone());
        log.append("first");
        log.append("second");
        assert_eq!(
            std::fs::read_to_string(&path).expect("read"),
            "app: my own message\nlinkerd-await: first\nlinkerd-await: second\n"
        );
        // Off, or a path that cannot be written: nothing happens, no panic.
        TerminationLog::Off.append("x");
        TerminationLog::Path(dir.path().join("missing/dir/file")).append("x");
    }

    #[test]
    fn a_dangling_symlink_is_not_followed_to_create_its_target() {
        let dir = tempfile::tempdir().expect("temp dir");
        let target = dir.path().join("elsewhere");
        let link = dir.path().join("termination-log");
        std::os::unix::fs::symlink(&target, &link).expect("symlink");
        TerminationLog::Path(link.clone()).append("x");
        assert!(!target.exists(), "the link's target was created");
        // A missing path is still created, and an existing file appended to.
        let fresh = dir.path().join("fresh");
        TerminationLog::Path(fresh.clone()).append("one");
        TerminationLog::Path(fresh.clone()).append("two");
        assert_eq!(
            std::fs::read_to_string(&fresh).expect("read"),
            "linkerd-await: one\nlinkerd-await: two\n"
        );
    }
}
