//! TLS failures in words that point at the fix: an untrusted certificate
//! names its issuer and subject, a name mismatch the names the certificate
//! holds, an expired one when it expired; a plaintext answer to TLS, or a
//! TLS answer to plaintext, the scheme to use instead.
//!
//! The names are read from the certificate's DER with a reader of the few
//! structures needed (TBSCertificate's issuer and subject, RFC 5280 §4.1):
//! bounded, and a certificate it cannot read is shown without them.

use std::fmt;

use rustls::{CertificateError, pki_types::CertificateDer};

use crate::wait::checks::socket;

/// A refusal of the server's certificate, worded, carried through rustls.
#[derive(Debug)]
pub struct Refused(pub String);

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Why the certificate `cert` was refused.
pub fn refused(e: &CertificateError, cert: &CertificateDer<'_>) -> String {
    let names = Names::of(cert);
    let subject = names
        .as_ref()
        .map_or("?".to_string(), |n| n.subject.clone());
    match e {
        CertificateError::UnknownIssuer => match names {
            Some(n) if n.issuer == n.subject => format!(
                "the server's certificate is self-signed ({subject}) and not trusted: give \
                 it, or the CA that signed it, with --ca-file (LINKERD_AWAIT_CA_FILE) or \
                 the URL's own CA parameter"
            ),
            _ => format!(
                "the server's certificate ({subject}) is issued by {}, which no trusted root \
                 vouches for: give that CA with --ca-file (LINKERD_AWAIT_CA_FILE) or the \
                 URL's own CA parameter",
                names.as_ref().map_or("?", |n| n.issuer.as_str())
            ),
        },
        CertificateError::NotValidForNameContext {
            expected,
            presented,
        } => format!(
            "the server's certificate is not for {}: it names {}; connect by one of \
             those names",
            expected.to_str(),
            if presented.is_empty() {
                "no host at all".to_string()
            } else {
                presented
                    .iter()
                    .map(|n| socket::words(unquoted(n).as_bytes()))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ),
        CertificateError::ExpiredContext { not_after, .. } => format!(
            "the server's certificate ({subject}) expired at {}",
            utc(not_after.as_secs())
        ),
        CertificateError::NotValidYetContext { not_before, .. } => format!(
            "the server's certificate ({subject}) is not valid before {} (is this \
             machine's clock right?)",
            utc(not_before.as_secs())
        ),
        other => format!("the server's certificate ({subject}) is refused: {other:?}"),
    }
}

/// A presented name as rustls writes it (`DnsName("db.example.net")`),
/// without its type.
fn unquoted(name: &str) -> &str {
    match (name.find('"'), name.rfind('"')) {
        (Some(start), Some(end)) if end > start => &name[start + 1..end],
        _ => name,
    }
}

/// A certificate refusal as rustls carries it back.
pub fn certificate(e: &CertificateError) -> String {
    match e {
        CertificateError::Other(other) => other.0.to_string(),
        other => format!("the server's certificate is refused: {other:?}"),
    }
}

/// The plaintext form of a TLS scheme (and of the parameters that turn
/// TLS on), for a server that answered a ClientHello in plaintext.
pub fn plaintext_form(scheme: &str) -> String {
    match scheme {
        "https" | "rediss" | "amqps" | "grpcs" | "smtps" => {
            format!("{}://", scheme.strip_suffix('s').unwrap_or(scheme))
        }
        "tls" => "nats://".to_string(),
        "postgres" | "postgresql" => "sslmode=disable (or turn ssl on in the server)".to_string(),
        "mysql" | "mariadb" => "ssl-mode=DISABLED (or turn TLS on in the server)".to_string(),
        "smtp" => "smtp:// without starttls=true".to_string(),
        _ => format!("{scheme}:// without tls=true"),
    }
}

/// The TLS form of a plaintext scheme.
pub fn tls_form(scheme: &str) -> Option<&'static str> {
    Some(match scheme {
        "http" => "https://",
        "redis" => "rediss://",
        "amqp" => "amqps://",
        "grpc" => "grpcs://",
        "smtp" => "smtps:// (or ?starttls=true)",
        "nats" => "tls://",
        "mongodb" | "kafka" | "cassandra" | "cql" => "?tls=true",
        _ => return None,
    })
}

/// A certificate's issuer and subject, as `CN=..., O=...`.
struct Names {
    issuer: String,
    subject: String,
}

impl Names {
    fn of(cert: &CertificateDer<'_>) -> Option<Names> {
        // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version
        // OPTIONAL, serialNumber, signature, issuer, validity, subject, ...
        let (_, cert, _) = tlv(cert.as_ref())?;
        let (_, mut tbs, _) = tlv(cert)?;
        let (tag, _, rest) = tlv(tbs)?;
        if tag == 0xA0 {
            tbs = rest;
        }
        let (_, _, rest) = tlv(tbs)?; // serialNumber
        let (_, _, rest) = tlv(rest)?; // signature
        let (_, issuer, rest) = tlv(rest)?;
        let (_, _, rest) = tlv(rest)?; // validity
        let (_, subject, _) = tlv(rest)?;
        Some(Names {
            issuer: name(issuer),
            subject: name(subject),
        })
    }
}

/// A Name's common name and organisation, in order (`CN=db, O=Acme`).
fn name(mut rdns: &[u8]) -> String {
    let mut shown = Vec::new();
    // SEQUENCE OF SET OF SEQUENCE { type OID, value }.
    while let Some((_, set, rest)) = tlv(rdns) {
        rdns = rest;
        let mut attributes = set;
        while let Some((_, attribute, rest)) = tlv(attributes) {
            attributes = rest;
            let Some((_, oid, value)) = tlv(attribute) else {
                continue;
            };
            let label = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x0A] => "O",
                [0x55, 0x04, 0x0B] => "OU",
                _ => continue,
            };
            if let Some((_, text, _)) = tlv(value) {
                shown.push(format!("{label}={}", socket::words(text)));
            }
        }
    }
    if shown.is_empty() {
        "no name".to_string()
    } else {
        shown.join(", ")
    }
}

/// One DER element: its tag, its contents and what follows it.
fn tlv(bytes: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = bytes.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7F);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let len = rest[..count]
            .iter()
            .fold(0usize, |n, b| (n << 8) | usize::from(*b));
        (len, &rest[count..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// Seconds since the epoch as a UTC date and time (civil calendar, Howard
/// Hinnant's days-from-civil inverse).
fn utc(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(i64::MAX / 2);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_796_672_482), "2026-12-07 19:41:22 UTC");
    }

    #[test]
    fn der_that_ends_early_is_no_element() {
        assert_eq!(tlv(&[0x30, 0x05, 1, 2]), None);
        assert_eq!(tlv(&[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]), None);
        assert_eq!(
            tlv(&[0x30, 0x01, 7, 9]),
            Some((0x30, &[7u8][..], &[9u8][..]))
        );
        assert_eq!(name(&[0x31, 0x80]), "no name");
    }
}
