//! `--wait-for` values that are the URLs the app already has, where it
//! keeps them: `env:NAME` (the URL in the app's own variable, never shown
//! whole) and JDBC URLs (`SPRING_DATASOURCE_URL`). Each becomes the target
//! its URL names (`targets::parse_url`); libpq's multi-host form is
//! `libpq::hosts`.
//!
//! Invariant: no error shows a variable's value.

use super::targets::{Target, parse_url};

/// `env:NAME`: the variable's value, parsed as any `--wait-for` value but
/// never shown (its errors name the variable, not the value).
pub(super) fn env_target(
    name: &str,
    read: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Target, String> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
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
    let target = parse_url(value).map_err(|e| format!("env:{name}: the URL in {name}: {e}"))?;
    Ok(Target::Env {
        name: name.to_string(),
        target: Box::new(target),
    })
}

/// `jdbc:postgresql://`, `jdbc:mysql://`, `jdbc:mariadb://` (what Java apps
/// keep in `SPRING_DATASOURCE_URL`): the same URL without `jdbc:`, and
/// without the JDBC properties after `?` or `;`, which are the driver's
/// (`user`, `password`, `ssl`, ...) and change nothing the check sends.
pub(super) fn jdbc_target(rest: &str) -> Result<Target, String> {
    let scheme = rest.split("://").next().unwrap_or_default();
    if !matches!(scheme, "postgresql" | "mysql" | "mariadb") {
        return Err(format!(
            "jdbc: URLs are accepted for postgresql, mysql and mariadb \
             (jdbc:postgresql://host[:port]/db), not '{}'",
            scheme.escape_debug()
        ));
    }
    let url = rest.split(['?', ';']).next().unwrap_or_default();
    parse_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::targets::parse_target;

    fn shown(text: &str) -> String {
        parse_target(text).map_or_else(|e| format!("error: {e}"), |t| t.to_string())
    }

    #[test]
    fn env_names_a_variable_whose_url_is_parsed_and_never_shown_whole() {
        let env = |name: &str| match name {
            "DATABASE_URL" => Some("postgres://app:S3cr3t@db:5432/orders?sslmode=require".into()),
            "EMPTY" => Some("".into()),
            "LOOP" => Some("env:DATABASE_URL".into()),
            "BAD" => Some("postgres://app:S3cr3t@db:99999/x".into()),
            _ => None,
        };
        let shown = |name: &str| {
            env_target(name, env).map_or_else(|e| format!("error: {e}"), |t| t.to_string())
        };
        assert_eq!(
            shown("DATABASE_URL"),
            "env:DATABASE_URL (postgres://***@db:5432/orders?sslmode=***)"
        );
        for (name, said) in [
            (
                "MISSING",
                "env:MISSING: the variable MISSING is not set, or empty",
            ),
            ("EMPTY", "the variable EMPTY is not set, or empty"),
            ("LOOP", "holds another env: name"),
            ("BAD", "env:BAD: the URL in BAD: invalid port number"),
            ("1X", "env: takes the name of a variable"),
            ("", "env: takes the name of a variable"),
        ] {
            let shown = shown(name);
            assert!(shown.contains(said), "{name}: {shown}");
            assert!(!shown.contains("S3cr3t"), "{name}: {shown}");
        }
    }

    #[test]
    fn jdbc_and_libpq_multi_host_urls_are_read_as_the_app_reads_them() {
        let cases = [
            (
                "jdbc:postgresql://db:5432/orders?user=app&password=S3cr3t&ssl=true",
                "postgresql://db:5432/orders",
            ),
            (
                "jdbc:mysql://db/orders;useSSL=false",
                "mysql://db:3306/orders",
            ),
            ("jdbc:mariadb://db:3307/orders", "mariadb://db:3307/orders"),
            (
                "postgres://app:S3cr3t@h1:5432,h2:5433/orders?sslmode=require",
                "one of (postgres://***@h1:5432/orders?sslmode=***, \
                 postgres://***@h2:5433/orders?sslmode=***)",
            ),
            ("redis://:S3cr3t@cache:6379/0", "redis://***@cache:6379/0"),
        ];
        for (given, expected) in cases {
            assert_eq!(shown(given), expected, "{given}");
        }
        for (given, said) in [
            ("jdbc:sqlserver://db:1433", "not 'sqlserver'"),
            (
                "jdbc:postgresql:orders",
                "jdbc: URLs are accepted for postgresql",
            ),
            ("mysql://a,b/db", "one host per URL"),
        ] {
            let shown = shown(given);
            assert!(shown.contains(said), "{given}: {shown}");
        }
        match parse_target("postgres://h1,h2:5433/db") {
            Ok(Target::AnyOf(hosts)) => assert_eq!(hosts.len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
