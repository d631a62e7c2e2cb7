//! The examples users and other tests run: the simulated proxy (`sim-proxy`)
//! behaves as its help says, the real gate gets through it, and the README's
//! demo runs to success.

mod common;
use common::*;

use std::{
    io::{ErrorKind, Read, Write},
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Command, ExitStatus, Stdio},
    sync::{OnceLock, mpsc},
    thread,
    time::{Duration, Instant},
};

/// Bound on waiting for a line the simulator prints right away.
const PROMPT: Duration = Duration::from_secs(10);

/// The examples' executables, built once per test run. `cargo test` builds
/// examples, but `cargo test --test examples` does not, so build them here
/// with the cargo that runs us, in the same profile.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "build",
                "--locked",
                "--example",
                "sim-proxy",
                "--example",
                "demo",
            ])
            .arg("--message-format=json-render-diagnostics")
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let out = cargo.output().expect("run cargo build --example");
        assert!(
            out.status.success(),
            "cargo build --example failed: {}",
            out.status
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| {
                l.contains(r#""reason":"compiler-artifact""#) && l.contains(r#""kind":["example"]"#)
            })
            .filter_map(|l| {
                Some((
                    json_string(l, r#""name":"#)?,
                    PathBuf::from(json_string(l, r#""executable":"#)?),
                ))
            })
            .collect()
    });
    built
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, path)| path.clone())
        .unwrap_or_else(|| panic!("cargo did not report the {name} example; got {built:?}"))
}

/// The first JSON string value after `key` in one of cargo's one-line messages.
fn json_string(line: &str, key: &str) -> Option<String> {
    let rest = line[line.find(key)? + key.len()..].strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(rest[..end].replace("\\\\", "\\"))
}

/// A running simulator with its output being collected.
struct SimProxy {
    process: Running,
    stdout: LineReader,
    stderr: LineReader,
    /// Taken just before the spawn: every "after start" instant is later than this.
    spawned: Instant,
}

impl SimProxy {
    fn spawn(args: &[&str]) -> Self {
        let mut cmd = Command::new(example("sim-proxy"));
        cmd.args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("SIM_PROXY_") {
                cmd.env_remove(&key);
            }
        }
        let spawned = Instant::now();
        let mut process = Running::spawn(&mut cmd);
        let stdout = LineReader::start(process.child.stdout.take().expect("stdout"));
        let stderr = LineReader::start(process.child.stderr.take().expect("stderr"));
        SimProxy {
            process,
            stdout,
            stderr,
            spawned,
        }
    }

    /// Spawns and waits for the `listening on` line.
    fn listening(args: &[&str]) -> (Self, SocketAddr) {
        let sim = Self::spawn(args);
        let addr = sim.wait_listening();
        (sim, addr)
    }

    fn wait_listening(&self) -> SocketAddr {
        let text = self.stdout.wait_for("\n", PROMPT);
        text.strip_prefix("listening on ")
            .and_then(|rest| rest.trim_end().parse().ok())
            .unwrap_or_else(|| panic!("stdout is not one `listening on <addr>` line: {text:?}"))
    }
}

/// One request on a fresh connection; returns the status and the whole response.
fn http(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    )
    .expect("send request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    (status, response)
}

/// Runs the demo to its end (it bounds itself to 20 s after the build) and
/// returns its status and its whole stdout and stderr.
fn run_demo(cmd: &mut Command, limit: Duration) -> (ExitStatus, String, String) {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut demo = Running::spawn(cmd);
    let stdout = read_to_end(demo.child.stdout.take().expect("stdout"));
    let stderr = read_to_end(demo.child.stderr.take().expect("stderr"));
    let status = demo.wait_within(limit);
    // The pipes reach their end once the demo and every process it started have exited.
    let drained = |text: mpsc::Receiver<String>| {
        text.recv_timeout(Duration::from_secs(5))
            .expect("the demo left a process holding its output open")
    };
    (status, drained(stdout), drained(stderr))
}

