//! Handing off by exec: the app replaces the gate (same PID, argv, env, cwd,
//! inherited fds and signal state), so there is no supervisor to get wrong.

use std::{
    ffi::{CString, OsStr},
    fmt, io,
    os::unix::ffi::OsStrExt,
};

use tracing::{error, info};

use crate::{
    config::Command,
    report::exit_code::{ExecFailure, Outcome},
    report::termination_log,
    signals::Inherited,
};

/// Why the command could not be run, with the OS error for the log line.
#[derive(Debug)]
pub struct ExecError {
    program: String,
    failure: ExecFailure,
    source: io::Error,
}

impl ExecError {
    pub fn new(command: &Command, source: io::Error) -> Self {
        ExecError {
            program: command.name().into_owned(),
            failure: classify(&source),
            source,
        }
    }

    /// Which row of the exit-code table (126 or 127) this failure belongs to.
    pub fn outcome(&self) -> Outcome {
        Outcome::ExecFailed(self.failure)
    }
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot run '{}': {}", self.program, self.source)
    }
}

/// coreutils' rule (`env`, `timeout`, `nice`): only "not found" is 127;
/// every other failure to run a found command is 126.
fn classify(err: &io::Error) -> ExecFailure {
    if err.raw_os_error() == Some(libc::ENOENT) {
        ExecFailure::NotFound
    } else {
        ExecFailure::CannotInvoke
    }
}

/// Replaces this process with the app. Returns only if exec failed, with
/// the outcome to exit with (the failure is logged).
pub fn exec(command: &Command, inherited: &Inherited) -> Outcome {
    info!("starting {}", command.name());
    // exec from inside the event loop: nothing needs tearing down, every fd
    // the gate opened is close-on-exec.
    let e = replace_self(command, inherited);
    error!("{e}");
    termination_log::append(&e.to_string());
    e.outcome()
}

fn replace_self(command: &Command, inherited: &Inherited) -> ExecError {
    let (program, args) = match c_argv(command) {
        Ok(argv) => argv,
        Err(source) => return ExecError::new(command, source),
    };
    let pointers: Vec<*const libc::c_char> = std::iter::once(program.as_ptr())
        .chain(args.iter().map(|a| a.as_ptr()))
        .chain(std::iter::once(std::ptr::null()))
        .collect();

    // Signal state last: from here on a termination signal acts on the gate as
    // it would on the app (default action), instead of being read by the
    // gate. Every fd the gate opened is close-on-exec.
    inherited.restore();
    // SAFETY: `pointers` is a NULL-terminated array of pointers into
    // `program` and `args`, which outlive the call. execvp does the PATH
    // search as a shell would (names containing '/' are used as given).
    unsafe {
        libc::execvp(program.as_ptr(), pointers.as_ptr());
    }
    ExecError::new(command, io::Error::last_os_error())
}

/// Converts the command for execvp. Arguments came from the C argv, so an
/// interior NUL cannot occur; it is still reported rather than assumed away.
fn c_argv(command: &Command) -> io::Result<(CString, Vec<CString>)> {
    let c_string = |arg: &OsStr| {
        CString::new(arg.as_bytes()).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "argument contains a NUL byte")
        })
    };
    let program = c_string(&command.program)?;
    let args = command
        .args
        .iter()
        .map(|arg| c_string(arg))
        .collect::<io::Result<_>>()?;
    Ok((program, args))
}
