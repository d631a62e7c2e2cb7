//! A `--wait-for` target as the wait loop sees it: one [`Check`] that
//! dispatches on the typed target to its scheme's file, bounds every
//! attempt, shows an `env:` target by its name, and checks a multi-host
//! target host by host.

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use reqwest::Client;
use tokio::time::{Instant, timeout_at};
use tracing::warn;

use super::{
    Check, NotReady, amqp, cassandra, dns, file, grpc, http::HttpCheck, kafka, memcached, mongodb,
    mongodb_srv, mysql, nats, postgres, redis, smtp, socket::Attempt, tcp, tls, unix, zookeeper,
};
use crate::{
    config::targets::{
        Target,
        tls::{Secure, Tls, Verify},
    },
    report::error::Error,
};

/// One `--wait-for` target with what its check needs.
pub struct Dependency {
    /// What to check: an `env:` target's URL.
    target: Target,
    /// What logs show: an `env:` target as `env:NAME (URL)`.
    shown: String,
    /// The gate's one HTTP client, for `http://` targets (its pool keeps
    /// their connection between checks).
    client: Client,
    attempt_timeout: Duration,
}

impl Dependency {
    /// An `https://` target gets a client of its own, with its TLS.
    pub fn new(target: Target, client: &Client, attempt_timeout: Duration) -> Result<Self, Error> {
        let shown = target.to_string();
        let target = match target {
            Target::Env { target, .. } => *target,
            other => other,
        };
        let client = match &target {
            Target::Http {
                tls: Tls::On(secure),
                ..
            } => {
                let config = tls::client_config(secure, Arc::default()).map_err(Error::Usage)?;
                crate::wait::http::tls_client(attempt_timeout, config)?
            }
            _ => client.clone(),
        };
        if let Some(why) = skipped(&target) {
            warn!(
                "{shown}: the server's certificate will not be verified ({why}): anyone on \
                 the path can answer as this server; give its CA instead (--ca-file, or the \
                 URL's own CA parameter)"
            );
        }
        Ok(Dependency {
            target,
            shown,
            client,
            attempt_timeout,
        })
    }

    /// One attempt at `target` within `bound`. Boxed: a multi-host target
    /// checks its hosts through this same function.
    fn attempt<'a>(
        &'a self,
        target: &'a Target,
        bound: Attempt,
    ) -> Pin<Box<dyn Future<Output = Result<(), NotReady>> + 'a>> {
        Box::pin(async move {
            match target {
                Target::Tcp(at) => tcp::check(at, bound).await,
                Target::Http { url, expect, .. } => {
                    HttpCheck::new(self.client.clone(), url.clone(), bound.timeout)
                        .expecting(expect.clone())
                        .check()
                        .await
                }
                Target::Postgres { at, user, database } => {
                    postgres::check(at, user, database, bound).await
                }
                Target::Redis(at) => redis::check(at, bound).await,
                Target::Mysql(at) => mysql::check(at, bound).await,
                Target::Memcached(at) => memcached::check(at, bound).await,
                Target::Nats(at) => nats::check(at, bound).await,
                Target::Zookeeper(at) => zookeeper::check(at, bound).await,
                Target::Amqp(at) => amqp::check(at, bound).await,
                Target::Kafka(at) => kafka::check(at, bound).await,
                Target::Grpc {
                    at,
                    service,
                    unimplemented_ready,
                } => match grpc::check(at, service, *unimplemented_ready, bound).await? {
                    grpc::Serving::Yes => Ok(()),
                    // Ready, as the URL asked; but that proves only that a
                    // gRPC server answers, so say it once (a ready target
                    // is not checked again).
                    grpc::Serving::NoHealthService => {
                        warn!(
                            "{}: the server answers gRPC but has no health service \
                             (UNIMPLEMENTED): taken as ready (#unimplemented=ready); for a \
                             check of the app's own readiness, register grpc.health.v1.Health \
                             in it",
                            self.shown
                        );
                        Ok(())
                    }
                },
                Target::Mongodb(at) => mongodb::check(at, bound).await,
                Target::MongodbSrv { at, service } => mongodb_srv::check(at, service, bound).await,
                Target::Cassandra(at) => cassandra::check(at, bound).await,
                Target::Smtp(at) => smtp::check(at, bound).await,
                Target::Dns { name, min } => dns::check(name, *min).await,
                Target::File(path) => file::check(path).await,
                Target::Unix(path) => unix::check(path).await,
                Target::AnyOf(targets) => self.any_of(targets, bound).await,
                Target::Env { target, .. } => self.attempt(target, bound).await,
            }
        })
    }

    /// Ready when one host is, tried in order as libpq does; each gets an
    /// equal share of what is left of the attempt, so one black-holed host
    /// cannot take every attempt while another serves.
    async fn any_of(&self, targets: &[Target], bound: Attempt) -> Result<(), NotReady> {
        let mut reasons = Vec::new();
        for (n, target) in targets.iter().enumerate() {
            let left = bound.deadline.saturating_duration_since(Instant::now());
            let share = left / u32::try_from(targets.len() - n).unwrap_or(u32::MAX);
            let own = Attempt {
                deadline: Instant::now() + share,
                timeout: share,
            };
            let reason = match timeout_at(own.deadline, self.attempt(target, own)).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(reason)) => reason,
                Err(_elapsed) => NotReady::TimedOut(share),
            };
            reasons.push(format!("{target}: {reason}"));
        }
        Err(NotReady::Unmet(format!(
            "no host is ready: {}",
            reasons.join("; ")
        )))
    }
}

