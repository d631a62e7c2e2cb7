//! The simulated proxy admin server, shared by the `sim-proxy` and `demo` examples.
//!
//! It plays the part of a service-mesh proxy's admin port as seen from the app
//! container of a pod: refuse connections while the proxy is still starting,
//! then answer "not ready" on the readiness path, then 200 from a given instant
//! on; and answer (or refuse) a POST to the shutdown endpoint. Only what a
//! startup gate needs of HTTP/1.1 is implemented, on std's blocking sockets and
//! one thread per connection: a gate makes a few sequential requests.

// Each of the two examples that include this module uses a different part of it.
#![allow(dead_code)]

use std::{
    fmt,
    io::{self, BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

/// Request lines and headers longer than this are refused; a gate sends a few dozen bytes.
const LINE_LIMIT: u64 = 8 * 1024;
/// Request bodies are read (so the connection can be reused) up to this size.
const BODY_LIMIT: u64 = 64 * 1024;

/// How the simulated proxy answers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// The readiness path, e.g. `/ready` (Linkerd) or `/healthz/ready` (Istio).
    pub ready_path: String,
    /// Not ready until this long after `start`, ready from then on.
    pub ready_after: Duration,
    /// How a readiness request is answered while not ready.
    pub fail_mode: FailMode,
    /// Status of a POST to `/shutdown` or `/quitquitquit` (404 = Linkerd without
    /// the `config.linkerd.io/proxy-admin-shutdown: enabled` annotation).
    pub shutdown_status: u16,
}

/// How a readiness request is answered before the proxy is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailMode {
    /// A `503 Service Unavailable` response (what a starting proxy answers).
    None,
    /// Read the request and never answer (the connection stays open until the client leaves).
    Hang,
    /// Close the connection without answering.
    Close,
    /// A `302 Found` to another path (a gate must not follow it).
    Redirect,
}

/// The paths a proxy's shutdown endpoint has: Linkerd's, and Envoy's/Istio's.
pub const SHUTDOWN_PATHS: [&str; 2] = ["/shutdown", "/quitquitquit"];

/// What happened to one request; reported after the answer was written.
#[derive(Debug, Clone)]
pub struct Event {
    /// Since `start`.
    pub at: Duration,
    pub method: String,
    pub path: String,
    pub answer: Answered,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Status(u16),
    /// Left without an answer (`--fail-mode hang`).
    Hung,
    /// Connection closed without an answer (`--fail-mode close`).
    Closed,
}

impl fmt::Display for Answered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Answered::Status(code) => write!(f, "{code}"),
            Answered::Hung => f.write_str("(no answer: hang)"),
            Answered::Closed => f.write_str("(closed without answer)"),
        }
    }
}

impl Event {
    /// A successful POST to a shutdown endpoint: the proxy would now stop.
    pub fn is_accepted_shutdown(&self) -> bool {
        self.method == "POST"
            && SHUTDOWN_PATHS.contains(&self.path.as_str())
            && matches!(self.answer, Answered::Status(code) if (200..300).contains(&code))
    }
}

/// Called for every request, from the connection's thread.
pub type OnEvent = Arc<dyn Fn(&Event) + Send + Sync>;

/// A socket bound to its address but not listening yet: connections to it are
/// refused (the kernel answers a SYN with a RST, exactly as for a closed port),
/// yet its port is already known and held. This is how a proxy that has not
/// started its admin server looks to the app.
pub struct Reserved {
    socket: tokio::net::TcpSocket,
    addr: SocketAddr,
}

/// Binds `addr` (port 0 picks a free port) without listening.
pub fn reserve(addr: SocketAddr) -> io::Result<Reserved> {
    // tokio's TcpSocket is the one bind-then-listen API among our dependencies
    // (std's TcpListener::bind does both at once).
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As std does for listeners: a restarted simulator can rebind at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let addr = socket.local_addr()?;
    Ok(Reserved { socket, addr })
}

impl Reserved {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Starts listening: from now on connections are accepted.
    pub fn listen(self) -> io::Result<TcpListener> {
        // tokio registers a new listener with its I/O driver, so it needs a
        // runtime for that one call; the std listener taken out of it is
        // independent of the runtime and blocking again.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let _entered = runtime.enter();
        let listener = self.socket.listen(1024)?.into_std()?;
        listener.set_nonblocking(false)?;
        Ok(listener)
    }
}

/// Accepts connections forever, one thread each. Readiness is measured from `start`.
pub fn serve(listener: TcpListener, behaviour: Arc<Behaviour>, start: Instant, on_event: OnEvent) {
    for stream in listener.incoming() {
        // A failed accept (e.g. the client already gave up) concerns that client only.
        let Ok(stream) = stream else { continue };
        let (behaviour, on_event) = (behaviour.clone(), on_event.clone());
        thread::spawn(move || {
            // A connection's I/O error ends that connection, nothing else.
            let _ = connection(stream, &behaviour, start, &*on_event);
        });
    }
}

/// One parsed request head.
struct Request {
    method: String,
    path: String,
    keep_alive: bool,
}