/// Reads `stream` to its end on a thread; the text arrives on the channel.
fn read_to_end(mut stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        let _ = send.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    receive
}

#[test]
fn sim_proxy_refuses_connections_until_refuse_for_then_listens() {
    let sim = SimProxy::spawn(&["--refuse-for", "1500ms"]);
    // The whole line: a pipe may hand it over in pieces.
    let text = sim.stderr.wait_for("ms after start", PROMPT);
    let reserved: SocketAddr = text
        .split("refusing connections on ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|addr| addr.parse().ok())
        .unwrap_or_else(|| panic!("no address in {text:?}"));

    let refused = TcpStream::connect_timeout(&reserved, Duration::from_secs(2));
    let checked_at = sim.spawned.elapsed();
    assert!(
        checked_at < Duration::from_millis(1500),
        "too slow to check the refusal ({checked_at:?})"
    );
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionRefused),
        "connections are refused before --refuse-for"
    );
    assert!(
        sim.stdout.text().is_empty(),
        "no `listening on` line before listening"
    );

    let addr = sim.wait_listening();
    assert!(
        sim.spawned.elapsed() >= Duration::from_millis(1500),
        "listening after {:?}, before --refuse-for",
        sim.spawned.elapsed()
    );
    assert_eq!(
        addr, reserved,
        "the port reported while refusing is the one it listens on"
    );
    assert_eq!(http(addr, "GET", "/live").0, 200);
}

#[test]
fn sim_proxy_answers_503_then_200_on_its_ready_path() {
    let (sim, addr) =
        SimProxy::listening(&["--ready-after", "1500ms", "--ready-path", "/healthz/ready"]);
    let (status, body) = http(addr, "GET", "/healthz/ready");
    assert!(
        sim.spawned.elapsed() < Duration::from_millis(1500),
        "too slow to see the not-ready phase"
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        http(addr, "GET", "/ready").0,
        404,
        "only the configured path is the ready path"
    );

    let ready_at = loop {
        if http(addr, "GET", "/healthz/ready").0 == 200 {
            break sim.spawned.elapsed();
        }
        assert!(sim.spawned.elapsed() < PROMPT, "never turned ready");
        thread::sleep(Duration::from_millis(20));
    };
    assert!(
        ready_at >= Duration::from_millis(1500),
        "ready at {ready_at:?}, before --ready-after"
    );
    // Ready stays ready.
    assert_eq!(http(addr, "GET", "/healthz/ready").0, 200);

    let log = sim.stderr.wait_for("GET /healthz/ready -> 200", PROMPT);
    assert!(
        log.contains("ms GET /healthz/ready -> 503"),
        "each request is logged with its time:\n{log}"
    );
    assert!(log.contains("ms GET /ready -> 404"), "{log}");
}

#[test]
fn sim_proxy_answers_shutdown_status_and_a_404_does_not_exit() {
    let (mut sim, addr) = SimProxy::listening(&["--shutdown-status", "404", "--exit-on-shutdown"]);
    assert_eq!(http(addr, "POST", "/shutdown").0, 404);
    assert_eq!(http(addr, "POST", "/quitquitquit").0, 404);
    assert_eq!(
        http(addr, "GET", "/shutdown").0,
        405,
        "the shutdown endpoint wants a POST"
    );
    sim.stderr.wait_for("POST /shutdown -> 404", PROMPT);
    assert!(
        sim.process.child.try_wait().expect("try_wait").is_none(),
        "a refused shutdown does not stop the proxy"
    );
    assert_eq!(
        http(addr, "GET", "/ready").0,
        200,
        "--ready-after defaults to 0"
    );
}

