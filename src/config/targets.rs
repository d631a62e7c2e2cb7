//! `--wait-for` values: each URL becomes a typed [`Target`] while the
//! config is read, so a bad one is a usage error before anything waits.
//! The one table of schemes, their default ports and what each needs is
//! [`SCHEMES`]; how each kind is checked lives in `wait/checks`.
//!
//! Invariant: nothing here panics on any input, and no error message
//! shows a URL's credentials (a rejected value is redacted where clap
//! reports it, `typed.rs`).

use std::{fmt, path::PathBuf};

use reqwest::Url;

use super::{app_urls, expect::Expect, libpq, values};
use crate::report::redact::Redacted;

/// What to wait for, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A connection is accepted.
    Tcp(Endpoint),
    /// An answer to a GET (or HEAD) that meets the expectations written in
    /// the URL's fragment (by default: any 2xx), under the readiness
    /// check's rules. The URL has no fragment left.
    Http { url: Url, expect: Expect },
    /// An answer to a StartupMessage, as libpq's `PQping` reads it.
    Postgres {
        at: Endpoint,
        /// Sent in the StartupMessage (a server may log it); never a password.
        user: String,
        database: String,
    },
    /// An answer to `PING`.
    Redis(Endpoint),
    /// The server's greeting (protocol 10).
    Mysql(Endpoint),
    /// An answer to `version`.
    Memcached(Endpoint),
    /// The server's `INFO` line.
    Nats(Endpoint),
    /// An answer to `srvr` naming the server's mode.
    Zookeeper(Endpoint),
    /// `Connection.Start` in answer to the AMQP 0-9-1 protocol header.
    Amqp(Endpoint),
    /// An `ApiVersions` response without an error.
    Kafka(Endpoint),
    /// `SERVING` from the gRPC health service for `service` (empty: the
    /// whole server).
    Grpc { at: Endpoint, service: String },
    /// A `hello` answer from a primary, a secondary or a standalone.
    Mongodb(Endpoint),
    /// `SUPPORTED` in answer to `OPTIONS`.
    Cassandra(Endpoint),
    /// The name resolves to at least `min` addresses (a headless Service
    /// with all its peers, a StatefulSet's stable names).
    Dns { name: String, min: u16 },
    /// The path exists.
    File(PathBuf),
    /// A connection to the socket is accepted.
    Unix(PathBuf),
    /// Ready when one of these is (libpq's multi-host URLs,
    /// `postgres://h1:5432,h2:5432/db`, as `pg_isready` reads them).
    AnyOf(Vec<Target>),
    /// `env:NAME`: the URL the app reads from the variable `NAME`, read
    /// from the gate's own environment at start and shown only as
    /// `env:NAME` with the redacted URL.
    Env { name: String, target: Box<Target> },
}

/// A host and port, as a URL whose port is always explicit (what logs show,
/// redacted) and that `wait::http::socket_addrs` resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(pub Url);

/// Which schemes `--wait-for` accepts, the default port of each (`None`:
/// the port must be given; paths have none), and what it becomes.
const SCHEMES: [(&str, Kind); 20] = [
    ("tcp", Kind::Network(None)),
    ("http", Kind::Network(Some(80))),
    ("postgres", Kind::Network(Some(5432))),
    ("postgresql", Kind::Network(Some(5432))),
    ("redis", Kind::Network(Some(6379))),
    ("mysql", Kind::Network(Some(3306))),
    ("mariadb", Kind::Network(Some(3306))),
    ("memcached", Kind::Network(Some(11211))),
    ("nats", Kind::Network(Some(4222))),
    ("zookeeper", Kind::Network(Some(2181))),
    ("zk", Kind::Network(Some(2181))),
    ("amqp", Kind::Network(Some(5672))),
    ("kafka", Kind::Network(Some(9092))),
    ("grpc", Kind::Network(None)),
    ("mongodb", Kind::Network(Some(27017))),
    ("cassandra", Kind::Network(Some(9042))),
    ("cql", Kind::Network(Some(9042))),
    ("dns", Kind::Name),
    ("file", Kind::Path),
    ("unix", Kind::Path),
];