/// What to send back.
enum Answer {
    Status(u16, &'static str),
    Redirect(String),
    Hang,
    Close,
}

fn connection(
    stream: TcpStream,
    behaviour: &Behaviour,
    start: Instant,
    on_event: &(dyn Fn(&Event) + Send + Sync),
) -> io::Result<()> {
    // Answers are small and written at once; no reason to let Nagle delay them.
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader)? {
        let answer = answer(&request, behaviour, start);
        let answered = match &answer {
            Answer::Status(code, body) => {
                let head = request.method == "HEAD";
                write_response(&mut writer, *code, &[], body, head, request.keep_alive)?;
                Answered::Status(*code)
            }
            Answer::Redirect(to) => {
                let location = [("location", to.as_str())];
                let head = request.method == "HEAD";
                write_response(
                    &mut writer,
                    302,
                    &location,
                    "not ready\n",
                    head,
                    request.keep_alive,
                )?;
                Answered::Status(302)
            }
            Answer::Hang => Answered::Hung,
            Answer::Close => Answered::Closed,
        };
        on_event(&Event {
            at: start.elapsed(),
            method: request.method.clone(),
            path: request.path.clone(),
            answer: answered,
        });
        match answer {
            // Hold the connection without a word until the client leaves.
            Answer::Hang => {
                let _ = io::copy(&mut reader, &mut io::sink());
                return Ok(());
            }
            Answer::Close => return Ok(()),
            Answer::Status(..) | Answer::Redirect(_) if !request.keep_alive => return Ok(()),
            Answer::Status(..) | Answer::Redirect(_) => {}
        }
    }
    Ok(())
}

fn answer(request: &Request, behaviour: &Behaviour, start: Instant) -> Answer {
    let path = request.path.as_str();
    if path == behaviour.ready_path {
        if start.elapsed() >= behaviour.ready_after {
            return Answer::Status(200, "ready\n");
        }
        return match behaviour.fail_mode {
            FailMode::None => Answer::Status(503, "not ready\n"),
            FailMode::Hang => Answer::Hang,
            FailMode::Close => Answer::Close,
            FailMode::Redirect => Answer::Redirect("/not-ready-yet".to_string()),
        };
    }
    if SHUTDOWN_PATHS.contains(&path) {
        if request.method != "POST" {
            return Answer::Status(405, "use POST\n");
        }
        return Answer::Status(behaviour.shutdown_status, "shutdown\n");
    }
    if path == "/live" {
        // The proxy's liveness endpoint is up as soon as the admin server is.
        return Answer::Status(200, "live\n");
    }
    Answer::Status(404, "not found\n")
}

/// Reads one request head (and its body, which is discarded); `None` when the
/// client closed the connection between requests.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let Some(line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), version) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("malformed request line"));
    };
    // An absolute-form target (`http://host/path`) is reduced to its path.
    let path = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let path = path.split('?').next().unwrap_or(path).to_string();
    // HTTP/1.1 keeps the connection unless asked not to; 1.0 closes unless asked to keep it.
    let mut keep_alive = version == Some("HTTP/1.1");
    let mut length = 0u64;
    let mut chunked = false;
    loop {
        let Some(header) = read_line(reader)? else {
            return Err(invalid("connection closed inside the request head"));
        };
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = value.parse().map_err(|_| invalid("bad content-length"))?;
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" if value.eq_ignore_ascii_case("close") => keep_alive = false,
            "connection" if value.eq_ignore_ascii_case("keep-alive") => keep_alive = true,
            _ => {}
        }
    }
    if chunked {
        skip_chunked(reader)?;
    } else {
        skip(reader, length)?;
    }
    Ok(Some(Request {
        method: method.to_string(),
        path,
        keep_alive,
    }))
}

/// One CRLF- (or LF-) terminated line without its terminator; `None` at EOF.
fn read_line(reader: &mut BufReader<TcpStream>) -> io::Result<Option<String>> {
    let mut line = String::new();
    let read = reader.by_ref().take(LINE_LIMIT).read_line(&mut line)?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with('\n') {
        return Err(invalid("line too long or cut off"));
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

fn skip(reader: &mut BufReader<TcpStream>, length: u64) -> io::Result<()> {
    if length > BODY_LIMIT {
        return Err(invalid("request body too large"));
    }
    let copied = io::copy(&mut reader.by_ref().take(length), &mut io::sink())?;
    if copied < length {
        return Err(invalid("connection closed inside the request body"));
    }
    Ok(())
}

fn skip_chunked(reader: &mut BufReader<TcpStream>) -> io::Result<()> {
    loop {
        let Some(size_line) = read_line(reader)? else {
            return Err(invalid("connection closed inside a chunked body"));
        };
        let size = size_line.split(';').next().unwrap_or_default().trim();
        let size = u64::from_str_radix(size, 16).map_err(|_| invalid("bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while read_line(reader)?.is_some_and(|l| !l.is_empty()) {}
            return Ok(());
        }
        skip(reader, size)?;
        read_line(reader)?;
    }
}

fn write_response(
    writer: &mut TcpStream,
    code: u16,
    headers: &[(&str, &str)],
    body: &str,
    head_only: bool,
    keep_alive: bool,
) -> io::Result<()> {
    let mut response = format!("HTTP/1.1 {code} {}\r\n", reason(code));
    // A 204 has neither a body nor a content-length (RFC 9110 §8.6, §15.3.5).
    let body = if code == 204 {
        ""
    } else {
        response.push_str(&format!(
            "content-type: text/plain\r\ncontent-length: {}\r\n",
            body.len()
        ));
        body
    };
    for (name, value) in headers {
        response.push_str(&format!("{name}: {value}\r\n"));
    }
    if !keep_alive {
        response.push_str("connection: close\r\n");
    }
    response.push_str("\r\n");
    if !head_only {
        response.push_str(body);
    }
    // One write: the whole answer leaves in one segment.
    writer.write_all(response.as_bytes())?;
    writer.flush()
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        302 => "Found",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}
