//! TLS where Debian has no server: a real SMTP server (aiosmtpd) plain,
//! with STARTTLS and with implicit TLS (`smtp://`, `?starttls=true`,
//! `smtps://`), and the scripted Kafka, MongoDB and Cassandra servers on
//! the reference clients' codecs, wrapped in Python's `ssl` as a managed
//! service's TLS-only port is (`?tls=true`). Trusted is ready; a CA the gate
//! was not given is not, naming the issuer; plaintext to the TLS port names
//! the TLS form; the drivers' opt-outs are ready with their WARN.

mod common;

use common::*;

#[test]
fn smtp_plain_starttls_and_implicit_tls_on_a_real_smtp_server() {
    let test = "smtp_plain_starttls_and_implicit_tls_on_a_real_smtp_server";
    let pki = Pki::new("test CA");
    let files = pki.server("smtp", &["localhost"], false);
    let ca = pki.ca_file();
    let mut servers = Vec::new();
    for (mode, files) in [
        ("plain", None),
        ("starttls", Some(&files)),
        ("tls", Some(&files)),
    ] {
        let Some(server) = smtp_server(test, closed_port(), mode, files) else {
            return;
        };
        server.until_ready(SCRIPTED_READY);
        servers.push(server);
    }
    let [plain, starttls, implicit] = [0, 1, 2].map(|n| servers[n].port);
    ready_or_refused([
        (format!("smtp://127.0.0.1:{plain}"), None, None),
        // Its 220 greeting comes in plaintext before any STARTTLS.
        (format!("smtp://127.0.0.1:{starttls}"), None, None),
        (
            format!("smtp://localhost:{starttls}?starttls=true"),
            Some(&*ca),
            None,
        ),
        (
            format!("smtp://localhost:{starttls}?starttls=true"),
            None,
            Some("is issued by CN=test CA"),
        ),
        (
            format!("smtp://127.0.0.1:{starttls}?starttls=true"),
            Some(&*ca),
            Some("is not for 127.0.0.1: it names localhost"),
        ),
        (
            format!("smtp://127.0.0.1:{plain}?starttls=true"),
            Some(&*ca),
            Some("does not offer STARTTLS"),
        ),
        (format!("smtps://localhost:{implicit}"), Some(&*ca), None),
        (
            format!("smtps://localhost:{implicit}"),
            None,
            Some("is issued by CN=test CA"),
        ),
        (
            format!("smtp://127.0.0.1:{implicit}"),
            Some(&*ca),
            Some("if the port speaks TLS at once, as 465 does, use smtps://"),
        ),
        (
            format!("smtps://127.0.0.1:{plain}"),
            Some(&*ca),
            Some("use smtp://"),
        ),
    ]);
}

#[test]
fn kafka_mongodb_and_cql_over_tls_on_the_reference_codecs() {
    let test = "kafka_mongodb_and_cql_over_tls_on_the_reference_codecs";
    let pki = Pki::new("test CA");
    let files = pki.server("scripted", &["localhost"], false);
    let ca = pki.ca_file();
    let mut servers = Vec::new();
    for kind in ["kafka", "mongodb", "cassandra"] {
        let tls = scripted_tls(test, kind, closed_port(), &files);
        let plain = match kind {
            "kafka" => kafka_broker(test, closed_port(), 0),
            "mongodb" => mongodb_server(test, closed_port(), "primary"),
            _ => cassandra_node(test, closed_port(), "up"),
        };
        let (Some(tls), Some(plain)) = (tls, plain) else {
            return;
        };
        tls.until_ready(SCRIPTED_READY);
        plain.until_ready(SCRIPTED_READY);
        servers.push((kind, tls, plain));
    }
    let mut cases = Vec::new();
    for (kind, tls, plain) in &servers {
        let url = |port: u16, query: &str| format!("{kind}://127.0.0.1:{port}{query}");
        let by_name = format!("{kind}://localhost:{}?tls=true", tls.port);
        cases.extend([
            (by_name.clone(), Some(&*ca), None),
            (by_name, None, Some("is issued by CN=test CA")),
            (
                url(tls.port, "?tls=true"),
                Some(&*ca),
                Some("is not for 127.0.0.1: it names localhost"),
            ),
            (url(tls.port, ""), Some(&*ca), Some("?tls=true")),
            (
                url(plain.port, "?tls=true"),
                Some(&*ca),
                Some(plaintext_port(kind)),
            ),
        ]);
    }
    let mongodb = servers[1].1.port;
    cases.push((
        format!(
            "mongodb://localhost:{mongodb}/?ssl=true&tlsCAFile={}",
            path_arg(&ca)
        ),
        None,
        None,
    ));
    ready_or_refused(cases);
}

#[test]
fn the_drivers_opt_outs_are_ready_with_a_warning_naming_the_target() {
    let test = "the_drivers_opt_outs_are_ready_with_a_warning_naming_the_target";
    let stranger = Pki::new("someone else's CA");
    let files = stranger.server("scripted", &["db.example.net"], false);
    let Some(server) = scripted_tls(test, "mongodb", closed_port(), &files) else {
        return;
    };
    server.until_ready(SCRIPTED_READY);
    let port = server.port;
    at_once(
        [
            ("tlsInsecure=true", "tlsInsecure=true"),
            (
                "tlsAllowInvalidCertificates=true",
                "tlsAllowInvalidCertificates=true",
            ),
        ],
        |(query, said)| {
            let target = format!("mongodb://127.0.0.1:{port}/?tls=true&{query}");
            let err = ready(&mut gate_tls_ready(&target, None));
            let warning = warn_line(&err);
            assert!(
                warning.contains(&format!("mongodb://127.0.0.1:{port}"))
                    && warning.contains("will not be verified")
                    && warning.contains(said),
                "{warning}"
            );
        },
    );
}

/// What the gate says of a ClientHello sent to each kind's plaintext port:
/// Kafka and Cassandra close on it (a frame size too large to read, a
/// header that is none), MongoDB reads its first bytes as a length under
/// its limit and waits for the rest.
fn plaintext_port(kind: &str) -> &'static str {
    match kind {
        "mongodb" => "a TLS server answers a ClientHello at once: is this port TLS?",
        _ => "if the port speaks plaintext, use",
    }
}
