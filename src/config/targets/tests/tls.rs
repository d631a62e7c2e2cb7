//! TLS as each family's URLs turn it on and say how to verify it.

use std::path::PathBuf;

use super::super::{
    Target, parse_target,
    tls::{Secure, Tls, Verify},
};

fn tls_of(text: &str) -> Tls {
    match parse_target(text) {
        Ok(Target::Http { tls, .. }) => tls,
        Ok(target) => target.endpoint().map(|at| at.1.clone()).unwrap_or_default(),
        Err(e) => panic!("{text}: {e}"),
    }
}

fn on(verify: Verify, ca: Option<&str>) -> Tls {
    Tls::On(Secure {
        verify,
        ca_file: ca.map(PathBuf::from),
    })
}

#[test]
fn tls_is_on_by_the_scheme_or_the_drivers_own_parameters_and_verified_by_default() {
    use Verify::{Chain, Full, Skipped};
    for (given, tls) in [
        ("redis://cache", Tls::Off),
        ("rediss://cache:6380", on(Full, None)),
        ("https://vault:8200/v1/sys/health", on(Full, None)),
        (
            "https://vault:8200/v1/sys/health#insecure&status=200",
            on(Skipped("#insecure"), None),
        ),
        ("amqps://mq", on(Full, None)),
        (
            "grpcs://api:443/x#unimplemented=ready&insecure",
            on(Skipped("#insecure"), None),
        ),
        ("tls://nats:4222", on(Full, None)),
        ("smtps://mx", on(Full, None)),
        ("smtp://mx:587?starttls=true", on(Full, None)),
        ("smtp://mx", Tls::Off),
        ("postgres://db/app?sslmode=prefer", Tls::Off),
        (
            "postgres://db/app?sslmode=require",
            on(Skipped("sslmode=require"), None),
        ),
        // libpq: with a root certificate, require is verify-ca.
        (
            "postgres://db/app?sslrootcert=/ca.pem&sslmode=require",
            on(Chain, Some("/ca.pem")),
        ),
        (
            "postgres://db/app?sslmode=verify-full&sslrootcert=/ca.pem",
            on(Full, Some("/ca.pem")),
        ),
        (
            "postgres://db/app?sslmode=verify-full&sslrootcert=system",
            on(Full, None),
        ),
        ("mysql://db?ssl-mode=VERIFY_IDENTITY", on(Full, None)),
        ("mariadb://db?sslMode=verify-ca", on(Chain, None)),
        (
            "mysql://db?ssl-mode=REQUIRED",
            on(Skipped("ssl-mode=REQUIRED"), None),
        ),
        ("mongodb://db:27017/?tls=true", on(Full, None)),
        // The SRV form: TLS on unless turned off, as the drivers do.
        ("mongodb+srv://c0.example.net/db", on(Full, None)),
        ("mongodb+srv://c0.example.net/db?tls=false", Tls::Off),
        (
            "mongodb+srv://c0.example.net/?tlsCAFile=/atlas.pem",
            on(Full, Some("/atlas.pem")),
        ),
        (
            "mongodb://db:27017/?ssl=true&tlsCAFile=/rds.pem",
            on(Full, Some("/rds.pem")),
        ),
        (
            "mongodb://db/?tls=true&tlsAllowInvalidHostnames=true",
            on(Chain, None),
        ),
        ("kafka://broker:9093?tls=true", on(Full, None)),
        ("cql://keyspaces:9142?tls=true", on(Full, None)),
        (
            "jdbc:postgresql://db/app?sslmode=verify-full",
            on(Full, None),
        ),
    ] {
        assert_eq!(tls_of(given), tls, "{given}");
    }
}

#[test]
fn the_opt_out_is_taken_out_of_the_url_and_expectations_stay() {
    let Ok(Target::Http { url, expect, .. }) =
        parse_target("https://es:9200/_cluster/health#insecure&json=/status=green")
    else {
        panic!("parses");
    };
    assert_eq!(url.as_str(), "https://es:9200/_cluster/health");
    assert!(!expect.is_default());
}
