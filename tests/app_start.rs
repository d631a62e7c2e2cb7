//! How the app starts: once the proxy is ready, exactly as if the gate had not
//! been there. In exec mode it keeps the gate's PID, argv, environment, fds
//! and signal state, and a command that cannot run is reported like a shell
//! does; under `--shutdown` the app is the gate's child, with the same stdio
//! and the same signal state as from a direct start.

mod common;
use common::*;

use std::{
    ffi::{CString, OsStr},
    io::Write,
    os::unix::{ffi::OsStrExt, fs::PermissionsExt, process::CommandExt},
    path::Path,
    process::{Command, Stdio},
    thread,
};

/// The same program run directly, with the same environment changes as `gate()`.
fn direct(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for (key, value) in gate().get_envs() {
        match value {
            Some(value) => cmd.env(key, value),
            None => cmd.env_remove(key),
        };
    }
    cmd.stdin(Stdio::null());
    cmd
}

/// The gate in front of a proxy that is ready at once; CMD follows.
fn gate_ready(proxy: &FakeProxy) -> Command {
    let mut cmd = gate_for(proxy);
    cmd.args(["-t", "5s"]);
    cmd
}

#[test]
fn exec_keeps_the_gates_pid() {
    let proxy = FakeProxy::ready_after(1);
    let (pid, out) = output_with_pid(gate_ready(&proxy).args(["sh", "-c", "echo $$"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), pid.to_string());
}

#[test]
fn argv_is_passed_byte_for_byte_including_flags_after_cmd() {
    let proxy = FakeProxy::ready_after(1);
    // `; exit 0` keeps sh from exec'ing cat, so /proc/$$ is still the app.
    let script = "cat /proc/$$/cmdline; exit 0";
    let app_args: [&[u8]; 13] = [
        b"sh",
        b"-c",
        script.as_bytes(),
        b"argv0",
        b"",
        b"two  spaces ",
        b"\xff\xfe not utf-8 \x80",
        b"--timeout",
        b"5s",
        b"-v",
        b"--",
        b"-p",
        b"--help",
    ];
    let mut cmd = gate_for(&proxy);
    cmd.args(["-t", "3s"])
        .args(app_args.iter().map(|a| OsStr::from_bytes(a)));
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let want: Vec<u8> = app_args
        .iter()
        .flat_map(|a| a.iter().copied().chain([0]))
        .collect();
    assert_eq!(
        out.stdout,
        want,
        "\n got: {:?}\nwant: {:?}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&want)
    );
    // The flags after CMD were not the gate's: no debug lines, no 5 s timeout.
    let log = stderr_text(&out);
    assert!(!log.contains("DEBUG"), "{log}");
    assert!(
        log.contains("(timeout 3s)"),
        "the gate took -t 5s after CMD: {log}"
    );
}

#[test]
fn double_dash_before_cmd_as_in_an_entrypoint_is_not_passed_to_the_app() {
    // ENTRYPOINT ["/linkerd-await", "--"]: the gate's `--` ends its options;
    // a later `--` and anything flag-like belong to the app.
    let proxy = FakeProxy::ready_after(1);
    let out = output(gate_ready(&proxy).args([
        "--",
        "sh",
        "-c",
        "printf '%s\\0' \"$0\" \"$@\"",
        "-v",
        "--",
        "--help",
    ]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(out.stdout, b"-v\0--\0--help\0");
}

#[test]
fn environment_reaches_the_app_unchanged() {
    let proxy = FakeProxy::ready_after(1);
    let nowhere = format!("http://127.0.0.1:{}", closed_port());
    let with_env = |cmd: &mut Command| {
        cmd.env("SPACED", "a b  c ")
            .env("MULTILINE", "x\ny\n")
            .env("EMPTY", "")
            .env("EQUALS", "a=b=c")
            .env(
                OsStr::from_bytes(b"NOT_UTF8"),
                OsStr::from_bytes(b"\xff\xfe"),
            )
            // The gate's own variables, and ones its HTTP client ignores, are
            // the app's too.
            .env("HTTP_PROXY", &nowhere)
            .env("http_proxy", &nowhere)
            .env("LINKERD_AWAIT_PORT", proxy.port().to_string())
            .env("LINKERD_AWAIT_TIMEOUT", "5s")
            .env("LINKERD_AWAIT_VERBOSE", "true")
            .env("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", "0.0.0.0:4191");
    };
    let mut through = gate();
    with_env(&mut through);
    let through = output(through.args(["env", "-0"]));
    assert_eq!(through.status.code(), Some(0), "{}", stderr_text(&through));
    assert_eq!(proxy.requests().len(), 1, "the env var port was used");

    let mut alone = direct("env");
    with_env(&mut alone);
    let alone = output(alone.arg("-0"));
    assert_eq!(alone.status.code(), Some(0));

    let entries = |bytes: &[u8]| -> Vec<String> {
        bytes
            .split(|b| *b == 0)
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    };
    assert_eq!(
        entries(&through.stdout),
        entries(&alone.stdout),
        "environment differs"
    );
    assert_eq!(
        through.stdout, alone.stdout,
        "same entries, different bytes"
    );
}

/// `Sig*` lines of `/proc/self/status` as `cat` sees them through the gate
/// (`mode`: `[]` for exec, `["-S", "--"]` to supervise it) and started
/// directly by the same kind of parent.
fn signal_state_through_the_gate_and_direct(
    mode: &[&str],
    parent: fn(&mut Command),
) -> (Vec<String>, Vec<String>) {
    let proxy = FakeProxy::ready_after(1);
    let mut through = gate_ready(&proxy);
    parent(&mut through);
    let through = output(through.args(mode).args(["cat", "/proc/self/status"]));
    assert_eq!(through.status.code(), Some(0), "{}", stderr_text(&through));

    let mut alone = direct("cat");
    parent(&mut alone);
    let alone = output(alone.arg("/proc/self/status"));
    assert_eq!(alone.status.code(), Some(0));
    (signal_lines(&through.stdout), signal_lines(&alone.stdout))
}

fn signal_state_matches_a_direct_start(parent: fn(&mut Command)) -> Vec<String> {
    let (through, want) = signal_state_through_the_gate_and_direct(&[], parent);
    assert_eq!(want.len(), 3, "{want:?}");
    assert_eq!(through, want);
    want
}

const SIGPIPE_BIT: u64 = 1 << (libc::SIGPIPE - 1);

/// The SigIgn mask from `signal_lines`.
fn sig_ign(lines: &[String]) -> u64 {
    ignored_mask(&lines.join("\n")).expect("SigIgn line")
}

#[test]
fn signal_state_of_the_app_matches_a_direct_start_from_a_clean_parent() {
    let lines = signal_state_matches_a_direct_start(|_| {});
    // A clean parent: nothing blocked or caught, and SIGPIPE not ignored
    // (the gate's own runtime ignores it; the app must not inherit that).
    // (glibc's posix_spawn may leave its internal signals 32 and 33 ignored.)
    assert!(
        lines.contains(&"SigBlk:\t0000000000000000".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"SigCgt:\t0000000000000000".to_string()),
        "{lines:?}"
    );
    assert_eq!(sig_ign(&lines) & SIGPIPE_BIT, 0, "{lines:?}");
}

#[test]
fn signal_state_of_the_app_matches_a_direct_start_from_an_unusual_parent() {
    let lines = signal_state_matches_a_direct_start(unusual_signal_parent);
    // SIGPIPE (13) and SIGUSR1 (10) ignored, SIGUSR2 (12) blocked: proof the
    // parent's state was really unusual, so the comparison means something.
    let usr1 = 1 << (libc::SIGUSR1 - 1);
    assert_eq!(
        sig_ign(&lines) & (SIGPIPE_BIT | usr1),
        SIGPIPE_BIT | usr1,
        "{lines:?}"
    );
    assert!(
        lines.contains(&"SigBlk:\t0000000000000800".to_string()),
        "{lines:?}"
    );
}

/// Opens `/dev/null` as fd 3 and `file` as fd 4 in the child, without
/// close-on-exec, as a parent passing descriptors to the app would.
fn inherit_fds_3_and_4(cmd: &mut Command, file: &Path) {
    let null = CString::new("/dev/null").expect("no NUL");
    let file = CString::new(file.as_os_str().as_bytes()).expect("no NUL");
    // SAFETY: only async-signal-safe calls (open, dup2, close) between fork
    // and exec, on paths allocated before the fork.
    unsafe {
        cmd.pre_exec(move || {
            for (path, flags, target) in [
                (&null, libc::O_RDONLY, 3),
                (&file, libc::O_WRONLY | libc::O_APPEND, 4),
            ] {
                let fd = libc::open(path.as_ptr(), flags);
                if fd < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if fd != target {
                    if libc::dup2(fd, target) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                }
            }
            Ok(())
        });
    }
}

/// `ls -l` of /proc/self/fd without what differs between two runs by
/// nature: PIDs in `/proc/<pid>/` and pipe inode numbers.
fn normalize_fd_listing(listing: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(listing);
    text.lines()
        .map(|line| {
            let mut line = line.to_string();
            for (prefix, end) in [("/proc/", '/'), ("pipe:[", ']')] {
                if let Some(start) = line.find(prefix).map(|i| i + prefix.len()) {
                    if let Some(len) = line[start..].find(end) {
                        line.replace_range(start..start + len, "N");
                    }
                }
            }
            line
        })
        .collect()
}

#[test]
fn open_fds_of_the_app_match_a_direct_start_and_inherited_ones_pass_through() {
    let proxy = FakeProxy::ready_after(1);
    let dir = temp_dir();
    let file = dir.path().join("inherited");
    std::fs::write(&file, b"").expect("create file");
    let ls = ["-l", "-n", "--time-style=+", "/proc/self/fd/"];

    let mut through = gate_ready(&proxy);
    inherit_fds_3_and_4(&mut through, &file);
    let through = output(through.arg("ls").args(ls));
    assert_eq!(through.status.code(), Some(0), "{}", stderr_text(&through));

    let mut alone = direct("ls");
    inherit_fds_3_and_4(&mut alone, &file);
    let alone = output(alone.args(ls));
    assert_eq!(alone.status.code(), Some(0));

    let want = normalize_fd_listing(&alone.stdout);
    let got = normalize_fd_listing(&through.stdout);
    assert_eq!(got, want, "fds differ from a direct start");
    // The inherited descriptors are there (so the comparison could fail if
    // the gate closed them) and nothing the gate opened is.
    let text = want.join("\n");
    assert!(text.contains(" 3 -> /dev/null"), "{text}");
    assert!(
        text.contains(&format!(" 4 -> {}", file.display())),
        "{text}"
    );
    assert!(!text.contains("socket:"), "{text}");
    assert!(!text.contains("anon_inode"), "{text}");
}

fn assert_exec_failure(program: &str, code: i32, os_error: &str) {
    let proxy = FakeProxy::ready_after(1);
    let out = output(gate_ready(&proxy).args([program, "arg"]));
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(code), "{log}");
    assert!(out.stdout.is_empty(), "{:?}", out.stdout);
    let line = log
        .lines()
        .find(|l| l.contains("cannot run"))
        .unwrap_or_else(|| panic!("no 'cannot run' line in:\n{log}"));
    assert!(line.contains(&format!("'{program}'")), "{line}");
    assert!(line.contains(os_error), "{line}");
}

#[test]
fn missing_command_exits_127_and_names_it() {
    assert_exec_failure(
        "linkerd-await-test-no-such-command",
        127,
        "No such file or directory",
    );
}

#[test]
fn missing_absolute_path_exits_127_and_names_it() {
    assert_exec_failure(
        "/nonexistent/linkerd-await-test/app",
        127,
        "No such file or directory",
    );
}

#[test]
fn directory_as_command_exits_126_and_names_it() {
    let dir = temp_dir();
    assert_exec_failure(path_arg(dir.path()), 126, "Permission denied");
}

#[test]
fn non_executable_file_exits_126_and_names_it() {
    let dir = temp_dir();
    let path = dir.path().join("app");
    std::fs::write(&path, "#!/bin/sh\necho ran\n").expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    assert_exec_failure(path_arg(&path), 126, "Permission denied");
}

/// Pipes `data` into the gate's stdin with `cat` as the app (`mode` as in
/// `signal_state_through_the_gate_and_direct`), and checks that stdout
/// carries exactly `data` and stderr none of it.
fn stdin_and_stdout_pass_byte_for_byte(mode: &[&str], data: Vec<u8>) {
    let proxy = FakeProxy::ready_after(1);
    let mut cmd = gate_ready(&proxy);
    cmd.args(mode)
        .arg("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut running = Running::spawn(&mut cmd);
    let mut stdin = running.child.stdin.take().expect("stdin");
    let input = data.clone();
    // Dropping stdin at the end closes it: cat sees EOF.
    let writer = thread::spawn(move || stdin.write_all(&input));
    let out = read_all(running.child.stdout.take().expect("stdout"));
    let err = read_all(running.child.stderr.take().expect("stderr"));
    let status = running.wait_within(LIMIT);
    writer.join().expect("writer").expect("write stdin");
    let (out, err) = (
        out.join().expect("stdout reader"),
        err.join().expect("stderr reader"),
    );
    assert_eq!(status.code(), Some(0), "{}", String::from_utf8_lossy(&err));
    assert_eq!(out.len(), data.len(), "{}", String::from_utf8_lossy(&err));
    assert!(out == data, "stdout differs from stdin");
    assert!(
        !err.windows(16).any(|w| w == &data[..16]),
        "app data went to stderr"
    );
}

#[test]
fn app_stdin_and_stdout_are_the_gates_byte_for_byte() {
    // 1 MiB with every byte value, more than a pipe buffer holds.
    stdin_and_stdout_pass_byte_for_byte(&[], (0..4096).flat_map(|_| 0..=255u8).collect());
}

// ---------------------------------------------------------------------------
// The same under `--shutdown`: the app is the gate's child.
// ---------------------------------------------------------------------------

#[test]
fn supervised_app_reads_the_gates_stdin_and_writes_its_stdout_byte_exact() {
    // Every byte value (not UTF-8, NULs, CR/LF), and more than a pipe buffer.
    stdin_and_stdout_pass_byte_for_byte(
        &["-S", "--"],
        (0..=255u8).cycle().take(256 * 1024 + 7).collect(),
    );
}

#[test]
fn supervised_app_sees_the_signal_state_of_a_clean_parent() {
    let (gated, direct) = signal_state_through_the_gate_and_direct(&["-S", "--"], |_| {});
    assert_eq!(gated.len(), 3, "{gated:?}");
    assert_eq!(gated, direct);
}

#[test]
fn supervised_app_sees_the_signal_state_of_an_unusual_parent() {
    let (gated, direct) =
        signal_state_through_the_gate_and_direct(&["-S", "--"], unusual_signal_parent);
    assert_eq!(gated.len(), 3, "{gated:?}");
    assert_eq!(gated, direct);
}