#[derive(Debug, Clone, Copy)]
enum Kind {
    Network(Option<u16>),
    /// A name to resolve, no port.
    Name,
    Path,
}

const ACCEPTED: &str = "expected tcp://host:port, http://host[:port]/path[#expectations], \
     postgres://[user@]host[:port][,host2[:port]][/db], redis://host[:port], mysql://host[:port], \
     memcached://host[:port], nats://host[:port], zookeeper://host[:port], amqp://host[:port], \
     kafka://host[:port], grpc://host:port[/service], mongodb://host[:port], \
     cassandra://host[:port], dns://name[?min=N], file:///path, unix:///path, \
     jdbc:postgresql|mysql|mariadb://... or env:NAME";

/// clap's parser for one `--wait-for` value (and each item of
/// LINKERD_AWAIT_WAIT_FOR).
pub fn parse_target(text: &str) -> Result<Target, String> {
    let text = text.trim();
    if let Some(name) = text.strip_prefix("env:") {
        return app_urls::env_target(name, |name| std::env::var_os(name));
    }
    parse_url(text)
}

/// One URL, in any accepted dialect.
pub(super) fn parse_url(text: &str) -> Result<Target, String> {
    if !text.contains(':') {
        return Err(format!("not a URL; {ACCEPTED}"));
    }
    if let Some(rest) = text.strip_prefix("jdbc:") {
        return app_urls::jdbc_target(rest);
    }
    if let Some(hosts) = libpq::hosts(text) {
        return hosts
            .iter()
            .map(|one| parse_url(one))
            .collect::<Result<Vec<_>, _>>()
            .map(Target::AnyOf);
    }
    if several_hosts(text) {
        return Err(format!(
            "one host per URL (but for postgres://, where one ready host is enough): give each \
             host its own --wait-for (or list item); {ACCEPTED}"
        ));
    }
    let url = Url::parse(text).map_err(|e| format!("{e}; {ACCEPTED}"))?;
    let scheme = url.scheme();
    let Some((_, kind)) = SCHEMES.iter().find(|(name, _)| *name == scheme) else {
        return Err(refused_scheme(scheme));
    };
    match *kind {
        Kind::Path => path_target(&url),
        Kind::Name => name_target(&url),
        Kind::Network(default_port) => network_target(url.clone(), default_port),
    }
}

/// Why a scheme is not accepted: TLS ones get their own reason.
fn refused_scheme(scheme: &str) -> String {
    match scheme {
        "mongodb+srv" => "mongodb+srv:// is not supported: it needs a DNS SRV lookup and TLS; \
             name one member, e.g. mongodb://db-0.db:27017 (in a meshed pod the mesh adds \
             TLS between proxies)"
            .to_string(),
        "https" | "rediss" | "amqps" | "grpcs" => format!(
            "{scheme}:// is not supported: checks do not speak TLS, which in a meshed pod \
             the mesh adds between proxies (use {}:// through the proxy)",
            scheme.strip_suffix('s').unwrap_or(scheme)
        ),
        _ => format!("unknown scheme '{scheme}'; {ACCEPTED}"),
    }
}

