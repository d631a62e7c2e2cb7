//! `--shutdown` under an interactive shell: job control and exit statuses on
//! a real terminal must be exactly what they are when the app is started
//! directly (Ctrl-Z, `&` and `fg`, terminal modes, Ctrl-C in a loop, `$?`).
//!
//! Each test types into `bash -i` on a new pseudo-terminal (`common::pty`)
//! and checks what a user would see there: bash's job reports, the prompt,
//! the app answering typed lines. Every step waits for output, at most `STEP`.

mod common;
use common::{pty::Shell, *};

use std::{
    fs,
    path::PathBuf,
    process::Stdio,
    sync::atomic::{AtomicUsize, Ordering},
    thread,
    time::{Duration, Instant},
};

/// Bound for one step (a line, a prompt, a job report): it takes
/// milliseconds on an idle machine; generous because tests run in parallel
/// on 2 cores. A step that never comes fails the test after this long.
const STEP: Duration = Duration::from_secs(10);

/// The app for job-control tests: answers each line typed at it until
/// end-of-file (Ctrl-D), so the test sees whether typed input reaches it.
const READER: &str = r#"echo "app started"
while read -r line; do echo "app read: $line"; done
echo "app done"
"#;

// ---------------------------------------------------------------------------
// Helpers local to this file.
// ---------------------------------------------------------------------------

/// A proxy that is ready at once and accepts the shutdown request.
fn ready_proxy() -> FakeProxy {
    FakeProxy::start(|_, _| Reply::Status(200))
}

/// A proxy that is never ready.
fn never_ready_proxy() -> FakeProxy {
    FakeProxy::start(|_, _| Reply::Status(503))
}

/// The command line that runs `sh SCRIPT` under the gate in supervise mode.
fn gate_line(proxy: &FakeProxy, script: &str) -> String {
    format!("{GATE} -p {} -S -- sh {script}", proxy.port())
}

/// An interactive shell on a new terminal, or `None` (skip) without bash.
fn shell(test: &str) -> Option<Shell> {
    let shell = Shell::start();
    if shell.is_none() {
        eprintln!("SKIPPED {test}: no /bin/bash");
    }
    shell
}

