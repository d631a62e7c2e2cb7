//! Reading the command line: clap's definition as this environment sets it
//! up (blank variables are unset), the parse with the precedence between
//! exclusive options applied, and a scan of what was *typed* (as opposed to
//! set by a variable), which error reports need.

use std::ffi::{OsStr, OsString};

use clap::{
    Arg, ArgMatches, CommandFactory, FromArgMatches, Id, ValueEnum,
    error::{ContextKind, ContextValue, ErrorKind},
    parser::ValueSource,
};

use super::precedence;
use crate::{
    config::cli::{Args, SHUTDOWN_URI_VAR},
    report::logging::LogFormat,
    report::redact::redact_text,
    report::termination_log::{self, TerminationLog},
};

/// Read when a usage error is reported, to report it in the format asked for.
const LOG_FORMAT_VAR: &str = "LINKERD_AWAIT_LOG_FORMAT";

/// The command line's definition, as this process's environment sets it up.
///
/// A `LINKERD_AWAIT_*` variable that is empty or blank is the same as an
/// unset one (Helm templates and Kubernetes' `value: ""` produce them), so
/// clap's reading of it is turned off for that option. Turned off too for
/// LINKERD_AWAIT_SHUTDOWN_URI, which `from_args` reads as a comma-separated
/// list, and for LINKERD_AWAIT_TERMINATION_LOG, whose empty value means
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
                    var == SHUTDOWN_URI_VAR || var == termination_log::VAR || env_var(var).is_none()
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

/// Our own options as typed on the command line, in order, each with its
/// value when it has one (`--x v`, `--x=v`, `-x v`, `-xv`, `-abx v`).
/// Scanning stops at `--` and at the first positional word (CMD): everything
/// after it belongs to the app, even if it looks like one of our flags.
/// Unknown options are skipped; clap reports them. `command` must be built.
fn typed_options<'c>(
    command: &'c clap::Command,
    argv: &[OsString],
) -> Vec<(&'c Arg, Option<OsString>)> {
    // Whether the next word is the option's value (not for `--timeout-fatal`,
    // whose value can only follow an `=`).
    let takes_next = |arg: &Arg| arg.get_action().takes_values() && !arg.is_require_equals_set();
    let mut typed = Vec::new();
    let mut words = argv.iter().skip(1);
    while let Some(word) = words.next() {
        // A non-UTF-8 word is no option of ours: it is CMD.
        let Some(text) = word.to_str() else { break };
        if text == "--" {
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(OsString::from(value))),
                None => (long, None),
            };
            let Some(arg) = command.get_arguments().find(|a| a.get_long() == Some(name)) else {
                continue;
            };
            let value = match inline {
                Some(value) => Some(value),
                None if takes_next(arg) => words.next().cloned(),
                None => None,
            };
            typed.push((arg, value));
        } else if let Some(shorts) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (at, short) in shorts.char_indices() {
                let Some(arg) = command
                    .get_arguments()
                    .find(|a| a.get_short() == Some(short))
                else {
                    break;
                };
                if !arg.get_action().takes_values() {
                    typed.push((arg, None));
                    continue;
                }
                // The rest of the word is the value, else the next word.
                let rest = &shorts[at + short.len_utf8()..];
                let rest = rest.strip_prefix('=').unwrap_or(rest);
                let value = if rest.is_empty() {
                    words.next().cloned()
                } else {
                    Some(OsString::from(rest))
                };
                typed.push((arg, value));
                break;
            }
        } else {
            break;
        }
    }
    typed
}

/// The log format to report a usage or configuration error in, when the
/// command line could not be read whole: a `--log-format` typed among our
/// own options, else LINKERD_AWAIT_LOG_FORMAT. A value that is no format
/// means plain (and the error about it is printed plainly). Only the error
/// path pays for this scan: a good command line has `Config::log` instead.
pub(super) fn log_format(command: &clap::Command, argv: &[OsString]) -> LogFormat {
    let typed = typed_options(command, argv)
        .into_iter()
        .rfind(|(arg, _)| arg.get_id() == "log_format");
    let value = match typed {
        Some((_, value)) => value,
        None => env_var(LOG_FORMAT_VAR),
    };
    value
        .as_deref()
        .and_then(OsStr::to_str)
        .and_then(|v| LogFormat::from_str(v.trim(), false).ok())
        .unwrap_or(LogFormat::Plain)
}

