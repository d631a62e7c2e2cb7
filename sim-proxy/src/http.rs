//! The little of HTTP/1.1 the proxy speaks: read a request head (and skip its
//! body), write a reply.

use std::{
    io::{self, BufRead, BufReader, Read, Write},
    net::TcpStream,
    thread,
    time::{Duration, Instant},
};

use crate::{Answered, Reply};

/// Request lines and headers longer than this are refused; a gate sends a few dozen bytes.
const LINE_LIMIT: u64 = 64 * 1024;
/// Request bodies are read (so the connection can be reused) up to this size.
const BODY_LIMIT: u64 = 64 * 1024;
/// A body that never ends is cut off after this long, so a client that keeps
/// reading cannot keep a thread busy for ever (every test process is bounded
/// by the same 20 s).
const STREAM_LIMIT: Duration = Duration::from_secs(20);
/// Between the bytes of [`Reply::SlowBody`].
const TRICKLE: Duration = Duration::from_millis(50);

/// One parsed request head.
pub struct Head {
    pub method: String,
    /// The request target as sent (origin-form: path and query).
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// HTTP/1.1 keeps the connection unless asked not to; 1.0 closes unless
    /// asked to keep it.
    pub keep_alive: bool,
}

/// Reads one request head and skips its body; `None` when the client closed
/// the connection between requests.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Head>> {
    let Some(line) = read_line(reader)? else {
        return Ok(None);
    };
    let mut parts = line.split_whitespace();
    let (Some(method), Some(target), version) = (parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("malformed request line"));
    };
    let mut head = Head {
        method: method.to_string(),
        target: target.to_string(),
        headers: Vec::new(),
        keep_alive: version == Some("HTTP/1.1"),
    };
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
        let (name, value) = (name.trim(), value.trim());
        match name.to_ascii_lowercase().as_str() {
            "content-length" => {
                length = value.parse().map_err(|_| invalid("bad content-length"))?;
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" if value.eq_ignore_ascii_case("close") => head.keep_alive = false,
            "connection" if value.eq_ignore_ascii_case("keep-alive") => head.keep_alive = true,
            _ => {}
        }
        head.headers.push((name.to_string(), value.to_string()));
    }
    if chunked {
        skip_chunked(reader)?;
    } else {
        skip(reader, length)?;
    }
    Ok(Some(head))
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

/// How to answer one request.
pub struct Answer {
    /// A HEAD request: the head of the response without its body.
    pub head_only: bool,
    pub keep_alive: bool,
}

impl Answer {
    /// Writes the reply (for the streaming bodies: only its head) and says what was sent.
    pub fn head(&self, writer: &mut TcpStream, reply: &Reply) -> io::Result<Answered> {
        match reply {
            Reply::Status(code) => {
                self.complete(writer, *code, &[])?;
                Ok(Answered::Status(*code))
            }
            Reply::Sized { status, len } => {
                self.with_body(writer, *status, &[], "x".repeat(*len))?;
                Ok(Answered::Status(*status))
            }
            Reply::Body {
                status,
                headers,
                body,
            } => {
                let headers: Vec<(&str, &str)> = headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str()))
                    .collect();
                self.with_body(writer, *status, &headers, body.clone())?;
                Ok(Answered::Status(*status))
            }
            Reply::Redirect(to) => {
                self.complete(writer, 302, &[("location", to)])?;
                Ok(Answered::Status(302))
            }
            Reply::EndlessBody(code) => {
                write_head(writer, *code, "transfer-encoding: chunked\r\n")?;
                Ok(Answered::Status(*code))
            }
            Reply::SlowBody { status, chunked } => {
                // Without chunking or a length, only the end of the connection ends the body.
                let framing = if *chunked {
                    "transfer-encoding: chunked\r\n"
                } else {
                    ""
                };
                write_head(writer, *status, framing)?;
                Ok(Answered::Status(*status))
            }
            Reply::Hang => Ok(Answered::Hung),
            Reply::Close => Ok(Answered::Closed),
        }
    }

    /// After [`Answer::head`] of a streaming reply: its body, until the client
    /// leaves (a write fails soon after it closed) or `STREAM_LIMIT`.
    pub fn stream_body(&self, writer: &mut TcpStream, reply: &Reply) -> io::Result<()> {
        let chunk = format!("{:x}\r\n{}\r\n", 1024, "x".repeat(1024));
        let (piece, pause): (&[u8], _) = match reply {
            Reply::EndlessBody(_) => (chunk.as_bytes(), Duration::ZERO),
            Reply::SlowBody { chunked: true, .. } => (b"1\r\nx\r\n", TRICKLE),
            Reply::SlowBody { chunked: false, .. } => (b"x", TRICKLE),
            _ => return Ok(()),
        };
        let start = Instant::now();
        while start.elapsed() < STREAM_LIMIT {
            writer.write_all(piece)?;
            thread::sleep(pause);
        }
        Ok(())
    }

    /// A whole response whose body is its reason phrase.
    fn complete(
        &self,
        writer: &mut TcpStream,
        code: u16,
        headers: &[(&str, &str)],
    ) -> io::Result<()> {
        self.with_body(writer, code, headers, format!("{}\n", reason(code)))
    }

    /// A whole response with this body (none for a 204).
    fn with_body(
        &self,
        writer: &mut TcpStream,
        code: u16,
        headers: &[(&str, &str)],
        body: String,
    ) -> io::Result<()> {
        let mut response = format!("HTTP/1.1 {code} {}\r\n", reason(code));
        // A 204 has neither a body nor a content-length (RFC 9110 §8.6, §15.3.5).
        let body = if code == 204 { String::new() } else { body };
        if code != 204 {
            response.push_str(&format!(
                "content-type: text/plain\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        for (name, value) in headers {
            response.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.keep_alive {
            response.push_str("connection: close\r\n");
        }
        response.push_str("\r\n");
        if !self.head_only {
            response.push_str(&body);
        }
        // One write: the whole answer leaves in one segment.
        writer.write_all(response.as_bytes())?;
        writer.flush()
    }
}

fn write_head(writer: &mut TcpStream, code: u16, framing: &str) -> io::Result<()> {
    let head = format!("HTTP/1.1 {code} {}\r\n{framing}\r\n", reason(code));
    writer.write_all(head.as_bytes())
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
