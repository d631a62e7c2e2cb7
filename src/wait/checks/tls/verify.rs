//! webpki's verification of the server's certificate, as the target's URL
//! asks for it (full, chain only, or skipped by an explicit opt-out), its
//! failures in words (`words.rs`). Handshake signatures are always checked.

use std::sync::Arc;

use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::{
        WebPkiServerVerifier,
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    },
    crypto::CryptoProvider,
    pki_types::{CertificateDer, ServerName, UnixTime},
};

use super::words;
use crate::config::targets::tls::Verify;

/// webpki's verification, as the target's URL asks for it, its failures
/// in words ([`words::certificate`]).
#[derive(Debug)]
pub(super) struct Worded {
    pub webpki: Arc<WebPkiServerVerifier>,
    pub verify: Verify,
    pub provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Worded {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::{CertificateError as C, Error as E};
        if let Verify::Skipped(_) = self.verify {
            return Ok(ServerCertVerified::assertion());
        }
        match self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            // webpki checks the chain before the name: a name error is of
            // a certificate whose chain holds (`verify-ca`).
            Err(E::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }))
                if self.verify == Verify::Chain =>
            {
                Ok(ServerCertVerified::assertion())
            }
            Err(E::InvalidCertificate(e)) => Err(E::InvalidCertificate(C::Other(
                rustls::OtherError(Arc::new(words::Refused(words::refused(&e, end_entity)))),
            ))),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
