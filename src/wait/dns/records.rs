//! SRV and TXT records (`mongodb+srv://`), asked of the pod's name servers
//! as `/etc/resolv.conf` lists them. getaddrinfo asks only for addresses,
//! so these go on the wire: one query over UDP, again over TCP when the
//! answer is truncated, each server in turn with an equal share of what is
//! left of the caller's deadline. Async sockets, no thread: the deadline
//! ends a lookup, unlike getaddrinfo's (see the module above).
//!
//! The name is asked as given, absolute, without the search list: an SRV
//! name is a service's full name (`_mongodb._tcp.cluster0.example.net`),
//! and walking Kubernetes' `ndots:5` search domains would multiply the
//! queries at the cluster's DNS for names that cannot be there.

use std::{
    collections::hash_map::RandomState,
    hash::BuildHasher,
    net::{IpAddr, Ipv4Addr, SocketAddr},
};

use simple_dns::{
    CLASS, Name, Packet, PacketFlag, QCLASS, QTYPE, Question, RCODE, TYPE, rdata::RData,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpStream, UdpSocket},
    time::{Instant, timeout_at},
};

/// Where name servers are listed; resolv.conf(5): 127.0.0.1 when none is.
const RESOLV_CONF: &str = "/etc/resolv.conf";
const MAX_SERVERS: usize = 3;
/// A UDP answer without EDNS is at most 512 bytes; more is read, in case.
const UDP_MAX: usize = 4096;

/// One SRV record: where a member listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srv {
    pub host: String,
    pub port: u16,
}

/// Why no records could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The name does not exist (NXDOMAIN).
    #[error("the name does not exist (NXDOMAIN)")]
    NoSuchName,
    /// No server answered in time, or none answered usefully: the last
    /// reason.
    #[error("{0}")]
    Failed(String),
}

/// The SRV records of `name`, by priority (none: an empty list).
pub async fn srv(name: &str, deadline: Instant) -> Result<Vec<Srv>, LookupError> {
    let answer = query(name, TYPE::SRV, deadline).await?;
    let packet = parse(&answer)?;
    let mut records: Vec<(u16, Srv)> = packet
        .answers
        .iter()
        .filter_map(|record| match &record.rdata {
            RData::SRV(srv) => Some((
                srv.priority,
                Srv {
                    host: srv.target.to_string().to_ascii_lowercase(),
                    port: srv.port,
                },
            )),
            _ => None,
        })
        .collect();
    records.sort_by_key(|(priority, _)| *priority);
    Ok(records.into_iter().map(|(_, srv)| srv).collect())
}

/// The TXT records of `name`, each one's strings joined (RFC 7208's
/// reading, the drivers' too); none: an empty list.
pub async fn txt(name: &str, deadline: Instant) -> Result<Vec<String>, LookupError> {
    let answer = query(name, TYPE::TXT, deadline).await?;
    let packet = parse(&answer)?;
    Ok(packet
        .answers
        .iter()
        .filter_map(|record| match &record.rdata {
            RData::TXT(txt) => Some(
                txt.iter_raw()
                    .map(|(key, value)| {
                        let mut text = String::from_utf8_lossy(key).into_owned();
                        if let Some(value) = value {
                            text.push('=');
                            text.push_str(&String::from_utf8_lossy(value));
                        }
                        text
                    })
                    .collect(),
            ),
            _ => None,
        })
        .collect())
}

fn parse(answer: &[u8]) -> Result<Packet<'_>, LookupError> {
    Packet::parse(answer).map_err(|e| LookupError::Failed(format!("an unreadable answer: {e}")))
}

