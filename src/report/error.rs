//! Typed errors. Each message names what was wrong (the flag, variable or
//! URL and the bad value) and, where there is one, the fix.

use std::path::PathBuf;

use crate::report::exit_code::Outcome;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad environment variable that is not one of our flags.
    #[error("invalid value '{value}' in {var}: {reason}")]
    Env {
        var: &'static str,
        value: String,
        reason: String,
    },

    /// Options that cannot go together, whether typed or set.
    #[error("{0}")]
    Usage(String),

    #[error("invalid value '{value}' for '--log <FILTER>' (LINKERD_AWAIT_LOG): {reason}")]
    LogFilter { value: String, reason: String },

    /// A system call the gate depends on failed; nothing the user passed is wrong.
    #[error("{what}: {source}")]
    Os {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),

    /// `--install`: the copy cannot be made in the directory given.
    #[error(
        "--install: {action} {}: {source}; the directory must exist and be writable (e.g. an emptyDir volume mounted there)",
        path.display()
    )]
    Install {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn os(what: &'static str, source: impl Into<std::io::Error>) -> Self {
        Error::Os {
            what,
            source: source.into(),
        }
    }

    /// Which row of the exit-code table this error belongs to.
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::Env { .. } | Error::Usage(_) | Error::LogFilter { .. } => Outcome::Usage,
            Error::Os { .. } | Error::Client(_) => Outcome::Internal,
            Error::Install { .. } => Outcome::CannotCreate,
        }
    }
}