#[test]
fn sim_proxy_exits_0_after_answering_post_shutdown_with_exit_on_shutdown() {
    let (mut sim, addr) = SimProxy::listening(&["--exit-on-shutdown"]);
    let (status, response) = http(addr, "POST", "/shutdown");
    assert_eq!(
        status, 200,
        "the answer arrives before the exit: {response}"
    );
    assert_eq!(
        sim.process.wait_within(Duration::from_secs(5)).code(),
        Some(0)
    );
    sim.stderr.wait_for("POST /shutdown -> 200", PROMPT);
    assert_eq!(
        sim.stdout.text(),
        format!("listening on {addr}\n"),
        "stdout holds exactly the one line scripts wait for"
    );

    let (mut envoy, addr) = SimProxy::listening(&["--exit-on-shutdown"]);
    assert_eq!(http(addr, "POST", "/quitquitquit").0, 200);
    assert_eq!(
        envoy.process.wait_within(Duration::from_secs(5)).code(),
        Some(0)
    );
}

#[test]
fn sim_proxy_without_exit_on_shutdown_keeps_running_after_shutdown() {
    let (mut sim, addr) = SimProxy::listening(&[]);
    assert_eq!(http(addr, "POST", "/shutdown").0, 200);
    assert_eq!(http(addr, "GET", "/ready").0, 200);
    assert!(sim.process.child.try_wait().expect("try_wait").is_none());
}

#[test]
fn sim_proxy_fail_mode_hang_never_answers() {
    let (sim, addr) = SimProxy::listening(&["--ready-after", "10m", "--fail-mode", "hang"]);
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("read timeout");
    stream
        .write_all(b"GET /ready HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("send");
    let mut byte = [0u8; 1];
    let err = stream
        .read(&mut byte)
        .expect_err("no answer, and the connection stays open");
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );
    sim.stderr
        .wait_for("GET /ready -> (no answer: hang)", PROMPT);
    // Other paths still answer.
    assert_eq!(http(addr, "GET", "/live").0, 200);
}

#[test]
fn sim_proxy_fail_mode_close_closes_without_answering() {
    let (_sim, addr) = SimProxy::listening(&["--ready-after", "10m", "--fail-mode", "close"]);
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("read timeout");
    stream
        .write_all(b"GET /ready HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("send");
    let mut response = Vec::new();
    match stream.read_to_end(&mut response) {
        Ok(_) => assert!(
            response.is_empty(),
            "{}",
            String::from_utf8_lossy(&response)
        ),
        Err(e) => assert_eq!(e.kind(), ErrorKind::ConnectionReset, "{e}"),
    }
}

#[test]
fn sim_proxy_fail_mode_redirect_answers_302() {
    let (_sim, addr) = SimProxy::listening(&["--ready-after", "10m", "--fail-mode", "redirect"]);
    let (status, response) = http(addr, "GET", "/ready");
    assert_eq!(status, 302);
    assert!(
        response.to_ascii_lowercase().contains("\r\nlocation: /"),
        "{response}"
    );
}

#[test]
fn sim_proxy_rejects_durations_the_gate_rejects() {
    for bad in ["1.5s", "5", "-1s", "1x"] {
        let out = output(Command::new(example("sim-proxy")).arg(format!("--ready-after={bad}")));
        assert_eq!(
            out.status.code(),
            Some(2),
            "--ready-after {bad}: {}",
            stderr_text(&out)
        );
        assert!(
            stderr_text(&out).contains("--ready-after"),
            "{}",
            stderr_text(&out)
        );
        assert!(out.stdout.is_empty(), "never listening");
    }
}

#[test]
fn sim_proxy_exits_0_on_sigterm() {
    let (mut sim, _addr) = SimProxy::listening(&[]);
    sim.process.signal(libc::SIGTERM);
    assert_eq!(
        sim.process.wait_within(Duration::from_secs(5)).code(),
        Some(0)
    );
}

#[test]
fn gate_waits_through_refusal_and_503_from_the_sim_proxy_then_runs_the_app() {
    let sim = SimProxy::spawn(&["--refuse-for", "300ms", "--ready-after", "1s"]);
    // The whole line: a pipe may hand it over in pieces.
    let text = sim.stderr.wait_for("ms after start", PROMPT);
    let port = text
        .rsplit_once("127.0.0.1:")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no port in {text:?}"));

    let out = output(gate().args(["-p", port, "--timeout", "10s", "--", "echo", "app ran"]));
    let done = sim.spawned.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "app ran\n");
    assert!(
        done >= Duration::from_secs(1),
        "the app ran before the proxy was ready ({done:?})"
    );
    // The simulator logs a request after answering it: wait for the last one.
    let log = sim.stderr.wait_for("GET /ready -> 200", PROMPT);
    assert!(
        log.contains("GET /ready -> 503"),
        "the gate saw the not-ready phase:\n{log}"
    );
    assert!(log.contains("GET /ready -> 200"), "{log}");
}

