use super::*;

/// A reply to `id` whose document has these elements (BSON-encoded).
fn reply(id: i32, elements: &[u8]) -> Vec<u8> {
    let mut document = ((elements.len() + 5) as i32).to_le_bytes().to_vec();
    document.extend_from_slice(elements);
    document.push(0);
    let mut message = Vec::new();
    for field in [(21 + document.len()) as i32, 7, id, OP_MSG] {
        message.extend_from_slice(&field.to_le_bytes());
    }
    message.extend_from_slice(&[0, 0, 0, 0, 0]);
    message.extend_from_slice(&document);
    message
}

const OK: &[u8] = b"\x01ok\0\0\0\0\0\0\0\xf0\x3f";
const OK_0: &[u8] = b"\x01ok\0\0\0\0\0\0\0\0\0";

fn with(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn the_request_is_one_op_msg_document() {
    let request = request("hello", HELLO_ID);
    assert!(message_complete(&request));
    assert_eq!(le_i32(&request, 0), Some(request.len() as i32));
    let fields = bson::fields(&request[21..]).expect("well-formed");
    assert_eq!(
        fields,
        [
            ("hello", bson::Value::Number(1)),
            ("$db", bson::Value::Text(b"admin"))
        ]
    );
}

#[test]
fn primaries_and_secondaries_are_ready_and_other_members_say_what_they_are() {
    let primary = with(&[b"\x08isWritablePrimary\0\x01", OK]);
    assert_eq!(
        read_answer(&reply_to_hello(&primary), HELLO_ID),
        Ok(Reply::Judged(Ok(())))
    );
    let secondary = with(&[b"\x08isWritablePrimary\0\0\x08secondary\0\x01", OK]);
    assert_eq!(
        read_answer(&reply_to_hello(&secondary), HELLO_ID),
        Ok(Reply::Judged(Ok(())))
    );
    let recovering = with(&[
        b"\x08ismaster\0\0\x08secondary\0\0\x02setName\0\x04\0\0\0rs0\0",
        OK,
    ]);
    match read_answer(&reply_to_hello(&recovering), HELLO_ID) {
        Ok(Reply::Judged(Err(NotReady::Answer(said)))) => {
            assert!(said.contains("replica set rs0"), "{said}")
        }
        other => panic!("{other:?}"),
    }
    let unknown = with(&[
        b"\x02errmsg\0\x19\0\0\0no such command: 'hello'\0\x10code\0\x3b\0\0\0",
        OK_0,
    ]);
    assert_eq!(
        read_answer(&reply_to_hello(&unknown), HELLO_ID),
        Ok(Reply::UnknownCommand(
            "no such command: 'hello'".to_string()
        ))
    );
}

fn reply_to_hello(elements: &[u8]) -> Vec<u8> {
    reply(HELLO_ID, elements)
}

#[test]
fn replies_that_are_not_mongodb_are_unexpected() {
    let good = reply_to_hello(&with(&[b"\x08ismaster\0\x01", OK]));
    assert_eq!(read_answer(&good, HELLO_ID), Ok(Reply::Judged(Ok(()))));
    let mut other_id = good.clone();
    other_id[8] ^= 1;
    let mut truncated = good.clone();
    truncated.truncate(good.len() - 3);
    for garbage in [
        &other_id[..],
        &truncated,
        b"HTTP/1.1 400 Bad Request\r\n\r\n",
    ] {
        assert!(
            matches!(read_answer(garbage, HELLO_ID), Err(NotReady::Unexpected(_))),
            "{garbage:?}"
        );
    }
}

proptest::proptest! {
    /// Whatever a document holds, in a well-framed reply to our
    /// request, reading it never panics.
    #[test]
    fn arbitrary_documents_never_panic(
        elements in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
    ) {
        let _ = read_answer(&reply_to_hello(&elements), HELLO_ID);
    }
}
