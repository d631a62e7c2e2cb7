//! TLS to dependencies outside the mesh, against real servers with
//! certificates the test makes (rcgen): Python's `http.server` wrapped in
//! `ssl` for `https://`, Redis with `--tls-port` for `rediss://`,
//! PostgreSQL with `ssl=on` for `sslmode=`. Trusted is ready; an unknown
//! CA, a wrong name or an expired certificate is not, in words that say
//! which; plaintext to a TLS port and TLS to a plaintext port name the
//! scheme to use; the per-target opt-out is ready with its WARN; a server
//! that demands a client certificate is ready with one; through the mesh's
//! outbound listener with the target down, not ready.

mod common;

use common::*;

#[test]
fn https_is_verified_and_each_refusal_says_why() {
    let test = "https_is_verified_and_each_refusal_says_why";
    let pki = Pki::new("test CA");
    let stranger = Pki::new("someone else's CA");
    let good = pki.server("good", &["localhost", "127.0.0.1"], false);
    let wrong = pki.server("wrong", &["db.example.net"], false);
    let old = pki.server("old", &["127.0.0.1"], true);
    let unknown = stranger.server("unknown", &["127.0.0.1"], false);
    let mut servers = Vec::new();
    for files in [&good, &wrong, &old, &unknown] {
        let Some(server) = health_server_tls(test, closed_port(), files) else {
            return;
        };
        server.until_ready("listening");
        servers.push(server);
    }
    let url = |n: usize, fragment: &str| {
        format!(
            "https://127.0.0.1:{}/actuator/health{fragment}",
            servers[n].port
        )
    };
    let ca = Some(pki.ca_file());
    let ca = ca.as_deref();
    ready_or_refused([
        (url(0, ""), ca, None),
        // Expectations work as over http://.
        (url(0, "#json=/components/db/status=UP"), ca, None),
        (
            url(1, ""),
            ca,
            Some("is not for 127.0.0.1: it names db.example.net"),
        ),
        (
            url(2, ""),
            ca,
            Some("(CN=127.0.0.1) expired at 2021-01-01 00:00:00 UTC"),
        ),
        (
            url(3, ""),
            ca,
            Some(
                "(CN=127.0.0.1) is issued by CN=someone else's CA, O=linkerd-await tests, \
                     which no trusted root vouches for: give that CA with --ca-file",
            ),
        ),
        // Without --ca-file, the roots of the machine (or Mozilla's).
        (url(0, ""), None, Some("is issued by CN=test CA")),
    ]);
}

#[test]
fn the_opt_out_is_ready_with_a_warning_naming_the_target() {
    let test = "the_opt_out_is_ready_with_a_warning_naming_the_target";
    let stranger = Pki::new("someone else's CA");
    let files = stranger.server("unknown", &["db.example.net"], false);
    let Some(server) = health_server_tls(test, closed_port(), &files) else {
        return;
    };
    server.until_ready("listening");
    let target = format!("https://127.0.0.1:{}/actuator/health#insecure", server.port);
    let err = ready(&mut gate_tls_ready(&target, None));
    let warning = warn_line(&err);
    assert!(
        warning.contains(&format!(
            "https://127.0.0.1:{}/actuator/health: the server's certificate will not be verified (#insecure)",
            server.port
        )),
        "{warning}"
    );
}

#[test]
fn plaintext_to_a_tls_port_and_tls_to_a_plaintext_port_name_the_scheme_to_use() {
    let test = "plaintext_to_a_tls_port_and_tls_to_a_plaintext_port_name_the_scheme_to_use";
    let pki = Pki::new("test CA");
    let files = pki.server("good", &["127.0.0.1"], false);
    let Some(tls) = health_server_tls(test, closed_port(), &files) else {
        return;
    };
    let Some(plain) = health_server(test, closed_port()) else {
        return;
    };
    tls.until_ready("listening");
    plain.until_ready("listening");
    let ca = pki.ca_file();
    not_ready(
        &mut gate_tls(
            &format!("https://127.0.0.1:{}/actuator/health", plain.port),
            Some(&ca),
        ),
        "the server does not speak TLS on this port (it answered in plaintext): use http://",
    );
}

