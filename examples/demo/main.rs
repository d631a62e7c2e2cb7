//! The startup race, and the gate that ends it, in two seconds on one machine:
//!
//! ```text
//! cargo run --locked --example demo
//! ```
//!
//! A simulated proxy (the `sim-proxy` crate's server, run in this process on
//! a free loopback port) refuses connections for 300 ms, answers 503 on
//! `/ready` until 1.5 s, then 200. Behind its simulated outbound listener (which,
//! like the mesh's, accepts every connection at once) a simulated PostgreSQL
//! answers "starting up" (57P03) until 2.2 s. The real `linkerd-await` binary
//! (built here with cargo if needed) waits for the proxy, then for the database
//! through it (`--wait-for postgres://...`), and then execs a tiny app. The
//! timeline shows the proxy and the database turning ready, the gate's own log
//! lines, and the app starting right after both, in the gate's PID.
//!
//! Set `LINKERD_AWAIT_DEMO_GATE=<path>` to use an already built gate instead.

use std::{
    ffi::OsString,
    net::{Ipv4Addr, SocketAddr},
    os::unix::process::CommandExt,
    path::Path,
    process::{Child, Command, ExitCode, Stdio},
    sync::{Arc, mpsc},
    thread,
    time::{Duration, Instant},
};

mod gate;
mod story;

use gate::gate_binary;
use sim_proxy::{
    Answered, FailMode, FakePostgres, FakeProxy, Outbound, Request, Reserved, Timeline,
};
use story::{Story, millis, print_line, seconds, shell_words, watch_lines};

/// How long the simulated proxy refuses connections, as a proxy still starting does.
const REFUSE_FOR: Duration = Duration::from_millis(300);
/// When it turns ready.
const READY_AFTER: Duration = Duration::from_millis(1500);
/// When the database the app needs turns ready (after the proxy, as a
/// database restarted with the pod's node often does).
const DB_READY_AFTER: Duration = Duration::from_millis(2200);
/// The dependency checks' backoff cap for the demo (the default is 1s).
const DB_BACKOFF: &str = "100ms";
/// The whole demo (after the build) ends within this, whatever happens.
const LIMIT: Duration = Duration::from_secs(20);
/// The gate's own deadline, well inside `LIMIT`, so a stuck proxy shows up as the gate's timeout.
const GATE_TIMEOUT: &str = "10s";
/// The app: it says when it starts, and in which PID (the gate's, since the gate execs it).
const APP_SCRIPT: &str = r#"echo "app started as PID $$""#;
/// Marks the pure-Rust stand-in for the app on machines without `/bin/sh`.
const AS_APP: &str = "--as-app";

