use super::*;

use hyper::header::HeaderValue;

const GRPC: Answer = Answer {
    grpc: true,
    unimplemented_ready: false,
};

fn response(status: u8) -> Vec<u8> {
    vec![0, 0, 0, 0, 2, 0x08, status]
}

fn trailers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn the_answer_is_read() {
    let none = HeaderMap::new();
    assert_eq!(verdict(Ok(0), &none, &response(1), GRPC), Ok(Serving::Yes));
    assert_eq!(
        verdict(Ok(0), &none, &response(2), GRPC),
        Err(NotReady::Answer(
            "the health service answers NOT_SERVING".to_string()
        ))
    );
    // proto3 leaves UNKNOWN (0) out: an empty message.
    assert_eq!(
        verdict(Ok(0), &none, &[0, 0, 0, 0, 0], GRPC),
        Err(NotReady::Answer(
            "the health service answers UNKNOWN".to_string()
        ))
    );
    // UNIMPLEMENTED: not ready, unless the URL opts in and the answer
    // is gRPC's own.
    let unimplemented = verdict(Ok(12), &none, &[], GRPC).expect_err("not ready");
    assert!(
        unimplemented
            .to_string()
            .contains("register the health service"),
        "{unimplemented}"
    );
    let opted_in = Answer {
        grpc: true,
        unimplemented_ready: true,
    };
    assert_eq!(
        verdict(Ok(12), &none, &[], opted_in),
        Ok(Serving::NoHealthService)
    );
    let not_grpc = Answer {
        grpc: false,
        ..opted_in
    };
    let reason = verdict(Ok(12), &none, &[], not_grpc).expect_err("not gRPC's");
    assert!(reason.to_string().contains("not gRPC's own"), "{reason}");
    assert_eq!(
        verdict(
            Ok(14),
            &trailers(&[("grpc-message", "no%20endpoints%0A")]),
            &[],
            GRPC
        ),
        Err(NotReady::Answer(
            "grpc-status 14 UNAVAILABLE: no endpoints\\n (through a mesh: no endpoint of \
             the target is ready yet)"
                .to_string()
        ))
    );
    for garbage in [
        &b""[..],
        b"\x01\0\0\0\x02\x08\x01",
        b"\0\0\0\0\x05\x08\x01",
        b"\0\0\0\0\x01\x0f",
    ] {
        assert!(
            matches!(
                verdict(Ok(0), &none, garbage, GRPC),
                Err(NotReady::Unexpected(_))
            ),
            "{garbage:?}"
        );
    }
    assert!(matches!(
        verdict(Err("\"x\" (1 bytes)".to_string()), &none, &[], GRPC),
        Err(NotReady::Unexpected(_))
    ));
}
