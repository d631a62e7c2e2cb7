//! Handing off by exec: the app replaces the gate (same PID, argv, env, cwd,
//! inherited fds and signal state), so there is no supervisor to get wrong.

use std::{
    ffi::{CString, OsString},
    io,
    os::unix::ffi::OsStrExt,
};

use crate::{exit_code::ExecFailure, signals::Inherited};

/// Why the command could not be run, with the OS error for the log line.
#[derive(Debug)]
pub struct ExecError {
    pub failure: ExecFailure,
    pub source: io::Error,
}

impl ExecError {
    pub fn new(source: io::Error) -> Self {
        ExecError {
            failure: classify(&source),
            source,
        }
    }
}

/// coreutils' rule (`env`, `timeout`, `nice`): only "not found" is 127;
/// every other failure to run a found command is 126.
pub fn classify(err: &io::Error) -> ExecFailure {
    if err.raw_os_error() == Some(libc::ENOENT) {
        ExecFailure::NotFound
    } else {
        ExecFailure::CannotInvoke
    }
}

/// Converts argv for execvp. Arguments came from the C argv, so an interior
/// NUL cannot occur; it is still reported rather than assumed away.
pub fn c_argv(argv: &[OsString]) -> Result<Vec<CString>, ExecError> {
    argv.iter()
        .map(|arg| {
            CString::new(arg.as_bytes()).map_err(|_| ExecError {
                failure: ExecFailure::CannotInvoke,
                source: io::Error::new(io::ErrorKind::InvalidInput, "argument contains a NUL byte"),
            })
        })
        .collect()
}

/// Replaces this process with `argv`. Returns only if exec failed.
pub fn exec(argv: &[OsString], inherited: &Inherited) -> ExecError {
    let c_args = match c_argv(argv) {
        Ok(args) => args,
        Err(e) => return e,
    };
    let Some(program) = c_args.first() else {
        return ExecError::new(io::Error::from_raw_os_error(libc::ENOENT));
    };
    let mut pointers: Vec<*const libc::c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    pointers.push(std::ptr::null());

    // Signal state last: from here on a termination signal acts on the gate as
    // it would on the app (default action), instead of being read by the
    // gate. Every fd the gate opened is close-on-exec.
    inherited.restore();
    // SAFETY: `pointers` is a NULL-terminated array of pointers into `c_args`,
    // which outlives the call. execvp does the PATH search as a shell would
    // (names containing '/' are used as given).
    unsafe {
        libc::execvp(program.as_ptr(), pointers.as_ptr());
    }
    ExecError::new(io::Error::last_os_error())
}
