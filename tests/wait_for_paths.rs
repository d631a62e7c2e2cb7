//! `file://` and `unix://` targets: ready when the path appears and the
//! socket listens; a path the kernel cannot take is a usage error.

mod common;
use common::*;

use std::os::unix::net::UnixListener;

#[test]
fn file_and_unix_targets_turn_ready_when_the_path_appears_and_the_socket_listens() {
    let dir = temp_dir();
    let file = dir.path().join("token");
    let socket = dir.path().join("api.sock");
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "10s", "--wait-for-backoff", "100ms"])
        .arg("--wait-for")
        .arg(format!("file://{}", path_arg(&file)))
        .arg("--wait-for")
        .arg(format!("unix://{}", path_arg(&socket)));
    app(&mut cmd, "echo started", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    gate.err.wait_for("waiting for file://", LIMIT);
    touch(dir.path(), "token");
    gate.err.wait_for("token ready after", LIMIT);
    assert!(
        gate.out.text().is_empty(),
        "started before the socket listened"
    );
    let _listener = UnixListener::bind(&socket).expect("bind the socket");
    let (code, out, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "started\n");
    assert!(err.contains("api.sock ready after"), "{err}");
}

#[test]
fn paths_the_kernel_cannot_take_are_usage_errors() {
    let long = format!("unix:///tmp/{}", "s".repeat(120));
    for (value, needle) in [("file:///tmp/a%00b", "NUL"), (long.as_str(), "at most 107")] {
        let out = output(waiting_for(&[value]).env_remove("LINKERD_AWAIT_WAIT_FOR"));
        assert_usage_error(&out, &["--wait-for", needle]);
        assert!(!stderr_text(&out).contains('\0'));
    }
}
