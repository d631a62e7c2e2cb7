//! The one table of `--wait-for` schemes: each scheme's default port and
//! the family that reads its URL. A new scheme, or a TLS form of an old
//! one, is one more row here (and its check under `wait/checks`).

use reqwest::Url;

#[cfg(test)]
use super::tls::Tls;
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
    /// `mongodb+srv://name`: its members from DNS.
    Srv,
    /// `dns://name[?min=N]`.
    Name,
    /// `file://` and `unix://` paths.
    Path,
}

/// One row: the scheme, its default port (`None`: the port must be
/// given; names and paths have none), its family, and whether it speaks
/// TLS from the first byte (`rediss://`; others turn TLS on with their
/// drivers' parameters: `tls`).
struct Scheme(&'static str, Option<u16>, Family, bool);

const TLS: bool = true;
const PLAIN: bool = false;

const SCHEMES: [Scheme; 28] = [
    Scheme("tcp", None, Family::Endpoint(Target::Tcp), PLAIN),
    Scheme("http", Some(80), Family::Http, PLAIN),
    Scheme("postgres", Some(5432), Family::Postgres, PLAIN),
    Scheme("postgresql", Some(5432), Family::Postgres, PLAIN),
    Scheme("redis", Some(6379), Family::Endpoint(Target::Redis), PLAIN),
    Scheme("mysql", Some(3306), Family::Endpoint(Target::Mysql), PLAIN),
    Scheme(
        "mariadb",
        Some(3306),
        Family::Endpoint(Target::Mysql),
        PLAIN,
    ),
    Scheme(
        "memcached",
        Some(11211),
        Family::Endpoint(Target::Memcached),
        PLAIN,
    ),
    Scheme("nats", Some(4222), Family::Endpoint(Target::Nats), PLAIN),
    Scheme(
        "zookeeper",
        Some(2181),
        Family::Endpoint(Target::Zookeeper),
        PLAIN,
    ),
    Scheme("zk", Some(2181), Family::Endpoint(Target::Zookeeper), PLAIN),
    Scheme("amqp", Some(5672), Family::Endpoint(Target::Amqp), PLAIN),
    Scheme("kafka", Some(9092), Family::Endpoint(Target::Kafka), PLAIN),
    Scheme("grpc", None, Family::Grpc, PLAIN),
    Scheme(
        "mongodb",
        Some(27017),
        Family::Endpoint(Target::Mongodb),
        PLAIN,
    ),
    Scheme(
        "cassandra",
        Some(9042),
        Family::Endpoint(Target::Cassandra),
        PLAIN,
    ),
    Scheme(
        "cql",
        Some(9042),
        Family::Endpoint(Target::Cassandra),
        PLAIN,
    ),
    Scheme("dns", None, Family::Name, PLAIN),
    Scheme("file", None, Family::Path, PLAIN),
    Scheme("unix", None, Family::Path, PLAIN),
    Scheme("https", Some(443), Family::Http, TLS),
    Scheme("rediss", Some(6379), Family::Endpoint(Target::Redis), TLS),
    Scheme("amqps", Some(5671), Family::Endpoint(Target::Amqp), TLS),
    Scheme("grpcs", None, Family::Grpc, TLS),
    Scheme("tls", Some(4222), Family::Endpoint(Target::Nats), TLS),
    Scheme("smtp", Some(25), Family::Endpoint(Target::Smtp), PLAIN),
    Scheme("smtps", Some(465), Family::Endpoint(Target::Smtp), TLS),
    Scheme("mongodb+srv", None, Family::Srv, TLS),
];

/// A parsed URL as its scheme's family reads it.
pub(super) fn read(url: Url) -> Result<Target, String> {
    let Some(Scheme(_, default_port, family, implicit)) =
        SCHEMES.iter().find(|s| s.0 == url.scheme())
    else {
        return Err(refused(url.scheme()));
    };
    match *family {
        Family::Endpoint(make) => Ok(make(network::endpoint(url, *default_port, *implicit)?)),
        Family::Http => http::target(url, *default_port, *implicit),
        Family::Postgres => libpq::target(url, *default_port),
        Family::Grpc => network::grpc(url, *default_port, *implicit),
        Family::Srv => network::mongodb_srv(url),
        Family::Name => dns::target(&url),
        Family::Path => path::target(&url),
    }
}

/// Why a scheme is not accepted.
fn refused(scheme: &str) -> String {
    format!("unknown scheme '{scheme}'; {ACCEPTED}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests and the benchmark go through every protocol check by the
    /// list the simulated proxy's crate keeps: it names exactly the table's
    /// schemes checked over TCP in their own protocol, each by its first name.
    #[test]
    fn the_shared_list_of_protocol_schemes_is_this_table_s() {
        let at = || Endpoint(Url::parse("tcp://h:1").expect("a URL"), Tls::Off);
        let mut first_names = Vec::new();
        let mut kinds = Vec::new();
        for Scheme(name, _, family, _) in SCHEMES {
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
                Family::Srv | Family::Name | Family::Path => continue,
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
