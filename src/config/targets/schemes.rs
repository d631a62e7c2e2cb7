//! The one table of `--wait-for` schemes: each scheme's default port and
//! the family that reads its URL. A new scheme, or a TLS form of an old
//! one, is one more row here (and its check under `wait/checks`).

use reqwest::Url;

use super::{
    dns, http, libpq, network, path,
    target::{ACCEPTED, Endpoint, Target},
};

/// How a scheme's URL is read.
#[derive(Clone, Copy)]
enum Family {
    /// `host[:port]`, checked in the protocol this constructor names.
    Endpoint(fn(Endpoint) -> Target),
    /// `http://`, with expectations in the fragment.
    Http,
    /// libpq's URL forms.
    Postgres,
    /// `grpc://host:port[/service]`.
    Grpc,
    /// `dns://name[?min=N]`.
    Name,
    /// `file://` and `unix://` paths.
    Path,
}

/// One row: the scheme, its default port (`None`: the port must be
/// given; names and paths have none) and its family.
struct Scheme(&'static str, Option<u16>, Family);

const SCHEMES: [Scheme; 20] = [
    Scheme("tcp", None, Family::Endpoint(Target::Tcp)),
    Scheme("http", Some(80), Family::Http),
    Scheme("postgres", Some(5432), Family::Postgres),
    Scheme("postgresql", Some(5432), Family::Postgres),
    Scheme("redis", Some(6379), Family::Endpoint(Target::Redis)),
    Scheme("mysql", Some(3306), Family::Endpoint(Target::Mysql)),
    Scheme("mariadb", Some(3306), Family::Endpoint(Target::Mysql)),
    Scheme(
        "memcached",
        Some(11211),
        Family::Endpoint(Target::Memcached),
    ),
    Scheme("nats", Some(4222), Family::Endpoint(Target::Nats)),
    Scheme("zookeeper", Some(2181), Family::Endpoint(Target::Zookeeper)),
    Scheme("zk", Some(2181), Family::Endpoint(Target::Zookeeper)),
    Scheme("amqp", Some(5672), Family::Endpoint(Target::Amqp)),
    Scheme("kafka", Some(9092), Family::Endpoint(Target::Kafka)),
    Scheme("grpc", None, Family::Grpc),
    Scheme("mongodb", Some(27017), Family::Endpoint(Target::Mongodb)),
    Scheme("cassandra", Some(9042), Family::Endpoint(Target::Cassandra)),
    Scheme("cql", Some(9042), Family::Endpoint(Target::Cassandra)),
    Scheme("dns", None, Family::Name),
    Scheme("file", None, Family::Path),
    Scheme("unix", None, Family::Path),
];

/// A parsed URL as its scheme's family reads it.
pub(super) fn read(url: Url) -> Result<Target, String> {
    let Some(Scheme(_, default_port, family)) = SCHEMES.iter().find(|s| s.0 == url.scheme()) else {
        return Err(refused(url.scheme()));
    };
    match *family {
        Family::Endpoint(make) => Ok(make(network::endpoint(url, *default_port)?)),
        Family::Http => http::target(url, *default_port),
        Family::Postgres => libpq::target(url, *default_port),
        Family::Grpc => network::grpc(url, *default_port),
        Family::Name => dns::target(&url),
        Family::Path => path::target(&url),
    }
}

/// Why a scheme is not accepted: TLS ones get their own reason.
fn refused(scheme: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests and the benchmark go through every protocol check by the
    /// list the simulated proxy's crate keeps: it names exactly the table's
    /// schemes checked over TCP in their own protocol, each by its first name.
    #[test]
    fn the_shared_list_of_protocol_schemes_is_this_table_s() {
        let at = || Endpoint(Url::parse("tcp://h:1").expect("a URL"));
        let mut first_names = Vec::new();
        let mut kinds = Vec::new();
        for Scheme(name, _, family) in SCHEMES {
            // What a scheme is checked as: its family, and for plain
            // endpoints the target it makes (tcp:// is no protocol check).
            let kind = match family {
                Family::Endpoint(make) => match make(at()) {
                    Target::Tcp(_) => continue,
                    target => format!("{:?}", std::mem::discriminant(&target)),
                },
                Family::Http => "http".to_string(),
                Family::Postgres => "postgres".to_string(),
                Family::Grpc => "grpc".to_string(),
                Family::Name | Family::Path => continue,
            };
            if !kinds.contains(&kind) {
                kinds.push(kind);
                first_names.push(name);
            }
        }
        let mut shared = sim_proxy::PROTOCOL_SCHEMES.to_vec();
        first_names.sort_unstable();
        shared.sort_unstable();
        assert_eq!(first_names, shared);
    }
}
