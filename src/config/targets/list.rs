//! LINKERD_AWAIT_WAIT_FOR's list: values separated by commas or
//! whitespace (a YAML block of one value per line is common), where every
//! documented form starts a new item wherever it stands: a `scheme://`
//! URL, `env:NAME` and `jdbc:`. A separator before anything else belongs
//! to the value (a comma in a password, in libpq's host list or in an
//! expectation's list of statuses); a space that stays inside a value is
//! refused when it is parsed (`super::parse_target`), never encoded.

use crate::report::redact::{split_list, starts_with_scheme};

/// The items of `text`, trimmed, empty ones dropped.
pub fn split(text: &str) -> Vec<&str> {
    split_list(text, |c| c == ',' || c.is_whitespace(), starts_an_item)
}

/// Whether `text` starts with one of the documented forms.
fn starts_an_item(text: &str) -> bool {
    if let Some(name) = text.strip_prefix("env:") {
        return name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    }
    if let Some(rest) = text.strip_prefix("jdbc:") {
        return rest.starts_with(|c: char| c.is_ascii_alphabetic());
    }
    starts_with_scheme(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_form_starts_an_item_wherever_it_stands() {
        let cases: [(&str, &[&str]); 8] = [
            (
                "http://svc/health env:DATABASE_URL",
                &["http://svc/health", "env:DATABASE_URL"],
            ),
            ("env:A,env:B", &["env:A", "env:B"]),
            (
                "\n  http://svc/health\n  env:DATABASE_URL\n  jdbc:postgresql://db/x\n",
                &[
                    "http://svc/health",
                    "env:DATABASE_URL",
                    "jdbc:postgresql://db/x",
                ],
            ),
            (
                "tcp://a:1, postgres://u:p,w@h1,h2/db",
                &["tcp://a:1", "postgres://u:p,w@h1,h2/db"],
            ),
            (
                "http://h/x#status=200,401 redis://c",
                &["http://h/x#status=200,401", "redis://c"],
            ),
            // What starts no item stays in the value (and is refused there).
            ("http://svc/a b", &["http://svc/a b"]),
            ("http://svc/a env:", &["http://svc/a env:"]),
            (" , ", &[]),
        ];
        for (given, items) in cases {
            assert_eq!(split(given), items, "{given:?}");
        }
    }
}
