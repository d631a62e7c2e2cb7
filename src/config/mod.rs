//! Turns flags and environment into one validated `Config`: every default
//! is decided in [`from_args`].
//!
//! Where a value comes from, in order: a typed flag, then its
//! `LINKERD_AWAIT_*` variable (clap; empty or blank means unset, see
//! `command_line`), then what the environment implies
//! (`LINKERD2_PROXY_ADMIN_LISTEN_ADDR`), then the mesh preset (`mesh`). Of
//! two options that exclude each other (`--uri`/`--port`,
//! `--verbose`/`--quiet`) the typed one wins (`precedence`).

pub mod backoff;
pub mod cli;
mod combinations;
mod command_line;
pub mod duration;
mod lists;
pub mod mesh;
mod precedence;
pub mod targets;
#[cfg(test)]
mod tests;
mod typed;
mod values;

use std::{borrow::Cow, ffi::OsString, path::PathBuf, time::Duration};

use clap::CommandFactory;
use reqwest::Url;

pub use self::command_line::command;
use self::{
    backoff::{Backoff, MIN_DELAY},
    cli::Args,
    mesh::{Mesh, PROXY_ADMIN_ADDR_VAR},
    targets::Target,
};
use self::{
    combinations::refuse_combinations,
    command_line::{env_var, parse},
    lists::{shutdown_urls_from_env, targets_from_env},
    typed::{early_termination_log, log_format, with_env_source},
};
use crate::report::{
    error::Error,
    logging::{Early, LogSettings, Rejected},
    termination_log::TerminationLog,
};

/// Either one, set to a non-empty value, skips waiting for the proxy and,
/// with `--shutdown`, asking it to shut down (as in the original).
const DISABLE_VARS: [&str; 2] = ["LINKERD_AWAIT_DISABLED", "LINKERD_DISABLED"];

#[derive(Debug)]
pub struct Config {
    pub ready_url: Url,
    pub backoff: Backoff,
    pub attempt_timeout: Duration,
    /// `None` waits forever.
    pub timeout: Option<Duration>,
    pub on_timeout: OnTimeout,
    /// Why waiting for the proxy is skipped, if it is.
    pub disabled: Option<String>,
    /// `--wait-for`: what else to wait for, after the proxy.
    pub wait_for: Vec<Target>,
    /// `--ca-file`: more roots for the TLS targets.
    pub ca_file: Option<std::path::PathBuf>,
    /// How the `--wait-for` checks are paced: a schedule of their own, with
    /// jitter, whatever the proxy's `--backoff-*` say.
    pub wait_for_backoff: Backoff,
    pub handoff: Handoff,
    pub log: LogSettings,
    /// `--install <DIR>`: copy the gate there and exit; nothing else applies.
    pub install: Option<PathBuf>,
    /// Where the gate's own failures are written for Kubernetes.
    pub termination_log: TerminationLog,
    /// What the debug log should say about how the settings were read
    /// (variables not read because a typed option outranks them).
    pub notes: Vec<String>,
}

/// What happens once waiting is over.
#[derive(Debug)]
pub enum Handoff {
    /// No command: report readiness through the exit code.
    Exit,
    /// Replace the gate with the command.
    Exec(Command),
    /// Run the command as a child, then shut the proxy down.
    Supervise(Command, Shutdown),
    /// `--shutdown-now`: no waiting and no command; shut the proxy down.
    ShutdownNow(Shutdown),
}

/// The app's command line: a program and its arguments, byte for byte. There
/// is always a program; no command at all is `Handoff::Exit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub program: OsString,
    pub args: Vec<OsString>,
}

impl Command {
    /// `None` for an empty argv.
    fn new(argv: Vec<OsString>) -> Option<Command> {
        let mut argv = argv.into_iter();
        let program = argv.next()?;
        Some(Command {
            program,
            args: argv.collect(),
        })
    }

    /// The program, for log lines.
    pub fn name(&self) -> Cow<'_, str> {
        self.program.to_string_lossy()
    }
}

/// `--timeout-fatal`: what a readiness timeout means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    /// Exit 69 without running the command (`true`, the default).
    Fail,
    /// Warn and run the command anyway (`false`).
    Proceed,
}

/// `--shutdown-on-failure`: what a failed app means for the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnFailure {
    /// Ask the proxy to shut down however the app ended (`true`, the default).
    ShutDown,
    /// Leave the proxy running so the failed pod can be inspected (`false`).
    KeepProxy,
}

#[derive(Debug, Clone)]
pub struct Shutdown {
    pub urls: Vec<Url>,
    /// Bounds the requests and the watch for the proxy's exit together.
    pub timeout: Duration,
    pub on_failure: OnFailure,
    /// The readiness URL: a proxy that has stopped refuses connections to
    /// its address (for Istio another port than the shutdown URL's).
    pub proxy: Url,
    /// Whether to watch `proxy` for the stop, or each accepted request's
    /// own address: `--shutdown-uri` without a readiness address of its
    /// own (no `--uri`, `--port`, `LINKERD2_PROXY_ADMIN_LISTEN_ADDR`) says
    /// where the proxy is, and the default readiness port may be another
    /// proxy's, or nobody's.
    pub watch: Watch,
}