/// `$?` of the last command line, as bash reports it (the quotes keep the
/// typed text itself from matching).
fn last_status(shell: &mut Shell) -> i32 {
    shell.line(r#"echo "exit""status=$?;""#);
    shell.wait_for("exitstatus=", STEP);
    let text = shell.wait_for(";", STEP);
    shell.prompt(STEP);
    let digits = text.trim_end_matches(';');
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no status in {digits:?}; the screen:\n{}", shell.screen()))
}

/// App scripts shared with the shell; removed on drop.
struct Scripts(PathBuf);

impl Scripts {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "linkerd-await-terminal-{}-{tag}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&path).expect("create temp dir");
        Scripts(path)
    }

    /// Writes `body` to `name` and returns its path, for `sh PATH`.
    fn write(&self, name: &str, body: &str) -> String {
        let path = self.0.join(name);
        fs::write(&path, body).expect("write app script");
        path.to_str().expect("temp dir is UTF-8").to_string()
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Job control.
// ---------------------------------------------------------------------------

#[test]
fn ctrl_z_stops_the_app_and_the_gate_and_fg_resumes_both() {
    let Some(mut shell) = shell("ctrl_z_stops_the_app_and_the_gate_and_fg_resumes_both") else {
        return;
    };
    let proxy = ready_proxy();
    let scripts = Scripts::new("ctrl-z");
    let app = scripts.write("reader.sh", READER);
    shell.line(&gate_line(&proxy, &app));
    shell.wait_for("app started", STEP);
    shell.line("before");
    shell.wait_for("app read: before", STEP);

    // Ctrl-Z stops the app (the foreground group); bash reports the job
    // stopped only once the gate, its child, has stopped too.
    shell.send(b"\x1a");
    shell.wait_for("Stopped", STEP);
    shell.prompt(STEP);
    shell.line(r#"echo "shell-$((40+2))""#);
    shell.wait_for("shell-42", STEP);
    shell.prompt(STEP);

    // `fg` continues the gate; the gate must continue the app and give it
    // the terminal back, or the app cannot read the next line.
    shell.line("fg");
    shell.wait_for(&app, STEP);
    shell.line("after");
    shell.wait_for("app read: after", STEP);

    // Ctrl-D: the app ends normally, and so does the gate.
    shell.send(b"\x04");
    shell.wait_for("app done", STEP);
    shell.prompt(STEP);
    assert_eq!(last_status(&mut shell), 0, "{}", shell.screen());
    assert_eq!(
        proxy.requests_to("/shutdown").len(),
        1,
        "{}",
        shell.screen()
    );
}

/// `COMMAND &`, then `fg` once bash reported the job stopped (its read from
/// the terminal stopped it), then a typed line that the app must read.
fn background_then_fg(shell: &mut Shell, command: &str, app: &str) {
    shell.line(&format!("{command} &"));
    shell.wait_for("app started", STEP);
    // Reported as soon as it happens (`set -b`), not at the next prompt.
    shell.wait_for("Stopped", STEP);
    // The rest of the report, which names the job.
    shell.wait_for(app, STEP);
    shell.line("fg");
    // bash echoes the job it brings to the foreground.
    shell.wait_for(app, STEP);
    shell.line("typed");
    shell.wait_for("app read: typed", STEP);
    shell.send(b"\x04");
    shell.wait_for("app done", STEP);
    shell.prompt(STEP);
    assert_eq!(last_status(shell), 0, "{}", shell.screen());
}

#[test]
fn background_gate_then_fg_gives_the_app_the_terminal() {
    let Some(mut shell) = shell("background_gate_then_fg_gives_the_app_the_terminal") else {
        return;
    };
    let proxy = ready_proxy();
    let scripts = Scripts::new("bg-fg");
    let app = scripts.write("reader.sh", READER);
    shell.line("set -b");
    shell.prompt(STEP);
    // What a user sees with the app alone: in the background its read stops
    // it (SIGTTIN) and bash says so; `fg` gives it the terminal.
    background_then_fg(&mut shell, &format!("sh {app}"), &app);

    // The same under the gate: the gate stops too (with the app's SIGTTIN),
    // and on `fg`, which makes the gate's group the foreground and continues
    // it, passes the terminal on to the app's group and continues the app.
    // Waiting for the report before `fg` also keeps `fg` from racing the
    // gate's own stop.
    background_then_fg(&mut shell, &gate_line(&proxy, &app), &app);
    assert_eq!(
        proxy.requests_to("/shutdown").len(),
        1,
        "{}",
        shell.screen()
    );
}

#[test]
fn app_can_set_terminal_modes_when_stdin_is_not_the_terminal() {
    let Some(mut shell) = shell("app_can_set_terminal_modes_when_stdin_is_not_the_terminal") else {
        return;
    };
    let proxy = ready_proxy();
    let scripts = Scripts::new("stty");
    // Changing modes from a background group stops the app (SIGTTOU): the
    // app must be in the foreground although its stdin is /dev/null.
    let app = scripts.write(
        "stty.sh",
        "echo \"app started\"\n\
         stty -echo </dev/tty && echo \"stty changed the modes\"\n\
         stty echo </dev/tty\n\
         echo \"app done\"\n",
    );
    shell.line(&format!("{} </dev/null", gate_line(&proxy, &app)));
    shell.wait_for("app started", STEP);
    shell.wait_for("stty changed the modes", STEP);
    shell.wait_for("app done", STEP);
    shell.prompt(STEP);
    assert_eq!(last_status(&mut shell), 0, "{}", shell.screen());
    assert_eq!(
        proxy.requests_to("/shutdown").len(),
        1,
        "{}",
        shell.screen()
    );
}

// ---------------------------------------------------------------------------
// Ending the way the app ended (Cracauer: die by the signal, so the shell
// can tell).
// ---------------------------------------------------------------------------

/// Types Ctrl-C into a running `for i in 1 2` loop and checks that bash
/// abandons it (no second iteration) with `$?` 130, as it does when the
/// command it runs dies by SIGINT.
fn ctrl_c_ends_the_loop(shell: &mut Shell) {
    shell.send(b"\x03");
    let (which, _) = shell.wait_for_any(&["iteration-2", common::pty::PROMPT], STEP);
    assert_eq!(
        which,
        1,
        "Ctrl-C did not stop the loop: bash ran its second iteration, so the gate \
         exited 130 instead of dying by SIGINT. The screen:\n{}",
        shell.screen()
    );
    assert_eq!(last_status(shell), 130, "{}", shell.screen());
    assert!(
        !shell.screen().contains("iteration-2"),
        "{}",
        shell.screen()
    );
}

#[test]
fn ctrl_c_stops_a_shell_loop_around_the_gate() {
    let Some(mut shell) = shell("ctrl_c_stops_a_shell_loop_around_the_gate") else {
        return;
    };
    let proxy = ready_proxy();
    let scripts = Scripts::new("ctrl-c-loop");
    // Blocks in a read until Ctrl-C kills it (sh's SIGINT is default).
    let app = scripts.write("app.sh", "echo \"app started\"\nread -r line\n");
    shell.line(&format!(
        r#"for i in 1 2; do echo "iteration-$i"; {}; done"#,
        gate_line(&proxy, &app)
    ));
    shell.wait_for("iteration-1", STEP);
    shell.wait_for("app started", STEP);
    ctrl_c_ends_the_loop(&mut shell);
    // Dying by the signal comes after the shutdown request, not instead of it.
    assert_eq!(
        proxy.requests_to("/shutdown").len(),
        1,
        "{}",
        shell.screen()
    );
}

#[test]
fn ctrl_c_while_waiting_for_the_proxy_stops_a_shell_loop_around_the_gate() {
    let Some(mut shell) =
        shell("ctrl_c_while_waiting_for_the_proxy_stops_a_shell_loop_around_the_gate")
    else {
        return;
    };
    let proxy = never_ready_proxy();
    let scripts = Scripts::new("ctrl-c-wait");
    let app = scripts.write("reader.sh", READER);
    shell.line(&format!(
        r#"for i in 1 2; do echo "iteration-$i"; {}; done"#,
        gate_line(&proxy, &app)
    ));
    shell.wait_for("iteration-1", STEP);
    // The gate is in its wait loop.
    proxy.wait_for_requests(1, STEP);
    ctrl_c_ends_the_loop(&mut shell);
    assert!(
        !shell.screen().contains("app started"),
        "{}",
        shell.screen()
    );
}

#[test]
fn exit_status_is_128_plus_n_in_the_shell_when_the_app_is_killed() {
    let Some(mut shell) = shell("exit_status_is_128_plus_n_in_the_shell_when_the_app_is_killed")
    else {
        return;
    };
    let proxy = ready_proxy();
    let scripts = Scripts::new("killed");
    let app = scripts.write(
        "app.sh",
        "echo \"app started\"\nkill -TERM $$\necho \"app survived\"\n",
    );

    // Started directly, bash reports the signal ("Terminated") and $? is 143.
    shell.line(&format!("sh {app}"));
    shell.wait_for("app started", STEP);
    let direct = shell.prompt(STEP);
    assert!(direct.contains("Terminated"), "{}", shell.screen());
    assert_eq!(last_status(&mut shell), 143, "{}", shell.screen());

    // Under the gate: the same report, so the gate died by SIGTERM, and the
    // same status.
    shell.line(&gate_line(&proxy, &app));
    shell.wait_for("app started", STEP);
    let gated = shell.prompt(STEP);
    assert!(
        gated.contains("Terminated"),
        "bash did not report the gate as killed by SIGTERM (it exited 143 instead). \
         The screen:\n{}",
        shell.screen()
    );
    assert_eq!(last_status(&mut shell), 143, "{}", shell.screen());
    assert_eq!(
        proxy.requests_to("/shutdown").len(),
        1,
        "{}",
        shell.screen()
    );
}

// ---------------------------------------------------------------------------
// A stopped app and `docker stop` (no terminal).
// ---------------------------------------------------------------------------

/// Children of `pid` with their state letter, from `/proc/*/stat`.
fn children_of(pid: i32) -> Vec<(i32, char)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|child| {
            let stat = fs::read_to_string(format!("/proc/{child}/stat")).ok()?;
            let mut fields = stat.get(stat.rfind(')')? + 1..)?.split_whitespace();
            let state = fields.next()?.chars().next()?;
            let ppid: i32 = fields.next()?.parse().ok()?;
            (ppid == pid).then_some((child, state))
        })
        .collect()
}

/// Polls `f` every 5 ms until it returns `Some`, for at most `STEP`.
fn poll<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(value) = f() {
            return value;
        }
        assert!(start.elapsed() < STEP, "no {what} within {STEP:?}");
        thread::sleep(Duration::from_millis(5));
    }
}

