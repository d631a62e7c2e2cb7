//! The variables that hold lists of URLs, read by `config` rather than
//! clap: LINKERD_AWAIT_SHUTDOWN_URI (commas) and LINKERD_AWAIT_WAIT_FOR
//! (commas or whitespace). A typed flag replaces the variable's list.
//!
//! Invariant: an error names the variable and the item, never its
//! credentials; a value that is not UTF-8 is never echoed.

use std::ffi::OsString;

use reqwest::Url;

use super::{
    cli::{SHUTDOWN_URI_VAR, WAIT_FOR_VAR, parse_url},
    targets::{Target, parse_target},
};
use crate::report::{
    error::Error,
    redact::{redact_text, split_url_list, split_url_list_spaced},
};

/// LINKERD_AWAIT_SHUTDOWN_URI: URLs separated by commas (empty items, as a
/// trailing comma leaves, are skipped). Errors name the variable and the item.
pub(super) fn shutdown_urls_from_env(
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<Url>, Error> {
    list_from_env(env, SHUTDOWN_URI_VAR, split_url_list, parse_url)
}

/// LINKERD_AWAIT_WAIT_FOR: URLs separated by commas or whitespace.
pub(super) fn targets_from_env(
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<Target>, Error> {
    list_from_env(env, WAIT_FOR_VAR, split_url_list_spaced, parse_target)
}

/// A variable holding a list of URLs, each parsed by `parse`; an error
/// names the variable and the item, without its credentials.
fn list_from_env<T>(
    env: &impl Fn(&str) -> Option<OsString>,
    var: &'static str,
    split: fn(&str) -> Vec<&str>,
    parse: fn(&str) -> Result<T, String>,
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
                value: redact_text(item),
                reason,
            })
        })
        .collect()
}
