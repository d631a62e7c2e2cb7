//! The grammar of `--wait-for` values, end to end: what each form
//! becomes, how it is shown, and what is refused with which reason.

use proptest::prelude::*;

use super::{Endpoint, Target, env_target, parse_target};

fn shown(text: &str) -> String {
    parse_target(text).map_or_else(|e| format!("error: {e}"), |t| t.to_string())
}

#[test]
fn each_scheme_gets_its_default_port_and_hides_credentials() {
    let cases = [
        ("tcp://db:5432", "tcp://db:5432"),
        ("http://api/healthz", "http://api/healthz"),
        ("http://api:8080/healthz", "http://api:8080/healthz"),
        ("postgres://db", "postgres://db:5432"),
        (
            "postgresql://u:secret@db/app",
            "postgresql://***@db:5432/app",
        ),
        ("redis://:secret@cache", "redis://***@cache:6379"),
        ("mysql://db", "mysql://db:3306"),
        ("mariadb://db:3307", "mariadb://db:3307"),
        ("memcached://cache", "memcached://cache:11211"),
        ("nats://bus", "nats://bus:4222"),
        ("zk://zk-0.zk", "zk://zk-0.zk:2181"),
        ("zookeeper://zk:2182", "zookeeper://zk:2182"),
        ("amqp://guest:guest@mq/vhost", "amqp://***@mq:5672/vhost"),
        ("kafka://broker-0.kafka", "kafka://broker-0.kafka:9092"),
        ("grpc://orders:50051", "grpc://orders:50051"),
        (
            "grpc://orders:50051/orders.v1.Orders",
            "grpc://orders:50051/orders.v1.Orders",
        ),
        ("mongodb://u:pw@db-0.db", "mongodb://***@db-0.db:27017"),
        ("cql://cass", "cql://cass:9042"),
        ("cassandra://cass:9043", "cassandra://cass:9043"),
        ("dns://db-headless", "dns://db-headless"),
        (
            "dns://Peers.NS.svc.cluster.local.?min=3",
            "dns://peers.ns.svc.cluster.local?min=3",
        ),
        ("file:///run/secrets/token", "file:///run/secrets/token"),
        ("unix:///run/app.sock", "unix:///run/app.sock"),
        (" redis://[::1] ", "redis://[::1]:6379"),
    ];
    for (given, expected) in cases {
        assert_eq!(shown(given), expected, "{given}");
    }
}

#[test]
fn bad_values_say_what_is_accepted() {
    let cases = [
        ("db:5432", "not a URL (no scheme://)"),
        ("db", "not a URL"),
        (
            "https://api/healthz",
            "https:// is not supported: checks do not speak TLS",
        ),
        ("rediss://cache", "use redis://"),
        ("ftp://x", "unknown scheme 'ftp'; expected tcp://host:port"),
        ("tcp://db", "tcp:// needs a port"),
        ("postgres://", "missing host"),
        ("postgres://db:0", "port 0"),
        ("file://relative/path", "file:// takes an absolute path"),
        ("unix://", "unix:// takes an absolute path"),
        ("postgres://db:99999", "invalid port number"),
        ("dns://db:53", "dns:// takes a name and nothing else"),
        ("dns://db?min=0", "min= holds no count"),
        ("dns://db?max=2", "only min=N"),
        (
            "grpc://orders",
            "grpc:// needs a port, e.g. grpc://orders:50051",
        ),
        ("grpcs://orders:443", "grpcs:// is not supported"),
        ("grpc://orders:50051/x?y=1", "nothing after it"),
        (
            "mongodb+srv://u:pw@cluster0.example",
            "mongodb+srv:// is not supported",
        ),
        ("mongodb://a,b,c/?replicaSet=rs0", "one host per URL"),
        ("mongodb://u:p,w@a:1,b:2/db", "one host per URL"),
    ];
    for (given, expected) in cases {
        let shown = shown(given);
        assert!(shown.contains(expected), "{given}: {shown}");
    }
    // No message carries a source line's indentation.
    for given in [
        "postgres://",
        "postgres://app:1234/S@db/x",
        "postgres://%2Frun/x",
        "dns://db:1",
    ] {
        let shown = shown(given);
        assert!(!shown.contains("  "), "{given}: {shown}");
    }
}

