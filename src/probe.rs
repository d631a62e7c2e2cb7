//! One readiness check, and the HTTP client it (and `shutdown`) uses.
//!
//! The proxy's admin port is on loopback, so the client is set up for that and
//! nothing else: no forward proxy, no redirects, no TLS, `localhost` answered
//! locally, a bounded read of any body, and one kept-alive connection reused
//! between checks.

use std::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::{
    Client, StatusCode, Url,
    dns::{Addrs, Name, Resolve, Resolving},
};
use tokio::time::{Instant, timeout_at};

use crate::error::Error;

/// Enough to let a small error page finish so the connection can be reused;
/// anything larger is not worth reading and the connection is dropped instead.
const BODY_LIMIT: usize = 4 * 1024;

/// How long the rest of a not-ready answer's body may take once its head is
/// in. The status line alone decides readiness; the body is read only so the
/// connection can be reused. On loopback a small error page written with the
/// head, or right after it, arrives within microseconds, so a few ms keep
/// reuse for every ordinary proxy. A body that trickles in, never ends or has
/// no length (it ends only when the connection does) is cut off here and its
/// connection dropped, instead of costing a whole `--attempt-timeout` per
/// check. 5 ms is the first backoff delay and a tenth of the default cap
/// (50 ms), so even a proxy that always sends such bodies barely slows the
/// checks or delays noticing readiness.
const BODY_GRACE: Duration = Duration::from_millis(5);

/// The client for the proxy's admin endpoints.
pub fn http_client() -> Result<Client, Error> {
    Client::builder()
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
        .build()
        .map_err(Error::Client)
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
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        if host == "localhost" || host.ends_with(".localhost") {
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
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Why a check did not find the proxy ready; shown to users in progress lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// A response with a non-2xx status.
    Status(StatusCode),
    /// A 3xx, which is never followed.
    Redirect(StatusCode, String),
    ConnectionRefused,
    ConnectionReset,
    /// No response head within the attempt timeout.
    TimedOut(Duration),
    /// Anything else: a malformed response, a closed connection, a DNS failure.
    Other(String),
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::Status(status) => write!(f, "HTTP {status}"),
            NotReady::Redirect(status, to) => {
                write!(
                    f,
                    "HTTP {status} redirect to '{to}' (redirects are not followed)"
                )
            }
            NotReady::ConnectionRefused => f.write_str("connection refused"),
            NotReady::ConnectionReset => f.write_str("connection reset by peer"),
            NotReady::TimedOut(after) => {
                write!(
                    f,
                    "no response within {} (--attempt-timeout)",
                    crate::duration::human(*after)
                )
            }
            NotReady::Other(reason) => f.write_str(reason),
        }
    }
}

impl NotReady {
    pub fn from_reqwest(err: &reqwest::Error) -> Self {
        // reqwest wraps hyper which wraps the socket error; the innermost cause is
        // the one a user can act on (like curl's "Connection refused").
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
        let mut innermost: &(dyn std::error::Error + 'static) = err;
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                match io.kind() {
                    std::io::ErrorKind::ConnectionRefused => return NotReady::ConnectionRefused,
                    std::io::ErrorKind::ConnectionReset => return NotReady::ConnectionReset,
                    _ => {}
                }
            }
            innermost = e;
            source = e.source();
        }
        if err.is_connect() {
            NotReady::Other(format!("cannot connect: {innermost}"))
        } else {
            NotReady::Other(innermost.to_string())
        }
    }
}

/// Checks one readiness URL.
pub struct Probe {
    client: Client,
    url: Url,
    attempt_timeout: Duration,
}

impl Probe {
    pub fn new(client: Client, url: Url, attempt_timeout: Duration) -> Self {
        Probe {
            client,
            url,
            attempt_timeout,
        }
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// One check: ready iff the response status is 2xx.
    pub async fn check(&self) -> Result<(), NotReady> {
        let deadline = Instant::now() + self.attempt_timeout;
        let mut response =
            match timeout_at(deadline, self.client.get(self.url.clone()).send()).await {
                Err(_elapsed) => return Err(NotReady::TimedOut(self.attempt_timeout)),
                Ok(Err(e)) => return Err(NotReady::from_reqwest(&e)),
                Ok(Ok(response)) => response,
            };
        let status = response.status();
        if status.is_success() {
            // The body is irrelevant and the connection will not be needed again.
            return Ok(());
        }
        let reason = if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            NotReady::Redirect(status, to)
        } else {
            NotReady::Status(status)
        };
        // Finish a small body so the connection can be reused for the next check;
        // give up on a large, slow, endless or stalled one: dropping a response
        // whose body is unfinished drops its connection.
        let _ = timeout_at(
            deadline.min(Instant::now() + BODY_GRACE),
            drain(&mut response, BODY_LIMIT),
        )
        .await;
        Err(reason)
    }
}

/// Reads at most `limit` bytes of the body.
async fn drain(response: &mut reqwest::Response, limit: usize) {
    let mut read = 0;
    while read <= limit {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => return,
        }
    }
}
