//! TLS for the checks of dependencies outside the mesh: the handshake over
//! a connected socket, verified as the target's URL says (`config::targets::tls`,
//! `verify.rs`) against the roots read once when the wait begins
//! (`trust.rs`), and its failures in words that point at the fix (`words.rs`).
//!
//! No credential is ever sent: no client certificate (a server that demands
//! one has proved its identity by then: ready, with a WARN), no SNI-less
//! trickery, nothing but the handshake and the protocol's first exchange.

mod trust;
mod verify;
mod words;

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    task::{Context, Poll},
};

use rustls::{AlertDescription, pki_types::ServerName};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    time::{Instant, timeout_at},
};

pub use self::trust::{client_config, plaintext_only, prepare};
use super::NotReady;
use crate::config::targets::{Endpoint, tls::Secure};

/// A connection as a check speaks over it: plaintext, or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

/// The TLS handshake over `tcp` with `at`'s host, within `deadline`.
pub async fn handshake(
    tcp: TcpStream,
    at: &Endpoint,
    secure: &Secure,
    deadline: Instant,
    timeout: std::time::Duration,
) -> Result<Stream, NotReady> {
    let asked = Arc::new(AtomicBool::new(false));
    // gRPC servers refuse a TLS connection that does not offer HTTP/2.
    let alpn: &[&[u8]] = if at.0.scheme() == "grpcs" {
        &[b"h2"]
    } else {
        &[]
    };
    let config = trust::config(secure, asked.clone(), alpn)?;
    let host = at.0.host_str().unwrap_or_default();
    // An IPv6 literal is bracketed in a URL, never in a server name.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| NotReady::Tls(format!("{host} cannot be a TLS server name")))?;
    let connector = tokio_rustls::TlsConnector::from(config);
    match timeout_at(deadline, connector.connect(name, tcp)).await {
        Ok(Ok(stream)) => Ok(Stream::Tls(Box::new(stream))),
        Ok(Err(e)) => Err(failed(&e, at, asked.load(Ordering::Relaxed))),
        Err(_elapsed) => Err(NotReady::NoGreeting {
            after: timeout,
            port: "a TLS server answers a ClientHello at once: is this port TLS?",
        }),
    }
}

/// Why a handshake failed, from the I/O error that
/// carries rustls's; `asked`: the server asked for a client certificate.
pub fn failed(e: &io::Error, at: &Endpoint, asked: bool) -> NotReady {
    let Some(error) = rustls_error(e) else {
        return match super::socket::closed_or(e) {
            NotReady::Closed => closed_in_handshake(at.0.scheme()),
            other => other,
        };
    };
    reason(error, at.0.scheme(), asked)
}

/// rustls's error inside an I/O error or anywhere down a chain of sources
/// (reqwest's, for `https://`).
pub fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    chain(e).find_map(|error| error.downcast_ref::<rustls::Error>())
}

/// An error and its causes. An I/O error's `source` skips the error it
/// wraps (hyper's connect error wraps tokio-rustls's, which wraps
/// rustls's): this goes into it.
fn chain<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |error| {
        match error
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        }
    })
}

/// An `https://` request's failure, when it was TLS's: rustls's reason in
/// words, or a close during the handshake (through the mesh: the target
/// is down).
pub fn request_failed(e: &reqwest::Error, scheme: &str) -> Option<NotReady> {
    if let Some(error) = rustls_error(e) {
        return Some(reason(error, scheme, false));
    }
    let closed = chain(e).any(|error| {
        error
            .downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::UnexpectedEof)
    });
    (closed && scheme == "https").then(|| closed_in_handshake(scheme))
}

/// A close in answer to the ClientHello: through the mesh, a target that
/// is down; straight to a plaintext port, what some servers (etcd's) do
/// with a ClientHello: both.
fn closed_in_handshake(scheme: &str) -> NotReady {
    NotReady::ClosedHinting(format!(
        "to the TLS handshake; if the port speaks plaintext, use {}",
        words::plaintext_form(scheme)
    ))
}

/// A rustls error as a reason.
pub fn reason(error: &rustls::Error, scheme: &str, asked: bool) -> NotReady {
    use rustls::Error as E;
    match error {
        // TLS 1.3 says it with its own alert; TLS 1.2 servers end the
        // handshake after asking.
        E::AlertReceived(AlertDescription::CertificateRequired) => NotReady::ClientCertDemanded,
        E::AlertReceived(AlertDescription::HandshakeFailure | AlertDescription::BadCertificate)
            if asked =>
        {
            NotReady::ClientCertDemanded
        }
        E::InvalidCertificate(e) => NotReady::Tls(words::certificate(e)),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => NotReady::Tls(format!(
            "the server does not speak TLS on this port (it answered in plaintext): use {}",
            words::plaintext_form(scheme)
        )),
        E::AlertReceived(alert) => NotReady::Tls(format!(
            "the server ended the TLS handshake: {alert:?} (is it the server you meant, \
             with TLS on?)"
        )),
        E::PeerIncompatible(why) => NotReady::Tls(format!(
            "no TLS version or cipher in common with the server (TLS 1.2 and 1.3 are \
             offered): {why:?}"
        )),
        other => NotReady::Tls(format!("TLS: {other}")),
    }
}

/// What a plaintext check says of a close before any answer: through the
/// mesh, a target that is down; straight to a TLS port, what OpenSSL's
/// servers do with plaintext (Redis, RabbitMQ): both, where the scheme has
/// a TLS form.
pub fn closed_on_plaintext(scheme: &str) -> NotReady {
    match words::tls_form(scheme) {
        Some(form) => NotReady::ClosedHinting(format!("if the port speaks TLS, use {form}")),
        None => NotReady::Closed,
    }
}

/// What a plaintext check says of a TLS record in answer (a TLS server's
/// alert): the scheme to use.
pub fn speaks_tls(scheme: &str) -> NotReady {
    NotReady::Tls(match words::tls_form(scheme) {
        Some(form) => format!("the server speaks TLS: use {form}"),
        None => "the server speaks TLS (a TLS alert in answer to plaintext)".to_string(),
    })
}

/// Whether bytes a plaintext check read are a TLS record: an alert (a TLS
/// server refusing what it read) or a handshake.
pub fn is_tls_record(answer: &[u8]) -> bool {
    matches!(answer, [0x15 | 0x16, 0x03, 0..=0x04, ..])
}

/// The client certificate the gate never sends: asked for, recorded, none
/// given (the app will send its own).
#[derive(Debug)]
struct NoClientCert(Arc<AtomicBool>);

impl rustls::client::ResolvesClientCert for NoClientCert {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        _sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.0.store(true, Ordering::Relaxed);
        None
    }

    fn has_certs(&self) -> bool {
        false
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
