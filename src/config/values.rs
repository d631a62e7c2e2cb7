//! How each option's value is read: surrounding whitespace ignored
//! everywhere ([`Trimmed`]), every boolean spelling listed ([`Boolish`]),
//! and the parsers of durations, factors and URLs.
//!
//! Invariant: a bad value is refused with a reason that says what is
//! accepted; nothing here panics, whatever the input.

use std::time::Duration;

use clap::builder::{BoolishValueParser, PossibleValue, TypedValueParser};

/// Every option's value parser, wrapped so that surrounding whitespace is
/// ignored in flags and variables alike (a YAML `value: "4191 "` or a
/// trailing newline from a template must not turn into a usage error).
/// Parsers that do not trim themselves (ports, booleans, enums) need it;
/// using it everywhere keeps one rule. The possible values are passed on, so
/// `--help` still lists them.
#[derive(Clone)]
pub struct Trimmed<P>(pub P);

impl<P> TypedValueParser for Trimmed<P>
where
    P: TypedValueParser,
{
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Self::Value, clap::Error> {
        // Non-UTF-8 is passed as it is: the inner parser says what is wrong with it.
        let value = value
            .to_str()
            .map_or(value, |s| std::ffi::OsStr::new(s.trim()));
        self.0.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

/// clap's boolean parser, with the spellings it accepts listed in `--help`
/// and the completions (clap's own lists only `true` and `false`).
#[derive(Clone)]
pub struct Boolish;

impl TypedValueParser for Boolish {
    type Value = bool;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<bool, clap::Error> {
        BoolishValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        let spellings = ["true", "false", "yes", "no", "on", "off", "1", "0"];
        Some(Box::new(spellings.into_iter().map(PossibleValue::new)))
    }
}

pub fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::config::duration::parse(s)
}

/// `--wait-for-backoff`: a duration of at least the dependencies' floor.
pub fn parse_dependency_cap(s: &str) -> Result<Duration, String> {
    use crate::config::{backoff::DEPENDENCY_MIN_CAP, duration::human};
    let cap = parse_duration(s)?;
    if cap < DEPENDENCY_MIN_CAP {
        return Err(format!(
            "below {}, the least pause cap for a dependency: it is another server, which \
             many pods restarting at once must not flood (the proxy's checks, on loopback, \
             follow --backoff)",
            human(DEPENDENCY_MIN_CAP)
        ));
    }
    Ok(cap)
}

pub fn parse_factor(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(f) if f.is_finite() && (1.0..=100.0).contains(&f) => Ok(f),
        _ => Err("expected a number from 1 to 100, e.g. 2 or 1.5".to_string()),
    }
}

pub fn parse_url(s: &str) -> Result<reqwest::Url, String> {
    if !s.contains("://") {
        return Err("missing 'http://'; expected e.g. http://localhost:4191/ready".to_string());
    }
    let url = reqwest::Url::parse(s.trim())
        .map_err(|e| format!("{e}; expected e.g. http://localhost:4191/ready"))?;
    if url.scheme() != "http" {
        return Err(format!(
            "scheme '{}' is not supported; only plain http:// to the local proxy is",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("missing host; expected e.g. http://localhost:4191/ready".to_string());
    }
    Ok(url)
}

/// `%40` → `@`: a URL part as its owner meant it (a user or database name,
/// an expectation's value). An invalid `%` sequence stays as it is, and
/// bytes that are not UTF-8 become U+FFFD.
pub fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_plain_http() {
        assert!(parse_url("http://localhost:4191/ready").is_ok());
        assert!(parse_url("https://localhost/ready").is_err());
        assert!(parse_url("localhost:4191").is_err());
        assert!(parse_url("not a url").is_err());
    }

    #[test]
    fn factor_bounds() {
        assert_eq!(parse_factor("2"), Ok(2.0));
        assert_eq!(parse_factor("1"), Ok(1.0));
        for bad in ["0.5", "0", "-2", "NaN", "inf", "x", "1000"] {
            assert!(parse_factor(bad).is_err(), "{bad}");
        }
    }
}
