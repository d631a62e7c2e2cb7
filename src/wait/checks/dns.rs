//! `dns://name[?min=N]`: ready when the name resolves to at least N
//! addresses (default 1), resolved as the gate resolves every other name
//! (`wait::dns`, detached, so a resolver that never answers holds nothing).
//! For a headless Service whose peers must all be there, or a StatefulSet's
//! stable names, which exist only once their pods do.

use super::NotReady;
use crate::wait::http::RequestError;

pub async fn check(name: &str, min: u16) -> Result<(), NotReady> {
    let mut addrs = crate::wait::dns::lookup(name).await.map_err(|e| {
        NotReady::Request(RequestError::Other(format!(
            "the name {name} does not resolve (yet): {e}"
        )))
    })?;
    addrs.sort_unstable();
    addrs.dedup();
    if addrs.len() >= usize::from(min) {
        return Ok(());
    }
    Err(NotReady::Answer(format!(
        "the name {name} has {} address{}, fewer than {min}",
        addrs.len(),
        if addrs.len() == 1 { "" } else { "es" }
    )))
}

/// Why an attempt cut off at its deadline got no answer, if the lookup is
/// what still runs.
pub fn stuck(name: &str) -> Option<NotReady> {
    crate::wait::dns::resolving(name)
        .then(|| NotReady::Request(RequestError::Unresolved(name.to_string())))
}
