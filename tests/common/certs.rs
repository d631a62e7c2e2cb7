//! Certificates for the TLS tests, made by rcgen in a temp dir: a CA the
//! gate is told to trust, server certificates it signs (for the names the
//! test connects by, for other names, expired), and a second CA the gate
//! knows nothing of. PEM files, as servers and `--ca-file` take them.
//! And the gate for one TLS target, with what ready and not ready look like.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, date_time_ymd,
};

/// A CA and the files of what it signed.
pub struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A server's certificate and key files.
pub struct ServerFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Pki {
    /// A CA named `name` (its CN).
    pub fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "linkerd-await tests");
        let key = KeyPair::generate().expect("CA key");
        let ca = CertifiedIssuer::self_signed(params, key).expect("CA certificate");
        let dir = super::temp_dir();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("write the CA");
        Pki { dir, ca }
    }

    /// The CA's certificate (PEM).
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A server certificate for `names` (DNS names or IP addresses),
    /// valid from 2020 to 2100, or expired (2020 to 2021).
    pub fn server(&self, file: &str, names: &[&str], expired: bool) -> ServerFiles {
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        let mut params = CertificateParams::new(names.clone()).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, &names[0]);
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = if expired {
            date_time_ymd(2021, 1, 1)
        } else {
            date_time_ymd(2100, 1, 1)
        };
        let key = KeyPair::generate().expect("server key");
        let cert = params
            .signed_by(&key, &self.ca)
            .expect("server certificate");
        let files = ServerFiles {
            cert: self.dir.path().join(format!("{file}.crt")),
            key: self.dir.path().join(format!("{file}.key")),
        };
        // The CA after the server's own: a server that sends its chain.
        std::fs::write(&files.cert, cert.pem() + &self.ca.pem()).expect("write the cert");
        std::fs::write(&files.key, key.serialize_pem()).expect("write the key");
        files
    }

    /// Where the files are (for servers that want them readable by their
    /// own user).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

/// The gate, unmeshed, for `target` that must end not ready, trusting `ca`
/// (if any); the app echoes `started`. Each attempt may take 2 s and the
/// wait 5 s: a handshake under qemu on a loaded machine can take most of
/// a second, and the reason shown is the last attempt's, which must be the
/// refusal, not a timeout.
pub fn gate_tls(target: &str, ca: Option<&Path>) -> Command {
    gate_tls_within(target, ca, "5s")
}

/// [`gate_tls`] for a target that must be ready: the wait ends as soon as
/// it is, so its bound only bounds a failure.
pub fn gate_tls_ready(target: &str, ca: Option<&Path>) -> Command {
    gate_tls_within(target, ca, "20s")
}

fn gate_tls_within(target: &str, ca: Option<&Path>, timeout: &str) -> Command {
    let mut cmd = super::unmeshed(timeout);
    cmd.args(["--wait-for", target, "--attempt-timeout", "2s"]);
    if let Some(ca) = ca {
        cmd.arg("--ca-file").arg(ca);
    }
    super::app(&mut cmd, "echo started", &[]);
    cmd
}

/// Runs the gate: ready, its app started; its stderr.
pub fn ready(cmd: &mut Command) -> String {
    let out = super::output(cmd);
    let err = super::stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert_eq!(out.stdout, b"started\n", "{err}");
    err
}

/// Runs the gate: not ready (69), the app not started, `needle` in its
/// stderr; its stderr.
pub fn not_ready(cmd: &mut Command, needle: &str) -> String {
    let out = super::output(cmd);
    let err = super::stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(out.stdout.is_empty(), "the app started: {err}");
    assert!(err.contains(needle), "{needle:?} not in:\n{err}");
    err
}

/// The WARN line of a gate's stderr (the opt-outs', the client
/// certificate's).
pub fn warn_line(err: &str) -> &str {
    err.lines()
        .find(|l| l.contains("WARN"))
        .unwrap_or_else(|| panic!("no WARN in:\n{err}"))
}

/// Runs each `(target, refused)` at once: ready where `refused` is `None`,
/// else not ready with it in the reason.
pub fn ready_or_refused<'a>(
    cases: impl IntoIterator<Item = (String, Option<&'a Path>, Option<&'a str>)>,
) {
    super::at_once(cases, |(target, ca, refused)| match refused {
        None => drop(ready(&mut gate_tls_ready(&target, ca))),
        Some(needle) => drop(not_ready(&mut gate_tls(&target, ca), needle)),
    });
}
