//! The config's decisions, read from argv and a map of variables, one file
//! per decision: where each value comes from (`precedence`), options that
//! exclude each other (`exclusive`), what the environment holds
//! (`environment`), durations and arbitrary input (`durations`).

mod durations;
mod environment;
mod exclusive;
mod precedence;

use std::{collections::HashMap, ffi::OsString};

use super::{cli::SHUTDOWN_URI_VAR, command_line::is_blank, *};

pub(crate) fn argv(words: &[&str]) -> Vec<OsString> {
    std::iter::once("linkerd-await")
        .chain(words.iter().copied())
        .map(OsString::from)
        .collect()
}

pub(super) fn config(words: &[&str], vars: &[(&str, &str)]) -> Result<Config, Error> {
    let args = parse(&mut command(), &argv(words)).expect("test argv parses");
    let vars: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    from_args(args, |name| {
        vars.get(name).cloned().filter(|v| !is_blank(v))
    })
}

pub(super) fn shutdown_urls(c: &Config) -> Vec<String> {
    match &c.handoff {
        Handoff::Supervise(_, s) => s.urls.iter().map(Url::to_string).collect(),
        other => panic!("not supervising: {other:?}"),
    }
}

/// The shutdown settings of a `--shutdown-now` command line.
pub(super) fn shutdown_now(argv: &[&str]) -> Shutdown {
    match config(argv, &[]).unwrap().handoff {
        Handoff::ShutdownNow(shutdown) => shutdown,
        other => panic!("{other:?}"),
    }
}
