//! `env:NAME`: the URL the app reads from its own variable (a
//! `DATABASE_URL` kept in a Secret), read from the gate's environment at
//! start. This file reads the value; the URL in it is parsed as any
//! `--wait-for` value (`super::parse_target`) and never shown whole.
//!
//! Invariant: no error shows a variable's value.

use std::ffi::OsString;

/// The value of the variable `name`, trimmed: a URL to parse.
pub(super) fn value(name: &str, read: impl Fn(&str) -> Option<OsString>) -> Result<String, String> {
    if !is_name(name) {
        return Err(
            "env: takes the name of a variable holding a URL, e.g. env:DATABASE_URL".to_string(),
        );
    }
    let value = read(name).unwrap_or_default();
    let Some(value) = value.to_str().map(str::trim) else {
        return Err(format!("env:{name}: the variable {name} is not UTF-8 text"));
    };
    if value.is_empty() {
        return Err(format!(
            "env:{name}: the variable {name} is not set, or empty, in the gate's environment \
             (set it in the container's env, as for the app)"
        ));
    }
    if value.starts_with("env:") {
        return Err(format!(
            "env:{name}: the variable {name} holds another env: name, not a URL"
        ));
    }
    Ok(value.to_string())
}

/// Whether `name` can be a variable's name (as POSIX shells write one).
pub(super) fn is_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why the URL in `name` was refused: the reason, under the variable's
/// name (never its value).
pub(super) fn refused(name: &str, reason: &str) -> String {
    format!("env:{name}: the URL in {name}: {reason}")
}
