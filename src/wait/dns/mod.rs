//! Name lookups that the caller can abandon, and that never hold the gate
//! up once it is done.
//!
//! The system resolver (getaddrinfo) blocks, and neither a deadline nor a
//! signal can interrupt it: a DNS server that never answers keeps it for
//! its own timeouts, 5 s per try and name by default and tens of seconds
//! with Kubernetes' `ndots:5` and several search domains. So each lookup
//! runs detached (`detached`): the caller waits for it under its own
//! deadline (`--timeout`, `--attempt-timeout`, `--shutdown-timeout`) and
//! leaves when that ends, and a check that retries meanwhile shares the
//! lookup of the same name still under way.
//!
//! [`resolving`] tells a caller that gave up whether a lookup was what it
//! was waiting for, so the message can say so. SRV and TXT records, which
//! the system resolver does not ask, are `records`'.

pub mod records;

use std::{
    io,
    net::{IpAddr, ToSocketAddrs},
    sync::Mutex,
    time::{Duration, Instant},
};

use super::detached::{InFlight, Shared, shared, unshared};

/// Lookups under way, by name: the proxy's host, the shutdown URLs' and
/// the targets' hosts.
static LOOKUPS: InFlight<String, Shared<Vec<IpAddr>>> = InFlight::new("dns");

/// How long a name's addresses are reused: the TTL CoreDNS gives a
/// Kubernetes Service's records by default. Every attempt resolved its
/// name before, and with a pod's `ndots:5` a name like `db` or
/// `db.example.com` is a walk of the search domains, A and AAAA each: 8
/// queries a lookup, ~11 a second per waiting pod at the default schedule
/// (docs/benchmarks.md, the fleet). A target that refuses or answers "not
/// yet" reuses its addresses for this long; a name that did not resolve is
/// asked again at the next attempt (a Service created late); `dns://`
/// targets, which count addresses, always ask.
const REUSE: Duration = Duration::from_secs(5);

/// The last good answer for each name, and when it came.
static RECENT: Mutex<Vec<(String, Instant, Vec<IpAddr>)>> = Mutex::new(Vec::new());

/// The addresses of `host`: its last good answer if younger than
/// [`REUSE`], else [`lookup_fresh`]'s.
pub async fn lookup(host: &str) -> io::Result<Vec<IpAddr>> {
    let now = Instant::now();
    if let Ok(recent) = RECENT.lock()
        && let Some((_, _, addrs)) = recent
            .iter()
            .find(|(name, at, _)| name == host && now.duration_since(*at) < REUSE)
    {
        return Ok(addrs.clone());
    }
    let addrs = lookup_fresh(host).await?;
    if let Ok(mut recent) = RECENT.lock() {
        recent.retain(|(name, _, _)| name != host);
        recent.push((host.to_string(), Instant::now(), addrs.clone()));
    }
    Ok(addrs)
}

/// The addresses of `host`, from the system resolver, joining a lookup of
/// the same name already under way.
pub async fn lookup_fresh(host: &str) -> io::Result<Vec<IpAddr>> {
    let name = host.to_string();
    let found = LOOKUPS
        .run(&name.clone(), move || {
            shared(
                (name.as_str(), 0)
                    .to_socket_addrs()
                    .map(|addrs| addrs.map(|addr| addr.ip()).collect()),
            )
        })
        .await?;
    unshared(found)
}

/// Whether a lookup of `host` is under way now: a caller whose deadline
/// passed learns that DNS is what it was waiting for.
pub fn resolving(host: &str) -> bool {
    LOOKUPS.running(&host.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn literal_and_local_names_resolve_and_nothing_stays_in_flight() {
        let addrs = lookup("127.0.0.1").await.expect("an IP literal resolves");
        assert_eq!(addrs, [IpAddr::from([127, 0, 0, 1])]);
        assert!(!resolving("127.0.0.1"));
        // An invalid name fails at once, as an error, never a panic.
        assert!(lookup("bad name with spaces.invalid").await.is_err());
        assert!(!resolving("bad name with spaces.invalid"));
        // A good answer is kept for reuse, a failure is not.
        let kept = |host: &str| {
            RECENT
                .lock()
                .map(|recent| recent.iter().any(|(name, _, _)| name == host))
                .unwrap_or(false)
        };
        assert!(kept("127.0.0.1"));
        assert!(!kept("bad name with spaces.invalid"));
    }
}