/// Where to write the termination message of a command line that could not
/// be read whole: a `--termination-log` typed among our own options, else
/// LINKERD_AWAIT_TERMINATION_LOG as it is, else the default.
pub(super) fn early_termination_log(command: &clap::Command, argv: &[OsString]) -> TerminationLog {
    let typed = typed_options(command, argv)
        .into_iter()
        .rfind(|(arg, _)| arg.get_id() == "termination_log");
    let value = match typed {
        Some((_, value)) => value,
        None => std::env::var_os(termination_log::VAR),
    };
    TerminationLog::from_setting(value)
}

/// A bad value that came from a `LINKERD_AWAIT_*` variable is reported by
/// clap under the flag's name; say which variable to fix as well.
pub(super) fn with_env_source(
    mut err: clap::Error,
    command: &clap::Command,
    argv: &[OsString],
) -> clap::Error {
    // clap repeats a rejected value; a URL's password must not reach the log.
    if let Some(ContextValue::String(value)) = err.get(ContextKind::InvalidValue).cloned() {
        err.insert(
            ContextKind::InvalidValue,
            ContextValue::String(redact_text(&value)),
        );
    }
    let Some(ContextValue::String(shown)) = err.get(ContextKind::InvalidArg).cloned() else {
        return err;
    };
    let Some(arg) = command.get_arguments().find(|a| a.to_string() == shown) else {
        return err;
    };
    let Some(var) = arg.get_env() else { return err };
    let typed = typed_options(command, argv)
        .iter()
        .any(|(a, _)| a.get_id() == arg.get_id());
    if !typed && env_var(var).is_some() {
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                format!(
                    "the value comes from the environment variable {}",
                    var.to_string_lossy()
                )
                .into(),
            ]),
        );
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::argv;

    #[test]
    fn typed_options_stop_at_the_command() {
        let command = command();
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, Option<&'a str>)]);
        let cases: [Case; 10] = [
            (&[], &[]),
            (&["-b", "3", "app", "-t", "1s"], &[("backoff", Some("3"))]),
            (&["--", "-t", "1s"], &[]),
            (&["app", "--log-format", "json"], &[]),
            (
                &["-vb5s", "-q"],
                &[("verbose", None), ("backoff", Some("5s")), ("quiet", None)],
            ),
            (
                &["-t=1s", "--uri=http://x/", "-S"],
                &[
                    ("timeout", Some("1s")),
                    ("uri", Some("http://x/")),
                    ("shutdown", None),
                ],
            ),
            // --timeout-fatal takes its value only after `=`: `x` is CMD.
            (&["--timeout-fatal", "x", "-v"], &[("timeout_fatal", None)]),
            (
                &["--timeout-fatal=no", "--log-format", "json"],
                &[("timeout_fatal", Some("no")), ("log_format", Some("json"))],
            ),
            // Unknown options are skipped (clap reports them), a lone `-` is CMD.
            (&["--bogus", "-x", "-", "-v"], &[]),
            // A value that looks like a flag is still the value.
            (
                &["-t", "-1s", "-v"],
                &[("timeout", Some("-1s")), ("verbose", None)],
            ),
        ];
        for (words, want) in cases {
            let got: Vec<(String, Option<String>)> = typed_options(&command, &argv(words))
                .into_iter()
                .map(|(arg, value)| {
                    (
                        arg.get_id().to_string(),
                        value.map(|v| v.to_string_lossy().into_owned()),
                    )
                })
                .collect();
            let want: Vec<(String, Option<String>)> = want
                .iter()
                .map(|(id, value)| (id.to_string(), value.map(str::to_string)))
                .collect();
            assert_eq!(got, want, "{words:?}");
        }
        assert!(typed_options(&command, &[]).is_empty());
    }

    #[test]
    fn log_format_from_typed_options() {
        let command = command();
        for (words, want) in [
            (&["--log-format", "json"][..], LogFormat::Json),
            (&["--log-format=json"][..], LogFormat::Json),
            (&["--log-format", " json ", "-v"][..], LogFormat::Json),
            (&["--log-format", "xml"][..], LogFormat::Plain),
            (&["--log-format", "plain"][..], LogFormat::Plain),
            (&["app", "--log-format", "json"][..], LogFormat::Plain),
        ] {
            assert_eq!(log_format(&command, &argv(words)), want, "{words:?}");
        }
    }
}
