//! `mongodb://host[:port]`: the `hello` command on `admin` in an OP_MSG,
//! which every MongoDB server answers before authentication (drivers use
//! it to discover the topology); where a server rejects `hello` (before
//! 4.4.2: "no such command"), the legacy `isMaster`, on the same
//! connection. `ok: 1` from a writable primary (a standalone or a
//! `mongos` says so too) or a secondary is ready. A replica set member
//! that is neither (starting up, recovering, an arbiter) is not, and
//! says which; so is `ok: 0`, with the server's message. Port 27017 is
//! not among Linkerd's default opaque ports; the client speaks first, so
//! protocol detection passes it through as TCP. (Protocol: MongoDB's
//! "OP_MSG" wire protocol and the `hello` command; the BSON spec.)

use super::{
    NotReady,
    socket::{self, Attempt},
    tls::Stream,
};
use crate::config::targets::Endpoint;

const OP_MSG: i32 = 2013;
/// Our requests' ids ("lkaw", then the fallback's): replies must name them.
const HELLO_ID: i32 = 0x6c6b_6177;
const IS_MASTER_ID: i32 = HELLO_ID + 1;
/// The server's code for a command it does not know.
const COMMAND_NOT_FOUND: i64 = 59;

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let mut stream = socket::open(at, attempt).await?;
    match ask(&mut stream, at, attempt, "hello", HELLO_ID).await? {
        Reply::UnknownCommand(_) => {
            match ask(&mut stream, at, attempt, "isMaster", IS_MASTER_ID).await? {
                Reply::UnknownCommand(said) => Err(NotReady::Answer(said)),
                Reply::Judged(verdict) => verdict,
            }
        }
        Reply::Judged(verdict) => verdict,
    }
}

async fn ask(
    stream: &mut Stream,
    at: &Endpoint,
    attempt: Attempt,
    command: &str,
    id: i32,
) -> Result<Reply, NotReady> {
    let answer = socket::exchange(
        stream,
        &request(command, id),
        message_complete,
        attempt.deadline,
        NotReady::TimedOut(attempt.timeout),
    )
    .await;
    read_answer(&socket::heard(stream, at, answer)?, id)
}

/// What one reply says: a verdict, or that the server does not know the
/// command asked (its words), so the legacy one is worth asking.
#[derive(Debug, PartialEq)]
pub(super) enum Reply {
    Judged(Result<(), NotReady>),
    UnknownCommand(String),
}

/// An OP_MSG: header (length, request id, response to, op code), no
/// flags, one body section (kind 0) holding `{<command>: 1, $db: "admin"}`.
pub(super) fn request(command: &str, id: i32) -> Vec<u8> {
    let mut document = Vec::new();
    document.push(0x10); // int32
    document.extend_from_slice(command.as_bytes());
    document.push(0);
    document.extend_from_slice(&1i32.to_le_bytes());
    document.push(0x02); // string
    document.extend_from_slice(b"$db\0");
    document.extend_from_slice(&6i32.to_le_bytes());
    document.extend_from_slice(b"admin\0");
    document.push(0);
    let document_length = (document.len() + 4) as i32;
    let mut message = Vec::new();
    let length = 16 + 4 + 1 + document_length;
    for field in [length, id, 0, OP_MSG] {
        message.extend_from_slice(&field.to_le_bytes());
    }
    message.extend_from_slice(&0u32.to_le_bytes());
    message.push(0);
    message.extend_from_slice(&document_length.to_le_bytes());
    message.extend_from_slice(&document);
    message
}

fn le_i32(bytes: &[u8], at: usize) -> Option<i32> {
    let b = bytes.get(at..at + 4)?;
    Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

pub(super) fn message_complete(bytes: &[u8]) -> bool {
    le_i32(bytes, 0)
        .and_then(|n| usize::try_from(n).ok())
        .is_some_and(|n| bytes.len() >= n)
}

/// The reply: an OP_MSG answering `id`, whose body section's document
/// holds `ok` and the member's state.
pub(super) fn read_answer(answer: &[u8], id: i32) -> Result<Reply, NotReady> {
    let unexpected = || socket::not_a(answer, "a MongoDB server");
    let length = le_i32(answer, 0)
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (21..=socket::MAX_ANSWER).contains(n) && *n <= answer.len())
        .ok_or_else(unexpected)?;
    if le_i32(answer, 8) != Some(id) || le_i32(answer, 12) != Some(OP_MSG) || answer[20] != 0 {
        return Err(unexpected());
    }
    let document = &answer[21..length];
    let fields = bson::fields(document).ok_or_else(unexpected)?;
    let get = |name: &str| fields.iter().find(|(key, _)| *key == name).map(|(_, v)| v);
    let yes = |name: &str| get(name).is_some_and(bson::Value::truthy);
    if !yes("ok") {
        let said = match get("errmsg") {
            Some(bson::Value::Text(text)) => socket::words(text),
            _ => "the server answered ok: 0".to_string(),
        };
        let code = match get("code") {
            Some(bson::Value::Number(code)) => Some(*code),
            _ => None,
        };
        if code == Some(COMMAND_NOT_FOUND) {
            return Ok(Reply::UnknownCommand(said));
        }
        let code = code.map(|c| format!(" (code {c})")).unwrap_or_default();
        return Ok(Reply::Judged(Err(NotReady::Answer(format!(
            "{said}{code}"
        )))));
    }
    if yes("isWritablePrimary") || yes("ismaster") || yes("secondary") {
        return Ok(Reply::Judged(Ok(())));
    }
    let state = if yes("arbiterOnly") {
        "an arbiter, which holds no data".to_string()
    } else if let Some(bson::Value::Text(set)) = get("setName") {
        format!(
            "a member of replica set {} that is neither primary nor secondary (starting up or \
             recovering)",
            socket::words(set)
        )
    } else if yes("isreplicaset") {
        "a replica set member not initiated yet (rs.initiate())".to_string()
    } else {
        "neither a writable primary nor a secondary".to_string()
    };
    Ok(Reply::Judged(Err(NotReady::Answer(state))))
}

