//! `dns://name[?min=N]`: ready when the name resolves to at least N
//! addresses (default 1), resolved as the gate resolves every other name
//! (`wait::dns`, detached, so a resolver that never answers holds nothing).
//! For a headless Service whose peers must all be there, or a StatefulSet's
//! stable names, which exist only once their pods do. N counts peers: the
//! addresses of the larger family, IPv4 or IPv6 (a dual-stack pod has one
//! of each).

use std::{collections::BTreeSet, net::IpAddr};

use super::NotReady;
use crate::wait::http::RequestError;

pub async fn check(name: &str, min: u16) -> Result<(), NotReady> {
    let addrs = crate::wait::dns::lookup_fresh(name).await.map_err(|e| {
        NotReady::Request(RequestError::Other(format!(
            "the name {name} does not resolve (yet): {e}"
        )))
    })?;
    let peers = Peers::count_of(&addrs);
    if peers.count() >= usize::from(min) {
        return Ok(());
    }
    Err(NotReady::Answer(format!(
        "the name {name} has {peers}, fewer than {min}"
    )))
}

/// How many peers a name's addresses stand for: a dual-stack peer has an
/// IPv4 and an IPv6 address (a headless Service lists both for each pod),
/// so peers are counted by the larger family, not by addresses.
#[derive(Debug, PartialEq, Eq)]
struct Peers {
    v4: usize,
    v6: usize,
}

impl Peers {
    fn count_of(addrs: &[IpAddr]) -> Peers {
        let mut v4 = BTreeSet::new();
        let mut v6 = BTreeSet::new();
        for addr in addrs {
            match addr {
                IpAddr::V4(a) => v4.insert(*a),
                IpAddr::V6(a) => v6.insert(*a),
            };
        }
        Peers {
            v4: v4.len(),
            v6: v6.len(),
        }
    }

    fn count(&self) -> usize {
        self.v4.max(self.v6)
    }
}

impl std::fmt::Display for Peers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "es" };
        match (self.v4, self.v6) {
            (0, n) | (n, 0) => write!(f, "{n} address{}", plural(n)),
            (v4, v6) => write!(
                f,
                "{v4} IPv4 and {v6} IPv6 address{}: {} peer{} (a dual-stack peer has one of each)",
                plural(v6),
                self.count(),
                if self.count() == 1 { "" } else { "s" }
            ),
        }
    }
}

/// Why an attempt cut off at its deadline got no answer, if the lookup is
/// what still runs.
pub fn stuck(name: &str) -> Option<NotReady> {
    crate::wait::dns::resolving(name)
        .then(|| NotReady::Request(RequestError::Unresolved(name.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_counted_by_the_larger_family() {
        let ip = |text: &str| text.parse::<IpAddr>().expect("an address");
        let dual = [
            ip("10.0.0.2"),
            ip("fd00::2"),
            ip("10.0.0.3"),
            ip("fd00::3"),
            ip("10.0.0.3"),
        ];
        let peers = Peers::count_of(&dual);
        assert_eq!(peers.count(), 2);
        assert_eq!(
            peers.to_string(),
            "2 IPv4 and 2 IPv6 addresses: 2 peers (a dual-stack peer has one of each)"
        );
        assert_eq!(Peers::count_of(&dual[..1]).to_string(), "1 address");
        assert_eq!(Peers::count_of(&[ip("fd00::2"), ip("fd00::3")]).count(), 2);
    }
}