/// Why a target's certificate is not verified, if it is not (the URL's
/// own words: `sslmode=require`, `#insecure`).
fn skipped(target: &Target) -> Option<&'static str> {
    let tls = match target {
        Target::Http { tls, .. } => tls,
        Target::AnyOf(targets) => return targets.iter().find_map(skipped),
        network => &network.endpoint()?.1,
    };
    match tls {
        Tls::On(Secure {
            verify: Verify::Skipped(why),
            ..
        }) => Some(why),
        _ => None,
    }
}

/// What an unfinished attempt at `target` was doing when cut off.
fn cut_off(target: &Target) -> Option<NotReady> {
    let url = match target {
        Target::Http { url, .. } => url,
        Target::Dns { name, .. } => return dns::stuck(name),
        Target::File(path) => return file::stuck(path),
        Target::Unix(path) => return unix::stuck(path),
        Target::AnyOf(targets) => return targets.iter().find_map(cut_off),
        Target::Env { target, .. } => return cut_off(target),
        network => &network.endpoint()?.0,
    };
    crate::wait::http::unresolved(url).map(NotReady::Request)
}

impl Check for Dependency {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn cut_off(&self, _after: Duration) -> Option<NotReady> {
        cut_off(&self.target)
    }

    async fn check(&self) -> Result<(), NotReady> {
        let bound = Attempt {
            deadline: Instant::now() + self.attempt_timeout,
            timeout: self.attempt_timeout,
        };
        // Each exchange keeps its own deadline, to say what it was waiting
        // for; this bound is what holds whatever happens inside.
        match timeout_at(bound.deadline, self.attempt(&self.target, bound)).await {
            // Ready: the server proved its identity before it asked. Said
            // once (a ready target is not checked again).
            Ok(Err(NotReady::ClientCertDemanded)) => {
                warn!(
                    "{}: the server demands a client certificate; the gate sends none (the \
                     app will send its own): taken as ready, as the server answered TLS with \
                     its verified certificate",
                    self.shown
                );
                Ok(())
            }
            Ok(result) => result,
            Err(_elapsed) => Err(self
                .cut_off(self.attempt_timeout)
                .unwrap_or(NotReady::TimedOut(self.attempt_timeout))),
        }
    }
}
