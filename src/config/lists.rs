//! The variables that hold lists of URLs, read by `config` rather than
//! clap: LINKERD_AWAIT_SHUTDOWN_URI (commas) and LINKERD_AWAIT_WAIT_FOR
//! (commas or whitespace; its grammar is `targets::list`). A typed flag
//! replaces the variable's list.
//!
//! Invariant: an error names the variable and the item, never its
//! credentials; a value that is not UTF-8 is never echoed.

use std::ffi::OsString;

use reqwest::Url;

use super::{
    cli::{Args, SHUTDOWN_URI_VAR, WAIT_FOR_VAR, parse_url},
    targets::{self, parse_target},
};
use crate::report::{
    error::Error,
    redact::{redact_text, split_url_list},
};

/// LINKERD_AWAIT_SHUTDOWN_URI: URLs separated by commas (empty items, as a
/// trailing comma leaves, are skipped). Errors name the variable and the item.
pub(super) fn shutdown_urls_from_env(
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<Url>, Error> {
    list_from_env(
        env,
        SHUTDOWN_URI_VAR,
        split_url_list,
        parse_url,
        redact_text,
    )
}

/// LINKERD_AWAIT_WAIT_FOR, URLs separated by commas or whitespace, into
/// `args.wait_for` unless a typed --wait-for replaced it. Where
/// nothing waits (`--shutdown-now`, `--install`) it is not read, only
/// noted in `unread`: set for the gate in front of an app, it is inherited
/// by what the app runs, and `./migrate; linkerd-await --shutdown-now` must
/// still stop the proxy. (A typed --wait-for there is refused:
/// `combinations`.)
pub(super) fn targets_from_env(
    env: &impl Fn(&str) -> Option<OsString>,
    args: &mut Args,
) -> Result<(), Error> {
    if !args.wait_for.is_empty() {
        return Ok(());
    }
    let waits_for_nothing = match (args.shutdown_now, &args.install) {
        (true, _) => "--shutdown-now",
        (false, Some(_)) => "--install",
        (false, None) => {
            args.wait_for = list_from_env(
                env,
                WAIT_FOR_VAR,
                targets::list::split,
                parse_target,
                targets::shown,
            )?;
            return Ok(());
        }
    };
    if env(WAIT_FOR_VAR).is_some() {
        args.unread.push(format!(
            "{WAIT_FOR_VAR} is not read: {waits_for_nothing} waits for nothing"
        ));
    }
    Ok(())
}

/// A variable holding a list of URLs, each parsed by `parse`; an error
/// names the variable and the item as `show` shows it (without its
/// credentials).
fn list_from_env<T>(
    env: &impl Fn(&str) -> Option<OsString>,
    var: &'static str,
    split: fn(&str) -> Vec<&str>,
    parse: fn(&str) -> Result<T, String>,
    show: fn(&str) -> String,
) -> Result<Vec<T>, Error> {
    let Some(value) = env(var) else {
        return Ok(Vec::new());
    };
    let text = value.to_str().ok_or_else(|| Error::Env {
        var,
        // Never echoed: the bytes may hold a password, and no redaction
        // can find one in a value that is not text.
        value: "(not shown: not valid UTF-8)".to_string(),
        reason: "not valid UTF-8".to_string(),
    })?;
    split(text)
        .into_iter()
        .map(|item| {
            parse(item).map_err(|reason| Error::Env {
                var,
                value: show(item),
                reason,
            })
        })
        .collect()
}
