//! What was *typed* on the command line, as opposed to set by a variable:
//! the scan of argv for our own options, and what error reports read from
//! it when the command line could not be read whole (the log format, the
//! termination log, which variable a bad value came from).
//!
//! Invariant: the scan stops at `--` and at CMD; what follows is the app's.

use std::ffi::{OsStr, OsString};

use clap::{
    Arg, ValueEnum,
    error::{ContextKind, ContextValue},
};

use super::{command_line::env_var, targets};
use crate::report::{
    logging::LogFormat,
    redact::redact_text,
    termination_log::{self, TerminationLog},
};

/// Read when a usage error is reported, to report it in the format asked for.
const LOG_FORMAT_VAR: &str = "LINKERD_AWAIT_LOG_FORMAT";
/// Our own options as typed on the command line, in order, each with its
/// value when it has one (`--x v`, `--x=v`, `-x v`, `-xv`, `-abx v`).
/// Scanning stops at `--` and at the first positional word (CMD): everything
/// after it belongs to the app, even if it looks like one of our flags.
/// Unknown options are skipped; clap reports them. `command` must be built.
pub(super) fn typed_options<'c>(
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
    let arg = match err.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(shown)) => {
            command.get_arguments().find(|a| a.to_string() == *shown)
        }
        _ => None,
    };
    // clap repeats a rejected value; a URL's password must not reach the
    // log. A `--wait-for` value may be no URL at all (a JDBC URL with the
    // driver's `password=`): it has its own, stricter rule.
    if let Some(ContextValue::String(value)) = err.get(ContextKind::InvalidValue).cloned() {
        let shown = match arg {
            Some(arg) if arg.get_id() == "wait_for" => targets::shown(&value),
            _ => redact_text(&value),
        };
        err.insert(ContextKind::InvalidValue, ContextValue::String(shown));
    }
    let Some(arg) = arg else {
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
        let command = crate::config::command_line::command();
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
        let command = crate::config::command_line::command();
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
