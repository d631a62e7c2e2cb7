//! The proxy scripts most tests need, on top of `FakeProxy`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use super::{FakeProxy, Reply, Request};

/// The linkerd annotation that Linkerd ≥ 2.16 needs before it serves `/shutdown`.
pub const ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown";

/// A proxy that never becomes ready (503 to everything).
pub fn never_ready() -> FakeProxy {
    FakeProxy::start(|_, _| Reply::Status(503))
}

/// A proxy that answers 503 until `delay` has passed since it was made,
/// then 200: a proxy that takes that long to turn ready.
pub fn ready_in(delay: Duration) -> FakeProxy {
    let made = Instant::now();
    FakeProxy::start(move |_, _| {
        if made.elapsed() >= delay {
            Reply::Status(200)
        } else {
            Reply::Status(503)
        }
    })
}

/// A proxy that is ready at once and answers every other path with
/// `shutdown`; once it accepted a shutdown request it stops listening.
pub fn proxy_answering(shutdown: Reply) -> FakeProxy {
    FakeProxy::start(ready_then(shutdown))
}

/// Like `proxy_answering`, for a proxy that keeps listening after it
/// accepted a shutdown request (it drains open connections).
pub fn draining_proxy_answering(shutdown: Reply) -> FakeProxy {
    FakeProxy::draining(ready_then(shutdown))
}

/// Ready at once; every other path answered with `shutdown`.
fn ready_then(shutdown: Reply) -> impl Fn(&Request, usize) -> Reply + Send + Sync + 'static {
    move |req, _| match req.path.as_str() {
        "/ready" => Reply::Status(200),
        _ => shutdown.clone(),
    }
}

/// A proxy that is not ready (503) until the test sets the returned flag,
/// and answers 200 to every other path.
pub fn ready_on_cue() -> (FakeProxy, Arc<AtomicBool>) {
    let ready = Arc::new(AtomicBool::new(false));
    let flag = ready.clone();
    let proxy = FakeProxy::start(move |req, _| match req.path.as_str() {
        "/ready" if flag.load(Ordering::SeqCst) => Reply::Status(200),
        "/ready" => Reply::Status(503),
        _ => Reply::Status(200),
    });
    (proxy, ready)
}
