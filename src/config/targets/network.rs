//! The family of `host[:port]` URLs, and what every network URL must
//! hold: a host (one), a port that can be connected to, no `@` after the
//! host (an unencoded password). `grpc://` adds its service name.

use reqwest::Url;

use super::{
    target::{ACCEPTED, Endpoint, Target},
    tls,
};
use crate::config::values;

/// The URL's host and port, the port made explicit (so logs say where
/// the check goes), and its TLS (`tls`: on from the first byte when the
/// scheme says `implicit`).
pub(super) fn endpoint(
    mut url: Url,
    default_port: Option<u16>,
    implicit: bool,
) -> Result<Endpoint, String> {
    no_at_after_host(&url)?;
    host(&url)?;
    let port = port(&url, default_port)?;
    url.set_port(Some(port))
        .map_err(|()| format!("cannot use port {port}"))?;
    let tls = tls::read(&mut url, implicit)?;
    Ok(Endpoint(url, tls))
}

/// The URL's host, which must be one (`redact::is_host`): a name or an IP
/// address. The URL parser takes
/// almost anything as the host of a scheme it does not know
/// (`mysql://address=(host=db)(password=...)`); the check would wait for
/// a name that never resolves, and logs would show what it holds.
pub(super) fn host(url: &Url) -> Result<(), String> {
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("missing host; {ACCEPTED}"));
    }
    if !crate::report::redact::is_host(host) {
        return Err(format!(
            "the host is not a host name or an IP address (a driver's own host syntax? \
             give host:port); {ACCEPTED}"
        ));
    }
    Ok(())
}

/// The port the check connects to: the URL's, else the scheme's default.
pub(super) fn port(url: &Url, default_port: Option<u16>) -> Result<u16, String> {
    let Some(port) = url.port().or(default_port) else {
        let scheme = url.scheme();
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
    Ok(port)
}

/// `postgres://app:1234/S3cr3t@db/orders` parses as host `app`, port
/// 1234: checking that host would be wrong, and the password would be
/// shown as a path.
pub(super) fn no_at_after_host(url: &Url) -> Result<(), String> {
    let after_host = url.path().contains('@')
        || url.query().is_some_and(|q| q.contains('@'))
        || url.fragment().is_some_and(|f| f.contains('@'));
    if url.username().is_empty() && url.password().is_none() && after_host {
        return Err(format!(
            "an '@' after the host: if what comes before it is a password, percent-encode \
             it (/ as %2F, ? as %3F, # as %23, @ as %40); {}",
            ACCEPTED
        ));
    }
    Ok(())
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
/// about (the path without its `/`; empty: the whole server); in the
/// fragment, `#unimplemented=ready`, the one opt-in to take a server
/// without the health service as ready; nothing after a `?`.
pub(super) fn grpc(url: Url, default_port: Option<u16>, implicit: bool) -> Result<Target, String> {
    let scheme = url.scheme().to_string();
    let refused = || {
        format!(
            "{scheme}:// takes host:port, a service name, #unimplemented=ready and (grpcs://) \
             #insecure, e.g. {scheme}://orders:50051/orders.v1.Orders, and nothing after it"
        )
    };
    let at = endpoint(url, default_port, implicit)?;
    let mut url = at.0;
    let unimplemented_ready = match url.fragment() {
        None => false,
        Some("unimplemented=ready") => true,
        Some(_) => return Err(refused()),
    };
    url.set_fragment(None);
    let at = Endpoint(url, at.1);
    if at.0.query().is_some() {
        return Err(refused());
    }
    let service = values::percent_decoded(at.0.path().trim_start_matches('/'));
    Ok(Target::Grpc {
        at,
        service,
        unimplemented_ready,
    })
}

/// `mongodb+srv://name[/db][?options]`: one name, no port (its SRV
/// records give each member's), TLS on unless `tls=false`, as the drivers
/// read it; `srvServiceName=` names another service than `mongodb`.
pub(super) fn mongodb_srv(mut url: Url) -> Result<Target, String> {
    no_at_after_host(&url)?;
    host(&url)?;
    let name = url.host_str().unwrap_or_default();
    if url.port().is_some() || name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') {
        return Err(
            "mongodb+srv:// takes a name and no port: its SRV records give each member \
             and port (for one member, mongodb://host:port/?tls=true)"
                .to_string(),
        );
    }
    let service = url
        .query_pairs()
        .find(|(key, _)| key == "srvServiceName")
        .map_or_else(|| "mongodb".to_string(), |(_, value)| value.into_owned());
    if service.is_empty()
        || !service
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        return Err("srvServiceName= takes a service name (letters, digits, '-')".to_string());
    }
    let tls = tls::read(&mut url, true)?;
    Ok(Target::MongodbSrv {
        at: Endpoint(url, tls),
        service,
    })
}
