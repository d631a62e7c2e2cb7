//! What is refused, and that a refusal never shows the value.

use proptest::prelude::*;

use super::super::{env_target, parse_target};
use super::shown;

#[test]
fn refusals_name_the_kind_of_thing_wrong_never_the_value() {
    for (given, said) in [
        (
            "http://svc/health env:DATABASE_URL",
            "a space or line break",
        ),
        ("http://svc/a\nb", "a space or line break"),
        ("dns://[::1]", "not an address"),
        ("dns://10.0.0.7", "not an address"),
        ("dns://app:S3cr3t@db", "a name and nothing else"),
        (
            "http://svc/x#token=S3cr3t",
            "expectation 1 (token=...): unknown",
        ),
        ("http://svc/x#S3cr3t", "expectation 1: no '='"),
        (
            "http://svc/x#header=x-key:S3cr3t&header=a(b",
            "expectation 2 (header=...)",
        ),
        ("app:S3cr3t@db/x", "not a URL"),
        ("postgresql://app@/db", "missing host"),
    ] {
        let shown = shown(given);
        assert!(shown.contains(said), "{given}: {shown}");
        assert!(!shown.contains("S3cr3t"), "{given}: {shown}");
        assert!(!super::shown(given).contains("S3cr3t"), "{given}");
    }
    // libpq's `?host=` fills an empty host, as libpq reads it.
    assert_eq!(
        shown("postgresql://app@/db?host=db-0.db"),
        "postgresql://***@db-0.db:5432/db?host=***"
    );
}

#[test]
fn the_expectations_of_an_env_url_are_shown_without_their_values() {
    let url =
        "http://svc:8080/health#status=200,401&header=x-api-key:S3cr3t&body=S3cr3t&json=/a=S3cr3t";
    let target = env_target("APP_URL", |_| Some(url.into())).expect("parses");
    assert_eq!(
        target.to_string(),
        "env:APP_URL (http://svc:8080/health#status=200,401&body=***&json=/a=***&header=x-api-key:***)"
    );
    // Typed, they are the user's own words, shown as written.
    assert!(shown(url).contains("header=x-api-key:S3cr3t"));
}

proptest! {
    /// The property of every refusal: whatever form a secret hides in,
    /// neither the reason, nor the value as an error shows it, nor an
    /// accepted target holds it.
    #[test]
    fn no_form_shows_its_secret(
        secret in "[a-zA-Z0-9._~+-]{4,12}".prop_map(|s| format!("S3cr{s}")),
    ) {
        let forms = [
            format!("jdbc:oracle:thin:scott/{secret}@//db:1521/orcl"),
            format!("jdbc:postgresql:orders?user=app&password={secret}"),
            format!("jdbc:db2://db:50000/SAMPLE:user=u;password={secret};"),
            format!("jdbc:h2:tcp://db/~/test;USER=sa;PASSWORD={secret}"),
            format!("jdbc:sqlserver://db:1433;user=u;password={secret}"),
            format!("jdbc:mysql://address=(host=db)(port=3306)(user=app)(password={secret})/orders"),
            format!("jdbc:mysql://(host=db,port=3306,password={secret})/x"),
            format!("jdbc:mysql://(port=3306,password={secret})/x"),
            format!("http://svc/x#token={secret}"),
            format!("http://svc/x#{secret}"),
            format!("http://svc/x#status={secret}"),
            format!("mysql://address=(host=db)(password={secret})/x"),
            format!("app:{secret}@db/x"),
            format!("env:{secret}/x"),
            format!("dns://app:{secret}@db"),
        ];
        for form in forms {
            prop_assert!(!super::shown(&form).contains(&secret), "{form}");
            let said = match parse_target(&form) {
                Ok(target) => target.to_string(),
                Err(reason) => reason,
            };
            prop_assert!(!said.contains(&secret), "{form}: {said}");
        }
    }
}