fn network_target(mut url: Url, default_port: Option<u16>) -> Result<Target, String> {
    let scheme = url.scheme().to_string();
    let postgres = matches!(scheme.as_str(), "postgres" | "postgresql");
    if url.username().is_empty() && url.password().is_none() && holds_at_after_host(&url) {
        // `postgres://app:1234/S3cr3t@db/orders` parses as host `app`,
        // port 1234: checking that host would be wrong, and the password
        // would be shown as a path.
        return Err(format!(
            "an '@' after the host: if what comes before it is a password, percent-encode \
             it (/ as %2F, ? as %3F, # as %23, @ as %40); {ACCEPTED}"
        ));
    }
    if postgres {
        libpq::apply_parameters(&mut url)?;
    }
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        if postgres {
            return Err(format!(
                "missing host (libpq would use its local socket: give host:port, or \
                 unix:///run/postgresql/.s.PGSQL.5432 for the socket); {ACCEPTED}"
            ));
        }
        return Err(format!("missing host; {ACCEPTED}"));
    }
    if postgres && values::percent_decoded(host).starts_with('/') {
        return Err(libpq::socket_directory(&values::percent_decoded(host)));
    }
    let Some(port) = url.port().or(default_port) else {
        let example = if scheme == "grpc" {
            "grpc://orders:50051"
        } else {
            "tcp://db:5432"
        };
        return Err(format!("{scheme}:// needs a port, e.g. {example}"));
    };
    if port == 0 {
        return Err("port 0 cannot be connected to".to_string());
    }
    if scheme == "http" {
        // The check sends no credentials, for http:// as for every scheme:
        // a health endpoint answers without them, and reqwest would send
        // a password given here as basic auth.
        let _ = url.set_password(None);
        let _ = url.set_username("");
        let expect = super::expect::parse(url.fragment().unwrap_or_default())?;
        url.set_fragment(None);
        return Ok(Target::Http { url, expect });
    } else {
        // An explicit port for every scheme but http (whose default the
        // URL type leaves implicit), so logs say where the check goes.
        url.set_port(Some(port))
            .map_err(|()| format!("cannot use port {port}"))?;
    }
    let at = Endpoint(url);
    Ok(match scheme.as_str() {
        "postgres" | "postgresql" => {
            let (user, database) = libpq::user_and_database(&at.0)?;
            Target::Postgres { at, user, database }
        }
        "redis" => Target::Redis(at),
        "mysql" | "mariadb" => Target::Mysql(at),
        "memcached" => Target::Memcached(at),
        "nats" => Target::Nats(at),
        "zookeeper" | "zk" => Target::Zookeeper(at),
        "amqp" => Target::Amqp(at),
        "kafka" => Target::Kafka(at),
        "grpc" => {
            let service = grpc_service(&at.0)?;
            Target::Grpc { at, service }
        }
        "mongodb" => Target::Mongodb(at),
        "cassandra" | "cql" => Target::Cassandra(at),
        _ => Target::Tcp(at),
    })
}

/// Whether the authority lists hosts (`mongodb://a,b/`, libpq's
/// `postgres://h1,h2/`): one check goes to one host (libpq's form is
/// split before).
pub(super) fn several_hosts(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_and_port = authority.rsplit('@').next().unwrap_or_default();
    host_and_port.contains(',')
}

/// `grpc://host:port/service`: the service name the health check asks
/// about (the path without its `/`; empty: the whole server), and nothing
/// after a `?`.
fn grpc_service(url: &Url) -> Result<String, String> {
    if url.query().is_some() || url.fragment().is_some() {
        return Err(
            "grpc:// takes host:port and a service name, e.g. grpc://orders:50051/orders.v1.Orders, \
             and nothing after it"
                .to_string(),
        );
    }
    Ok(values::percent_decoded(url.path().trim_start_matches('/')))
}

/// Whether an `@` stands after the host (in the path, query or fragment).
fn holds_at_after_host(url: &Url) -> bool {
    url.path().contains('@')
        || url.query().is_some_and(|q| q.contains('@'))
        || url.fragment().is_some_and(|f| f.contains('@'))
}

/// `dns://name[?min=N]`: a host name and how many addresses it must have
/// (at least 1); nothing else.
fn name_target(url: &Url) -> Result<Target, String> {
    let name = url.host_str().unwrap_or_default();
    if name.is_empty() || url.port().is_some() || !matches!(url.path(), "" | "/") {
        return Err(
            "dns:// takes a name and nothing else, e.g. dns://db-headless?min=3".to_string(),
        );
    }
    let mut min = 1;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "min" => {
                min = value
                    .parse::<u16>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        "dns:// min= holds no count of addresses (1 to 65535)".to_string()
                    })?;
            }
            _ => return Err("dns:// takes only min=N after the '?'".to_string()),
        }
    }
    Ok(Target::Dns {
        name: name.trim_end_matches('.').to_ascii_lowercase(),
        min,
    })
}

