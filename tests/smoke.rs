mod common;
use common::*;
use std::time::Duration;

#[test]
fn ready_after_three_checks_exits_0() {
    let proxy = FakeProxy::ready_after(3);
    let out = output(&mut gate_for(&proxy));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/ready").len(), 3);
    assert!(
        stderr_text(&out).contains("proxy ready after"),
        "{}",
        stderr_text(&out)
    );
    proxy.wait_for_requests(3, Duration::from_secs(1));
    let conns: Vec<usize> = proxy.requests().iter().map(|r| r.connection).collect();
    assert_eq!(conns, [1, 1, 1], "one kept-alive connection is reused");
}
