//! A value a `json=` expectation may find at its JSON Pointer, as
//! written: `null`, `true`/`false`, a number, or text; `"..."` is text
//! whatever it holds (`""` the empty string, `"42"` the string 42).

use std::fmt;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// What a shown value encodes, so that it reads back the same.
pub(super) const SHOWN_ENCODED: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'&')
    .add(b',')
    .add(b'=')
    .add(b'#');

/// A number or boolean also matches the same text in a JSON string
/// (`"200"`, `"true"`), which is how many health documents write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonValue {
    Null,
    Bool(bool),
    /// As written; it parses as a finite number.
    Number(String),
    Text(String),
}

impl JsonValue {
    /// A value as written (already percent-decoded).
    pub(super) fn parse(text: &str) -> JsonValue {
        if let Some(quoted) = text
            .strip_prefix('"')
            .and_then(|rest| rest.strip_suffix('"'))
        {
            return JsonValue::Text(quoted.to_string());
        }
        match text {
            "null" => JsonValue::Null,
            "true" => JsonValue::Bool(true),
            "false" => JsonValue::Bool(false),
            _ => match text.parse::<f64>() {
                Ok(n) if n.is_finite() => JsonValue::Number(text.to_string()),
                _ => JsonValue::Text(text.to_string()),
            },
        }
    }

    /// The value as an expectation writes it: percent-encoded, bounded,
    /// quoted where bare text would read as something else.
    pub(super) fn written(&self) -> String {
        match self {
            JsonValue::Text(text) if text.is_empty() || JsonValue::parse(text) != *self => {
                format!("\"{}\"", written(text))
            }
            JsonValue::Text(text) => written(text),
            other => other.to_string(),
        }
    }
}

/// Text as an expectation writes it: percent-encoded, at most 80
/// characters.
pub(super) fn written(value: &str) -> String {
    let cut: String = value.chars().take(80).collect();
    let more = if value.chars().count() > 80 {
        "..."
    } else {
        ""
    };
    format!("{}{more}", utf8_percent_encode(&cut, SHOWN_ENCODED))
}

/// As a reason shows it: JSON's own spelling.
impl fmt::Display for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JsonValue::Null => f.write_str("null"),
            JsonValue::Bool(b) => write!(f, "{b}"),
            JsonValue::Number(text) => f.write_str(text),
            JsonValue::Text(text) => write!(f, "{text:?}"),
        }
    }
}
