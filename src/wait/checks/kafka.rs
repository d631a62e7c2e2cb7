//! `kafka://host[:port]`: an `ApiVersions` request (version 0, which every
//! broker answers) and the error code of its response. 0 is ready: the
//! broker is up and says which APIs it serves, before any authentication.
//! Any other code is "not ready", named. Port 9092 is not among Linkerd's
//! default opaque ports; the client speaks first, so protocol detection
//! passes it through as TCP. (Protocol: Kafka's "A Guide To The Kafka
//! Protocol", `ApiVersions`.)

use super::{
    NotReady,
    socket::{self, Attempt},
};
use crate::config::targets::Endpoint;

const API_VERSIONS: i16 = 18;
/// Our request's correlation id ("lkaw"): the response must carry it back.
const CORRELATION_ID: i32 = 0x6c6b_6177;
const CLIENT_ID: &[u8] = b"linkerd-await";

pub async fn check(at: &Endpoint, attempt: Attempt) -> Result<(), NotReady> {
    let answer = socket::ask(
        at,
        attempt,
        &request(),
        response_complete,
        NotReady::TimedOut(attempt.timeout),
    )
    .await?;
    read_answer(&answer)
}

/// Size, then the request header v1 (api key, version 0, correlation id,
/// client id); ApiVersions v0 has no body.
fn request() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&API_VERSIONS.to_be_bytes());
    body.extend_from_slice(&0i16.to_be_bytes());
    body.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    body.extend_from_slice(&(CLIENT_ID.len() as i16).to_be_bytes());
    body.extend_from_slice(CLIENT_ID);
    let mut message = (body.len() as i32).to_be_bytes().to_vec();
    message.extend_from_slice(&body);
    message
}

fn response_size(bytes: &[u8]) -> Option<usize> {
    let size = bytes.get(..4)?;
    usize::try_from(i32::from_be_bytes([size[0], size[1], size[2], size[3]])).ok()
}

pub(super) fn response_complete(bytes: &[u8]) -> bool {
    response_size(bytes).is_some_and(|size| bytes.len() >= 4 + size)
}

/// The response: size, correlation id, then the error code.
pub(super) fn read_answer(answer: &[u8]) -> Result<(), NotReady> {
    let unexpected = || socket::not_a(answer, "a Kafka broker");
    let Some(size) = response_size(answer).filter(|size| (6..socket::MAX_ANSWER).contains(size))
    else {
        return Err(unexpected());
    };
    let Some(response) = answer.get(4..4 + size) else {
        return Err(unexpected());
    };
    if response[..4] != CORRELATION_ID.to_be_bytes() {
        return Err(unexpected());
    }
    match i16::from_be_bytes([response[4], response[5]]) {
        0 => Ok(()),
        code => Err(NotReady::Answer(format!(
            "{} (error {code})",
            error_name(code)
        ))),
    }
}

/// The names of the codes a broker may answer `ApiVersions` with.
fn error_name(code: i16) -> &'static str {
    match code {
        -1 => "UNKNOWN_SERVER_ERROR",
        35 => "UNSUPPORTED_VERSION",
        42 => "INVALID_REQUEST",
        _ => "the broker refused ApiVersions",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(correlation: i32, error: i16) -> Vec<u8> {
        let mut body = correlation.to_be_bytes().to_vec();
        body.extend_from_slice(&error.to_be_bytes());
        body.extend_from_slice(&[0, 0, 0, 1, 0, 18, 0, 0, 0, 3]);
        let mut message = (body.len() as i32).to_be_bytes().to_vec();
        message.extend_from_slice(&body);
        message
    }

    #[test]
    fn the_request_is_api_versions_v0_and_its_answer_is_read() {
        let request = request();
        assert_eq!(response_size(&request), Some(request.len() - 4));
        assert_eq!(&request[4..8], &[0, 18, 0, 0]);
        assert!(response_complete(&response(CORRELATION_ID, 0)));
        assert_eq!(read_answer(&response(CORRELATION_ID, 0)), Ok(()));
        assert_eq!(
            read_answer(&response(CORRELATION_ID, 35)),
            Err(NotReady::Answer(
                "UNSUPPORTED_VERSION (error 35)".to_string()
            ))
        );
        for garbage in [&response(1, 0)[..], b"\0\0\0\x02\0\0", b"HTTP/1.1 400"] {
            assert!(
                matches!(read_answer(garbage), Err(NotReady::Unexpected(_))),
                "{garbage:?}"
            );
        }
    }
}