#[test]
fn gate_in_shutdown_mode_stops_the_sim_proxy_like_a_job_pod() {
    let (mut sim, addr) = SimProxy::listening(&["--exit-on-shutdown"]);
    let out = output(gate().args(["-p", &addr.port().to_string(), "-S", "--", "true"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(
        sim.process.wait_within(Duration::from_secs(5)).code(),
        Some(0),
        "the proxy exits: the pod completes"
    );
    sim.stderr.wait_for("POST /shutdown -> 200", PROMPT);
}

#[test]
fn demo_shows_the_app_starting_after_the_proxy_and_then_the_database_turn_ready() {
    let mut cmd = Command::new(example("demo"));
    cmd.env("LINKERD_AWAIT_DEMO_GATE", gate_bin());
    let (status, stdout, stderr) = run_demo(&mut cmd, Duration::from_secs(30));
    assert!(
        status.success(),
        "demo failed ({status}):\n{stdout}\n{stderr}"
    );
    assert!(
        !stderr.contains("building the gate"),
        "the given gate is used as is:\n{stderr}"
    );

    // The timeline's lines: `<seconds>s  <who>  <what>`, in the order printed.
    let timeline: Vec<(f64, &str, &str)> = stdout
        .lines()
        .filter_map(|line| {
            let (time, rest) = line.trim_start().split_once("s  ")?;
            let (who, what) = rest.trim_start().split_once(' ')?;
            Some((time.parse().ok()?, who, what.trim_start()))
        })
        .collect();
    let find = |who: &str, needle: &str| {
        timeline
            .iter()
            .position(|(_, w, what)| *w == who && what.contains(needle))
            .unwrap_or_else(|| {
                panic!("no {who} line with {needle:?} in the demo's output:\n{stdout}")
            })
    };
    let refused = find("proxy", "connections are refused");
    let waiting = find("gate", "waiting for the proxy at http://localhost:");
    let ready = find("proxy", "ready: GET /ready answers 200");
    let gate_ready = find("gate", "proxy ready after");
    let waiting_db = find("gate", "waiting for postgres://***@127.0.0.1:");
    let db_ready = find(
        "db",
        "ready: start-up messages get an authentication request",
    );
    let gate_db_ready = find("gate", "/orders ready after");
    let app = find("app", "app started as PID");
    // The gate's log (stderr) and the app's output (stdout) come through two
    // pipes read by two threads: their relative order on a busy machine says
    // nothing. Only orders within one source, or causal ones, are checked.
    assert!(
        refused < ready
            && waiting < gate_ready
            && gate_ready < waiting_db
            && waiting_db < gate_db_ready
            && ready < app
            && db_ready < app,
        "{stdout}"
    );
    let (ready_at, db_ready_at, app_at) =
        (timeline[ready].0, timeline[db_ready].0, timeline[app].0);
    assert!(
        ready_at >= 1.5 && db_ready_at >= 2.2 && app_at >= db_ready_at,
        "app at {app_at}s, proxy ready at {ready_at}s, db at {db_ready_at}s:\n{stdout}"
    );
    assert!(
        stdout.contains(
            "the proxy turned ready at 1.500s, the database at 2.200s; the app started at"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("the app kept the gate's PID"), "{stdout}");
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
}

#[test]
fn demo_builds_the_gate_with_cargo_like_the_readme_command() {
    let mut cmd = Command::new(example("demo"));
    cmd.env("CARGO", env!("CARGO"))
        .env_remove("LINKERD_AWAIT_DEMO_GATE");
    // The gate is already built for this test run, so cargo has nothing to
    // compile; the bound leaves room for waiting on cargo's lock.
    let (status, stdout, stderr) = run_demo(&mut cmd, Duration::from_secs(120));
    assert!(
        status.success(),
        "demo failed ({status}):\n{stdout}\n{stderr}"
    );
    assert!(stderr.contains("building the gate"), "{stderr}");
    assert!(stdout.trim_end().ends_with("ok"), "{stdout}");
}

#[test]
fn sim_proxy_outbound_accepts_every_connection_so_only_a_protocol_check_sees_the_target_down() {
    let down = RefusedPort::new();
    let listen = format!("127.0.0.1:{}", closed_port());
    let outbound = format!("{listen}=127.0.0.1:{}", down.port);
    let (sim, _) = SimProxy::listening(&["--outbound", &outbound]);
    sim.stderr.wait_for(
        &format!("outbound {listen} accepts every connection"),
        PROMPT,
    );
    let wait_for = |target: &str| {
        output(gate().args(["--mesh", "none", "-t", "1s", "--wait-for", target]))
            .status
            .code()
    };
    assert_eq!(wait_for(&format!("tcp://{listen}")), Some(0));
    assert_eq!(wait_for(&format!("redis://{listen}")), Some(69));
}

/// The `--wait-for` Kubernetes example: the sample termination message's
/// check count is one the gate can reach in the example's 5 minutes at its
/// 2 s pause cap, and the comment above the variable says what it sets.
#[test]
fn the_wait_for_example_s_sample_message_fits_its_own_settings() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples/kubernetes/wait-for-postgres.yaml");
    let text = std::fs::read_to_string(&path).expect("the example");
    assert!(
        text.contains(r#""--timeout", "5m""#),
        "the example's timeout changed"
    );
    assert!(text.contains("LINKERD_AWAIT_WAIT_FOR_BACKOFF") && text.contains(r#"value: "2s""#));
    let said: u64 = text
        .split_once(" checks); not starting the app")
        .and_then(|(before, _)| before.rsplit_once('(').map(|(_, n)| n.trim().to_string()))
        .and_then(|n| n.parse().ok())
        .expect("a sample message with a check count");
    // The schedule: each pause drawn from the upper half of a bound, the
    // first 200 ms, each next 2.4 times the pause before, up to the cap;
    // each check takes up to the 1 s --attempt-timeout. The fewest checks:
    // the longest pauses and checks (the bound grows 2.4-fold a step); the
    // most: the shortest (1.2-fold).
    let (total, cap, attempt) = (300_000u64, 2_000u64, 1_000u64);
    let count = |pause: &dyn Fn(u64) -> u64, check: u64| {
        let (mut elapsed, mut n, mut bound) = (0, 0, 200);
        while elapsed <= total {
            n += 1;
            let paused = pause(bound);
            elapsed += check + paused;
            bound = (paused * 12 / 5).clamp(bound, cap);
        }
        n
    };
    let fewest = count(&|bound| bound, attempt);
    let most = count(&|bound| bound / 2, 0);
    assert!(
        (fewest..=most).contains(&said),
        "{said} checks cannot happen in 5m at a 2s cap ({fewest} to {most})"
    );
    // The comment right above the variable is about that variable.
    let comment: String = text
        .lines()
        .rev()
        .skip_while(|l| !l.contains("- name: LINKERD_AWAIT_WAIT_FOR_BACKOFF"))
        .skip(1)
        .skip_while(|l| !l.trim_start().starts_with('#'))
        .take_while(|l| l.trim_start().starts_with('#') || l.trim() == "env:")
        .collect::<Vec<_>>()
        .join("\n");
    assert!(comment.contains("--wait-for-backoff"), "{comment}");
}