/// As PID 1 (a container) a stopped app stays stopped, and `docker stop`
/// must still end it at once: the forwarded SIGTERM is followed by SIGCONT.
/// PID 1 so that the gate has no job control to mirror the stop with.
#[test]
fn sigterm_to_the_gate_ends_a_stopped_app_at_once_as_pid1() {
    if !can_unshare_pid() {
        eprintln!(
            "SKIPPED sigterm_to_the_gate_ends_a_stopped_app_at_once_as_pid1: cannot create a PID namespace"
        );
        return;
    }
    let proxy = ready_proxy();
    let mut cmd = as_pid1(GATE);
    cmd.args(["-p", &proxy.port().to_string(), "-S", "--", "sh", "-c"])
        .arg("echo \"app started $$\"; kill -STOP $$; exec sleep 30")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut unshare = Running::spawn(&mut cmd);
    let out = LineReader::start(unshare.child.stdout.take().expect("stdout"));
    let err = LineReader::start(unshare.child.stderr.take().expect("stderr"));
    out.wait_for("app started", STEP);
    // `$$` is the app's PID inside the namespace; from here, it is the
    // gate's child, and the gate is `unshare`'s.
    let gate = poll("gate under unshare", || {
        children_of(unshare.pid())
            .into_iter()
            .map(|(pid, _)| pid)
            .find(|&pid| {
                fs::read_to_string(format!("/proc/{pid}/comm"))
                    .is_ok_and(|comm| comm.trim_end() == "linkerd-await")
            })
    });
    poll("stopped app", || {
        children_of(gate)
            .into_iter()
            .find(|&(_, state)| state == 'T')
    });

    // SAFETY: kill(2) on the gate this test started.
    assert_eq!(unsafe { libc::kill(gate, libc::SIGTERM) }, 0);
    let limit = Duration::from_secs(2);
    let sent = Instant::now();
    let status = loop {
        if let Some(status) = unshare.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(
            sent.elapsed() < limit,
            "the gate and its stopped app still run {limit:?} after SIGTERM \
             (the app needs SIGCONT to act on it); stderr:\n{}",
            err.text()
        );
        thread::sleep(Duration::from_millis(5));
    };
    // The app died by the SIGTERM; PID 1 reports that as 128 + 15.
    assert_eq!(status.code(), Some(143), "stderr:\n{}", err.text());
}
