//! What a `--wait-for` value becomes: a typed [`Target`], and how logs,
//! progress lines and the termination message show it (never with its
//! credentials). The bottom of the folder: every family's parser makes
//! one of these; nothing here parses.

use std::{fmt, path::PathBuf};

use reqwest::Url;

use super::{expect::Expect, tls::Tls};
use crate::report::redact::Redacted;

/// What to wait for, and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A connection is accepted.
    Tcp(Endpoint),
    /// An answer to a GET (or HEAD) that meets the expectations written in
    /// the URL's fragment (by default: any 2xx), under the readiness
    /// check's rules. The URL has no fragment left.
    Http { url: Url, expect: Expect, tls: Tls },
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
    /// whole server); with `unimplemented_ready` (`#unimplemented=ready`),
    /// also a gRPC answer that the server has no health service.
    Grpc {
        at: Endpoint,
        service: String,
        unimplemented_ready: bool,
    },
    /// A `hello` answer from a primary, a secondary or a standalone.
    Mongodb(Endpoint),
    /// `mongodb+srv://`: the members the SRV records of
    /// `_{service}._tcp.{host}` name, each as [`Target::Mongodb`], ready
    /// when one is (the endpoint has no port).
    MongodbSrv { at: Endpoint, service: String },
    /// `SUPPORTED` in answer to `OPTIONS`.
    Cassandra(Endpoint),
    /// A `220` greeting (after `STARTTLS` when asked for).
    Smtp(Endpoint),
    /// The name resolves to at least `min` addresses (a headless Service
    /// with all its peers, a StatefulSet's stable names).
    Dns { name: String, min: u16 },
    /// The path exists.
    File(PathBuf),
    /// A connection to the socket is accepted.
    Unix(PathBuf),
    /// Ready when one of these is (libpq's multi-host URLs,
    /// `postgres://h1:5432,h2:5433/db`, as `pg_isready` reads them).
    AnyOf(Vec<Target>),
    /// `env:NAME`: the URL the app reads from the variable `NAME`, read
    /// from the gate's own environment at start and shown only as
    /// `env:NAME` with the redacted URL.
    Env { name: String, target: Box<Target> },
}

/// The forms a `--wait-for` value can take: what every usage error about a `--wait-for` value ends with.
pub const ACCEPTED: &str = "expected tcp://host:port, http://host[:port]/path[#expectations], \
     postgres://[user@]host[:port][,host2[:port]][/db], redis://host[:port], mysql://host[:port], \
     memcached://host[:port], nats://host[:port], zookeeper://host[:port], amqp://host[:port], \
     kafka://host[:port], grpc://host:port[/service], mongodb://host[:port], \
     mongodb+srv://name, cassandra://host[:port], dns://name[?min=N], file:///path, unix:///path, \
     jdbc:postgresql|mysql|mariadb://... or env:NAME";

/// A host and port, as a URL whose port is always explicit (what logs show,
/// redacted) and that `wait::http::socket_addrs` resolves, and whether
/// (and how) the connection is secured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint(pub Url, pub Tls);

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
            | Target::MongodbSrv { at, .. }
            | Target::Cassandra(at)
            | Target::Smtp(at) => Some(at),
            Target::Http { .. }
            | Target::Dns { .. }
            | Target::File(_)
            | Target::Unix(_)
            | Target::AnyOf(_)
            | Target::Env { .. } => None,
        }
    }
}

impl Target {
    /// The same target from an `env:` URL: its expectations' values are
    /// never shown, as nothing of that URL is but its redacted form.
    pub(super) fn with_hidden_values(self) -> Target {
        match self {
            Target::Http {
                url,
                mut expect,
                tls,
            } => {
                expect.hidden = true;
                Target::Http { url, expect, tls }
            }
            other => other,
        }
    }
}

impl fmt::Display for Target {
    /// The target as logs show it: its URL without credentials, with the
    /// port it is checked on.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Http { url, expect, .. } => write!(f, "{}{expect}", Redacted(url)),
            Target::AnyOf(targets) => {
                let shown: Vec<String> = targets.iter().map(Target::to_string).collect();
                write!(f, "one of ({})", shown.join(", "))
            }
            Target::Env { name, target } => write!(f, "env:{name} ({target})"),
            Target::Grpc {
                at,
                unimplemented_ready: true,
                ..
            } => write!(f, "{}#unimplemented=ready", Redacted(&at.0)),
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
