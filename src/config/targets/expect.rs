//! What "ready" means for an `http://` target, written in its URL's
//! fragment (which is never sent), so that it works alike in `--wait-for`
//! and in the `LINKERD_AWAIT_WAIT_FOR` list:
//!
//! ```text
//! http://search:9200/_cluster/health#json=/status=green,yellow
//! http://api:8080/graphql#status=200-299,401,405&method=HEAD
//! http://app:8080/actuator/health#json=/status=UP&header=content-type
//! ```
//!
//! Items are joined by `&`; each is `key=value`, percent-decoded after
//! splitting (so `%26`, `%2C` and `%3D` stand for a literal `&`, `,`, `=`):
//! `status=` codes and ranges, `body=` a substring, `json=` a JSON Pointer
//! and the values it may hold (`json_value`), `header=` a name (present)
//! or `name:value` (equal), `method=HEAD`. Without `status=`, any 2xx. How
//! a response is judged against them: `wait/checks/http.rs`.
//!
//! Invariant: parsing never panics; a malformed expectation is an error
//! naming which and what is accepted, never showing its value (a header's
//! value may be a key); the expectations of an `env:` URL are shown
//! without their values, as the rest of that URL is.

use std::fmt;

pub use super::json_value::JsonValue;
use super::json_value::written;
use crate::config::values::percent_decoded as decoded;

/// The expectations of one `http://` target. The default is today's rule:
/// a GET, any 2xx, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expect {
    /// Accepted statuses, as inclusive ranges; empty: 200-299.
    pub status: Vec<(u16, u16)>,
    /// Substrings the body must hold.
    pub body: Vec<String>,
    /// JSON Pointers and the values each may hold (one of them).
    pub json: Vec<(String, Vec<JsonValue>)>,
    /// Headers that must be present (`None`) or equal to a value.
    pub headers: Vec<(String, Option<String>)>,
    pub head: bool,
    /// From an `env:` URL: the values (body text, JSON values, header
    /// values) are not shown, in the target nor in any reason.
    pub hidden: bool,
}

const ACCEPTED: &str = "expected items joined by '&': status=200-299,401 (codes and ranges), \
     body=TEXT, json=/pointer=VALUE[,VALUE...] (null, true, false, a number, text, \"text\"), \
     header=NAME or header=NAME:VALUE, method=HEAD, insecure (https:// only: the certificate is \
     not verified) (percent-encode a literal & , = as %26 %2C %3D)";

/// What stands in for a hidden value.
const HIDDEN: &str = "***";

impl Expect {
    /// Whether this is the plain rule (no fragment given).
    /// (Asked at every check of the proxy too: no copy, no allocation.)
    pub fn is_default(&self) -> bool {
        self.status.is_empty()
            && self.body.is_empty()
            && self.json.is_empty()
            && self.headers.is_empty()
            && !self.head
    }

    /// Whether a response body is needed to judge.
    pub fn reads_body(&self) -> bool {
        !self.body.is_empty() || !self.json.is_empty()
    }

    /// A value the user wrote, as a reason shows it: quoted, or hidden.
    pub fn shown(&self, value: &str) -> String {
        if self.hidden {
            HIDDEN.to_string()
        } else {
            format!("\"{}\"", value.escape_debug())
        }
    }

    /// A JSON value the user wrote, as a reason shows it, or hidden.
    pub fn shown_json(&self, value: &JsonValue) -> String {
        if self.hidden {
            HIDDEN.to_string()
        } else {
            value.to_string()
        }
    }

    /// The accepted statuses as an expectation writes them (`200-299`).
    pub fn statuses(&self) -> String {
        if self.status.is_empty() {
            return "200-299".to_string();
        }
        let codes: Vec<String> = self
            .status
            .iter()
            .map(|(lo, hi)| {
                if lo == hi {
                    lo.to_string()
                } else {
                    format!("{lo}-{hi}")
                }
            })
            .collect();
        codes.join(",")
    }

    /// Whether `status` is accepted.
    pub fn accepts(&self, status: u16) -> bool {
        if self.status.is_empty() {
            return (200..=299).contains(&status);
        }
        self.status
            .iter()
            .any(|(lo, hi)| (*lo..=*hi).contains(&status))
    }
}

/// The expectations in a URL's fragment (the text after `#`).
pub fn parse(fragment: &str) -> Result<Expect, String> {
    let mut expect = Expect::default();
    let items = fragment.split('&').filter(|item| !item.is_empty());
    for (n, item) in items.enumerate() {
        let Some((key, value)) = item.split_once('=') else {
            // Not even a key to name: it may be a token pasted after `#`.
            return Err(format!("expectation {}: no '='; {ACCEPTED}", n + 1));
        };
        let bad = |why: &str| format!("expectation {}: {why}; {ACCEPTED}", named(n, key));
        if value.is_empty() {
            return Err(bad("empty value"));
        }
        match key {
            "status" => {
                for part in value.split(',') {
                    expect.status.push(status_range(part).ok_or_else(|| {
                        bad("a status is a code or a range of codes from 100 to 599")
                    })?);
                }
            }
            "body" => expect.body.push(decoded(value)),
            "json" => {
                let (pointer, values) = value
                    .split_once('=')
                    .ok_or_else(|| bad("json= takes /pointer=VALUE[,VALUE...]"))?;
                let pointer = decoded(pointer);
                if !pointer.is_empty() && !pointer.starts_with('/') {
                    return Err(bad("a JSON Pointer starts with '/' (RFC 6901)"));
                }
                if values.is_empty() {
                    return Err(bad(
                        "json= needs at least one value (\"\" for the empty text)",
                    ));
                }
                let values = values
                    .split(',')
                    .map(|v| JsonValue::parse(&decoded(v)))
                    .collect();
                expect.json.push((pointer, values));
            }
            "header" => {
                let value = decoded(value);
                let (name, equal) = match value.split_once(':') {
                    Some((name, equal)) => (name.trim(), Some(equal.trim().to_string())),
                    None => (value.trim(), None),
                };
                if name.is_empty() || !name.bytes().all(is_tchar) {
                    return Err(bad(
                        "not a header name (RFC 9110: letters, digits and !#$%&'*+-.^_`|~)",
                    ));
                }
                expect.headers.push((name.to_ascii_lowercase(), equal));
            }
            "method" => match value {
                "HEAD" | "head" => expect.head = true,
                "GET" | "get" => expect.head = false,
                _ => return Err(bad("method is GET or HEAD")),
            },
            _ => return Err(bad("unknown")),
        }
    }
    if expect.head && expect.reads_body() {
        return Err(format!(
            "expectations: body= and json= need the body, which HEAD does not get; {ACCEPTED}"
        ));
    }
    Ok(expect)
}

