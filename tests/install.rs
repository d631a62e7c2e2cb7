//! `--install <DIR>`, for images you cannot rebuild: the gate copies itself
//! to `<DIR>/linkerd-await` (mode 0755, atomically) and exits 0 without
//! waiting; a directory it cannot write to exits 73 naming the path; a
//! command next to it is a usage error.
//!
//! Every test runs the real binary; the proxy, where there is one, is a
//! `FakeProxy` on loopback that must see no request.

mod common;
use common::*;

use std::{
    fs,
    os::unix::fs::{MetadataExt, PermissionsExt},
    path::Path,
    process::Command,
};

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// `dir/linkerd-await` is a byte-for-byte copy of the gate, mode 0755, and
/// nothing else is left in `dir`.
fn assert_installed(dir: &Path) {
    let copy = dir.join("linkerd-await");
    assert_eq!(names(dir), ["linkerd-await"], "only the copy is left");
    assert!(
        fs::read(&copy).expect("read copy") == fs::read(gate_bin()).expect("read gate"),
        "{} is not a copy of the gate",
        copy.display()
    );
    assert_eq!(fs::metadata(&copy).expect("stat").mode() & 0o7777, 0o755);
}

#[test]
fn install_copies_the_gate_with_mode_0755_and_exits_0_without_asking_the_proxy() {
    let proxy = never_ready();
    let dir = temp_dir();
    for install in [
        // Typed, and from the variable (an init container's `env`).
        &mut gate_for(&proxy).args(["--install", path_arg(dir.path())]) as &mut Command,
        gate_for(&proxy).env("LINKERD_AWAIT_INSTALL", dir.path()),
    ] {
        // No --timeout: a gate that waited would never end (PROCESS_LIMIT would fail the test).
        let out = output(install);
        assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
        assert!(out.stdout.is_empty(), "stdout belongs to the app");
        assert!(
            stderr_text(&out)
                .contains(&format!("installed {}/linkerd-await", dir.path().display())),
            "{}",
            stderr_text(&out)
        );
        assert_installed(dir.path());
    }
    assert!(
        proxy.requests().is_empty(),
        "--install must not touch the network"
    );
    // The copy is the gate.
    let out = output(Command::new(dir.path().join("linkerd-await")).arg("--version"));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(
        stdout_text(&out).starts_with("linkerd-await "),
        "{}",
        stdout_text(&out)
    );
}

#[test]
fn install_replaces_an_old_copy_even_while_that_copy_runs() {
    let dir = temp_dir();
    let out = output(gate().args(["--install", path_arg(dir.path())]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    // The old copy is executing (waiting for a proxy that never comes):
    // writing into it would fail with "text file busy", renaming over it does not.
    let proxy = never_ready();
    let mut old = Command::new(dir.path().join("linkerd-await"));
    old.args(["-p", &proxy.port().to_string()]);
    let running = Gate::spawn(&mut old);
    running.until_waiting(&proxy);
    let out = output(gate().args(["--install", path_arg(dir.path())]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_installed(dir.path());
    drop(running);
}

#[test]
fn install_into_a_missing_directory_or_a_file_exits_73_naming_the_path() {
    let dir = temp_dir();
    touch(dir.path(), "a-file");
    for target in [dir.path().join("missing"), dir.path().join("a-file")] {
        let out = output(gate().args(["--install", path_arg(&target)]));
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), Some(73), "{}: {err}", target.display());
        assert!(
            err.contains(path_arg(&target)),
            "the path must be named:\n{err}"
        );
        assert!(err.contains("--install"), "{err}");
    }
    assert_eq!(names(dir.path()), ["a-file"], "nothing left behind");
}

#[test]
fn install_into_a_read_only_directory_exits_73_and_leaves_nothing_behind() {
    // Root writes through any mode bits; the container test covers a
    // read-only mount for root.
    // SAFETY: geteuid(2) has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!(
            "SKIPPED: root ignores directory permissions (see tests/containers/lifecycle.rs)"
        );
        return;
    }
    let dir = temp_dir();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o555)).expect("chmod");
    let out = output(gate().args(["--install", path_arg(dir.path())]));
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod back");
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(73), "{err}");
    assert!(err.contains(path_arg(dir.path())), "{err}");
    assert!(names(dir.path()).is_empty());
}