fn main() -> ExitCode {
    if std::env::args_os().nth(1).is_some_and(|arg| arg == AS_APP) {
        println!("app started as PID {}", std::process::id());
        return ExitCode::SUCCESS;
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("demo failed: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Who a timeline line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Proxy,
    Db,
    Gate,
    App,
}

/// What the main loop hears about, from the threads that watch each party.
enum Note {
    Line(Who, Duration, String),
    /// The proxy answered a request: when, `METHOD /path`, and what.
    Request(Duration, String, Answered),
    /// The gate's stdout or stderr reached its end.
    Closed,
}

fn run() -> Result<(), String> {
    let gate = gate_binary()?;

    // The proxy: bound at once (so its port is known) but not listening, i.e. refusing.
    let reserved = Reserved::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .map_err(|e| format!("cannot bind a loopback port for the simulated proxy: {e}"))?;
    let port = reserved.addr().port();
    let start = Instant::now();
    let (notes, heard) = mpsc::channel();
    start_proxy(reserved, start, notes.clone());
    // The database, and the proxy's outbound listener in front of it.
    let db = FakePostgres::start(start + DB_READY_AFTER)
        .map_err(|e| format!("cannot start the simulated database: {e}"))?;
    let outbound = Outbound::start(db.addr())
        .map_err(|e| format!("cannot start the simulated outbound listener: {e}"))?;
    let db_url = format!("postgres://app@127.0.0.1:{}/orders", outbound.port());
    let db_notes = notes.clone();
    thread::spawn(move || {
        thread::sleep(DB_READY_AFTER.saturating_sub(start.elapsed()));
        let _ = db_notes.send(Note::Line(
            Who::Db,
            start.elapsed(),
            "ready: start-up messages get an authentication request from now on".to_string(),
        ));
    });

    let (program, app_args) = app_command()?;
    let mut command = Command::new(&gate);
    command
        .args(["-p", &port.to_string(), "--timeout", GATE_TIMEOUT])
        .args([
            "--wait-for",
            &db_url,
            "--wait-for-backoff",
            DB_BACKOFF,
            "--",
        ])
        .arg(&program)
        .args(&app_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The demo shows the defaults: settings from the caller's environment would change the story.
    for (name, _) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if name_text.starts_with("LINKERD")
            || name_text.ends_with("_PROXY")
            || name_text.ends_with("_proxy")
        {
            command.env_remove(&name);
        }
    }
    // SAFETY: prctl(2) is async-signal-safe and touches only the child. If the
    // demo is killed, the gate (or the app it became) is killed too rather
    // than left behind; exec keeps this setting.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }

    println!("linkerd-await demo");
    println!(
        "  proxy: simulated on 127.0.0.1:{port}: refuses connections for {}, answers 503 on /ready until {}, then 200",
        millis(REFUSE_FOR),
        millis(READY_AFTER)
    );
    println!(
        "  db:    simulated PostgreSQL behind the proxy's outbound listener 127.0.0.1:{}: answers 57P03 (starting up) until {}",
        outbound.port(),
        millis(DB_READY_AFTER)
    );
    println!(
        "  gate:  {} -p {port} --timeout {GATE_TIMEOUT} --wait-for {db_url} --wait-for-backoff {DB_BACKOFF} -- {}",
        gate.display(),
        shell_words(&program, &app_args)
    );
    println!();
    print_line(
        start.elapsed(),
        Who::Proxy,
        "not listening yet: connections are refused",
    );

    let mut gate_process = Guard(
        command
            .spawn()
            .map_err(|e| format!("cannot start the gate {}: {e}", gate.display()))?,
    );
    let gate_pid = gate_process.0.id();
    let stdout = gate_process.0.stdout.take();
    let stderr = gate_process.0.stderr.take();
    watch_lines(stdout, Who::App, start, notes.clone());
    watch_lines(stderr, Who::Gate, start, notes);

    let mut story = Story::default();
    let status = loop {
        if start.elapsed() > LIMIT {
            return Err(format!(
                "the gate did not finish within {}; stopped it",
                seconds(LIMIT)
            ));
        }
        match heard.recv_timeout(Duration::from_millis(10)) {
            Ok(note) => story.hear(note),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Cannot happen while the proxy thread holds a sender; handled all the same.
            Err(mpsc::RecvTimeoutError::Disconnected) => thread::sleep(Duration::from_millis(10)),
        }
        // Done once the gate (by then: the app) has exited and both its pipes are drained.
        if story.closed == 2 {
            match gate_process.0.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => return Err(format!("cannot wait for the gate: {e}")),
            }
        }
    };
    story.conclude(status, gate_pid)
}

/// `sh -c '<app>'`, or this demo itself as the app where there is no shell.
fn app_command() -> Result<(OsString, Vec<OsString>), String> {
    if Path::new("/bin/sh").exists() {
        return Ok(("sh".into(), vec!["-c".into(), APP_SCRIPT.into()]));
    }
    let me = std::env::current_exe()
        .map_err(|e| format!("no /bin/sh, and cannot find the demo's own binary: {e}"))?;
    Ok((me.into_os_string(), vec![AS_APP.into()]))
}

/// Runs the simulated proxy on threads of this process.
fn start_proxy(reserved: Reserved, start: Instant, notes: mpsc::Sender<Note>) {
    let timeline = Timeline {
        ready_path: "/ready".to_string(),
        ready_after: READY_AFTER,
        fail_mode: FailMode::None,
        shutdown_status: 200,
    };
    let ready_notes = notes.clone();
    thread::spawn(move || {
        thread::sleep(READY_AFTER.saturating_sub(start.elapsed()));
        let _ = ready_notes.send(Note::Line(
            Who::Proxy,
            start.elapsed(),
            "ready: GET /ready answers 200 from now on".to_string(),
        ));
    });
    thread::spawn(move || {
        thread::sleep(REFUSE_FOR.saturating_sub(start.elapsed()));
        let listener = match reserved.listen() {
            Ok(listener) => listener,
            Err(e) => {
                let _ = notes.send(Note::Line(
                    Who::Proxy,
                    start.elapsed(),
                    format!("cannot listen: {e}"),
                ));
                return;
            }
        };
        let _ = notes.send(Note::Line(
            Who::Proxy,
            start.elapsed(),
            "listening; GET /ready answers 503 (not ready)".to_string(),
        ));
        let requests = notes.clone();
        let observer = move |request: &Request, answered: Answered| {
            let what = format!("{} {}", request.method, request.path);
            // A send fails only once the demo is over.
            let _ = requests.send(Note::Request(start.elapsed(), what, answered));
        };
        match FakeProxy::observed(
            listener,
            Arc::new(timeline.script(start)),
            Arc::new(observer),
        ) {
            // It serves on threads of its own for as long as it is kept: until the demo ends.
            Ok(_proxy) => loop {
                thread::park();
            },
            Err(e) => {
                let _ = notes.send(Note::Line(
                    Who::Proxy,
                    start.elapsed(),
                    format!("cannot serve: {e}"),
                ));
            }
        }
    });
}

/// Kills and reaps the gate when the demo ends, whichever way it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        // Both fail harmlessly once the process has exited and been reaped.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
