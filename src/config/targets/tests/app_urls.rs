//! Apps' own URLs: env: variables, JDBC, libpq key=value and multi-host
//! forms, Connector/J hosts.

use super::super::{Endpoint, Target, env_target, parse_target};
use super::shown;

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
            "postgresql://db:5432/orders?sslmode=***",
        ),
        (
            "jdbc:mysql://db/orders;useSSL=false",
            "mysql://db:3306/orders",
        ),
        ("jdbc:mariadb://db:3307/orders", "mariadb://db:3307/orders"),
        (
            "jdbc:postgresql:orders?user=app&password=S3cr3t",
            "postgresql://localhost:5432/orders",
        ),
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

#[test]
fn postgres_user_and_database_default_as_libpq_does() {
    let cases = [
        ("postgres://db", "postgres", "postgres"),
        ("postgres://app@db", "app", "app"),
        ("postgres://app:pw@db/orders", "app", "orders"),
        ("postgres://a%40b@db/x%20y", "a@b", "x y"),
    ];
    for (given, user, database) in cases {
        match parse_target(given) {
            Ok(Target::Postgres {
                user: u,
                database: d,
                ..
            }) => assert_eq!((u.as_str(), d.as_str()), (user, database), "{given}"),
            other => panic!("{given}: {other:?}"),
        }
    }
}

#[test]
fn libpq_parameters_that_change_what_is_sent_or_where_are_honoured() {
    let cases = [
        (
            "postgres://db/x?user=app&dbname=orders",
            "db:5432",
            "app",
            "orders",
        ),
        (
            "postgres://u@db/x?host=other&port=6543",
            "other:6543",
            "u",
            "x",
        ),
        (
            "postgres://db/x?host=h&hostaddr=127.0.0.2&sslmode=require&application_name=a",
            "127.0.0.2:5432",
            "postgres",
            "x",
        ),
        (
            "postgres://db?hostaddr=::1",
            "[::1]:5432",
            "postgres",
            "postgres",
        ),
    ];
    for (given, at, user, database) in cases {
        match parse_target(given) {
            Ok(Target::Postgres {
                at: Endpoint(url, _),
                user: u,
                database: d,
            }) => {
                let addr = format!(
                    "{}:{}",
                    url.host_str().unwrap_or(""),
                    url.port().unwrap_or(0)
                );
                assert_eq!(
                    (addr.as_str(), u.as_str(), d.as_str()),
                    (at, user, database),
                    "{given}"
                );
            }
            other => panic!("{given}: {other:?}"),
        }
    }
    for (given, expected) in [
        (
            "postgres://%2Fvar%2Frun%2Fpostgresql/db",
            "socket directory",
        ),
        ("postgres://db/x?host=/run/postgresql", "socket directory"),
        ("postgres://db/x?host=a,b", "several hosts"),
        ("postgres://db/x?port=5432,5433", "several hosts"),
        ("postgres://db/x?hostaddr=db", "hostaddr="),
        ("postgres://db/x?port=abc", "port="),
        ("postgres:///x", "libpq would use its local socket"),
    ] {
        let shown = shown(given);
        assert!(shown.contains(expected), "{given}: {shown}");
    }
}

#[test]
fn connector_j_hosts_are_read_for_their_host_and_port_only() {
    for (given, expected) in [
        (
            "jdbc:mysql://address=(host=db)(port=3307)(user=app)(password=S3cr3t)/orders",
            "mysql://db:3307/orders",
        ),
        (
            "jdbc:mysql://(host=db,port=3307,password=S3cr3t)/x?useSSL=true",
            "mysql://db:3307/x",
        ),
        (
            "jdbc:mariadb://address=(host=db)(type=master)/orders",
            "mariadb://db:3306/orders",
        ),
        (
            "jdbc:mysql://app:S3cr3t@(host=db,port=3307)/x",
            "mysql://db:3307/x",
        ),
        (
            "jdbc:mysql://(host=::1,port=3307,password=a/b@c)/x",
            "mysql://[::1]:3307/x",
        ),
    ] {
        assert_eq!(shown(given), expected, "{given}");
    }
    for (given, said) in [
        (
            "jdbc:mysql://address=(host=a)(port=1),address=(host=b)/x",
            "one host per URL",
        ),
        (
            "jdbc:mysql://(port=3306,password=S3cr3t)/x",
            "without host=",
        ),
        ("jdbc:mysql://(host=db,password=S3cr3t/x", "unclosed"),
        (
            "jdbc:mysql:loadbalance://a,b/S3cr3t",
            "one --wait-for per host",
        ),
        (
            "jdbc:oracle:thin:scott/S3cr3t@//db:1521/orcl",
            "not 'oracle'",
        ),
        ("jdbc:S3cr3t@db", "names no driver"),
        (
            "jdbc:db2://db:50000/SAMPLE:user=u;password=S3cr3t;",
            "not 'db2'",
        ),
    ] {
        let shown = shown(given);
        assert!(shown.contains(said), "{given}: {shown}");
        assert!(!shown.contains("S3cr3t"), "{given}: {shown}");
    }
}
