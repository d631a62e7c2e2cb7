//! URLs as logs, progress lines, usage errors and termination messages show
//! them: never with their secrets. A password given in `--uri` or
//! `--shutdown-uri` (reqwest still sends it, as basic auth), or in a
//! `--wait-for` URL's userinfo or query string (libpq reads `?password=`,
//! HTTP services take `?token=`), must not reach a log line, nor the
//! termination message, which Kubernetes keeps in the pod's status for
//! anyone who can read pods.
//!
//! What is hidden, by every printer alike: the userinfo (`***@`), every
//! query value (`?password=***&sslmode=***`: the names stay, they say what
//! was given), and the fragment. [`Redacted`] shows a parsed URL;
//! [`redact_text`] any text that may hold URL-like values that did not
//! parse (a rejected flag value), where a password may contain anything,
//! `/`, `?`, `#`, `@`, commas and spaces included, and where a value whose
//! authority cannot be a `host[:port]` (`redis://:secret`, a password
//! without its `@host`) is hidden whole: when in doubt, hide.
//! [`split_url_list`] splits a variable's comma-separated list without
//! cutting such a password in two.

use std::fmt;

use reqwest::Url;

/// What stands in for every hidden part.
const HIDDEN: &str = "***";

/// A parsed URL with `user:password@` shown as `***@`, every query value
/// as `***` and the fragment as `#***`.
#[derive(Debug, Clone, Copy)]
pub struct Redacted<'a>(pub &'a Url);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = self.0;
        let has_userinfo = !url.username().is_empty() || url.password().is_some();
        if !has_userinfo && url.query().is_none() && url.fragment().is_none() {
            return fmt::Display::fmt(url, f);
        }
        let mut shown = url.clone();
        // Only a URL without a host refuses these, and such a URL has no
        // credentials; should one ever refuse, show nothing of it.
        if has_userinfo
            && (shown.set_password(None).is_err() || shown.set_username(HIDDEN).is_err())
        {
            return f.write_str("(a URL with credentials)");
        }
        if let Some(query) = url.query() {
            shown.set_query(Some(&hidden_query(query)));
        }
        if url.fragment().is_some_and(|fragment| !fragment.is_empty()) {
            shown.set_fragment(Some(HIDDEN));
        }
        fmt::Display::fmt(&shown, f)
    }
}

/// A query string with each value hidden: `a=1&b&c=` → `a=***&***&c=`.
/// A bare item (no `=`) may be a token itself: hidden too.
fn hidden_query(query: &str) -> String {
    query
        .split('&')
        .map(|item| match item.split_once('=') {
            Some((name, "")) => format!("{name}="),
            Some((name, _)) => format!("{name}={HIDDEN}"),
            None if item.is_empty() => String::new(),
            None => HIDDEN.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Text with every URL-like value's secrets hidden (see the module's
/// note). A value runs from its `scheme://` to the next value (the next
/// `scheme://` after a comma or whitespace). Its userinfo is whatever
/// stands before the last `@` when that can be credentials, i.e. when it
/// holds a `:` (`user:password`), or nothing that ends an authority (`/?#`
/// or whitespace: a bare user or token); a path with an `@` in it
/// (`http://h/a@b`) keeps it. Hiding too much is preferred to showing a
/// password.
pub fn redact_text(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        shown.push_str(head);
        let value_len = next_value(tail).unwrap_or(tail.len());
        let (value, after) = tail.split_at(value_len);
        shown.push_str(&redact_value(value));
        rest = after;
    }
    shown.push_str(rest);
    shown
}

/// One value after its `scheme://`.
fn redact_value(value: &str) -> String {
    let credentials = value.rfind('@').filter(|&at| {
        let before = &value[..at];
        before.contains(':')
            || !before.contains(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
    });
    let (userinfo, rest) = match credentials {
        Some(at) => (format!("{HIDDEN}@"), &value[at + 1..]),
        None => (String::new(), value),
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if !could_be_host_and_port(&rest[..authority_end]) {
        // `redis://:secret`, `mysql://root:secret`, `postgres://app:pw/db`:
        // a password whose `@host` is missing reads as a bad port; and a
        // host that is no host may hold anything.
        return HIDDEN.to_string();
    }
    let (before_fragment, fragment) = match rest.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (rest, None),
    };
    let mut shown = userinfo;
    match before_fragment.split_once('?') {
        Some((path, query)) => {
            shown.push_str(path);
            shown.push('?');
            shown.push_str(&hidden_query(query));
        }
        None => shown.push_str(before_fragment),
    }
    match fragment {
        Some("") => shown.push('#'),
        Some(_) => {
            shown.push('#');
            shown.push_str(HIDDEN);
        }
        None => {}
    }
    shown
}

/// Whether an authority without userinfo can be `host[:port]` ([`is_host`],
/// or nothing, as in `file:///`), then at most a `:` and digits. Anything
/// else there may be a password that lost its `@host`, or a driver's own
/// host syntax holding one (Connector/J's `address=(host=db)(password=...)`).
fn could_be_host_and_port(authority: &str) -> bool {
    let host_end = match authority.strip_prefix('[') {
        Some(v6) => match v6.find(']') {
            Some(end) => end + 2,
            None => return false,
        },
        None => authority.find(':').unwrap_or(authority.len()),
    };
    let (host, after_host) = authority.split_at(host_end);
    let nothing = host.is_empty() && after_host.is_empty();
    if !(nothing || is_host(host)) {
        return false;
    }
    match after_host.strip_prefix(':') {
        Some(port) => port.bytes().all(|b| b.is_ascii_digit()),
        None => after_host.is_empty(),
    }
}

/// Whether `host` is one as URLs write it: a name of letters, digits, `-`,
/// `.`, `_`, `~` and `%`-escapes (an IPv4 address among them), or an IPv6
/// literal in brackets. The one rule for what a printer shows as a host and
/// what a `--wait-for` URL may name (`config::targets::network`).
pub fn is_host(host: &str) -> bool {
    match host.strip_prefix('[').and_then(|v6| v6.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '%'))
        }
        None => {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '%'))
        }
    }
}

