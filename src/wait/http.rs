//! The one HTTP client of the gate, for the proxy's admin endpoints (the
//! readiness checks of `probe` and the shutdown requests of `shutdown`), and
//! how URLs and request failures are shown in logs.
//!
//! The proxy's admin port is on loopback, so the client is set up for that and
//! nothing else: no forward proxy, no redirects, no TLS, `localhost` answered
//! locally, and one kept-alive connection reused between requests.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
};

use reqwest::{
    Client, Url,
    dns::{Addrs, Name, Resolve, Resolving},
};

use crate::report::error::Error;

/// The client for the proxy's admin endpoints. Built once; clones share
/// its connection pool.
///
/// `connect_timeout` (`--attempt-timeout`) bounds a connection, and hyper's
/// connector gives each of a name's addresses an equal share of it, so one
/// address that drops packets cannot eat every attempt of an `http://`
/// target while another serves.
pub fn client(connect_timeout: std::time::Duration) -> Result<Client, Error> {
    builder(connect_timeout)
        // Its URLs are http:// on loopback; reqwest wants a TLS config all
        // the same, and this one trusts nothing.
        .tls_backend_preconfigured(crate::wait::checks::tls::plaintext_only())
        .build()
        .map_err(Error::Client)
}

/// The client of one `https://` target, with its TLS (`checks::tls`): as
/// the admin client in all else.
pub fn tls_client(
    connect_timeout: std::time::Duration,
    tls: rustls::ClientConfig,
) -> Result<Client, Error> {
    builder(connect_timeout)
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(Error::Client)
}

fn builder(connect_timeout: std::time::Duration) -> reqwest::ClientBuilder {
    Client::builder()
        .connect_timeout(connect_timeout)
        // Apps often set HTTP_PROXY for their own traffic; a readiness check
        // sent through it would never reach the local proxy.
        .no_proxy()
        // A 3xx from an admin port is a misconfiguration, not readiness; following
        // it could leave loopback.
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(LocalResolver {
            ipv6_loopback: has_ipv6_loopback(),
        }))
        .http1_only()
        // One connection is all a sequential check loop ever uses.
        .pool_max_idle_per_host(1)
        .user_agent(concat!("linkerd-await/", env!("CARGO_PKG_VERSION")))
}

/// Resolves `localhost` and `*.localhost` to the loopback addresses itself
/// (RFC 6761 §6.3), so a static binary in a `FROM scratch` image works without
/// `/etc/hosts` or NSS and without a blocking resolver thread. Other names go
/// to the system resolver as usual; IP literals never reach a resolver.
struct LocalResolver {
    ipv6_loopback: bool,
}