/// `unix://` paths end up in `sockaddr_un.sun_path`: 108 bytes with the NUL.
const MAX_SOCKET_PATH: usize = 107;

fn path_target(url: &Url) -> Result<Target, String> {
    let scheme = url.scheme();
    // A host other than localhost would be another machine's file.
    let path = url
        .to_file_path()
        .ok()
        .filter(|path| path.is_absolute() && path.as_os_str().len() > 1)
        .ok_or_else(|| {
            format!("{scheme}:// takes an absolute path and no host, e.g. {scheme}:///run/ready")
        })?;
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes.contains(&0) {
        return Err(format!("{scheme}:// path cannot hold a NUL byte (%00)"));
    }
    if scheme == "unix" && bytes.len() > MAX_SOCKET_PATH {
        return Err(format!(
            "unix:// path is {} bytes long; a socket's path holds at most {MAX_SOCKET_PATH} \
             (sun_path): use a shorter path or a symlink to its directory",
            bytes.len()
        ));
    }
    Ok(match scheme {
        "unix" => Target::Unix(path),
        _ => Target::File(path),
    })
}

impl Target {
    /// The host and port of a network target checked in its own protocol.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            Target::Tcp(at)
            | Target::Postgres { at, .. }
            | Target::Redis(at)
            | Target::Mysql(at)
            | Target::Memcached(at)
            | Target::Nats(at)
            | Target::Zookeeper(at)
            | Target::Amqp(at)
            | Target::Kafka(at)
            | Target::Grpc { at, .. }
            | Target::Mongodb(at)
            | Target::Cassandra(at) => Some(at),
            Target::Http { .. }
            | Target::Dns { .. }
            | Target::File(_)
            | Target::Unix(_)
            | Target::AnyOf(_)
            | Target::Env { .. } => None,
        }
    }
}

impl fmt::Display for Target {
    /// The target as logs show it: its URL without credentials, with the
    /// port it is checked on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Http { url, expect } => write!(f, "{}{expect}", Redacted(url)),
            Target::AnyOf(targets) => {
                let shown: Vec<String> = targets.iter().map(Target::to_string).collect();
                write!(f, "one of ({})", shown.join(", "))
            }
            Target::Env { name, target } => write!(f, "env:{name} ({target})"),
            Target::Dns { name, min: 1 } => write!(f, "dns://{name}"),
            Target::Dns { name, min } => write!(f, "dns://{name}?min={min}"),
            // Escaped: a path is the user's, but a newline in it must not
            // start a log line of its own.
            Target::File(path) => write!(f, "file://{}", path.display().to_string().escape_debug()),
            Target::Unix(path) => write!(f, "unix://{}", path.display().to_string().escape_debug()),
            // Every other kind is a network one, shown by its endpoint.
            network => match network.endpoint() {
                Some(at) => Redacted(&at.0).fmt(f),
                None => f.write_str("(a target)"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

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
            ("db:5432", "unknown scheme 'db'"),
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
        match parse_target(
            "http://search:9200/_cluster/health?local=true#json=/status=green,yellow",
        ) {
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
        assert!(shown("http://api/x#statu=200").contains("expectation 'statu=200': unknown"));
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
                    values.extend(crate::report::redact::split_url_list_spaced(list));
                }
            }
            for value in values {
                seen += 1;
                // An env: name is checked with a stand-in for the variable
                // the pod would set.
                if let Some(name) = value.strip_prefix("env:") {
                    let stand_in = |_: &str| Some("postgres://app:pw@db:5432/app".into());
                    assert!(
                        app_urls::env_target(name, stand_in).is_ok(),
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
}