/// Where the next URL-like value of `text` starts: a `scheme://` right
/// after a comma or whitespace (and any spaces).
fn next_value(text: &str) -> Option<usize> {
    text.char_indices()
        .filter(|&(_, c)| c == ',' || c.is_whitespace())
        .map(|(at, c)| at + c.len_utf8())
        .find(|&start| starts_with_scheme(text[start..].trim_start()))
}

/// `scheme://…` (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`).
pub fn starts_with_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once("://") else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// A comma-separated list of URLs (`LINKERD_AWAIT_SHUTDOWN_URI`): split at
/// the commas that start another URL (or end the list), so a password with
/// a comma in it stays whole. Items are trimmed; empty ones are dropped.
pub fn split_url_list(text: &str) -> Vec<&str> {
    split_list(text, |c| c == ',', starts_with_scheme)
}

/// A list split at each `separator` that is followed (past any more
/// separators) by the end or by what `starts` an item; other separators
/// belong to the item. Items are trimmed; empty ones are dropped.
pub fn split_list(text: &str, separator: fn(char) -> bool, starts: fn(&str) -> bool) -> Vec<&str> {
    let mut items = Vec::new();
    let mut start = 0;
    for (at, c) in text.char_indices().filter(|&(_, c)| separator(c)) {
        let after = text[at + c.len_utf8()..]
            .trim_start_matches(|c: char| separator(c) || c.is_whitespace());
        if after.is_empty() || starts(after) {
            items.push(&text[start..at]);
            start = at + c.len_utf8();
        }
    }
    items.push(&text[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    #[test]
    fn redacted_url_hides_user_and_password_and_keeps_the_rest() {
        let cases = [
            (
                "http://user:secret@127.0.0.1:4191/ready?x=1",
                "http://***@127.0.0.1:4191/ready?x=***",
            ),
            ("http://user@localhost/ready", "http://***@localhost/ready"),
            (
                "http://:secret@localhost/ready",
                "http://***@localhost/ready",
            ),
            ("http://localhost:4191/ready", "http://localhost:4191/ready"),
        ];
        for (given, shown) in cases {
            assert_eq!(Redacted(&url(given)).to_string(), shown, "{given}");
            assert_eq!(redact_text(given), shown, "{given}");
        }
    }

    #[test]
    fn query_values_and_fragments_are_hidden_and_their_names_kept() {
        for (given, shown) in [
            (
                "postgres://db:5432/app?password=s3cr3t&sslmode=require",
                "postgres://db:5432/app?password=***&sslmode=***",
            ),
            (
                "http://svc/health?token=s3cr3t",
                "http://svc/health?token=***",
            ),
            ("http://svc/h?s3cr3t&a=&b=1", "http://svc/h?***&a=&b=***"),
            ("http://svc/h#s3cr3t", "http://svc/h#***"),
            ("http://svc/h?", "http://svc/h?"),
        ] {
            assert_eq!(Redacted(&url(given)).to_string(), shown, "{given}");
            assert_eq!(redact_text(given), shown, "{given}");
        }
    }

    #[test]
    fn a_password_without_its_host_is_hidden_whole() {
        for (given, shown) in [
            ("redis://:s3cr3t", "redis://***"),
            ("mysql://root:s3cr3t", "mysql://***"),
            ("postgres://app:s3cr3t/db", "postgres://***"),
            ("redis://:123456", "redis://***"),
            ("postgres://[::1:5432/x", "postgres://***"),
            // What can be a host and port stays.
            ("tcp://db:5432", "tcp://db:5432"),
            ("tcp://[::1]:5432/x", "tcp://[::1]:5432/x"),
            ("tcp://db:99999", "tcp://db:99999"),
        ] {
            assert_eq!(redact_text(given), shown, "{given}");
        }
    }

    #[test]
    fn redacted_text_hides_credentials_of_values_that_are_no_url() {
        assert_eq!(
            redact_text("https://u:p@h:1/x,ftp://a@b"),
            "https://***@h:1/x,ftp://***@b"
        );
        assert_eq!(redact_text("not a url"), "not a url");
        assert_eq!(redact_text("http://h/a@b"), "http://h/a@b");
    }

    #[test]
    fn passwords_with_delimiters_are_hidden_whole() {
        for (given, shown) in [
            ("http://u:p?ss@h:1/x", "http://***@h:1/x"),
            ("http://u:p#ss@h/x", "http://***@h/x"),
            ("http://u:pa/ss@h/x", "http://***@h/x"),
            ("http://u:pa ss@h/x", "http://***@h/x"),
            ("http://u:p@ss@h", "http://***@h"),
            ("postgres://u:a,b@db:5432/x", "postgres://***@db:5432/x"),
            ("http://token@h/x", "http://***@h/x"),
        ] {
            assert_eq!(redact_text(given), shown, "{given}");
        }
    }

    #[test]
    fn url_lists_split_only_where_another_url_starts() {
        assert_eq!(
            split_url_list(" http://a/x?y=1 ,http://[::1]:2/b,"),
            ["http://a/x?y=1", "http://[::1]:2/b"]
        );
        assert_eq!(
            split_url_list("http://u:p,w@h/s, http://h2/s"),
            ["http://u:p,w@h/s", "http://h2/s"]
        );
        assert_eq!(split_url_list("nope,,http://h/"), ["nope", "http://h/"]);
        assert!(split_url_list(" , ").is_empty());
    }

    /// Passwords of any characters but the `://` that would start another URL.
    fn password() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9:/?#@ ,.%+!$&'()*;=_~-]{1,24}"
            .prop_filter("no '://'", |p| !p.contains("://"))
            .prop_map(|p| format!("S3cr{p}"))
    }

    proptest! {
        #[test]
        fn no_password_survives_redaction(
            scheme in "(http|https|postgres|redis|ftp)",
            user in "[a-z0-9]{0,8}",
            password in password(),
            host in "[a-z][a-z0-9.-]{0,12}",
            port in proptest::option::of(1u16..),
            tail in "(/[a-zA-Z0-9@:?#/ ,._-]{0,20})?",
            before in "([a-z ]{0,10}|[a-z]{1,5}://[a-z]{1,5}/?, )",
        ) {
            let port = port.map_or(String::new(), |p| format!(":{p}"));
            let value = format!("{scheme}://{user}:{password}@{host}{port}{tail}");
            for text in [value.clone(), format!("{before}{value}"), format!("{value},http://other/")] {
                let shown = redact_text(&text);
                prop_assert!(!shown.contains(&password), "{text:?} -> {shown:?}");
                prop_assert!(shown.contains("***"), "{text:?} -> {shown:?}");
            }
            if let Ok(parsed) = Url::parse(&value) {
                let shown = Redacted(&parsed).to_string();
                prop_assert!(!shown.contains(&password), "{value:?} -> {shown:?}");
            }
        }

        /// The other places a secret hides: a query value, and a password
        /// whose `@host` is missing (with or without a path after it).
        #[test]
        fn no_secret_in_a_query_or_without_its_host_survives_redaction(
            scheme in "(http|postgres|redis|mysql|tcp)",
            host in "[a-z][a-z0-9.-]{0,12}",
            user in "[a-z0-9]{0,8}",
            name in "(password|token|key|x)",
            secret in "[a-zA-Z0-9._~+/=-]{1,24}".prop_map(|s| format!("S3cr{s}")),
            tail in "(/[a-z0-9]{0,8})?",
        ) {
            let values = [
                format!("{scheme}://{host}{tail}?{name}={secret}"),
                format!("{scheme}://{host}{tail}?a=1&{name}={secret}#{secret}"),
                format!("{scheme}://{user}:{secret}{tail}"),
            ];
            for value in values {
                let shown = redact_text(&value);
                prop_assert!(!shown.contains(&secret), "{value:?} -> {shown:?}");
                if let Ok(parsed) = Url::parse(&value) {
                    let shown = Redacted(&parsed).to_string();
                    prop_assert!(!shown.contains(&secret), "{value:?} -> {shown:?}");
                    // One redaction for every printer: the text of a parsed
                    // URL reads the same as the URL.
                    prop_assert_eq!(redact_text(parsed.as_str()), shown);
                }
            }
        }
    }
}
