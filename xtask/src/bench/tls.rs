//! Part of section 6: what one TLS target costs the gate. A server of the
//! bench's own on loopback answers every request with a fixed status, over
//! TLS (rustls, a certificate rcgen makes for 127.0.0.1, its CA given with
//! `--ca-file`) or in plaintext: the same server either way, so the
//! difference is TLS's. Measured: the gate's memory while it waits for one
//! `https://` target answering 503 against one `http://` target, and the
//! CPU (user+sys) of a whole run to ready against one that answers 200
//! (start, proxy check, roots read, handshake, request, exec of the app).

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    sync::Arc,
    time::Duration,
};

use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::bench::{
    footprint::Memory,
    measure::Ctx,
    process::Spawned,
    proxy::Proxy,
    stats::median,
    wait_for::{LIMIT, memory},
};

pub struct TlsCost {
    pub waiting_https: Memory,
    pub waiting_http: Memory,
    /// CPU of a run to ready, one target each.
    pub cpu_https_ms: Vec<f64>,
    pub cpu_http_ms: Vec<f64>,
}

/// Both memory samples, and `runs` runs to ready of each kind, alternated.
pub fn measure(ctx: &Ctx, runs: usize) -> Result<TlsCost, String> {
    let (config, ca) = server_config(ctx)?;
    let ca = ca.display().to_string();
    let https_503 = Server::start(Some(config.clone()), 503)?;
    let http_503 = Server::start(None, 503)?;
    let https_200 = Server::start(Some(config), 200)?;
    let http_200 = Server::start(None, 200)?;
    let target = |scheme: &str, port: u16| {
        vec![
            "--wait-for".to_string(),
            format!("{scheme}://127.0.0.1:{port}/health"),
            "--ca-file".to_string(),
            ca.clone(),
        ]
    };
    let note = "proxy ready; one target on loopback answering 503 (the same server, \
                over TLS or not), checked at the least cap, 100 ms";
    let waiting_https = memory(
        ctx,
        "waiting for one https:// target (503)",
        target("https", https_503.port),
        note,
    )?;
    let waiting_http = memory(
        ctx,
        "waiting for one http:// target (503)",
        target("http", http_503.port),
        note,
    )?;
    let (mut cpu_https_ms, mut cpu_http_ms) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        cpu_https_ms.push(run_to_ready(ctx, &target("https", https_200.port))?);
        cpu_http_ms.push(run_to_ready(ctx, &target("http", http_200.port))?);
    }
    Ok(TlsCost {
        waiting_https,
        waiting_http,
        cpu_https_ms,
        cpu_http_ms,
    })
}

/// The CPU (user+sys, ms) of one gate run that ends in the app's start.
fn run_to_ready(ctx: &Ctx, target: &[String]) -> Result<f64, String> {
    let proxy = Proxy::start(0).map_err(|e| format!("proxy: {e}"))?;
    let args: Vec<&str> = target.iter().map(String::as_str).collect();
    let mut cmd = ctx.gate(proxy.port(), &args);
    cmd.arg("--").arg(&ctx.true_bin);
    ctx.capture_stderr(&mut cmd)?;
    let finished = Spawned::start(&mut cmd, LIMIT)
        .and_then(Spawned::wait)
        .map_err(|e| format!("gate: {e}"))?;
    ctx.expect_code("one TLS target, ready", &finished, 0)?;
    Ok(finished.cpu_ms())
}

/// A certificate for 127.0.0.1 signed by a CA of its own, whose PEM is
/// written for `--ca-file`.
fn server_config(ctx: &Ctx) -> Result<(Arc<ServerConfig>, std::path::PathBuf), String> {
    let fail = |e: rcgen::Error| format!("certificates: {e}");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(fail)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca_key = rcgen::KeyPair::generate().map_err(fail)?;
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).map_err(fail)?;
    let key = rcgen::KeyPair::generate().map_err(fail)?;
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .map_err(fail)?
        .signed_by(&key, &ca)
        .map_err(fail)?;
    let ca_file = ctx.tmp.join("bench-ca.pem");
    std::fs::write(&ca_file, ca.pem()).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())
        .map_err(|e| format!("the server's key: {e}"))?;
    // The provider the gate uses; rustls 0.23.48 deprecates ring's default
    // for its lack of post-quantum key exchange, which a loopback bench
    // server does not need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.der().clone(), ca.der().clone()], key)
        .map_err(|e| format!("the server's certificate: {e}"))?;
    Ok((Arc::new(config), ca_file))
}

/// A loopback server answering every request with `status`, over TLS when
/// given a config; it lives as long as the benchmark process.
struct Server {
    port: u16,
}

impl Server {
    fn start(tls: Option<Arc<ServerConfig>>, status: u16) -> Result<Server, String> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tls = tls.clone();
                std::thread::spawn(move || serve(stream, tls, status));
            }
        });
        Ok(Server { port })
    }
}

/// Each request on the connection gets the same empty answer, until the
/// client closes it or a read fails.
fn serve(stream: TcpStream, tls: Option<Arc<ServerConfig>>, status: u16) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
    match tls.map(ServerConnection::new) {
        Some(Ok(conn)) => answer_each(StreamOwned::new(conn, stream), answer.as_bytes()),
        Some(Err(_)) => {}
        None => answer_each(stream, answer.as_bytes()),
    }
}

fn answer_each(mut stream: impl Read + Write, answer: &[u8]) {
    let mut request = Vec::new();
    let mut buf = [0; 4096];
    while let Ok(n @ 1..) = stream.read(&mut buf) {
        request.extend_from_slice(&buf[..n]);
        // A request without a body ends with its blank line.
        while let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
            request.drain(..end + 4);
            if stream
                .write_all(answer)
                .and_then(|()| stream.flush())
                .is_err()
            {
                return;
            }
        }
    }
}

/// One line each: memory waiting, CPU to ready, TLS against plaintext.
pub fn lines(t: &TlsCost) -> Vec<String> {
    let kib = |m: &Memory| {
        format!(
            "RssAnon {} KiB, peak RSS {:.2} MiB",
            m.peak.rss_anon_kib,
            m.peak.vm_hwm_kib as f64 / 1024.0
        )
    };
    let mut lines = vec![
        format!("waiting for one https:// target: {}", kib(&t.waiting_https)),
        format!("waiting for one http:// target: {}", kib(&t.waiting_http)),
    ];
    if let (Some(https), Some(http)) = (median(&t.cpu_https_ms), median(&t.cpu_http_ms)) {
        lines.push(format!(
            "CPU of a run to ready (user+sys, median of {} alternated runs): one https:// \
             target {https:.2} ms, one http:// target {http:.2} ms: one TLS check (the roots \
             read, the handshake) {:.2} ms",
            t.cpu_https_ms.len(),
            https - http
        ));
    }
    lines
}