#[test]
fn install_with_a_command_or_shutdown_is_a_usage_error_and_runs_nothing() {
    let dir = temp_dir();
    let marker = dir.path().join("app-ran");
    let script = format!("touch {}", path_arg(&marker));
    for words in [
        vec!["--install", path_arg(dir.path()), "sh", "-c", &script],
        vec!["--install", path_arg(dir.path()), "--", "sh", "-c", &script],
        vec!["--install", path_arg(dir.path()), "-S", "sh", "-c", &script],
    ] {
        let out = output(gate().args(&words));
        assert_usage_error(&out, &["--install", "cannot be used with"]);
    }
    // The variable too: an app container that inherited it must not be skipped silently.
    let out = output(
        gate()
            .env("LINKERD_AWAIT_INSTALL", dir.path())
            .args(["sh", "-c", &script]),
    );
    assert_usage_error(&out, &["LINKERD_AWAIT_INSTALL"]);
    assert!(names(dir.path()).is_empty(), "nothing copied, no app run");
}

#[test]
fn install_as_pid1_succeeds_over_the_temp_file_an_interrupted_pid1_left() {
    if !pid_namespaces_available("install_as_pid1_succeeds_over_a_leftover") {
        return;
    }
    let dir = temp_dir();
    // What an init container killed mid-copy leaves in the emptyDir: the
    // gate is PID 1 in every restart, so a PID-named temp file would block
    // all of them ("File exists", exit 73, Init:CrashLoopBackOff).
    for leftover in [".linkerd-await.1.tmp", ".linkerd-await.tmp"] {
        touch(dir.path(), leftover);
    }
    let out = output(as_pid1(gate_bin()).args(["--install", path_arg(dir.path())]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    // Someone else's fresh file is left alone; ours is the copy.
    assert_eq!(
        names(dir.path()),
        [
            ".linkerd-await.1.tmp",
            ".linkerd-await.tmp",
            "linkerd-await"
        ]
    );
    // A symlink planted where a temp file could go is never written through.
    let dir = temp_dir();
    touch(dir.path(), "target");
    std::os::unix::fs::symlink(
        dir.path().join("target"),
        dir.path().join(".linkerd-await.1.tmp"),
    )
    .expect("symlink");
    let out = output(as_pid1(gate_bin()).args(["--install", path_arg(dir.path())]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert!(
        fs::read(dir.path().join("target"))
            .expect("read")
            .is_empty(),
        "written through a symlink"
    );
}

#[test]
fn a_termination_signal_during_a_slow_copy_ends_it_and_leaves_nothing_behind() {
    if !tool_available(
        "a_termination_signal_during_a_slow_copy",
        "strace",
        &["-o", "/dev/null", "true"],
    ) {
        return;
    }
    let dir = temp_dir();
    // Slow storage, played by strace: each copy syscall returns after 5 s.
    let mut cmd = Command::new("strace");
    cmd.args([
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        "trace=copy_file_range,sendfile,splice,write",
        "-e",
        "inject=copy_file_range,sendfile,splice:delay_exit=5000000",
    ])
    .arg(gate_bin())
    .args(["--install", path_arg(dir.path())])
    .stdin(std::process::Stdio::null());
    let mut strace = Gate::spawn(&mut cmd);
    // The copy has begun once the temporary file exists.
    poll(LIMIT, || (!names(dir.path()).is_empty()).then_some(()))
        .expect("the temporary file appeared");
    let gate = poll(LIMIT, || {
        children_of(strace.running.pid())
            .into_iter()
            .map(|(pid, _)| pid)
            .next()
    })
    .expect("the gate under strace");
    send_signal(gate, libc::SIGTERM);
    let signalled = std::time::Instant::now();
    let status = strace.running.wait_within(LIMIT);
    let took = signalled.elapsed();
    let err = strace.err.finish(LIMIT);
    assert!(
        took < std::time::Duration::from_secs(2),
        "ended {took:?} after SIGTERM: {err}"
    );
    // strace ends as its tracee did: by SIGTERM (128 + 15).
    assert_eq!(shell_code(status), 143, "{err}");
    assert!(
        names(dir.path()).is_empty(),
        "left behind: {:?}",
        names(dir.path())
    );
}
