//! `--wait-for` values: each URL becomes a typed [`Target`] while the
//! config is read, so a bad one is a usage error before anything waits.
//! The one table of schemes, their default ports and what each needs is
//! [`SCHEMES`]; how each kind is checked lives in `wait/checks`.
//!
//! Invariant: nothing here panics on any input, and no error message
//! shows a URL's credentials (a rejected value is redacted where clap
//! reports it, `typed.rs`).

use std::{fmt, net::IpAddr, path::PathBuf};

use reqwest::Url;

use crate::report::redact::Redacted;

/// What to wait for, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A connection is accepted.
    Tcp(Endpoint),
    /// A 2xx answer to a GET, under the readiness check's rules.
    Http(Url),
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
    /// The name resolves to at least `min` addresses (a headless Service
    /// with all its peers, a StatefulSet's stable names).
    Dns { name: String, min: u16 },
    /// The path exists.
    File(PathBuf),
    /// A connection to the socket is accepted.
    Unix(PathBuf),
}

/// A host and port, as a URL whose port is always explicit (what logs show,
/// redacted) and that `wait::http::socket_addrs` resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(pub Url);

/// Which schemes `--wait-for` accepts, the default port of each (`None`:
/// the port must be given; paths have none), and what it becomes.
const SCHEMES: [(&str, Kind); 16] = [
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

/// Used when a `postgres://` URL names no user: the user every PostgreSQL
/// installation has, so a server that trusts local connections has no
/// reason to log a failed start-up.
const DEFAULT_PG_USER: &str = "postgres";

const ACCEPTED: &str = "expected tcp://host:port, http://host[:port]/path, \
     postgres://[user@]host[:port][/db], redis://host[:port], mysql://host[:port], \
     memcached://host[:port], nats://host[:port], zookeeper://host[:port], amqp://host[:port], \
     kafka://host[:port], \
     dns://name[?min=N], file:///path or unix:///path";

/// clap's parser for one `--wait-for` value (and each item of
/// LINKERD_AWAIT_WAIT_FOR).
pub fn parse_target(text: &str) -> Result<Target, String> {
    let text = text.trim();
    if !text.contains(':') {
        return Err(format!("not a URL; {ACCEPTED}"));
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
        "https" | "rediss" | "amqps" => format!(
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
            "an '@' after the host: if what comes before it is a password, percent-encode              it (/ as %2F, ? as %3F, # as %23, @ as %40); {ACCEPTED}"
        ));
    }
    if postgres {
        apply_libpq_parameters(&mut url)?;
    }
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        if postgres {
            return Err(format!(
                "missing host (libpq would use its local socket: give host:port, or                  unix:///run/postgresql/.s.PGSQL.5432 for the socket); {ACCEPTED}"
            ));
        }
        return Err(format!("missing host; {ACCEPTED}"));
    }
    if postgres && decoded(host).starts_with('/') {
        return Err(socket_directory(&decoded(host)));
    }
    let Some(port) = url.port().or(default_port) else {
        return Err(format!("{scheme}:// needs a port, e.g. tcp://db:5432"));
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
    } else {
        // An explicit port for every scheme but http (whose default the
        // URL type leaves implicit), so logs say where the check goes.
        url.set_port(Some(port))
            .map_err(|()| format!("cannot use port {port}"))?;
    }
    let at = Endpoint(url);
    Ok(match scheme.as_str() {
        "http" => Target::Http(at.0),
        "postgres" | "postgresql" => {
            let parameter = |name: &str| {
                at.0.query_pairs()
                    .filter(|(key, _)| key == name)
                    .last()
                    .map(|(_, value)| value.into_owned())
            };
            // libpq: a query parameter overrides the URL's own part.
            let user = parameter("user").unwrap_or_else(|| decoded(at.0.username()));
            let user = if user.is_empty() {
                DEFAULT_PG_USER.to_string()
            } else {
                user
            };
            let database =
                parameter("dbname").unwrap_or_else(|| decoded(at.0.path().trim_start_matches('/')));
            let database = if database.is_empty() {
                user.clone()
            } else {
                database
            };
            if user.contains('\0') || database.contains('\0') {
                return Err("the user and database names cannot hold a NUL byte".to_string());
            }
            Target::Postgres { at, user, database }
        }
        "redis" => Target::Redis(at),
        "mysql" | "mariadb" => Target::Mysql(at),
        "memcached" => Target::Memcached(at),
        "nats" => Target::Nats(at),
        "zookeeper" | "zk" => Target::Zookeeper(at),
        "amqp" => Target::Amqp(at),
        "kafka" => Target::Kafka(at),
        _ => Target::Tcp(at),
    })
}

