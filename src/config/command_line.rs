//! Reading the command line: clap's definition as this environment sets it
//! up (blank variables are unset, variables a typed option outranks are not
//! read), and the parse with the precedence between exclusive options
//! applied. What was *typed*, which these and the error reports need: `typed`.
//!
//! Invariant: everything after CMD or `--` belongs to the app, and a
//! conflict names where each side came from, flag or variable.

use std::ffi::{OsStr, OsString};

use clap::{ArgMatches, CommandFactory, FromArgMatches, Id, error::ErrorKind, parser::ValueSource};

use super::{precedence, typed::typed_options};
use crate::{
    config::cli::{Args, SHUTDOWN_URI_VAR, WAIT_FOR_VAR},
    report::termination_log,
};

/// The command line's definition, as this process's environment sets it up.
///
/// A `LINKERD_AWAIT_*` variable that is empty or blank is the same as an
/// unset one (Helm templates and Kubernetes' `value: ""` produce them), so
/// clap's reading of it is turned off for that option. Turned off too for
/// LINKERD_AWAIT_SHUTDOWN_URI and LINKERD_AWAIT_WAIT_FOR, which `from_args`
/// reads as lists, and for LINKERD_AWAIT_TERMINATION_LOG, whose empty value means
/// "off" (see `termination_log`). The environment itself is left as it is:
/// the app inherits it.
pub fn command() -> clap::Command {
    command_skipping(&[])
}

/// [`command`], with clap's reading of the variables of `unread` (option
/// ids) turned off as well.
fn command_skipping(unread: &[&str]) -> clap::Command {
    let mut command = Args::command();
    let ignored: Vec<Id> = command
        .get_arguments()
        .filter(|arg| {
            unread.contains(&arg.get_id().as_str())
                || arg.get_env().is_some_and(|var| {
                    var == SHUTDOWN_URI_VAR
                        || var == WAIT_FOR_VAR
                        || var == termination_log::VAR
                        || env_var(var).is_none()
                })
        })
        .map(|arg| arg.get_id().clone())
        .collect();
    for id in ignored {
        command = command.mut_arg(id, |arg| arg.env(None));
    }
    // Settles each option's action, which `typed_options` reads.
    command.build();
    command
}

/// An environment variable, `None` when unset, empty or blank.
pub(super) fn env_var(name: impl AsRef<OsStr>) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !is_blank(value))
}

/// Empty or only whitespace (a non-UTF-8 value is neither).
pub(super) fn is_blank(value: &OsStr) -> bool {
    value.to_str().is_some_and(|v| v.trim().is_empty())
}

/// The command line (and clap's variables) as `Args`, with the precedence
/// between mutually exclusive options applied.
pub(super) fn parse(command: &mut clap::Command, argv: &[OsString]) -> Result<Args, clap::Error> {
    let unread = skip_outranked_variables(command, argv);
    let matches = command.try_get_matches_from_mut(argv)?;
    let mut args = Args::from_arg_matches(&matches)?;
    args.unread = unread;
    args.unread
        .extend(typed_over_their_variables(command, &matches));
    // Typed, else the variable as it is: empty turns the message off.
    if args.termination_log.is_none() {
        args.termination_log = std::env::var_os(termination_log::VAR);
    }
    if let Err((first, second)) = precedence::apply(&matches, &mut args) {
        let shown = |id: &str| {
            command
                .get_arguments()
                .find(|arg| arg.get_id() == id)
                .map_or_else(|| id.to_string(), ToString::to_string)
        };
        let message = format!(
            "the argument '{}' cannot be used with '{}'",
            shown(first),
            shown(second)
        );
        return Err(command.error(ErrorKind::ArgumentConflict, message));
    }
    // --install copies the gate and exits: a command would never run, so
    // rather than drop it silently, say how the copy is used.
    if args.install.is_some() {
        let other = if !args.command.is_empty() {
            Some("a command".to_string())
        } else if args.shutdown {
            Some(named(
                &matches,
                "shutdown",
                "--shutdown",
                "LINKERD_AWAIT_SHUTDOWN",
            ))
        } else if args.shutdown_now {
            Some(named(
                &matches,
                "shutdown_now",
                "--shutdown-now",
                "LINKERD_AWAIT_SHUTDOWN_NOW",
            ))
        } else {
            None
        };
        if let Some(other) = other {
            return Err(command.error(
                ErrorKind::ArgumentConflict,
                format!(
                    "--install (LINKERD_AWAIT_INSTALL) copies the gate and exits; it cannot be used with {other}. \
                     Run the copy instead: <DIR>/linkerd-await [--shutdown] -- CMD [ARGS]..."
                ),
            ));
        }
    }
    // Checked here rather than with clap's `requires`, which would also
    // fire for LINKERD_AWAIT_SHUTDOWN=false.
    if args.shutdown && args.command.is_empty() {
        return Err(command.error(
            ErrorKind::MissingRequiredArgument,
            format!(
                "--shutdown needs a command to supervise: linkerd-await --shutdown -- CMD [ARGS]...{}",
                from_variable(&matches, "shutdown", "LINKERD_AWAIT_SHUTDOWN")
            ),
        ));
    }
    if args.shutdown_now && !args.command.is_empty() {
        return Err(command.error(
            ErrorKind::ArgumentConflict,
            format!(
                "--shutdown-now runs no command, it only asks the proxy to shut down: \
                 `linkerd-await --shutdown-now`, or run CMD first (`CMD; linkerd-await --shutdown-now`), \
                 or supervise it with `linkerd-await --shutdown -- CMD`{}",
                from_variable(&matches, "shutdown_now", "LINKERD_AWAIT_SHUTDOWN_NOW")
            ),
        ));
    }
    Ok(args)
}