#[test]
fn an_http_target_sends_no_credentials() {
    match parse_target("http://user:s3cr3t@api:8080/healthz?x=1") {
        Ok(Target::Http { url, .. }) => {
            assert_eq!((url.username(), url.password()), ("", None));
            assert_eq!(url.as_str(), "http://api:8080/healthz?x=1");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_at_sign_after_the_host_is_an_unencoded_password_and_refused() {
    for given in [
        "postgres://app:1234/S3cr3t@db/orders",
        "redis://app:1234/a+b/c@cache",
        "http://svc/x?y@z",
        "mysql://app:12#x@db",
    ] {
        let shown = shown(given);
        assert!(shown.contains("percent-encode"), "{given}: {shown}");
    }
    // With userinfo, an '@' later in the path is the path's.
    assert!(parse_target("postgres://u:p@db/a@b").is_ok());
}

#[test]
fn paths_the_kernel_cannot_take_are_refused() {
    assert!(shown("file:///tmp/a%00b").contains("NUL"));
    let long = format!("unix:///{}", "d".repeat(107));
    assert!(shown(&long).contains("at most 107"), "{}", shown(&long));
    let fits = format!("unix:///{}", "d".repeat(106));
    assert!(parse_target(&fits).is_ok());
    // A control character is shown escaped, never raw.
    assert_eq!(shown("file:///tmp/a%0Ab"), "file:///tmp/a\\nb");
}

#[test]
fn http_expectations_come_from_the_fragment_which_is_not_sent() {
    match parse_target("http://search:9200/_cluster/health?local=true#json=/status=green,yellow") {
        Ok(Target::Http { url, expect }) => {
            assert_eq!(url.fragment(), None);
            assert_eq!(expect.json.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        shown("http://api:8080/graphql#status=200-299,401&method=HEAD"),
        "http://api:8080/graphql#status=200-299,401&method=HEAD"
    );
    assert!(shown("http://api/x#statu=200").contains("expectation 1 (statu=...): unknown"));
}

/// The `--wait-for` values of the Kubernetes examples, typed or in
/// `LINKERD_AWAIT_WAIT_FOR`, are all accepted: a manifest copied from
/// there must not stop at a usage error.
#[test]
fn every_target_in_the_kubernetes_examples_is_accepted() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the examples") {
        let path = entry.expect("an example").path();
        let text = std::fs::read_to_string(&path).expect("an example");
        let lines: Vec<&str> = text.lines().collect();
        let mut values = Vec::new();
        for (n, line) in lines.iter().enumerate() {
            let typed = line.split(r#""--wait-for", ""#).skip(1);
            values.extend(typed.filter_map(|rest| rest.split('"').next()));
            if line.trim() == "- name: LINKERD_AWAIT_WAIT_FOR" {
                let value = lines
                    .get(n + 1)
                    .and_then(|l| l.trim().strip_prefix("value: "));
                let list = value.expect("a value line").trim_matches('"');
                values.extend(super::list::split(list));
            }
        }
        for value in values {
            seen += 1;
            // An env: name is checked with a stand-in for the variable
            // the pod would set.
            if let Some(name) = value.strip_prefix("env:") {
                let stand_in = |_: &str| Some("postgres://app:pw@db:5432/app".into());
                assert!(
                    env_target(name, stand_in).is_ok(),
                    "{}: {value}",
                    path.display()
                );
                continue;
            }
            assert!(
                parse_target(value).is_ok(),
                "{}: {value}: {:?}",
                path.display(),
                parse_target(value)
            );
        }
    }
    assert!(seen >= 3, "only {seen} targets found in the examples");
}

proptest! {
    #[test]
    fn no_input_panics_and_no_password_is_shown(
        text in "[a-z]{1,8}://[a-z]{0,4}:pw[a-z0-9@:/%?#]{0,30}",
    ) {
        if let Ok(target) = parse_target(&text) {
            prop_assert!(!target.to_string().contains(":pw"), "{target}");
        }
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,60}") {
        let _ = parse_target(&text);
    }
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
                at: Endpoint(url),
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
