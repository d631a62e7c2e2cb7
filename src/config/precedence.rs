//! Which of two options that exclude each other applies (`--uri`/`--port`,
//! `--verbose`/`--quiet`, `--shutdown-now`/`--shutdown`), given where each came from. One rule,
//! [`exclusive`], tested as a table; [`apply`] uses it for every pair.
//!
//! A variable that loses to a typed option is not even read
//! ([`unread_variables`]): `LINKERD_AWAIT_PORT=abc` next to a typed `--uri`
//! is no error, exactly as a malformed variable of a typed option's own
//! name is none. Said at debug level.

use clap::{ArgMatches, parser::ValueSource};

use crate::config::cli::Args;

/// Where the value of an option that is set came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Typed,
    Env,
}

impl Origin {
    fn of(source: ValueSource) -> Option<Origin> {
        match source {
            ValueSource::CommandLine => Some(Origin::Typed),
            ValueSource::EnvVariable => Some(Origin::Env),
            // A default never asks for anything (`--verbose` is false, `--port` unset).
            _ => None,
        }
    }
}

/// Which of two mutually exclusive options applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    First,
    Second,
    Neither,
}

/// Both options were typed: a usage error.
#[derive(Debug, PartialEq, Eq)]
struct BothTyped;

/// The precedence between two options that exclude each other, given where
/// each one that is set came from (`None`: not set). A typed flag beats a
/// variable, so that an operator can override a manifest (or the image's
/// ENTRYPOINT) without editing the other; both typed is a usage error; both
/// from variables, `first` wins.
fn exclusive(first: Option<Origin>, second: Option<Origin>) -> Result<Pick, BothTyped> {
    match (first, second) {
        (Some(Origin::Typed), Some(Origin::Typed)) => Err(BothTyped),
        (Some(Origin::Env), Some(Origin::Typed)) | (None, Some(_)) => Ok(Pick::Second),
        (Some(_), _) => Ok(Pick::First),
        (None, None) => Ok(Pick::Neither),
    }
}

/// Applies [`exclusive`] to each pair, clearing the option that lost. Between
/// two variables, the URI beats the port (it is the more specific setting),
/// verbose beats quiet (whoever turned on debug logs is debugging) and
/// shutdown-now beats shutdown (with a CMD that is then a usage error, never
/// a silent choice of mode).
/// On a conflict, returns the ids of the two options.
pub(super) fn apply(
    matches: &ArgMatches,
    args: &mut Args,
) -> Result<(), (&'static str, &'static str)> {
    let origin = |id: &str, set: bool| {
        matches
            .value_source(id)
            .filter(|_| set)
            .and_then(Origin::of)
    };
    match exclusive(
        origin("uri", args.uri.is_some()),
        origin("port", args.port.is_some()),
    )
    .map_err(|BothTyped| ("uri", "port"))?
    {
        Pick::First => args.port = None,
        Pick::Second => args.uri = None,
        Pick::Neither => {}
    }
    match exclusive(origin("verbose", args.verbose), origin("quiet", args.quiet))
        .map_err(|BothTyped| ("verbose", "quiet"))?
    {
        Pick::First => args.quiet = false,
        Pick::Second => args.verbose = false,
        Pick::Neither => {}
    }
    match exclusive(
        origin("shutdown_now", args.shutdown_now),
        origin("shutdown", args.shutdown),
    )
    .map_err(|BothTyped| ("shutdown_now", "shutdown"))?
    {
        Pick::First => args.shutdown = false,
        Pick::Second => args.shutdown_now = false,
        Pick::Neither => {}
    }
    Ok(())
}

/// `(typed, loser)`: a typed option makes the loser's variable irrelevant.
/// The other of each exclusive pair; and for the log filter, `--log` beats
/// `-v`/`-q`, while a typed `-v`/`-q` beats `LINKERD_AWAIT_LOG` (an operator
/// typing `-q` while debugging overrides the manifest's filter).
const OUTRANKS: [(&str, &str); 10] = [
    ("uri", "port"),
    ("port", "uri"),
    ("verbose", "quiet"),
    ("quiet", "verbose"),
    ("shutdown_now", "shutdown"),
    ("shutdown", "shutdown_now"),
    ("log_filter", "verbose"),
    ("log_filter", "quiet"),
    ("verbose", "log_filter"),
    ("quiet", "log_filter"),
];

/// Whether the option `id` can lose its variable to a typed option at all.
pub(super) fn can_be_outranked(id: &str) -> bool {
    OUTRANKS.iter().any(|(_, loser)| *loser == id)
}

/// The options whose variable is not read because of what was typed, each
/// with the typed option that outranks it: `(loser, typed)`, one per loser.
/// `typed` lists the ids of the options typed on the command line.
pub(super) fn unread_variables(typed: &[&str]) -> Vec<(&'static str, &'static str)> {
    let is_typed = |id: &str| typed.contains(&id);
    let mut unread: Vec<(&'static str, &'static str)> = OUTRANKS
        .iter()
        .filter(|(by, loser)| is_typed(by) && !is_typed(loser))
        .map(|&(by, loser)| (loser, by))
        .collect();
    unread.sort_unstable();
    unread.dedup_by_key(|(loser, _)| *loser);
    unread
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_between_exclusive_options() {
        use Origin::{Env, Typed};
        // (first, second) → which applies; for --uri/--port and --verbose/--quiet.
        let table = [
            (None, None, Ok(Pick::Neither)),
            (Some(Env), None, Ok(Pick::First)),
            (Some(Typed), None, Ok(Pick::First)),
            (None, Some(Env), Ok(Pick::Second)),
            (None, Some(Typed), Ok(Pick::Second)),
            // Typed beats the environment, on either side.
            (Some(Typed), Some(Env), Ok(Pick::First)),
            (Some(Env), Some(Typed), Ok(Pick::Second)),
            // The documented tie-break: the first (the URI, verbose).
            (Some(Env), Some(Env), Ok(Pick::First)),
            (Some(Typed), Some(Typed), Err(BothTyped)),
        ];
        for (first, second, want) in table {
            assert_eq!(exclusive(first, second), want, "{first:?} {second:?}");
        }
    }

    #[test]
    fn variables_that_a_typed_option_outranks_are_not_read() {
        let table: [(&[&str], &[&str]); 8] = [
            (&[], &[]),
            (&["uri"], &["port"]),
            (&["port", "timeout"], &["uri"]),
            // Both typed: clap reads no variable of either; the conflict is `apply`'s.
            (&["uri", "port"], &[]),
            (&["verbose"], &["log_filter", "quiet"]),
            (&["quiet"], &["log_filter", "verbose"]),
            (&["log_filter"], &["quiet", "verbose"]),
            (&["shutdown"], &["shutdown_now"]),
        ];
        for (typed, want) in table {
            let got: Vec<&str> = unread_variables(typed).iter().map(|(l, _)| *l).collect();
            assert_eq!(got, want, "typed {typed:?}");
        }
    }
}
