//! The grammar of `--wait-for` values, end to end: what each form
//! becomes, how it is shown, and what is refused with which reason.

use proptest::prelude::*;

use super::{Target, env_target, parse_target};

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
        ("grpcs://orders:443/x#tls=off", "grpcs:// takes host:port"),
        (
            "redis://cache#insecure",
            "#insecure applies to TLS targets only",
        ),
        ("postgres://db/x?sslmode=verify", "sslmode= takes disable"),
        ("mysql://db?ssl-mode=on", "ssl-mode= takes DISABLED"),
        ("kafka://k?tls=yes", "tls= takes true or false"),
        ("grpc://orders:50051/x?y=1", "nothing after it"),
        (
            "mongodb+srv://u:pw@cluster0.example:27017",
            "mongodb+srv:// takes a name and no port",
        ),
        (
            "mongodb+srv://10.0.0.7/",
            "mongodb+srv:// takes a name and no port",
        ),
        (
            "mongodb+srv://c.example.net/?srvServiceName=a.b",
            "srvServiceName= takes a service name",
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
        Ok(Target::Http { url, expect, .. }) => {
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

mod app_urls;
mod refusals;

mod tls;
