//! `mongodb+srv://name`: the members the SRV records of `_mongodb._tcp.name`
//! list (the drivers' seed list), each checked as `mongodb://` is, with TLS
//! on by default and verified against the member's own name; all at once,
//! each with the whole attempt, as the drivers monitor their seeds: ready
//! as soon as one is. The drivers' rules are kept, so the gate is not ready where the
//! app's driver would refuse to start: each member must be under the
//! name's parent domain (a mistaken or forged record cannot send the app
//! elsewhere), and the name's TXT record, if any, is one and holds only
//! `authSource`, `replicaSet` and `loadBalanced`. (MongoDB's "Initial DNS
//! Seedlist Discovery" specification.)

use tokio::{task::JoinSet, time::Instant};

use super::{NotReady, mongodb, socket::Attempt};
use crate::{
    config::targets::{Endpoint, Target},
    wait::{
        dns::records::{self, LookupError, Srv},
        http::RequestError,
    },
};

/// What a TXT record may set: anything else makes the drivers refuse it.
const TXT_OPTIONS: [&str; 3] = ["authSource", "replicaSet", "loadBalanced"];

/// How many members' reasons a refusal shows (the rest are counted).
const SHOWN: usize = 3;

pub async fn check(at: &Endpoint, service: &str, attempt: Attempt) -> Result<(), NotReady> {
    let members = members(at, service, attempt.deadline).await?;
    let mut checks = JoinSet::new();
    for member in members {
        // Dropped with the set when one is ready: the others end there.
        checks.spawn(async move {
            let reason = mongodb::check(&member, attempt).await.err();
            (Target::Mongodb(member), reason)
        });
    }
    let mut reasons = Vec::new();
    let mut demanded = false;
    while let Some(done) = checks.join_next().await {
        match done {
            Ok((_, None)) => return Ok(()),
            // Up, having proved itself: `Dependency` says so once.
            Ok((_, Some(NotReady::ClientCertDemanded))) => demanded = true,
            Ok((member, Some(reason))) => reasons.push(format!("{member}: {reason}")),
            Err(e) => reasons.push(format!("a member's check ended: {e}")),
        }
    }
    if demanded {
        return Err(NotReady::ClientCertDemanded);
    }
    let more = reasons.len().saturating_sub(SHOWN);
    reasons.truncate(SHOWN);
    let more = if more > 0 {
        format!(" (and {more} more)")
    } else {
        String::new()
    };
    Err(NotReady::Unmet(format!(
        "no member is ready: {}{more}",
        reasons.join("; ")
    )))
}

/// The members to check, as `mongodb://` endpoints, from DNS.
async fn members(
    at: &Endpoint,
    service: &str,
    deadline: Instant,
) -> Result<Vec<Endpoint>, NotReady> {
    let name = at.0.host_str().unwrap_or_default().trim_end_matches('.');
    let srv_name = format!("_{service}._tcp.{name}");
    let (srv, txt) = tokio::join!(
        records::srv(&srv_name, deadline),
        records::txt(name, deadline)
    );
    let srv = match srv {
        Ok(found) if !found.is_empty() => found,
        Ok(_) | Err(LookupError::NoSuchName) => {
            return Err(NotReady::Answer(format!(
                "{srv_name} has no SRV records (yet)"
            )));
        }
        Err(LookupError::Failed(why)) => {
            return Err(NotReady::Request(RequestError::Other(format!(
                "the SRV records of {srv_name} could not be had: {why}"
            ))));
        }
    };
    // The drivers go on without TXT when it has none or cannot be had.
    if let Ok(txt) = txt {
        refused_txt(name, &txt).map_or(Ok(()), Err)?;
    }
    srv.iter()
        .map(|member| as_member(at, name, member))
        .collect()
}

