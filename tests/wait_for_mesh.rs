//! `--wait-for` through the mesh: the simulated outbound proxy accepts
//! every connection, as the mesh's does, so a TCP check is fooled while a
//! target is down and no protocol check is; each protocol check is ready once
//! its server answers through it; a server that accepts and says nothing is
//! never ready, and its silence is not blamed on the port alone.

mod common;
use common::*;

#[test]
fn through_the_outbound_proxy_a_tcp_check_is_fooled_by_a_target_that_is_down_and_no_protocol_check_is()
 {
    // At once: each protocol check waits out its timeout.
    at_once(["tcp"].into_iter().chain(PROTOCOL_SCHEMES), |scheme| {
        let down = RefusedPort::new();
        let outbound = Outbound::start(local(down.port)).expect("outbound");
        let target = format!("{scheme}://127.0.0.1:{}/", outbound.port());
        let out = output(&mut waiting_for(&[&target]));
        let err = stderr_text(&out);
        if scheme == "tcp" {
            // The mesh's listener accepted: a TCP check cannot tell.
            assert_eq!(out.status.code(), Some(0), "{scheme}: {err}");
        } else {
            assert_eq!(out.status.code(), Some(69), "{scheme}: {err}");
            assert!(err.contains("1 dependency not ready"), "{scheme}: {err}");
            assert!(
                err.contains(&format!("{scheme}://127.0.0.1:{}", outbound.port())),
                "{scheme}: {err}"
            );
        }
    });
}

#[test]
fn a_listener_that_accepts_and_says_nothing_is_never_ready_for_a_protocol_check() {
    // A proxy's outbound listener whose target is silent (or a server that
    // hangs): connected, then nothing. Only tcp:// can be fooled by it.
    // At once: each run waits out its timeout.
    std::thread::scope(|scope| {
        for scheme in PROTOCOL_SCHEMES {
            scope.spawn(move || {
                let silent = FakeServer::start(Says::Nothing);
                let target = format!("{scheme}://127.0.0.1:{}", silent.port());
                let mut cmd = waiting_for(&[&target]);
                cmd.args(["--attempt-timeout", "200ms"]);
                app(&mut cmd, "echo started", &[]);
                let out = output(&mut cmd);
                let err = stderr_text(&out);
                assert_eq!(out.status.code(), Some(69), "{scheme}: {err}");
                assert!(out.stdout.is_empty(), "{scheme}: the app started");
                assert!(silent.connections() > 0, "{scheme}: never connected");
            });
        }
    });
}

#[test]
fn each_protocol_check_is_ready_once_its_server_answers_through_the_outbound_proxy() {
    for scheme in ["postgres", "redis", "mysql"] {
        let server = ready_server(scheme);
        let outbound = Outbound::start(local(server.port())).expect("outbound");
        let target = format!("{scheme}://127.0.0.1:{}", outbound.port());
        let mut cmd = waiting_for(&[&target]);
        app(&mut cmd, "echo started", &[]);
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(0), "{scheme}: {err}");
        assert_eq!(stdout_text(&out), "started\n", "{scheme}");
        assert!(err.contains(&format!("{target} ready after")), "{err}");
    }
    let http = FakeProxy::ready_after(1);
    let outbound = Outbound::start(http.addr()).expect("outbound");
    let out = output(&mut waiting_for(&[&format!(
        "http://127.0.0.1:{}/healthz",
        outbound.port()
    )]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(http.requests_to("/healthz").len(), 1);
}

#[test]
fn a_silent_server_is_not_blamed_on_its_port_alone() {
    let server = FakeServer::start(Says::Nothing);
    let mut cmd = waiting_for(&[&format!("mysql://127.0.0.1:{}", server.port())]);
    cmd.args(["--attempt-timeout", "200ms"]);
    let err = stderr_text(&output(&mut cmd));
    assert!(err.contains("no greeting within 200ms"), "{err}");
    assert!(err.contains("may"), "{err}");
    assert!(err.contains("default opaque ports include 3306"), "{err}");
}
