//! TLS in a `--wait-for` URL, as each family's apps write it: whether the
//! connection is encrypted, how the server is verified, and against which
//! CA. By the scheme (`rediss://`, `amqps://`, `grpcs://`, `https://`,
//! `smtps://`, NATS's `tls://`), by the drivers' own query parameters
//! (libpq's `sslmode`/`sslrootcert`, MySQL's `ssl-mode`, MongoDB's
//! `tls`/`ssl`/`tlsCAFile`/`tlsInsecure`, `tls=true` for Kafka and CQL,
//! `starttls=true` for SMTP), and the gate's one opt-out, `#insecure` in
//! the fragment (where the gate's own options live: an `https://` URL's
//! query is the app's request).
//!
//! Verification is on unless a URL opts out; nothing here reads a file
//! (the CA files are read when the wait begins: `wait::checks::tls`).

use std::path::PathBuf;

use reqwest::Url;

/// How a network target's connection is secured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Tls {
    /// Plaintext.
    #[default]
    Off,
    /// Encrypted, the server verified as `verify` says.
    On(Secure),
}

/// An encrypted target's trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secure {
    pub verify: Verify,
    /// The URL's own CA (`sslrootcert=`, `tlsCAFile=`, `ssl-ca=`): the only
    /// roots trusted for this target, as the drivers use it.
    pub ca_file: Option<PathBuf>,
}

impl Secure {
    /// Chain and name, against the default roots: TLS a server asks for
    /// when the URL did not (NATS's `tls_required`).
    pub fn verified() -> Secure {
        Secure {
            verify: Verify::Full,
            ca_file: None,
        }
    }
}

/// How much of the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Chain and host name: the default.
    Full,
    /// Chain only (`sslmode=verify-ca`, `tlsAllowInvalidHostnames=true`).
    Chain,
    /// Nothing: encrypted only, an explicit per-target opt-in, logged as a
    /// WARN naming the target (`sslmode=require`, `#insecure`).
    Skipped(&'static str),
}

/// What one query parameter says.
enum Said {
    Off,
    On,
    Verify(Verify),
    /// `None`: the system's roots (libpq 16's `sslrootcert=system`).
    Ca(Option<PathBuf>),
}

/// The TLS of a URL whose scheme says `implicit` (TLS from the first byte),
/// from its query parameters and the fragment's `insecure`; the URL loses
/// the fragment item it read.
pub(super) fn read(url: &mut Url, implicit: bool) -> Result<Tls, String> {
    let scheme = url.scheme().to_string();
    // The SRV form takes the parameters of the plain one.
    let family = scheme.strip_suffix("+srv").unwrap_or(&scheme);
    let (mut on, mut verify, mut ca_file) = (implicit, Verify::Full, None);
    for (name, value) in url.query_pairs() {
        match parameter(family, &name, &value)? {
            Some(Said::Off) => on = false,
            Some(Said::On) => on = true,
            Some(Said::Verify(v)) => (on, verify) = (true, v),
            Some(Said::Ca(file)) => ca_file = file,
            None => {}
        }
    }
    // libpq: with a root certificate, `require` behaves as `verify-ca`.
    if verify == Verify::Skipped(REQUIRE) && ca_file.is_some() {
        verify = Verify::Chain;
    }
    if take_insecure(url) {
        if !on {
            return Err(format!(
                "#insecure applies to TLS targets only ({scheme}:// is plaintext here)"
            ));
        }
        verify = Verify::Skipped("#insecure");
    }
    Ok(if on {
        Tls::On(Secure { verify, ca_file })
    } else {
        Tls::Off
    })
}

const REQUIRE: &str = "sslmode=require";

/// One query parameter, as the scheme's drivers read it (`None`: not one
/// about TLS).
fn parameter(scheme: &str, name: &str, value: &str) -> Result<Option<Said>, String> {
    let lower = value.to_ascii_lowercase();
    let said = match (scheme, name) {
        ("postgres" | "postgresql", "sslmode") => match lower.as_str() {
            // libpq's `allow` and `prefer` take plaintext when the server
            // offers nothing: a readiness check sends no secret either way.
            "disable" | "allow" | "prefer" => Said::Off,
            "require" => Said::Verify(Verify::Skipped(REQUIRE)),
            "verify-ca" => Said::Verify(Verify::Chain),
            "verify-full" => Said::Verify(Verify::Full),
            _ => {
                return Err(
                    "sslmode= takes disable, allow, prefer, require, verify-ca or verify-full"
                        .to_string(),
                );
            }
        },
        ("mysql" | "mariadb", "ssl-mode" | "sslMode" | "sslmode") => {
            match lower.replace('_', "-").as_str() {
                "disabled" | "disable" | "preferred" | "prefer" => Said::Off,
                "required" | "require" | "trust" => {
                    Said::Verify(Verify::Skipped("ssl-mode=REQUIRED"))
                }
                "verify-ca" => Said::Verify(Verify::Chain),
                "verify-identity" | "verify-full" => Said::Verify(Verify::Full),
                _ => {
                    return Err(
                        "ssl-mode= takes DISABLED, PREFERRED, REQUIRED, VERIFY_CA or \
                                VERIFY_IDENTITY (or MariaDB's disable, trust, verify-ca, \
                                verify-full)"
                            .to_string(),
                    );
                }
            }
        }
        ("mongodb" | "kafka" | "cassandra" | "cql", "tls" | "ssl") | ("smtp", "starttls") => {
            match lower.as_str() {
                "true" => Said::On,
                "false" => Said::Off,
                _ => return Err(format!("{name}= takes true or false")),
            }
        }
        ("mongodb", "tlsInsecure") if lower == "true" => {
            Said::Verify(Verify::Skipped("tlsInsecure=true"))
        }
        ("mongodb", "tlsAllowInvalidCertificates") if lower == "true" => {
            Said::Verify(Verify::Skipped("tlsAllowInvalidCertificates=true"))
        }
        ("mongodb", "tlsAllowInvalidHostnames") if lower == "true" => Said::Verify(Verify::Chain),
        ("postgres" | "postgresql", "sslrootcert")
        | ("mongodb", "tlsCAFile")
        | ("mysql" | "mariadb", "ssl-ca" | "sslCa") => {
            if value.is_empty() {
                return Err(format!("{name}= names no file"));
            }
            Said::Ca((value != "system").then(|| PathBuf::from(value)))
        }
        _ => return Ok(None),
    };
    Ok(Some(said))
}

/// Takes `insecure` from the fragment's `&`-separated items; true if it
/// was there.
fn take_insecure(url: &mut Url) -> bool {
    let Some(fragment) = url.fragment() else {
        return false;
    };
    if !fragment.split('&').any(|item| item == "insecure") {
        return false;
    }
    let rest: Vec<&str> = fragment.split('&').filter(|i| *i != "insecure").collect();
    let rest = rest.join("&");
    url.set_fragment((!rest.is_empty()).then_some(rest.as_str()));
    true
}
