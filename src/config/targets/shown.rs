//! A `--wait-for` value as a usage error shows it: clap repeats the value
//! it refused, and so does LINKERD_AWAIT_WAIT_FOR's error, in the log
//! and in the termination message (the pod's status). A refused value may
//! be anything, a JDBC URL with the driver's `password=` property, an
//! Oracle `user/password@`, so it is shown only where its form is known:
//! a `scheme://` URL redacted as every printer redacts one, a JDBC URL's
//! driver and host, an `env:` name. Anything else is hidden whole.

use crate::report::redact::{redact_text, starts_with_scheme};

const HIDDEN: &str = "***";

pub fn shown(text: &str) -> String {
    let text = text.trim();
    if let Some(name) = text.strip_prefix("env:") {
        let valid = super::env::is_name(name);
        return format!("env:{}", if valid { name } else { HIDDEN });
    }
    if let Some(rest) = text.strip_prefix("jdbc:") {
        return format!("jdbc:{}", jdbc_shown(rest));
    }
    if starts_with_scheme(text) {
        return redact_text(text);
    }
    HIDDEN.to_string()
}

/// After `jdbc:`: the driver and, for `driver://host`, the host; the rest
/// (properties in the path, `;key=value`, `user/password@`) hidden.
fn jdbc_shown(rest: &str) -> String {
    let Some(driver) = super::jdbc::driver(rest) else {
        return HIDDEN.to_string();
    };
    let after = &rest[driver.len()..];
    let Some(after) = after.strip_prefix("://") else {
        return format!("{driver}:{HIDDEN}");
    };
    let (authority, tail) = super::jdbc::split_authority(after);
    let authority = redact_text(&format!("{driver}://{authority}"));
    let more = if tail.is_empty() { "" } else { "/***" };
    format!("{authority}{more}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_value_is_shown_only_where_its_form_is_known() {
        for (given, expected) in [
            ("env:DATABASE_URL", "env:DATABASE_URL"),
            ("env:postgres://u:S3@h", "env:***"),
            (
                "jdbc:oracle:thin:scott/S3@//db:1521/orcl",
                "jdbc:oracle:***",
            ),
            (
                "jdbc:postgresql:orders?user=app&password=S3",
                "jdbc:postgresql:***",
            ),
            (
                "jdbc:db2://db:50000/SAMPLE:user=u;password=S3;",
                "jdbc:db2://db:50000/***",
            ),
            (
                "jdbc:sqlserver://db:1433;user=u;password=S3",
                "jdbc:sqlserver://db:1433/***",
            ),
            (
                "jdbc:mysql://address=(host=db)(port=3306)(password=S3)/orders",
                "jdbc:mysql://***/***",
            ),
            ("jdbc:S3:x", "jdbc:***"),
            ("http://h/x#token=S3", "http://h/x#***"),
            ("mysql://(host=db,port=3306,password=S3)/x", "mysql://***"),
            ("scott:S3@db/x", "***"),
            ("db:5432", "***"),
            ("postgres://db:99999/x", "postgres://db:99999/x"),
        ] {
            assert_eq!(shown(given), expected, "{given}");
        }
    }
}
