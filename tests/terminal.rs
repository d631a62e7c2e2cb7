//! `--shutdown` under an interactive shell: job control and exit statuses on
//! a real terminal must be exactly what they are when the app is started
//! directly (Ctrl-Z, `&` and `fg`, terminal modes, Ctrl-C in a loop, `$?`).
//!
//! Each test types into `bash -i` on a new pseudo-terminal (`common::pty`)
//! and checks what a user would see there: bash's job reports, the prompt,
//! the app answering typed lines. Every step waits for output, at most `STEP`.

mod common;
use common::{pty::Shell, *};

use std::{fs, time::Duration};

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
    proxy_answering(Reply::Status(200))
}

/// The command line that runs `sh SCRIPT` under the gate in supervise mode.
fn gate_line(proxy: &FakeProxy, script: &str) -> String {
    format!("{} -p {} -S -- sh {script}", gate_bin(), proxy.port())
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

/// `$?` of the gate's command line is `status`, and the proxy got one
/// shutdown request.
fn assert_ended_with(shell: &mut Shell, status: i32, proxy: &FakeProxy) {
    assert_eq!(last_status(shell), status, "{}", shell.screen());
    assert_eq!(
        proxy.requests_to("/shutdown").len(),
        1,
        "{}",
        shell.screen()
    );
}

/// App scripts shared with the shell, in a directory removed on drop.
struct Scripts(tempfile::TempDir);

impl Scripts {
    fn new() -> Self {
        Scripts(temp_dir())
    }

    /// Writes `body` to `name` and returns its path, for `sh PATH`.
    fn write(&self, name: &str, body: &str) -> String {
        let path = self.0.path().join(name);
        fs::write(&path, body).expect("write app script");
        path_arg(&path).to_string()
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
    let scripts = Scripts::new();
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
    assert_ended_with(&mut shell, 0, &proxy);
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
    let scripts = Scripts::new();
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
    let scripts = Scripts::new();
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
    assert_ended_with(&mut shell, 0, &proxy);
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
    let scripts = Scripts::new();
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
    let proxy = never_ready();
    let scripts = Scripts::new();
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
    let scripts = Scripts::new();
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
    assert_ended_with(&mut shell, 143, &proxy);
}

// ---------------------------------------------------------------------------
// Without job control (`sh -c` on a terminal, `docker run -it`): the gate
// hands the terminal to the app, and back.
// ---------------------------------------------------------------------------

/// Turns job control off (`set +m`): bash then runs each command line in its
/// own process group and never takes the terminal back itself, as `sh -c`
/// under `docker run -it` does. What gives the terminal back is the gate.
fn without_job_control(shell: &mut Shell) {
    shell.line("set +m");
    shell.prompt(STEP);
}

/// Types a line for the shell's own `read` once the gate exited: the shell
/// reads it only if its group has the terminal again (otherwise the read
/// fails at once with EIO, or stops the shell).
fn terminal_comes_back(shell: &mut Shell) {
    // The quotes keep the typed text itself from matching `read:`.
    shell.line(r#"read -r line; echo "re""ad:$line;""#);
    shell.line("hello");
    shell.wait_for("read:", STEP);
    let text = shell.wait_for(";", STEP);
    assert_eq!(text, "hello;", "the screen:\n{}", shell.screen());
    shell.prompt(STEP);
}

#[test]
fn ctrl_c_on_a_terminal_reaches_the_app_once_and_the_terminal_comes_back() {
    let Some(mut shell) =
        shell("ctrl_c_on_a_terminal_reaches_the_app_once_and_the_terminal_comes_back")
    else {
        return;
    };
    without_job_control(&mut shell);
    let proxy = ready_proxy();
    let scripts = Scripts::new();
    // Counts SIGINTs; after the first, leaves time for a second to arrive.
    let app = scripts.write(
        "app.sh",
        "n=0\ntrap 'n=$((n+1)); echo \"got INT $n\"' INT\necho started\n\
         i=0; while [ $n -lt 1 ] && [ $i -lt 3000 ]; do i=$((i+1)); sleep 0.01; done\nsleep 0.3\necho \"count $n\"\n",
    );
    shell.line(&gate_line(&proxy, &app));
    shell.wait_for("started", STEP);
    // The terminal's interrupt character, as typed.
    shell.send(b"\x03");
    let text = shell.prompt(STEP);
    assert!(
        text.contains("count 1"),
        "Ctrl-C reached the app once:\n{}",
        shell.screen()
    );
    assert_eq!(last_status(&mut shell), 0, "{}", shell.screen());
    terminal_comes_back(&mut shell);
}

#[test]
fn terminal_comes_back_after_the_app_could_not_start() {
    let Some(mut shell) = shell("terminal_comes_back_after_the_app_could_not_start") else {
        return;
    };
    without_job_control(&mut shell);
    let proxy = ready_proxy();
    shell.line(&format!(
        "{} -p {} -S -- /nonexistent/linkerd-await-test-app",
        gate_bin(),
        proxy.port()
    ));
    shell.prompt(STEP);
    assert_eq!(last_status(&mut shell), 127, "{}", shell.screen());
    terminal_comes_back(&mut shell);
}

// ---------------------------------------------------------------------------
// A stopped app and `docker stop` (no terminal).
// ---------------------------------------------------------------------------

/// As PID 1 (a container) a stopped app stays stopped, and `docker stop`
/// must still end it at once: the forwarded SIGTERM is followed by SIGCONT.
/// PID 1 so that the gate has no job control to mirror the stop with.
#[test]
fn sigterm_to_the_gate_ends_a_stopped_app_at_once_as_pid1() {
    if !pid_namespaces_available("sigterm_to_the_gate_ends_a_stopped_app_at_once_as_pid1") {
        return;
    }
    // One that exits once asked to shut down, as a pod's proxy does: the
    // gate watches for that (within --shutdown-timeout) before it exits.
    let proxy = FakeProxy::start(|_, _| Reply::Status(200));
    let mut cmd = gate_as_pid1_for(&proxy);
    cmd.args(["-S", "--", "sh", "-c"])
        .arg("echo \"app started $$\"; kill -STOP $$; exec sleep 30");
    // `$$` is the app's PID inside the namespace; from here, it is the
    // gate's child, and the gate is `unshare`'s.
    let mut gate = Gate::spawn_as_pid1(&mut cmd);
    gate.out.wait_for("app started", STEP);
    poll(STEP, || {
        children_of(gate.pid)
            .into_iter()
            .find(|&(_, state)| state == 'T')
    })
    .unwrap_or_else(|| panic!("no stopped app within {STEP:?}"));

    gate.signal(libc::SIGTERM);
    let limit = Duration::from_secs(2);
    let status =
        poll(limit, || gate.running.child.try_wait().expect("try_wait")).unwrap_or_else(|| {
            panic!(
                "the gate and its stopped app still run {limit:?} after SIGTERM \
                 (the app needs SIGCONT to act on it); stderr:\n{}",
                gate.err.text()
            )
        });
    // The app died by the SIGTERM; PID 1 reports that as 128 + 15.
    assert_eq!(status.code(), Some(143), "stderr:\n{}", gate.err.text());
}