/// The variables of the options that were typed, where set: a typed
/// option beats its own variable, which is then not read at all (so a
/// malformed value there is no error), and `-v` says so.
fn typed_over_their_variables(command: &clap::Command, matches: &ArgMatches) -> Vec<String> {
    command
        .get_arguments()
        .filter(|arg| matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|arg| {
            // The variables `config` reads itself, which clap was told to skip.
            let own = match arg.get_id().as_str() {
                "wait_for" => Some(OsStr::new(WAIT_FOR_VAR)),
                "shutdown_uri" => Some(OsStr::new(SHUTDOWN_URI_VAR)),
                "termination_log" => Some(OsStr::new(termination_log::VAR)),
                _ => arg.get_env(),
            };
            let var = own.filter(|var| env_var(var).is_some())?;
            let flag = arg.get_long().unwrap_or(arg.get_id().as_str());
            Some(format!(
                "{} is not read: --{flag} was typed",
                var.to_string_lossy()
            ))
        })
        .collect()
}

/// Turns off clap's reading of each variable that a typed option outranks
/// (`precedence::unread_variables`), so that a malformed one is no error;
/// returns what was skipped, as lines for the debug log.
fn skip_outranked_variables(command: &mut clap::Command, argv: &[OsString]) -> Vec<String> {
    // Usually none of those variables is set (`command` reads only the set
    // ones): then there is nothing to skip, and the scan of argv is spared.
    let outrankable_set = command
        .get_arguments()
        .any(|arg| arg.get_env().is_some() && precedence::can_be_outranked(arg.get_id().as_str()));
    if !outrankable_set {
        return Vec::new();
    }
    let typed: Vec<&str> = typed_options(command, argv)
        .iter()
        .map(|(arg, _)| arg.get_id().as_str())
        .collect();
    let arg = |id: &str| command.get_arguments().find(|arg| arg.get_id() == id);
    let mut losers = Vec::new();
    let mut notes = Vec::new();
    for (loser, by) in precedence::unread_variables(&typed) {
        // `command` reads only the variables that are set: an unset one
        // needs nothing turned off.
        let (Some(var), Some(by)) = (arg(loser).and_then(|a| a.get_env()), arg(by)) else {
            continue;
        };
        let by = by.get_long().unwrap_or(by.get_id().as_str());
        notes.push(format!(
            "{} is not read: --{by} was typed",
            var.to_string_lossy()
        ));
        losers.push(loser);
    }
    // The definition is built again only then: it costs the heap of a
    // second clap command, which the usual command line never pays.
    if !losers.is_empty() {
        *command = command_skipping(&losers);
    }
    notes
}

/// How to name a setting in an error: the flag when it was typed, its
/// variable when that is where it came from.
fn named(matches: &ArgMatches, id: &str, flag: &str, var: &str) -> String {
    match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => format!("{var} (set in the environment)"),
        _ => flag.to_string(),
    }
}

/// " (it is on because VAR is set)" when the setting came from its variable.
fn from_variable(matches: &ArgMatches, id: &str, var: &str) -> String {
    match matches.value_source(id) {
        Some(ValueSource::EnvVariable) => {
            format!(
                " (it is on because {var} is set in the environment; unset it or set it to false)"
            )
        }
        _ => String::new(),
    }
}
