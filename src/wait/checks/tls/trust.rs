//! What TLS checks trust: read once, when the wait for the targets begins,
//! and only if one of them speaks TLS (a gate without TLS targets never
//! reads a root, nor holds one in memory).
//!
//! Roots: the image's bundle where it has one (`SSL_CERT_FILE`,
//! `SSL_CERT_DIR`, the Debian, Alpine and RHEL paths: rustls-native-certs),
//! else Mozilla's, built in (webpki-roots), so `FROM scratch` works; plus
//! `--ca-file`. A URL's own CA file (`sslrootcert=`, `tlsCAFile=`,
//! `ssl-ca=`) replaces them for that target, as its driver does.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, OnceLock, atomic::AtomicBool},
};

use rustls::{
    ClientConfig, RootCertStore,
    client::WebPkiServerVerifier,
    crypto::{CryptoProvider, ring},
    pki_types::{CertificateDer, pem::PemObject},
};

use super::{NoClientCert, NotReady, verify::Worded};
use crate::config::targets::{
    Target,
    tls::{Secure, Tls},
};

/// The roots, read.
struct Trust {
    provider: Arc<CryptoProvider>,
    /// The image's roots (or Mozilla's), and `--ca-file`'s.
    roots: Arc<RootCertStore>,
    /// Each URL's own CA file, read.
    files: Vec<(PathBuf, Arc<RootCertStore>)>,
}

static TRUST: OnceLock<Trust> = OnceLock::new();

/// Reads the roots the targets need, if any target speaks TLS: `Err` names
/// the file that cannot be used and why (a usage error: waiting would not
/// mend it).
pub fn prepare(targets: &[Target], ca_file: Option<&Path>) -> Result<(), String> {
    let _ = CA_FILE.set(ca_file.map(Path::to_path_buf));
    let mut secured = Vec::new();
    for target in targets {
        collect(target, &mut secured);
    }
    if secured.is_empty() || TRUST.get().is_some() {
        return Ok(());
    }
    let trust = load(ca_file, secured.iter().filter_map(|s| s.ca_file.as_ref()))?;
    let _ = TRUST.set(trust);
    Ok(())
}

/// `--ca-file`, kept for a server that asks for TLS when no URL did.
static CA_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// The roots, read now if no target needed them at start: a NATS server
/// that requires TLS of a `nats://` client.
fn trust() -> Result<&'static Trust, String> {
    if let Some(trust) = TRUST.get() {
        return Ok(trust);
    }
    let ca_file = CA_FILE.get().and_then(Option::as_deref);
    let trust = load(ca_file, std::iter::empty())?;
    Ok(TRUST.get_or_init(|| trust))
}

/// The image's roots (or Mozilla's) with `ca_file`'s, and each URL's own
/// CA file.
fn load<'a>(
    ca_file: Option<&Path>,
    own_files: impl Iterator<Item = &'a PathBuf>,
) -> Result<Trust, String> {
    let provider = provider();
    let mut roots = system_roots();
    if let Some(file) = ca_file {
        let added = read_pem(file).map_err(|e| format!("--ca-file {}: {e}", file.display()))?;
        roots.add_parsable_certificates(added);
    }
    let mut files: Vec<(PathBuf, Arc<RootCertStore>)> = Vec::new();
    for file in own_files {
        if files.iter().any(|(known, _)| known == file) {
            continue;
        }
        let mut own = RootCertStore::empty();
        let certs = read_pem(file).map_err(|e| format!("CA file {}: {e}", file.display()))?;
        let (added, _) = own.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!(
                "CA file {}: no certificate in it can be a root",
                file.display()
            ));
        }
        files.push((file.clone(), Arc::new(own)));
    }
    Ok(Trust {
        provider,
        roots: Arc::new(roots),
        files,
    })
}

/// Every TLS setting among the targets (inside `env:` and host lists too).
fn collect<'a>(target: &'a Target, into: &mut Vec<&'a Secure>) {
    match target {
        Target::Http {
            tls: Tls::On(secure),
            ..
        } => into.push(secure),
        Target::AnyOf(targets) => targets.iter().for_each(|t| collect(t, into)),
        Target::Env { target, .. } => collect(target, into),
        other => {
            if let Some(Tls::On(secure)) = other.endpoint().map(|at| &at.1) {
                into.push(secure);
            }
        }
    }
}

/// ring's provider. rustls 0.23.48 marks it deprecated for its lack of a
/// post-quantum key exchange (X25519MLKEM768): that protects recorded
/// traffic from future decryption, and a readiness check carries no
/// secret; ring is what builds for both musl targets with clang alone.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// The image's roots, else Mozilla's.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

/// The certificates of a PEM file.
fn read_pem(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(file)
        .map_err(pem_error)?
        .collect::<Result<_, _>>()
        .map_err(pem_error)?;
    if certs.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_string());
    }
    Ok(certs)
}

fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => format!("cannot read it: {e}"),
        other => format!("not a PEM file: {other:?}"),
    }
}

/// The config of one connection to a target secured as `secure`
/// (`asked` records a request for a client certificate); `alpn`: the
/// protocols offered (gRPC needs `h2`).
pub(super) fn config(
    secure: &Secure,
    asked: Arc<AtomicBool>,
    alpn: &[&[u8]],
) -> Result<Arc<ClientConfig>, NotReady> {
    let mut config = client_config(secure, asked).map_err(NotReady::Tls)?;
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

/// A connection's config, without ALPN: as such, the one reqwest uses for
/// an `https://` target.
pub fn client_config(secure: &Secure, asked: Arc<AtomicBool>) -> Result<ClientConfig, String> {
    let trust = trust()?;
    let roots = match &secure.ca_file {
        Some(file) => trust
            .files
            .iter()
            .find(|(known, _)| known == file)
            .map(|(_, roots)| roots.clone())
            .ok_or("a CA file the wait did not read")?,
        None => trust.roots.clone(),
    };
    let verifier = Worded {
        webpki: WebPkiServerVerifier::builder_with_provider(roots, trust.provider.clone())
            .build()
            .map_err(|e| format!("TLS roots: {e}"))?,
        verify: secure.verify,
        provider: trust.provider.clone(),
    };
    let mut config = ClientConfig::builder_with_provider(trust.provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_cert_resolver(Arc::new(NoClientCert(asked)));
    without_resumption(&mut config);
    Ok(config)
}

/// No session cache: each check's config is its own (it records its own
/// certificate request), so a cache would never be read again, and
/// rustls's default one is a map sized for 256 servers, allocated for
/// every config, the admin client's included.
fn without_resumption(config: &mut ClientConfig) {
    config.resumption = rustls::client::Resumption::disabled();
}

/// The config of the admin client, which never speaks TLS (its URLs are
/// `http://` on loopback): reqwest wants one; this one trusts nothing.
pub fn plaintext_only() -> ClientConfig {
    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(RootCertStore::empty()))
        .map(|b| b.with_no_client_auth())
        .unwrap_or_else(|_| {
            // The ring provider supports the default versions; this is
            // never reached, and would still trust nothing.
            ClientConfig::builder()
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth()
        });
    without_resumption(&mut config);
    config
}