/// Which item an error is about: its place, and its key when that reads
/// as one (`expectation 2 (statu=...)`); never its value, which may be a
/// secret (`header=x-api-key:...`, or a token pasted after `#`).
fn named(n: usize, key: &str) -> String {
    let plain = !key.is_empty()
        && key.len() <= 16
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if plain {
        format!("{} ({key}=...)", n + 1)
    } else {
        (n + 1).to_string()
    }
}

/// A character of an HTTP token (a header's name).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn status_range(part: &str) -> Option<(u16, u16)> {
    let code = |text: &str| {
        text.trim()
            .parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
    };
    match part.split_once('-') {
        Some((lo, hi)) => Some((code(lo)?, code(hi)?)).filter(|(lo, hi)| lo <= hi),
        None => code(part).map(|c| (c, c)),
    }
}

/// The expectations as the target is shown (`#status=200-299,401&...`),
/// in a canonical order; empty for the default; the values hidden for an
/// `env:` URL.
impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = |text: &str| {
            if self.hidden {
                HIDDEN.to_string()
            } else {
                written(text)
            }
        };
        let mut items = Vec::new();
        if !self.status.is_empty() {
            items.push(format!("status={}", self.statuses()));
        }
        for text in &self.body {
            items.push(format!("body={}", value(text)));
        }
        for (pointer, values) in &self.json {
            let values: Vec<String> = if self.hidden {
                vec![HIDDEN.to_string()]
            } else {
                values.iter().map(JsonValue::written).collect()
            };
            items.push(format!("json={}={}", written(pointer), values.join(",")));
        }
        for (name, equal) in &self.headers {
            match equal {
                Some(equal) => items.push(format!("header={name}:{}", value(equal))),
                None => items.push(format!("header={name}")),
            }
        }
        if self.head {
            items.push("method=HEAD".to_string());
        }
        if !items.is_empty() {
            write!(f, "#{}", items.join("&"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    #[test]
    fn each_kind_is_read_and_shown_back() {
        let cases = [
            ("", ""),
            ("status=200-299,401", "#status=200-299,401"),
            ("json=/status=green,yellow", "#json=/status=green,yellow"),
            ("json=/ok=true&json=/n=1", "#json=/ok=true&json=/n=1"),
            ("body=All%20good", "#body=All%20good"),
            (
                "header=X-Ready:yes&header=etag",
                "#header=x-ready:yes&header=etag",
            ),
            ("method=HEAD&status=405", "#status=405&method=HEAD"),
            ("json=/a~1b=x%2Cy", "#json=/a~1b=x%2Cy"),
            (
                "json=/z=null,%22%22,%22null%22,%2242%22",
                "#json=/z=null,\"\",\"null\",\"42\"",
            ),
        ];
        for (given, shown) in cases {
            let expect = parse(given).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!(expect.to_string(), shown, "{given}");
            // What is shown reads back as the same expectations.
            let again = parse(shown.trim_start_matches('#')).expect("shown parses");
            assert_eq!(again, expect, "{given}");
        }
        let expect = parse("status=401,500-502").expect("parses");
        assert!(expect.accepts(401) && expect.accepts(501) && !expect.accepts(200));
        assert!(parse("").expect("parses").accepts(204));
    }

    #[test]
    fn malformed_expectations_say_which_and_what_is_accepted() {
        let cases = [
            ("statu=200", "expectation 1 (statu=...): unknown"),
            ("status=200-", "a status is a code"),
            ("status=299-200", "a status is a code"),
            ("status=600", "a status is a code"),
            ("status", "no '='"),
            ("body=", "empty value"),
            ("json=status=UP", "starts with '/'"),
            ("json=/status", "json= takes /pointer=VALUE"),
            ("json=/status=", "at least one value"),
            ("header=a b", "not a header name"),
            ("header=a(b", "not a header name"),
            ("method=POST", "GET or HEAD"),
            ("method=HEAD&body=x", "HEAD does not get"),
        ];
        for (given, needle) in cases {
            let error = parse(given).expect_err(given);
            assert!(error.contains(needle), "{given}: {error}");
            assert!(error.contains("status=200-299,401"), "{given}: {error}");
        }
    }

    proptest! {
        #[test]
        fn arbitrary_expectations_never_panic(text in ".{0,80}") {
            let _ = parse(&text).map(|e| e.to_string());
        }
    }
}
