//! The script of the `sim-proxy` and `demo` examples: a proxy's admin port as
//! the app container of a pod sees it while the proxy starts.

use std::time::{Duration, Instant};

use crate::{Answered, Reply, Request};

/// The paths a proxy's shutdown endpoint has: Linkerd's, and Envoy's/Istio's.
pub const SHUTDOWN_PATHS: [&str; 2] = ["/shutdown", "/quitquitquit"];

/// Not ready on the readiness path until an instant, ready from then on; a
/// shutdown endpoint; a liveness endpoint that is up at once.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// The readiness path, e.g. `/ready` (Linkerd) or `/healthz/ready` (Istio).
    pub ready_path: String,
    /// Not ready until this long after the start, ready from then on.
    pub ready_after: Duration,
    /// How a readiness request is answered while not ready.
    pub fail_mode: FailMode,
    /// Status of a POST to `/shutdown` or `/quitquitquit` (404 = Linkerd without
    /// the `config.linkerd.io/proxy-admin-shutdown: enabled` annotation).
    pub shutdown_status: u16,
}

/// How a readiness request is answered before the proxy is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum FailMode {
    /// A `503 Service Unavailable` response (what a starting proxy answers).
    None,
    /// Read the request and never answer (the connection stays open until the client leaves).
    Hang,
    /// Close the connection without answering.
    Close,
    /// A `302 Found` to another path (a gate must not follow it).
    Redirect,
}

impl Timeline {
    /// The reply to `request` when it arrives `elapsed` after the start.
    pub fn reply(&self, request: &Request, elapsed: Duration) -> Reply {
        let path = path_of(&request.path);
        if path == self.ready_path {
            if elapsed >= self.ready_after {
                return Reply::Status(200);
            }
            return match self.fail_mode {
                FailMode::None => Reply::Status(503),
                FailMode::Hang => Reply::Hang,
                FailMode::Close => Reply::Close,
                FailMode::Redirect => Reply::Redirect("/not-ready-yet".to_string()),
            };
        }
        if SHUTDOWN_PATHS.contains(&path) {
            if request.method != "POST" {
                return Reply::Status(405);
            }
            return Reply::Status(self.shutdown_status);
        }
        if path == "/live" {
            // The proxy's liveness endpoint is up as soon as the admin server is.
            return Reply::Status(200);
        }
        Reply::Status(404)
    }

    /// The timeline as a [`crate::FakeProxy`] script, counting from `start`.
    pub fn script(self, start: Instant) -> impl Fn(&Request, usize) -> Reply + Send + Sync {
        move |request, _| self.reply(request, start.elapsed())
    }
}

/// The path of a request target: an absolute-form target (`http://host/path`)
/// is reduced to its path, and the query is dropped.
fn path_of(target: &str) -> &str {
    let path = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    path.split('?').next().unwrap_or(path)
}

/// True for a POST to a shutdown endpoint answered with a 2xx: the proxy
/// would now stop.
pub fn is_accepted_shutdown(request: &Request, answered: Answered) -> bool {
    request.method == "POST"
        && SHUTDOWN_PATHS.contains(&path_of(&request.path))
        && matches!(answered, Answered::Status(code) if (200..300).contains(&code))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, path: &str) -> Request {
        Request {
            method: method.to_string(),
            path: path.to_string(),
            headers: Vec::new(),
            at: Instant::now(),
            connection: 1,
        }
    }

    fn reply(timeline: &Timeline, method: &str, path: &str, at_ms: u64) -> Reply {
        timeline.reply(&request(method, path), Duration::from_millis(at_ms))
    }

    #[test]
    fn replies_follow_the_timeline() {
        let timeline = Timeline {
            ready_path: "/healthz/ready".to_string(),
            ready_after: Duration::from_millis(1500),
            fail_mode: FailMode::None,
            shutdown_status: 404,
        };
        let table = [
            ("GET", "/healthz/ready", 0, Reply::Status(503)),
            ("GET", "/healthz/ready", 1499, Reply::Status(503)),
            ("GET", "/healthz/ready", 1500, Reply::Status(200)),
            ("GET", "/healthz/ready?probe=1", 1500, Reply::Status(200)),
            (
                "GET",
                "http://127.0.0.1:4191/healthz/ready",
                1500,
                Reply::Status(200),
            ),
            ("GET", "/ready", 1500, Reply::Status(404)),
            ("GET", "/live", 0, Reply::Status(200)),
            ("POST", "/shutdown", 0, Reply::Status(404)),
            ("POST", "/quitquitquit", 0, Reply::Status(404)),
            ("GET", "/shutdown", 0, Reply::Status(405)),
        ];
        for (method, path, at_ms, expected) in table {
            assert_eq!(
                reply(&timeline, method, path, at_ms),
                expected,
                "{method} {path} at {at_ms}ms"
            );
        }
    }

    #[test]
    fn fail_modes_answer_not_ready_checks_only() {
        let expected = [
            (FailMode::None, Reply::Status(503)),
            (FailMode::Hang, Reply::Hang),
            (FailMode::Close, Reply::Close),
            (
                FailMode::Redirect,
                Reply::Redirect("/not-ready-yet".to_string()),
            ),
        ];
        for (fail_mode, not_ready) in expected {
            let timeline = Timeline {
                ready_path: "/ready".to_string(),
                ready_after: Duration::from_secs(1),
                fail_mode,
                shutdown_status: 200,
            };
            assert_eq!(reply(&timeline, "GET", "/ready", 0), not_ready);
            assert_eq!(reply(&timeline, "GET", "/ready", 1000), Reply::Status(200));
        }
    }

    #[test]
    fn only_an_answered_post_to_a_shutdown_path_is_an_accepted_shutdown() {
        let post = request("POST", "/shutdown");
        assert!(is_accepted_shutdown(&post, Answered::Status(202)));
        assert!(!is_accepted_shutdown(&post, Answered::Status(404)));
        assert!(!is_accepted_shutdown(&post, Answered::Hung));
        assert!(!is_accepted_shutdown(
            &request("GET", "/shutdown"),
            Answered::Status(200)
        ));
        assert!(is_accepted_shutdown(
            &request("POST", "/quitquitquit"),
            Answered::Status(200)
        ));
    }
}
