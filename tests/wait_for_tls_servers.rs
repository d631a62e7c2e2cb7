//! TLS against the real servers of Debian's packages, each with a
//! certificate the test makes: MariaDB (`ssl-mode=`), nats-server with a
//! `tls` block (`tls://`, and `nats://` upgrading when `INFO` says
//! `tls_required`), etcd serving gRPC health over TLS (`grpcs://`) and
//! RabbitMQ's TLS listener (`amqps://`). For each: trusted is ready; a CA
//! the gate was not given is not, naming the issuer, nor a name the
//! certificate does not hold; plaintext to the TLS port names the TLS form,
//! and TLS to a plaintext port the plaintext one. (An expired certificate
//! is refused in the same words whatever the protocol: `wait_for_tls.rs`.)

mod common;

use common::*;

/// Each certificate names `localhost` only: by that name it is trusted, by
/// the address the name resolves to it is not.
const WRONG_NAME: &str = "is not for 127.0.0.1: it names localhost";

#[test]
fn mysql_ssl_mode_on_a_real_mariadb_with_tls() {
    let test = "mysql_ssl_mode_on_a_real_mariadb_with_tls";
    let pki = Pki::new("test CA");
    let files = pki.server("mariadb", &["localhost"], false);
    let ca = pki.ca_file();
    let options = [
        format!("--ssl-cert={}", files.cert.display()),
        format!("--ssl-key={}", files.key.display()),
        format!("--ssl-ca={}", ca.display()),
    ];
    let Some(server) = mariadb_with(test, closed_port(), &options) else {
        return;
    };
    let Some(plain) = mariadb(test, closed_port()) else {
        return;
    };
    server.until_ready(MARIADB_READY);
    plain.until_ready(MARIADB_READY);
    let at = |port: u16, query: &str| format!("mysql://127.0.0.1:{port}/?{query}");
    let ca_arg = format!("ssl-ca={}", path_arg(&ca));
    let by_name = format!(
        "mysql://localhost:{}/?ssl-mode=VERIFY_IDENTITY",
        server.port
    );
    ready_or_refused([
        (by_name.clone(), Some(&*ca), None),
        (
            at(server.port, "ssl-mode=VERIFY_IDENTITY"),
            Some(&*ca),
            Some(WRONG_NAME),
        ),
        (
            at(server.port, &format!("sslMode=VERIFY_CA&{ca_arg}")),
            None,
            None,
        ),
        (at(server.port, "ssl-mode=REQUIRED"), None, None),
        (by_name, None, Some("is issued by CN=test CA")),
        (
            at(plain.port, "ssl-mode=VERIFY_IDENTITY"),
            Some(&*ca),
            Some("the server does not offer TLS (no CLIENT_SSL in its greeting)"),
        ),
    ]);
}

#[test]
fn nats_tls_and_tls_required_on_a_real_nats_server() {
    let test = "nats_tls_and_tls_required_on_a_real_nats_server";
    let pki = Pki::new("test CA");
    let files = pki.server("nats", &["localhost"], false);
    let ca = pki.ca_file();
    let block = format!(
        "tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n}}",
        files.cert.display(),
        files.key.display()
    );
    let Some(server) = nats_with(test, closed_port(), &block) else {
        return;
    };
    let Some(plain) = nats(test, closed_port()) else {
        return;
    };
    server.until_ready(NATS_READY);
    plain.until_ready(NATS_READY);
    let (tls, plain) = (server.port, plain.port);
    ready_or_refused([
        (format!("tls://localhost:{tls}"), Some(&*ca), None),
        // The INFO says tls_required: nats:// upgrades, as clients do.
        (format!("nats://localhost:{tls}"), Some(&*ca), None),
        (
            format!("tls://localhost:{tls}"),
            None,
            Some("is issued by CN=test CA"),
        ),
        (
            format!("tls://127.0.0.1:{tls}"),
            Some(&*ca),
            Some(WRONG_NAME),
        ),
        (
            format!("tls://127.0.0.1:{plain}"),
            Some(&*ca),
            Some("use nats://"),
        ),
    ]);
}

#[test]
fn grpcs_on_a_real_etcd_serving_its_clients_over_tls() {
    let test = "grpcs_on_a_real_etcd_serving_its_clients_over_tls";
    let pki = Pki::new("test CA");
    let files = pki.server("etcd", &["localhost"], false);
    let ca = pki.ca_file();
    let Some(server) = etcd_tls(test, closed_port(), &files) else {
        return;
    };
    let Some(plain) = etcd(test, closed_port()) else {
        return;
    };
    server.until_ready(ETCD_READY);
    plain.until_ready(ETCD_READY);
    let port = server.port;
    ready_or_refused([
        (format!("grpcs://localhost:{port}"), Some(&*ca), None),
        (
            format!("grpcs://localhost:{port}"),
            None,
            Some("is issued by CN=test CA"),
        ),
        (
            format!("grpcs://127.0.0.1:{port}"),
            Some(&*ca),
            Some(WRONG_NAME),
        ),
        (
            format!("grpc://127.0.0.1:{port}"),
            Some(&*ca),
            Some("use grpcs://"),
        ),
        (
            format!("grpcs://127.0.0.1:{}", plain.port),
            Some(&*ca),
            Some("use grpc://"),
        ),
    ]);
}

#[test]
fn amqps_on_a_real_rabbitmq_tls_listener() {
    let test = "amqps_on_a_real_rabbitmq_tls_listener";
    let pki = Pki::new("test CA");
    let files = pki.server("rabbitmq", &["localhost"], false);
    let ca = pki.ca_file();
    let tls = closed_port();
    let Some(server) = rabbitmq_tls(test, closed_port(), (tls, &files)) else {
        return;
    };
    server.until_ready(RABBITMQ_READY);
    let plain = server.port;
    ready_or_refused([
        (format!("amqps://localhost:{tls}"), Some(&*ca), None),
        (
            format!("amqps://localhost:{tls}"),
            None,
            Some("is issued by CN=test CA"),
        ),
        (
            format!("amqps://127.0.0.1:{tls}"),
            Some(&*ca),
            Some(WRONG_NAME),
        ),
        (
            format!("amqp://127.0.0.1:{tls}"),
            Some(&*ca),
            Some("use amqps://"),
        ),
        (
            format!("amqps://127.0.0.1:{plain}"),
            Some(&*ca),
            Some("use amqp://"),
        ),
    ]);
}