/// Which address shows that the proxy stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// The readiness URL's.
    Readiness,
    /// The address each accepted shutdown request went to.
    RequestAddress,
}

/// The outcome of reading the command line.
pub enum Loaded {
    Config(Box<Config>),
    /// `--help` or `--version`: a message for stdout, and exit code 0.
    Info(clap::Error),
}

/// Reads the command line and the environment. A refusal carries the log
/// format to report it in, worked out only then.
pub fn load(argv: &[OsString]) -> Result<Loaded, Rejected> {
    let mut command = command();
    let args = match parse(&mut command, argv) {
        Ok(args) => args,
        // --help and --version: render them from the untouched definition,
        // which still names every variable (`command()` dropped blank ones).
        Err(e) if !e.use_stderr() => {
            return Ok(Loaded::Info(
                Args::command()
                    .try_get_matches_from(argv.iter())
                    .err()
                    .unwrap_or(e),
            ));
        }
        Err(e) => {
            return Err(Rejected {
                format: log_format(&command, argv),
                error: Early::Usage(with_env_source(e, &command, argv)),
            });
        }
    };
    match from_args(args, |name| env_var(name)) {
        Ok(config) => Ok(Loaded::Config(Box::new(config))),
        Err(e) => Err(Rejected {
            format: log_format(&command, argv),
            error: Early::Config(e),
        }),
    }
}

/// Where to write the termination message when `load` refused the command
/// line: what was typed or set, as far as it can be read, else the default.
pub fn rejected_termination_log(argv: &[OsString]) -> TerminationLog {
    early_termination_log(&command(), argv)
}

/// Builds the config; `env` reads the variables that are not clap options
/// (tests pass a map).
fn from_args(mut args: Args, env: impl Fn(&str) -> Option<OsString>) -> Result<Config, Error> {
    // Typed URLs replace the variable's list, as for every other option.
    if args.shutdown_uri.is_empty() {
        args.shutdown_uri = shutdown_urls_from_env(&env)?;
    }
    targets_from_env(&env, &mut args)?;
    let readiness_given =
        args.uri.is_some() || args.port.is_some() || env(PROXY_ADMIN_ADDR_VAR).is_some();
    refuse_combinations(&args)?;
    let ready_url = match args.uri {
        Some(url) => url,
        None => mesh::ready_url(args.mesh, args.port, || env(PROXY_ADMIN_ADDR_VAR))?,
    };

    let shutdown = || Shutdown {
        urls: if args.shutdown_uri.is_empty() {
            vec![mesh::shutdown_url(args.mesh, &ready_url)]
        } else {
            args.shutdown_uri.clone()
        },
        timeout: args.shutdown_timeout,
        on_failure: if args.shutdown_on_failure {
            OnFailure::ShutDown
        } else {
            OnFailure::KeepProxy
        },
        proxy: ready_url.clone(),
        watch: if args.shutdown_uri.is_empty() || readiness_given {
            Watch::Readiness
        } else {
            Watch::RequestAddress
        },
    };
    let disabled_by = DISABLE_VARS
        .iter()
        .find_map(|var| env(var).map(|v| format!("{var}={}", v.to_string_lossy())));
    let mut notes = args.unread;
    // `parse` refused --shutdown-now with a command, and settled -S against it.
    let handoff = match (Command::new(args.command), args.shutdown) {
        (None, _) if args.shutdown_now => Handoff::ShutdownNow(shutdown()),
        (None, _) => Handoff::Exit,
        (Some(command), false) => Handoff::Exec(command),
        // A variable that disables the gate says there is no proxy here,
        // so none to stop when the app is done: the app is exec()ed, as
        // linkerd-await 0.3 did, rather than supervised for a shutdown
        // request that could only fail.
        (Some(command), true) if disabled_by.is_some() => {
            notes.push(format!(
                "--shutdown: the app is exec()ed and no shutdown is asked for, as waiting for \
                 the proxy is disabled ({})",
                disabled_by.as_deref().unwrap_or_default()
            ));
            Handoff::Exec(command)
        }
        (Some(command), true) => Handoff::Supervise(command, shutdown()),
    };

    let disabled =
        disabled_by.or_else(|| (args.mesh == Mesh::None).then(|| "--mesh none".to_string()));

    let filter = match (args.log_filter, args.verbose, args.quiet) {
        (Some(filter), _, _) => filter,
        (None, true, _) => "linkerd_await=debug,info".to_string(),
        (None, _, true) => "error".to_string(),
        (None, false, false) => "info".to_string(),
    };

    Ok(Config {
        ready_url,
        backoff: Backoff {
            initial: args.backoff_initial,
            max: args.backoff,
            factor: args.backoff_factor,
            jitter: false,
        },
        wait_for: args.wait_for,
        ca_file: args.ca_file,
        wait_for_backoff: Backoff::dependencies(args.wait_for_backoff),
        attempt_timeout: args.attempt_timeout.max(MIN_DELAY),
        timeout: args.timeout.filter(|t| !t.is_zero()),
        on_timeout: if args.timeout_fatal {
            OnTimeout::Fail
        } else {
            OnTimeout::Proceed
        },
        disabled,
        handoff,
        log: LogSettings {
            filter,
            format: args.log_format,
        },
        install: args.install,
        termination_log: TerminationLog::from_setting(args.termination_log),
        notes,
    })
}
