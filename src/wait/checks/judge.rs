//! An HTTP answer judged against the expectations of its target
//! (`config::targets::expect`): the headers, then, where an expectation
//! needs it, at most [`EXPECT_BODY_LIMIT`] of the body, within the attempt.

use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use super::{NotReady, socket};
use crate::config::targets::expect::{Expect, JsonValue};

/// The most of a body read to judge expectations: a health document is a
/// few hundred bytes; a body substring is looked for in this much, and a
/// JSON document longer than this is not judged (not ready, said so).
pub const EXPECT_BODY_LIMIT: usize = 8 * 1024;

/// An answer whose status the expectations accept: its headers, then
/// (if any expectation needs it) its body, read within `deadline`.
pub(super) async fn answer(
    expect: &Expect,
    mut response: reqwest::Response,
    deadline: Instant,
    attempt_timeout: Duration,
) -> Result<(), NotReady> {
    for (name, equal) in &expect.headers {
        // A header may come more than once (`set-cookie`, `vary`):
        // one of them equal is enough.
        let found = response.headers().get_all(name.as_str());
        let Some(first) = found.iter().next() else {
            return Err(NotReady::Unmet(format!("header {name} is missing")));
        };
        if let Some(equal) = equal
            && !found
                .iter()
                .any(|value| value.as_bytes() == equal.as_bytes())
        {
            return Err(NotReady::Unmet(format!(
                "header {name} is \"{}\", expected {}",
                socket::words(first.as_bytes()),
                expect.shown(equal)
            )));
        }
    }
    if !expect.reads_body() {
        return Ok(());
    }
    let mut body = Vec::new();
    let mut complete = false;
    while body.len() <= EXPECT_BODY_LIMIT {
        match timeout_at(deadline, response.chunk()).await {
            Err(_elapsed) => return Err(NotReady::TimedOut(attempt_timeout)),
            Ok(Err(e)) => return Err(NotReady::Request(e.into())),
            Ok(Ok(None)) => {
                complete = true;
                break;
            }
            Ok(Ok(Some(chunk))) => body.extend_from_slice(&chunk),
        }
    }
    judge_body(expect, &body, complete)
}

/// Whether `body` (all of it if `complete`, else its first bytes) meets
/// the body and JSON expectations; what differed if not.
pub(super) fn judge_body(expect: &Expect, body: &[u8], complete: bool) -> Result<(), NotReady> {
    let read = &body[..body.len().min(EXPECT_BODY_LIMIT)];
    let complete = complete && body.len() <= EXPECT_BODY_LIMIT;
    for text in &expect.body {
        if !read
            .windows(text.len().max(1))
            .any(|w| w == text.as_bytes())
        {
            let part = if complete {
                "the body"
            } else {
                "the body's first 8 KiB"
            };
            return Err(NotReady::Unmet(format!(
                "{part} does not contain {}",
                expect.shown(text)
            )));
        }
    }
    if expect.json.is_empty() {
        return Ok(());
    }
    if !complete {
        return Err(NotReady::Unmet(
            "the body is longer than 8 KiB, the most read: its JSON is not judged".to_string(),
        ));
    }
    let document: serde_json::Value = serde_json::from_slice(read)
        .map_err(|e| NotReady::Unmet(format!("the body is not JSON ({e})")))?;
    for (pointer, values) in &expect.json {
        let wanted = || {
            let values: Vec<String> = values.iter().map(|v| expect.shown_json(v)).collect();
            match values.as_slice() {
                [one] => one.clone(),
                _ => format!("one of {}", values.join(", ")),
            }
        };
        let shown_pointer = if pointer.is_empty() {
            "the document"
        } else {
            pointer
        };
        match document.pointer(pointer) {
            None => {
                return Err(NotReady::Unmet(format!(
                    "{} is missing, expected {}",
                    shown_pointer.escape_debug(),
                    wanted()
                )));
            }
            Some(found) if !values.iter().any(|v| json_matches(found, v)) => {
                return Err(NotReady::Unmet(format!(
                    "{} is {}, expected {}",
                    shown_pointer.escape_debug(),
                    socket::words(found.to_string().as_bytes()),
                    wanted()
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Whether a JSON value is one written in an expectation; a number or a
/// boolean also matches the same text in a JSON string. Integers compare
/// exactly (an id of 2^53 + 1 is not 2^53); other numbers as floats.
fn json_matches(found: &serde_json::Value, wanted: &JsonValue) -> bool {
    match wanted {
        JsonValue::Null => found.is_null(),
        JsonValue::Bool(b) => found.as_bool() == Some(*b) || found.as_str() == Some(&b.to_string()),
        JsonValue::Number(text) => found.as_str() == Some(text) || number_matches(found, text),
        JsonValue::Text(text) => found.as_str() == Some(text),
    }
}

fn number_matches(found: &serde_json::Value, text: &str) -> bool {
    let integer = |v: &serde_json::Value| {
        v.as_i64()
            .map(i128::from)
            .or_else(|| v.as_u64().map(i128::from))
    };
    match (integer(found), text.parse::<i128>()) {
        (Some(found), Ok(wanted)) => found == wanted,
        _ => found
            .as_f64()
            .is_some_and(|n| Some(n) == text.parse::<f64>().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn expect(fragment: &str) -> Expect {
        crate::config::targets::expect::parse(fragment).expect("test expectation parses")
    }

    #[test]
    fn bodies_and_json_are_judged_and_what_differed_is_said() {
        let up =
            br#"{"status":"UP","components":{"db":{"status":"UP"}},"n":3,"ok":true,"v":"200"}"#;
        for met in [
            "json=/status=UP",
            "json=/components/db/status=UP,UNKNOWN",
            "json=/n=3&json=/ok=true",
            "json=/v=200",
            "body=%22UP%22",
        ] {
            assert_eq!(judge_body(&expect(met), up, true), Ok(()), "{met}");
        }
        let cases = [
            ("json=/status=DOWN", r#"/status is "UP", expected "DOWN""#),
            (
                "json=/status=green,yellow",
                r#"/status is "UP", expected one of "green", "yellow""#,
            ),
            ("json=/health=UP", r#"/health is missing, expected "UP""#),
            ("json=/n=4", "/n is 3, expected 4"),
            ("body=DOWN", r#"the body does not contain "DOWN""#),
        ];
        for (unmet, said) in cases {
            assert_eq!(
                judge_body(&expect(unmet), up, true),
                Err(NotReady::Unmet(said.to_string())),
                "{unmet}"
            );
        }
        let not_json = judge_body(&expect("json=/status=UP"), b"<html>", true);
        assert!(
            matches!(&not_json, Err(NotReady::Unmet(s)) if s.starts_with("the body is not JSON")),
            "{not_json:?}"
        );
        let long = vec![b' '; EXPECT_BODY_LIMIT + 1];
        let cut = judge_body(&expect("json=/status=UP"), &long, false);
        assert!(matches!(&cut, Err(NotReady::Unmet(s)) if s.contains("longer than 8 KiB")));
    }

    proptest! {
        /// Whatever the body, judging it never panics.
        #[test]
        fn arbitrary_bodies_never_panic_the_json_check(
            body in proptest::collection::vec(any::<u8>(), 0..400),
            complete in any::<bool>(),
        ) {
            let _ = judge_body(&expect("json=/status=UP&body=x"), &body, complete);
        }
    }
}
