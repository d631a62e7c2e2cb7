//! `tcp://host:port`: ready when a connection is accepted. Through a
//! meshed proxy this proves nothing (the proxy's outbound listener accepts
//! every connection before it knows whether the target is up): the
//! README says so, and points to the protocol checks.

use super::{NotReady, socket};
use crate::config::targets::Endpoint;

/// The caller bounds the connect by the attempt's deadline.
pub async fn check(at: &Endpoint, attempt: socket::Attempt) -> Result<(), NotReady> {
    socket::connect(at, attempt.deadline).await.map(drop)
}