/// Whether an `@` stands after the host (in the path, query or fragment).
fn holds_at_after_host(url: &Url) -> bool {
    url.path().contains('@')
        || url.query().is_some_and(|q| q.contains('@'))
        || url.fragment().is_some_and(|f| f.contains('@'))
}

/// libpq's query parameters that say where the check goes: `host`,
/// `hostaddr` (connect to this address, as libpq does) and `port` replace
/// the URL's own. (`user` and `dbname`, what it sends, are read with the
/// target; everything else, `sslmode`, `connect_timeout`, ..., changes
/// nothing the check does, and `password` is never sent.) What the gate
/// cannot do is refused by name: a socket directory, several hosts.
fn apply_libpq_parameters(url: &mut Url) -> Result<(), String> {
    let (mut host, mut hostaddr, mut port) = (None, None, None);
    for (name, value) in url.query_pairs() {
        let slot = match name.as_ref() {
            "host" => &mut host,
            "hostaddr" => &mut hostaddr,
            "port" => &mut port,
            _ => continue,
        };
        if value.contains(',') {
            return Err(format!(
                "several hosts in {name}= are not supported: give one host per --wait-for"
            ));
        }
        *slot = Some(value.into_owned());
    }
    if let Some(dir) = host.as_deref().filter(|h| h.starts_with('/')) {
        return Err(socket_directory(dir));
    }
    // Where libpq connects: hostaddr when given, else host.
    let address = match hostaddr {
        Some(text) => Some(match text.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
            Ok(IpAddr::V4(v4)) => v4.to_string(),
            Err(_) => {
                return Err(
                    "hostaddr= holds no IP address (libpq's hostaddr takes one)".to_string()
                );
            }
        }),
        None => host,
    };
    if let Some(address) = address {
        url.set_host(Some(&address))
            .map_err(|e| format!("host= or hostaddr=: {e}"))?;
    }
    if let Some(text) = port {
        let number = text
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| "port= holds no port number (1-65535)".to_string())?;
        url.set_port(Some(number))
            .map_err(|()| format!("cannot use port {number}"))?;
    }
    Ok(())
}

/// Why a libpq socket directory is refused, and what to give instead.
fn socket_directory(dir: &str) -> String {
    format!(
        "a socket directory as the host ({dir}) cannot be checked through the mesh: give          host:port, or unix://{}/.s.PGSQL.5432 to wait for the socket itself",
        dir.trim_end_matches('/')
    )
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

/// `%40` → `@`: user and database names as the server knows them.
fn decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for Target {
    /// The target as logs show it: its URL without credentials, with the
    /// port it is checked on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Tcp(at)
            | Target::Postgres { at, .. }
            | Target::Redis(at)
            | Target::Mysql(at)
            | Target::Memcached(at)
            | Target::Nats(at)
            | Target::Zookeeper(at)
            | Target::Amqp(at)
            | Target::Kafka(at) => Redacted(&at.0).fmt(f),
            Target::Http(url) => Redacted(url).fmt(f),
            Target::Dns { name, min: 1 } => write!(f, "dns://{name}"),
            Target::Dns { name, min } => write!(f, "dns://{name}?min={min}"),
            // Escaped: a path is the user's, but a newline in it must not
            // start a log line of its own.
            Target::File(path) => write!(f, "file://{}", path.display().to_string().escape_debug()),
            Target::Unix(path) => write!(f, "unix://{}", path.display().to_string().escape_debug()),
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
        ];
        for (given, expected) in cases {
            let shown = shown(given);
            assert!(shown.contains(expected), "{given}: {shown}");
        }
    }

    #[test]
    fn an_http_target_sends_no_credentials() {
        match parse_target("http://user:s3cr3t@api:8080/healthz?x=1") {
            Ok(Target::Http(url)) => {
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