/// One question, to each server in turn until one answers: the answer's
/// bytes (NOERROR, whole).
async fn query(name: &str, qtype: TYPE, deadline: Instant) -> Result<Vec<u8>, LookupError> {
    let id = query_id();
    let question =
        Name::new(name).map_err(|e| LookupError::Failed(format!("{name} cannot be asked: {e}")))?;
    let mut packet = Packet::new_query(id);
    packet.set_flags(PacketFlag::RECURSION_DESIRED);
    packet.questions.push(Question::new(
        question,
        QTYPE::TYPE(qtype),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    let message = packet
        .build_bytes_vec()
        .map_err(|e| LookupError::Failed(format!("{name} cannot be asked: {e}")))?;
    let servers = name_servers(&std::fs::read_to_string(RESOLV_CONF).unwrap_or_default());
    let mut last = LookupError::Failed("no name server answered".to_string());
    for (n, server) in servers.iter().enumerate() {
        let left = deadline.saturating_duration_since(Instant::now());
        let share = left / u32::try_from(servers.len() - n).unwrap_or(1);
        let own = Instant::now() + share;
        let asked = SocketAddr::new(*server, 53);
        match timeout_at(own, ask(asked, &message, id)).await {
            Ok(Ok(answer)) => match judge(&answer) {
                Ok(()) => return Ok(answer),
                Err(LookupError::NoSuchName) => return Err(LookupError::NoSuchName),
                Err(other) => last = other,
            },
            Ok(Err(e)) => last = LookupError::Failed(format!("{asked}: {e}")),
            Err(_elapsed) => last = LookupError::Failed(format!("{asked} did not answer in time")),
        }
    }
    Err(last)
}

/// Over UDP, then over TCP if the answer was cut short.
async fn ask(server: SocketAddr, message: &[u8], id: u16) -> std::io::Result<Vec<u8>> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let udp = UdpSocket::bind(local).await?;
    // Connected: the kernel drops datagrams from any other address.
    udp.connect(server).await?;
    udp.send(message).await?;
    let mut buf = vec![0; UDP_MAX];
    let answer = loop {
        let got = udp.recv(&mut buf).await?;
        // Another query's late answer, or a forgery: not ours.
        if got >= 12 && buf[..2] == id.to_be_bytes() {
            break &buf[..got];
        }
    };
    let truncated = Packet::parse(answer).is_ok_and(|p| p.has_flags(PacketFlag::TRUNCATION));
    if !truncated {
        return Ok(answer.to_vec());
    }
    let mut tcp = TcpStream::connect(server).await?;
    let length = u16::try_from(message.len()).unwrap_or(u16::MAX);
    tcp.write_all(&[&length.to_be_bytes()[..], message].concat())
        .await?;
    let length = tcp.read_u16().await?;
    let mut answer = vec![0; usize::from(length)];
    tcp.read_exact(&mut answer).await?;
    if answer.len() < 12 || answer[..2] != id.to_be_bytes() {
        return Err(std::io::Error::other("an answer over TCP to another query"));
    }
    Ok(answer)
}

/// Whether an answer is one to take: NOERROR (records or none), or the
/// name's absence; a failing server's answer is a reason to ask the next.
fn judge(answer: &[u8]) -> Result<(), LookupError> {
    match parse(answer)?.rcode() {
        RCODE::NoError => Ok(()),
        RCODE::NameError => Err(LookupError::NoSuchName),
        other => Err(LookupError::Failed(format!(
            "the name server answered {other:?}"
        ))),
    }
}

/// The `nameserver` lines of a resolv.conf, at most three as the C
/// library takes; 127.0.0.1 when there is none.
fn name_servers(conf: &str) -> Vec<IpAddr> {
    let mut servers: Vec<IpAddr> = conf
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next()?.parse().ok())
                .flatten()
        })
        .take(MAX_SERVERS)
        .collect();
    if servers.is_empty() {
        servers.push(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    servers
}

/// A query id no one on the path can guess: the standard library's
/// per-process random keys, without `unsafe` or another crate.
fn query_id() -> u16 {
    (RandomState::new().hash_one(Instant::now()) & 0xffff) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_servers_are_read_as_the_c_library_reads_them() {
        let conf = "# k8s\nsearch ns.svc.cluster.local svc.cluster.local\n\
                    nameserver 10.96.0.10\nnameserver fe80::1\nnameserver bogus\n\
                    nameserver 10.0.0.2\nnameserver 10.0.0.3\noptions ndots:5\n";
        let servers: Vec<String> = name_servers(conf).iter().map(|s| s.to_string()).collect();
        assert_eq!(servers, ["10.96.0.10", "fe80::1", "10.0.0.2"]);
        assert_eq!(name_servers(""), [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }

    #[test]
    fn answers_are_judged_by_their_code_and_unreadable_ones_are_errors() {
        let mut reply = Packet::new_reply(7);
        assert_eq!(judge(&reply.build_bytes_vec().expect("bytes")), Ok(()));
        *reply.rcode_mut() = RCODE::NameError;
        assert_eq!(
            judge(&reply.build_bytes_vec().expect("bytes")),
            Err(LookupError::NoSuchName)
        );
        *reply.rcode_mut() = RCODE::ServerFailure;
        assert!(matches!(
            judge(&reply.build_bytes_vec().expect("bytes")),
            Err(LookupError::Failed(_))
        ));
        assert!(matches!(judge(b"\x00\x07"), Err(LookupError::Failed(_))));
    }
}