/// Just enough BSON to read the top level of a `hello` reply: every
/// type's length (to step over the values not read), and the values of
/// the fields that decide.
mod bson {
    #[derive(Debug, PartialEq)]
    pub enum Value<'a> {
        Number(i64),
        Double(f64),
        Bool(bool),
        Text(&'a [u8]),
        Other,
    }

    impl Value<'_> {
        /// As MongoDB reads `ok`: any non-zero number, or true.
        pub fn truthy(&self) -> bool {
            match self {
                Value::Number(n) => *n != 0,
                Value::Double(n) => *n != 0.0,
                Value::Bool(b) => *b,
                Value::Text(_) | Value::Other => false,
            }
        }
    }

    /// The top-level fields of one document that is exactly `bytes`;
    /// `None` for anything that is not well-formed BSON.
    pub fn fields(bytes: &[u8]) -> Option<Vec<(&str, Value<'_>)>> {
        let length = usize::try_from(i32_at(bytes, 0)?).ok()?;
        if length != bytes.len() || bytes.last() != Some(&0) {
            return None;
        }
        let mut rest = bytes.get(4..length - 1)?;
        let mut fields = Vec::new();
        while let Some((&kind, after)) = rest.split_first() {
            let (key, after) = cstring(after)?;
            let (value, after) = value(kind, after)?;
            fields.push((std::str::from_utf8(key).ok()?, value));
            rest = after;
        }
        Some(fields)
    }

    fn i32_at(bytes: &[u8], at: usize) -> Option<i32> {
        let b = bytes.get(at..at + 4)?;
        Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn cstring(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
        let end = bytes.iter().position(|b| *b == 0)?;
        Some((&bytes[..end], &bytes[end + 1..]))
    }

    /// A string's bytes (its length counts the closing NUL), and the rest.
    fn string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
        let length = usize::try_from(i32_at(bytes, 0)?)
            .ok()
            .filter(|n| *n >= 1)?;
        let text = bytes.get(4..4 + length)?;
        Some((&text[..length - 1], &bytes[4 + length..]))
    }

    fn value(kind: u8, bytes: &[u8]) -> Option<(Value<'_>, &[u8])> {
        let fixed = |n: usize| bytes.get(n..).map(|rest| (Value::Other, rest));
        match kind {
            0x01 => {
                let b: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
                Some((Value::Double(f64::from_le_bytes(b)), &bytes[8..]))
            }
            0x02 | 0x0D | 0x0E => string(bytes).map(|(text, rest)| (Value::Text(text), rest)),
            // A document, an array, code with scope: their length counts itself.
            0x03 | 0x04 | 0x0F => fixed(usize::try_from(i32_at(bytes, 0)?).ok()?),
            0x05 => fixed(usize::try_from(i32_at(bytes, 0)?).ok()?.checked_add(5)?),
            0x06 | 0x0A | 0x7F | 0xFF => fixed(0),
            0x07 => fixed(12),
            0x08 => Some((Value::Bool(*bytes.first()? != 0), bytes.get(1..)?)),
            0x09 | 0x11 => fixed(8),
            0x0B => {
                let (_, rest) = cstring(bytes)?;
                let (_, rest) = cstring(rest)?;
                Some((Value::Other, rest))
            }
            0x0C => string(bytes)
                .and_then(|(_, rest)| rest.get(12..))
                .map(|r| (Value::Other, r)),
            0x10 => Some((Value::Number(i64::from(i32_at(bytes, 0)?)), &bytes[4..])),
            0x12 => {
                let b: [u8; 8] = bytes.get(..8)?.try_into().ok()?;
                Some((Value::Number(i64::from_le_bytes(b)), &bytes[8..]))
            }
            0x13 => fixed(16),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
