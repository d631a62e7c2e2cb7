//! LINKERD_AWAIT_DISABLED and LINKERD_DISABLED say there is no proxy:
//! nothing waits for it, and with `--shutdown` nothing asks it to shut
//! down either. The app is exec()ed, as linkerd-await 0.3 did: same PID,
//! its own exit status, no shutdown request, no termination message.

mod common;
use common::*;

#[test]
fn disabled_with_shutdown_execs_the_app_and_asks_no_proxy_to_shut_down() {
    for var in ["LINKERD_AWAIT_DISABLED", "LINKERD_DISABLED"] {
        // A proxy that would answer: no request may reach it.
        let proxy = FakeProxy::start(|_, _| Reply::Status(200));
        let mut cmd = gate_for(&proxy);
        cmd.arg("--shutdown").env(var, "true");
        app(&mut cmd, "echo \"pid $$\"; exit 7", &[]);
        let started = std::time::Instant::now();
        let (out, message) = {
            let dir = temp_dir();
            let log = dir.path().join("termination-log");
            cmd.arg("--termination-log").arg(&log);
            let (pid, out) = output_with_pid(&mut cmd);
            assert_eq!(stdout_text(&out), format!("pid {pid}\n"), "{var}: exec()ed");
            (out, std::fs::read_to_string(&log).unwrap_or_default())
        };
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(7), "{var}: {err}");
        assert!(proxy.requests().is_empty(), "{var}: {:?}", proxy.requests());
        assert!(
            !err.contains("WARN") && !err.contains("ERROR"),
            "{var}: {err}"
        );
        assert_eq!(message, "", "{var}");
        // No shutdown was tried (0.4.0 spent its 5 s --shutdown-timeout).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(4),
            "{var}"
        );
    }
}