/// Containers often have no ::1 (IPv6 disabled). Offering it anyway would make
/// every failed check end on "address not available" instead of the real
/// reason from 127.0.0.1 ("connection refused"). Asked once, without traffic.
fn has_ipv6_loopback() -> bool {
    std::net::UdpSocket::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

impl Resolve for LocalResolver {
    fn resolve(&self, name: Name) -> Resolving {
        if is_localhost(name.as_str()) {
            // IPv4 first, IPv6 next: the connector falls back to ::1 at once when
            // 127.0.0.1 refuses, so a proxy listening on either family is found.
            // Port 0 is replaced by the URL's port.
            let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
            let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
            let addrs: Addrs = if self.ipv6_loopback {
                Box::new([v4, v6].into_iter())
            } else {
                Box::new(std::iter::once(v4))
            };
            return Box::pin(std::future::ready(Ok(addrs)));
        }
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        Box::pin(async move {
            // `dns`, not tokio's lookup_host: a lookup that DNS never
            // answers must not hold the gate beyond its deadlines.
            let addrs: Vec<SocketAddr> = crate::wait::dns::lookup(&host)
                .await?
                .into_iter()
                .map(|ip| SocketAddr::from((ip, 0)))
                .collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The socket addresses of a URL's host and port, resolved as the client
/// resolves them (`localhost` locally, IP literals as they are), for callers
/// that need the transport only: `shutdown` watches whether the proxy still
/// accepts connections.
pub async fn socket_addrs(url: &Url) -> std::io::Result<Vec<SocketAddr>> {
    let port = url.port_or_known_default().unwrap_or(80);
    let Some(host) = url.host_str() else {
        return Ok(Vec::new());
    };
    // An IPv6 literal comes in brackets (`[::1]`).
    if let Ok(ip) = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        return Ok(vec![SocketAddr::from((ip, port))]);
    }
    if is_localhost(host) {
        let mut addrs = vec![SocketAddr::from((Ipv4Addr::LOCALHOST, port))];
        if has_ipv6_loopback() {
            addrs.push(SocketAddr::from((Ipv6Addr::LOCALHOST, port)));
        }
        return Ok(addrs);
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    Ok(crate::wait::dns::lookup(&host)
        .await?
        .into_iter()
        .map(|ip| SocketAddr::from((ip, port)))
        .collect())
}

/// The name a URL's host is looked up by (as the resolver above is asked),
/// if it needs a lookup at all: not for IP literals or `localhost`.
fn looked_up_name(url: &Url) -> Option<String> {
    let host = url.host_str()?;
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok();
    (!literal && !is_localhost(host)).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

/// Why a request to `url` that was abandoned at a deadline got nowhere, if
/// it was the name lookup: the lookup of its host is still under way.
pub fn unresolved(url: &Url) -> Option<RequestError> {
    looked_up_name(url)
        .filter(|name| crate::wait::dns::resolving(name))
        .map(RequestError::Unresolved)
}

/// `localhost` and `*.localhost` (RFC 6761 §6.3), any case, with or without the root dot.
fn is_localhost(name: &str) -> bool {
    let host = name.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

/// Why a request got no answer (the connection failed, or what came back was
/// no HTTP response), worded like curl's reasons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    ConnectionRefused,
    ConnectionReset,
    /// The lookup of this host name was still under way when the time was
    /// up: nothing was sent.
    Unresolved(String),
    /// Anything else: a malformed response, a closed connection, a DNS failure.
    Other(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::ConnectionRefused => f.write_str("connection refused"),
            RequestError::ConnectionReset => f.write_str("connection reset by peer"),
            RequestError::Unresolved(name) => write!(
                f,
                "the name {name} could not be resolved in time (DNS did not answer)"
            ),
            RequestError::Other(reason) => f.write_str(reason),
        }
    }
}

impl From<reqwest::Error> for RequestError {
    fn from(err: reqwest::Error) -> Self {
        // reqwest's own text ends in "for url (...)". It has taken any
        // credentials out of that URL already, but a reason should not repeat
        // the URL anyway (the log line around it names it, redacted), and an
        // error without a cause would be shown whole.
        let err = err.without_url();
        // reqwest wraps hyper which wraps the socket error; the innermost cause is
        // the one a user can act on (like curl's "Connection refused").
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        let mut innermost: &(dyn std::error::Error + 'static) = &err;
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => {
                        return RequestError::ConnectionRefused;
                    }
                    std::io::ErrorKind::ConnectionReset => return RequestError::ConnectionReset,
                    _ => {}
                }
            }
            innermost = e;
            source = e.source();
        }
        if err.is_connect() {
            RequestError::Other(format!("cannot connect: {innermost}"))
        } else {
            RequestError::Other(innermost.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::io::{Read, Write};

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL parses")
    }

    /// One connection on loopback answered with `answer` (on a thread, as
    /// the test's runtime has no I/O helpers); returns the port.
    fn answer_once(answer: &'static [u8]) -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(answer);
            }
        });
        port
    }

    /// Logged reasons come from reqwest errors whose own text names the URL;
    /// none of it may show up, credentials least of all.
    #[tokio::test]
    async fn reasons_from_reqwest_errors_never_carry_the_url() {
        let client = client(std::time::Duration::from_secs(1)).expect("client");
        let target = |port: u16| format!("http://user:secret@127.0.0.1:{port}/private-path");
        let mut reasons = Vec::new();
        // Errors with a cause: a closed connection, a malformed answer.
        for answer in [&b""[..], b"not http\r\n\r\n"] {
            let port = answer_once(answer);
            let err = client
                .get(target(port))
                .send()
                .await
                .expect_err("no valid answer");
            reasons.push(RequestError::from(err).to_string());
        }
        // An error without a cause, whose whole text is reqwest's own.
        let port = answer_once(b"HTTP/1.1 503 X\r\ncontent-length: 0\r\n\r\n");
        let response = client.get(target(port)).send().await.expect("an answer");
        let err = response.error_for_status().expect_err("503");
        assert!(err.to_string().contains("/private-path"), "{err}");
        reasons.push(RequestError::from(err).to_string());
        for reason in reasons {
            for part in ["secret", "user", "127.0.0.1", "private-path", "url"] {
                assert!(!reason.contains(part), "{part:?} in {reason:?}");
            }
        }
    }
}
