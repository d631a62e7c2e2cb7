//! Name lookups that the caller can abandon, and that never hold the gate
//! up once it is done.
//!
//! The system resolver (getaddrinfo) blocks, and neither a deadline nor a
//! signal can interrupt it: a DNS server that never answers keeps it for
//! its own timeouts, 5 s per try and name by default and tens of seconds
//! with Kubernetes' `ndots:5` and several search domains. So each lookup
//! runs on a thread of its own that nobody joins: the caller waits for it
//! under its own deadline (`--timeout`, `--attempt-timeout`,
//! `--shutdown-timeout`) and leaves when that ends; the process exits (or
//! execs) without waiting for the thread. A check that retries every 50 ms
//! meanwhile shares the lookup of the same name still under way instead of
//! starting another thread each time, so a hung resolver costs one thread
//! per name, not one per check.
//!
//! [`resolving`] tells a caller that gave up whether a lookup was what it
//! was waiting for, so the message can say so.

use std::{
    io,
    net::{IpAddr, ToSocketAddrs},
    sync::{Mutex, MutexGuard, PoisonError},
};

use tokio::sync::watch;

/// What a finished lookup found, shared by everyone who waited for it.
type Found = Option<Result<Vec<IpAddr>, (io::ErrorKind, String)>>;

/// Lookups under way, by name. A handful at most (the proxy's host, the
/// shutdown URLs' hosts), so a list is enough.
static IN_FLIGHT: Mutex<Vec<(String, watch::Receiver<Found>)>> = Mutex::new(Vec::new());

fn in_flight() -> MutexGuard<'static, Vec<(String, watch::Receiver<Found>)>> {
    // The list stays usable even if a thread panicked while holding it.
    IN_FLIGHT.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The addresses of `host`, from the system resolver, joining a lookup of
/// the same name already under way.
pub async fn lookup(host: &str) -> io::Result<Vec<IpAddr>> {
    let mut found = {
        let mut all = in_flight();
        match all.iter().find(|(name, _)| name == host) {
            Some((_, found)) => found.clone(),
            None => {
                let (tell, found) = watch::channel(None);
                start(host, tell)?;
                all.push((host.to_string(), found.clone()));
                found
            }
        }
    };
    let result = found
        .wait_for(Option::is_some)
        .await
        .map_err(|_| io::Error::other("the name lookup ended without a result"))?
        .clone();
    match result {
        Some(Ok(addrs)) => Ok(addrs),
        Some(Err((kind, message))) => Err(io::Error::new(kind, message)),
        None => Err(io::Error::other("the name lookup ended without a result")),
    }
}

/// Whether a lookup of `host` is under way now: a caller whose deadline
/// passed learns that DNS is what it was waiting for.
pub fn resolving(host: &str) -> bool {
    in_flight().iter().any(|(name, _)| name == host)
}

/// Starts the lookup on a detached thread, which says what it found and
/// then forgets the name, so the next lookup asks the resolver afresh.
fn start(host: &str, tell: watch::Sender<Found>) -> io::Result<()> {
    let name = host.to_string();
    std::thread::Builder::new()
        .name("dns".to_string())
        // getaddrinfo needs little stack; the default 2 MiB is only reserved,
        // but a smaller one keeps the mapping small too.
        .stack_size(256 * 1024)
        .spawn(move || {
            let result = (name.as_str(), 0)
                .to_socket_addrs()
                .map(|addrs| addrs.map(|addr| addr.ip()).collect())
                .map_err(|e| (e.kind(), e.to_string()));
            in_flight().retain(|(other, _)| *other != name);
            // Nobody may be waiting any more: that is fine.
            let _ = tell.send(Some(result));
        })
        .map(drop)
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
    }
}