/// `mongodb://member:port` with the URL's own query (its TLS, its CA).
fn as_member(at: &Endpoint, name: &str, member: &Srv) -> Result<Endpoint, NotReady> {
    let host = member.host.trim_end_matches('.');
    if !under(host, name) {
        return Err(NotReady::Answer(format!(
            "an SRV record of {name} names {host}, outside {name}'s domain: the drivers \
             refuse it"
        )));
    }
    let mut url = at.0.clone();
    let set = url
        .set_scheme("mongodb")
        .ok()
        .and_then(|()| url.set_host(Some(host)).ok())
        .and_then(|()| url.set_port(Some(member.port)).ok());
    if set.is_none() || member.port == 0 {
        return Err(NotReady::Answer(format!(
            "an SRV record of {name} names {host}:{}, which cannot be connected to",
            member.port
        )));
    }
    Ok(Endpoint(url, at.1.clone()))
}

/// Whether `member` is under `name`'s parent domain (the name itself when
/// it has fewer than three labels, with a label more).
fn under(member: &str, name: &str) -> bool {
    let labels = name.split('.').count();
    let member = member.to_ascii_lowercase();
    let name = name.to_ascii_lowercase();
    if labels >= 3 {
        let parent = name.split_once('.').map_or(name.as_str(), |(_, p)| p);
        member.ends_with(&format!(".{parent}"))
    } else {
        member.ends_with(&format!(".{name}"))
    }
}

/// Why the drivers would refuse the name's TXT records, if they would.
fn refused_txt(name: &str, records: &[String]) -> Option<NotReady> {
    if records.len() > 1 {
        return Some(NotReady::Answer(format!(
            "{name} has {} TXT records; the drivers refuse more than one",
            records.len()
        )));
    }
    let record = records.first()?;
    let other = record
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .find(|key| !TXT_OPTIONS.contains(key))?;
    Some(NotReady::Answer(format!(
        "the TXT record of {name} sets {other}, which the drivers refuse (only authSource, \
         replicaSet and loadBalanced)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_must_be_under_the_names_parent_domain() {
        let name = "cluster0.abc.mongodb.net";
        assert!(under("cluster0-shard-00-00.abc.mongodb.net", name));
        assert!(under("DB-0.ABC.mongodb.net", name));
        assert!(!under("db.evil.net", name));
        assert!(!under("abc.mongodb.net.evil.net", name));
        // Fewer than three labels: under the name itself.
        assert!(under("db-0.mongo.local", "mongo.local"));
        assert!(!under("other.local", "mongo.local"));
    }

    #[test]
    fn txt_records_are_taken_as_the_drivers_take_them() {
        let one = |text: &str| vec![text.to_string()];
        assert!(refused_txt("c", &[]).is_none());
        assert!(refused_txt("c", &one("replicaSet=rs0&authSource=admin")).is_none());
        assert!(refused_txt("c", &one("loadBalanced=true")).is_none());
        let said = |records: &[String]| refused_txt("c", records).map(|r| r.to_string());
        assert_eq!(
            said(&one("authSource=admin&ssl=false")),
            Some(
                "the TXT record of c sets ssl, which the drivers refuse (only authSource, \
                 replicaSet and loadBalanced)"
                    .to_string()
            )
        );
        assert!(
            said(&[one("a=1").remove(0), one("b=2").remove(0)])
                .is_some_and(|s| s.contains("2 TXT records"))
        );
    }

    #[test]
    fn each_member_is_a_mongodb_target_with_the_urls_tls() {
        let url = reqwest::Url::parse("mongodb+srv://u:pw@cluster0.abc.example.net/db?tls=true")
            .expect("a URL");
        let at = Endpoint(url, crate::config::targets::tls::Tls::Off);
        let member = Srv {
            host: "db-0.abc.example.net.".to_string(),
            port: 27017,
        };
        let Ok(member) = as_member(&at, "cluster0.abc.example.net", &member) else {
            panic!("not a member");
        };
        assert_eq!(
            member.0.as_str(),
            "mongodb://u:pw@db-0.abc.example.net:27017/db?tls=true"
        );
        let outside = Srv {
            host: "db.elsewhere.org".to_string(),
            port: 27017,
        };
        assert!(as_member(&at, "cluster0.abc.example.net", &outside).is_err());
    }
}