#[test]
fn rediss_is_ready_on_a_real_redis_and_redis_to_its_tls_port_says_use_rediss() {
    let test = "rediss_is_ready_on_a_real_redis_and_redis_to_its_tls_port_says_use_rediss";
    let pki = Pki::new("test CA");
    let files = pki.server("redis", &["localhost", "127.0.0.1"], false);
    let ca = pki.ca_file();
    let (port, demanding) = (closed_port(), closed_port());
    let tls_args = |port: u16, auth: &'static str| {
        vec![
            "--port".to_string(),
            "0".to_string(),
            "--tls-port".to_string(),
            port.to_string(),
            "--tls-cert-file".to_string(),
            path_arg(&files.cert).to_string(),
            "--tls-key-file".to_string(),
            path_arg(&files.key).to_string(),
            "--tls-ca-cert-file".to_string(),
            path_arg(&ca).to_string(),
            "--tls-auth-clients".to_string(),
            auth.to_string(),
        ]
    };
    let args = tls_args(port, "no");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some(server) = redis_on(test, port, &args) else {
        return;
    };
    let args = tls_args(demanding, "yes");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let Some(strict) = redis_on(test, demanding, &args) else {
        return;
    };
    server.until_ready(REDIS_READY);
    strict.until_ready(REDIS_READY);
    ready(&mut gate_tls_ready(
        &format!("rediss://localhost:{port}"),
        Some(&ca),
    ));
    not_ready(
        &mut gate_tls(&format!("redis://127.0.0.1:{port}"), Some(&ca)),
        "use rediss://",
    );
    // Redis with --tls-auth-clients yes: it proved itself, then asked.
    let err = ready(&mut gate_tls_ready(
        &format!("rediss://127.0.0.1:{demanding}"),
        Some(&ca),
    ));
    assert!(
        err.lines().any(|l| l.contains("WARN")
            && l.contains(&format!("rediss://127.0.0.1:{demanding}"))
            && l.contains("demands a client certificate; the gate sends none")),
        "{err}"
    );
}

/// Redis listening on `port` only as `args` say (`--port 0`: no plaintext
/// port): [`redis`]'s own `--port` is overridden by the later one.
fn redis_on(test: &str, port: u16, args: &[&str]) -> Option<RealServer> {
    let mut server = redis(test, closed_port(), args)?;
    server.port = port;
    Some(server)
}

#[test]
fn postgres_sslmode_is_read_as_libpq_reads_it_on_a_real_server() {
    let test = "postgres_sslmode_is_read_as_libpq_reads_it_on_a_real_server";
    let pki = Pki::new("test CA");
    let files = pki.server("postgres", &["localhost", "127.0.0.1"], false);
    let ca = pki.ca_file();
    let Some(server) = postgres_tls(test, closed_port(), &files) else {
        return;
    };
    let Some(plain) = postgres(test, closed_port()) else {
        return;
    };
    server.until_ready(POSTGRES_READY);
    plain.until_ready(POSTGRES_READY);
    let at = |port: u16, query: &str| format!("postgres://127.0.0.1:{port}/postgres?{query}");
    let ca_arg = format!("sslrootcert={}", path_arg(&ca));
    ready_or_refused(
        [
            (at(server.port, "sslmode=require"), None),
            (
                at(server.port, &format!("sslmode=verify-full&{ca_arg}")),
                None,
            ),
            (
                at(server.port, "sslmode=verify-full"),
                Some("is issued by CN=test CA"),
            ),
            (
                format!(
                    "postgres://localhost:{}/postgres?sslmode=verify-full&{ca_arg}",
                    server.port
                ),
                None,
            ),
            (
                at(plain.port, "sslmode=require"),
                Some("the server does not accept TLS (it answered N to SSLRequest)"),
            ),
            (at(plain.port, "sslmode=prefer"), None),
        ]
        .map(|(target, refused)| (target, None, refused)),
    );
}

#[test]
fn a_tls_target_down_behind_the_outbound_proxy_is_not_ready() {
    let pki = Pki::new("test CA");
    let down = RefusedPort::new();
    let outbound = Outbound::start(local(down.port)).expect("outbound");
    // TLS by the scheme, and by the drivers' parameters (where the
    // protocol's first bytes come before the handshake: closed there).
    let forms = [
        "https://",
        "rediss://",
        "amqps://",
        "smtps://",
        "grpcs://",
        "tls://",
        "smtp://?starttls=true",
        "postgres://?sslmode=verify-full",
        "mysql://?ssl-mode=VERIFY_IDENTITY",
        "mongodb://?tls=true",
        "kafka://?tls=true",
        "cassandra://?tls=true",
    ];
    at_once(forms, |form| {
        let (scheme, query) = form.split_once("://").expect("a form");
        let target = format!("{scheme}://127.0.0.1:{}{query}", outbound.port());
        let err = not_ready(
            &mut gate_tls(&target, Some(&pki.ca_file())),
            "1 dependency not ready",
        );
        assert!(err.contains("connection closed without an answer"), "{err}");
    });
}

#[test]
fn a_ca_file_that_cannot_be_used_is_a_usage_error_and_none_is_read_without_tls() {
    let dir = temp_dir();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").expect("write");
    for (ca, needle) in [
        (dir.path().join("missing.pem"), "cannot read it"),
        (junk.clone(), "holds no PEM certificate"),
    ] {
        let out = output(&mut gate_tls("rediss://127.0.0.1:1", Some(&ca)));
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains("--ca-file") && err.contains(needle), "{err}");
    }
    // No TLS target: the file is never read, so it cannot be refused.
    let down = RefusedPort::new();
    not_ready(
        &mut gate_tls(
            &format!("redis://127.0.0.1:{}", down.port),
            Some(&dir.path().join("missing.pem")),
        ),
        "connection refused",
    );
}
