//! `--shutdown` mode: the gate runs the app as its child like an init would
//! (exit status, signal forwarding, zombie reaping, the app's signal state,
//! stdio, the terminal), then asks the proxy to shut down.
//!
//! Every test runs the real binary against a `FakeProxy` on loopback and
//! synchronises on what the app prints or what the proxy receives.

mod common;
use common::*;

use std::{
    fs,
    io::{Read, Write},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

/// Bound for events that take milliseconds on an idle machine (a line, a
/// request, an exit): generous because tests run in parallel on 2 cores.
const LIMIT: Duration = Duration::from_secs(10);

/// The linkerd annotation that Linkerd ≥ 2.16 needs before it serves `/shutdown`.
const ANNOTATION: &str = "config.linkerd.io/proxy-admin-shutdown";

/// The signals the gate passes on to its child: every signal but SIGCHLD,
/// the synchronous faults, SIGTTIN/SIGTTOU, the uncatchable SIGKILL/SIGSTOP
/// and the numbers the C library keeps for itself (32 to SIGRTMIN-1): the
/// real-time signals included, as tini does.
fn forwarded() -> Vec<i32> {
    let denied = [
        libc::SIGCHLD,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGABRT,
        libc::SIGTRAP,
        libc::SIGSYS,
        libc::SIGTTIN,
        libc::SIGTTOU,
        libc::SIGKILL,
        libc::SIGSTOP,
    ];
    (1..=31)
        .filter(|n| !denied.contains(n))
        .chain(libc::SIGRTMIN()..=libc::SIGRTMAX())
        .collect()
}

// ---------------------------------------------------------------------------
// Helpers local to this file.
// ---------------------------------------------------------------------------

/// A proxy that is ready at once and answers every other path with `shutdown`.
fn proxy_answering(shutdown: Reply) -> FakeProxy {
    FakeProxy::start(move |req, _| match req.path.as_str() {
        "/ready" => Reply::Status(200),
        _ => shutdown.clone(),
    })
}

/// `cmd -- sh -c SCRIPT sh ARGS...`: the app is a shell script; `$1`... are `args`.
fn app(cmd: &mut Command, script: &str, args: &[&str]) {
    cmd.args(["--", "sh", "-c", script, "sh"]).args(args);
}

/// A directory for files the app and the test share; removed on drop (app
/// loops below also stop once it is gone, so nothing outlives a failed test).
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "linkerd-await-supervise-{}-{tag}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn arg(&self) -> &str {
        self.0.to_str().expect("temp dir is UTF-8")
    }

    fn touch(&self, name: &str) {
        fs::write(self.0.join(name), b"").expect("create file");
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A running gate with its stdout and stderr collected line by line.
struct Gate {
    running: Running,
    /// The gate's PID as this test sees it (not `unshare`'s when run as PID 1).
    pid: i32,
    out: LineReader,
    err: LineReader,
}

impl Gate {
    fn spawn(cmd: &mut Command) -> Self {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut running = Running::spawn(cmd);
        let out = LineReader::start(running.child.stdout.take().expect("stdout"));
        let err = LineReader::start(running.child.stderr.take().expect("stderr"));
        let pid = running.pid();
        Gate {
            running,
            pid,
            out,
            err,
        }
    }

    /// The gate as PID 1 of a new PID namespace; `pid` is found through `unshare`.
    fn spawn_as_pid1(cmd: &mut Command) -> Self {
        let mut gate = Gate::spawn(cmd);
        gate.pid = poll(LIMIT, || {
            children_of(gate.running.pid())
                .into_iter()
                .map(|(pid, _)| pid)
                .find(|&pid| comm(pid).as_deref() == Some("linkerd-await"))
        })
        .unwrap_or_else(|| panic!("no gate under unshare; stderr:\n{}", gate.err.text()));
        gate
    }

    /// Sends `sig` to the gate itself.
    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on a process this test started (or its direct child).
        let rc = unsafe { libc::kill(self.pid, sig) };
        assert_eq!(rc, 0, "kill({}, {sig})", self.pid);
    }

    /// What a shell's `$?` shows once the gate ended (128 + n when it died
    /// by signal n); panics if it does not end within `limit`.
    fn code_within(&mut self, limit: Duration) -> i32 {
        shell_code(self.running.wait_within(limit))
    }

    fn wait_out(&self, needle: &str) -> String {
        self.out.wait_for(needle, LIMIT)
    }

    /// Exit code, all of stdout and all of stderr, once the gate exited
    /// (within `LIMIT`) and its output streams ended.
    fn finish(&mut self) -> (i32, String, String) {
        let code = self.code_within(LIMIT);
        (code, self.out.finish(LIMIT), self.err.finish(LIMIT))
    }
}

/// Polls `f` every 2 ms until it returns `Some`, for at most `limit`.
fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(value) = f() {
            return Some(value);
        }
        if start.elapsed() > limit {
            return None;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

/// State letter and parent PID from `/proc/<pid>/stat` (the fields after the
/// command name, which is in parentheses and may itself contain spaces).
fn stat(pid: i32) -> Option<(char, i32)> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((state, ppid))
}

fn comm(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim_end().to_string())
}

/// The PID in the innermost PID namespace (what `$$` prints there).
fn ns_pid(pid: i32) -> Option<i32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

/// Every process whose parent is `parent`, with its state letter.
fn children_of(parent: i32) -> Vec<(i32, char)> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let (state, ppid) = stat(pid)?;
            (ppid == parent).then_some((pid, state))
        })
        .collect()
}

/// Every descendant of `root` (children, their children, ...), with its state.
fn descendants_of(root: i32) -> Vec<(i32, char)> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for (pid, state) in children_of(parent) {
            queue.push(pid);
            found.push((pid, state));
        }
    }
    found
}

/// Either "PID 1 of its own namespace" can be tested here, or the test is
/// skipped with a printed reason (a failure when CI requires the namespace).
fn pid_namespaces_available(test: &str) -> bool {
    if can_unshare_pid() {
        return true;
    }
    assert!(
        std::env::var_os("LINKERD_AWAIT_REQUIRE_PID_NS").is_none_or(|v| v != "1"),
        "{test}: cannot create a PID namespace but LINKERD_AWAIT_REQUIRE_PID_NS=1"
    );
    eprintln!("SKIPPED {test}: cannot create a PID namespace here (needs root and unshare)");
    false
}

/// A proxy whose shutdown endpoint notes, at each request, whether the app had
/// already ended: the app writes its PID to `<dir>/pid` first thing, and its
/// `/proc` entry is gone only once it exited *and* was reaped.
struct WatchedProxy {
    proxy: FakeProxy,
    /// One entry per shutdown request: was the app gone at that moment?
    app_gone: Arc<Mutex<Vec<bool>>>,
}

impl WatchedProxy {
    fn start(pid_file: PathBuf) -> Self {
        let app_gone = Arc::new(Mutex::new(Vec::new()));
        let seen = app_gone.clone();
        let proxy = FakeProxy::start(move |req, _| {
            if req.path == "/ready" {
                return Reply::Status(200);
            }
            let gone = fs::read_to_string(&pid_file)
                .ok()
                .and_then(|pid| pid.trim().parse::<i32>().ok())
                .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
            seen.lock().expect("app_gone lock").push(gone);
            Reply::Status(200)
        });
        WatchedProxy { proxy, app_gone }
    }

    fn app_gone(&self) -> Vec<bool> {
        self.app_gone.lock().expect("app_gone lock").clone()
    }
}

/// The app script that records its PID for `WatchedProxy`, pauses so that an
/// early shutdown request would find it alive, and exits with `$2`.
const RECORD_PID_THEN_EXIT: &str = r#"echo $$ > "$1/pid"; sleep 0.1; echo app done; exit "$2""#;

// ---------------------------------------------------------------------------
// Exit status.
// ---------------------------------------------------------------------------

#[test]
fn app_exit_code_becomes_the_gates_and_a_killed_app_kills_the_gate_by_the_same_signal() {
    use std::os::unix::process::ExitStatusExt;
    let proxy = proxy_answering(Reply::Status(200));
    for (script, code, signal) in [
        ("exit 0", Some(0), None),
        ("exit 3", Some(3), None),
        ("exit 255", Some(255), None),
        ("kill -KILL $$", None, Some(libc::SIGKILL)),
        ("kill -TERM $$", None, Some(libc::SIGTERM)),
        ("kill -QUIT $$", None, Some(libc::SIGQUIT)),
    ] {
        let mut cmd = gate_for(&proxy);
        cmd.arg("-S");
        app(&mut cmd, script, &[]);
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        assert_eq!(out.status.code(), code, "app `{script}`; stderr:\n{err}");
        // Died by the app's signal, after the shutdown request (Cracauer's
        // rule), and without a core dump of the gate's own.
        assert_eq!(
            out.status.signal(),
            signal,
            "app `{script}`; stderr:\n{err}"
        );
        assert!(!out.status.core_dumped(), "app `{script}`");
    }
    assert_eq!(proxy.requests_to("/shutdown").len(), 6);
}

#[test]
fn gate_exits_with_the_app_while_an_orphan_of_the_app_still_runs() {
    let proxy = proxy_answering(Reply::Status(200));
    let dir = TempDir::new("orphan-runs");
    let mut cmd = gate_for(&proxy);
    cmd.arg("-S");
    app(
        &mut cmd,
        // The orphan records its PID; the app exits once the orphan runs.
        r#"( sh -c 'echo $$ > "$1/orphan.tmp"; mv "$1/orphan.tmp" "$1/orphan"; while [ -d "$1" ] && [ ! -e "$1/release" ]; do sleep 0.01; done' orphan "$1" & )
while [ ! -e "$1/orphan" ]; do sleep 0.01; done
exit 5"#,
        &[dir.arg()],
    );
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 5, "{}", gate.err.text());
    let orphan: i32 = fs::read_to_string(dir.path().join("orphan"))
        .expect("orphan pid")
        .trim()
        .parse()
        .expect("orphan pid is a number");
    let state = stat(orphan).map(|(state, _)| state);
    assert!(
        state.is_some_and(|s| s != 'Z'),
        "the orphan still runs after the gate exited: {state:?}"
    );
    dir.touch("release");
}

// ---------------------------------------------------------------------------
// Signal forwarding.
// ---------------------------------------------------------------------------

/// Traps every forwarded signal (by number), reports each delivery on its
/// own line, and exits once it has seen as many deliveries as there are
/// forwarded signals.
fn trap_every_forwarded_signal() -> String {
    let names: Vec<String> = forwarded().iter().map(i32::to_string).collect();
    format!(
        r#"n=0
for s in {names}; do trap "n=\$((n+1)); echo got $s" $s; done
echo started
while [ $n -lt {count} ]; do sleep 0.01; done
sleep 0.1
echo "total $n""#,
        names = names.join(" "),
        count = names.len()
    )
}

fn forwarded_signals_reach_the_app_exactly_once(mut gate: Gate) {
    gate.wait_out("started\n");
    let signals = forwarded();
    for &sig in &signals {
        gate.signal(sig);
        // One at a time: the next one is sent only once this one arrived, so a
        // lost signal is named, and two equal signals can never merge. Without
        // forwarding, most of them would kill the gate with their default action.
        gate.out.wait_for(&format!("got {sig}\n"), LIMIT);
    }
    let (code, out, err) = gate.finish();
    assert_eq!(code, 0, "{err}");
    for sig in &signals {
        let got = out.lines().filter(|l| *l == format!("got {sig}")).count();
        assert_eq!(
            got, 1,
            "signal {sig} reached the app {got} times; stdout:\n{out}"
        );
    }
    assert!(out.contains(&format!("total {}\n", signals.len())), "{out}");
}

#[test]
fn each_forwarded_signal_reaches_the_app_exactly_once() {
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.arg("-S");
    app(&mut cmd, &trap_every_forwarded_signal(), &[]);
    forwarded_signals_reach_the_app_exactly_once(Gate::spawn(&mut cmd));
}

#[test]
fn each_forwarded_signal_reaches_the_app_exactly_once_as_pid1() {
    if !pid_namespaces_available("each_forwarded_signal_reaches_the_app_exactly_once_as_pid1") {
        return;
    }
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = as_pid1(GATE);
    cmd.args(["-p", &proxy.port().to_string(), "-S"]);
    app(&mut cmd, &trap_every_forwarded_signal(), &[]);
    forwarded_signals_reach_the_app_exactly_once(Gate::spawn_as_pid1(&mut cmd));
}

/// Sends one termination signal at varying instants around the end of the
/// wait (last failed check, ready answer, spawn, the app's first
/// instructions). Whatever the instant, the signal takes effect: the gate
/// exits 128+n while waiting, or the app dies of it (128+n), or the app's
/// trap sees it (42). A lost signal leaves the app running: a hang.
fn signal_around_app_start_is_never_lost(pid1: bool, rounds: u32) {
    const TRAP_AND_EXIT_42: &str =
        "trap 'echo got it; exit 42' TERM INT HUP; echo started; while :; do sleep 0.01; done";
    let signals = [libc::SIGTERM, libc::SIGINT, libc::SIGHUP];
    let mut seen = Vec::new();
    for round in 0..rounds {
        let sig = signals[round as usize % signals.len()];
        // Not ready twice (5 ms, then 10 ms of backoff), ready on the third check.
        let proxy = FakeProxy::ready_after(3);
        let mut cmd = if pid1 {
            let mut cmd = as_pid1(GATE);
            cmd.args(["-p", &proxy.port().to_string()]);
            cmd
        } else {
            gate_for(&proxy)
        };
        cmd.args(["-S", "--shutdown-timeout", "1s"]);
        app(&mut cmd, TRAP_AND_EXIT_42, &[]);
        let mut gate = if pid1 {
            Gate::spawn_as_pid1(&mut cmd)
        } else {
            Gate::spawn(&mut cmd)
        };
        // Even rounds: 0..~12 ms after the last "not ready" (the ready answer
        // comes ~10 ms later); odd rounds: 0..~6 ms after the ready request.
        let (anchor, delay) = if round % 2 == 0 {
            (2, Duration::from_micros(1000 * u64::from(round / 2)))
        } else {
            (3, Duration::from_micros(500 * u64::from(round / 2)))
        };
        proxy.wait_for_requests(anchor, LIMIT);
        thread::sleep(delay);
        gate.signal(sig);
        let code = gate.code_within(Duration::from_secs(5));
        let (out, err) = (gate.out.finish(LIMIT), gate.err.finish(LIMIT));
        assert!(
            code == 128 + sig || code == 42,
            "round {round}: signal {sig} after request {anchor} + {delay:?}: exit {code}; stderr:\n{err}"
        );
        if code == 42 {
            assert!(out.contains("got it"), "{out}");
        }
        seen.push(code);
    }
    eprintln!("exit codes by round: {seen:?}");
}

#[test]
fn termination_signal_around_app_start_is_never_lost() {
    signal_around_app_start_is_never_lost(false, 24);
}

#[test]
fn termination_signal_around_app_start_is_never_lost_as_pid1() {
    if !pid_namespaces_available("termination_signal_around_app_start_is_never_lost_as_pid1") {
        return;
    }
    signal_around_app_start_is_never_lost(true, 12);
}

#[test]
fn termination_signal_while_waiting_exits_128_plus_n_without_app_or_shutdown() {
    let gates: Vec<(i32, FakeProxy, Gate)> =
        [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT]
            .into_iter()
            .map(|sig| {
                let proxy = FakeProxy::start(|_, _| Reply::Status(503));
                let mut cmd = gate_for(&proxy);
                cmd.arg("-S");
                app(&mut cmd, "echo app ran", &[]);
                let gate = Gate::spawn(&mut cmd);
                (sig, proxy, gate)
            })
            .collect();
    for (sig, proxy, mut gate) in gates {
        // Two checks answered: the gate is in its wait loop.
        proxy.wait_for_requests(2, LIMIT);
        let sent = Instant::now();
        gate.signal(sig);
        let code = gate.code_within(LIMIT);
        let took = sent.elapsed();
        assert_eq!(code, 128 + sig, "{}", gate.err.text());
        assert!(took < Duration::from_secs(1), "exit took {took:?}");
        assert_eq!(gate.out.finish(LIMIT), "", "the app must not run");
        let paths: Vec<String> = proxy.requests().into_iter().map(|r| r.path).collect();
        assert!(
            paths.iter().all(|p| p == "/ready"),
            "only readiness checks, no shutdown request: {paths:?}"
        );
    }
}

// ---------------------------------------------------------------------------
// Zombie reaping.
// ---------------------------------------------------------------------------

/// The app leaves an orphan (a double fork) that ends while the app keeps
/// running. The orphan must be re-parented to the gate and reaped at once:
/// no `Z` among the gate's descendants while the app runs.
fn orphan_of_the_app_is_reaped_while_the_app_runs(mut gate: Gate, dir: &TempDir, pid1: bool) {
    gate.wait_out("app ");
    let text = gate.out.wait_for("grandchild ", LIMIT);
    let field = |prefix: &str, index: usize| -> i32 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(index))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{text}"))
    };
    // "grandchild <pid>" and "app <pid> parent <ppid>", as the app's namespace numbers them.
    let grandchild = field("grandchild ", 1);
    let app_parent = field("app ", 3);
    let want_parent = if pid1 { 1 } else { gate.pid };
    assert_eq!(app_parent, want_parent, "the app's parent is the gate");

    // The orphan's parent is now the gate: as subreaper, or as PID 1.
    let orphan = poll(LIMIT, || {
        children_of(gate.pid)
            .into_iter()
            .find(|&(pid, _)| ns_pid(pid) == Some(grandchild))
    });
    let (orphan, _) = orphan.unwrap_or_else(|| {
        panic!(
            "orphan {grandchild} never re-parented to the gate {}; gate's children: {:?}",
            gate.pid,
            children_of(gate.pid)
        )
    });

    dir.touch("release-grandchild");
    let reaped = poll(Duration::from_secs(3), || {
        stat(orphan)
            .is_none_or(|(_, ppid)| ppid != gate.pid)
            .then_some(())
    });
    assert!(
        reaped.is_some(),
        "the orphan ended but stays unreaped: {:?}",
        stat(orphan)
    );
    let zombies: Vec<(i32, char)> = descendants_of(gate.pid)
        .into_iter()
        .filter(|&(_, state)| state == 'Z')
        .collect();
    assert!(
        zombies.is_empty(),
        "zombies under the gate while the app runs: {zombies:?}"
    );
    assert!(
        !gate.out.text().contains("app exiting"),
        "the app was still running"
    );

    dir.touch("release-app");
    assert_eq!(gate.code_within(LIMIT), 0, "{}", gate.err.text());
}

const LEAVE_AN_ORPHAN: &str = r#"d=$1
( sh -c 'echo grandchild $$; while [ -d "$1" ] && [ ! -e "$1/release-grandchild" ]; do sleep 0.01; done' grandchild "$d" & )
echo "app $$ parent $PPID"
while [ -d "$d" ] && [ ! -e "$d/release-app" ]; do sleep 0.01; done
echo "app exiting""#;

#[test]
fn orphan_of_the_app_is_reaped_by_the_gate_as_subreaper() {
    let proxy = proxy_answering(Reply::Status(200));
    let dir = TempDir::new("subreaper");
    let mut cmd = gate_for(&proxy);
    cmd.arg("-S");
    app(&mut cmd, LEAVE_AN_ORPHAN, &[dir.arg()]);
    let gate = Gate::spawn(&mut cmd);
    orphan_of_the_app_is_reaped_while_the_app_runs(gate, &dir, false);
}

#[test]
fn orphan_of_the_app_is_reaped_by_the_gate_as_pid1() {
    if !pid_namespaces_available("orphan_of_the_app_is_reaped_by_the_gate_as_pid1") {
        return;
    }
    let proxy = proxy_answering(Reply::Status(200));
    let dir = TempDir::new("pid1");
    let mut cmd = as_pid1(GATE);
    cmd.args(["-p", &proxy.port().to_string(), "-S"]);
    app(&mut cmd, LEAVE_AN_ORPHAN, &[dir.arg()]);
    let gate = Gate::spawn_as_pid1(&mut cmd);
    orphan_of_the_app_is_reaped_while_the_app_runs(gate, &dir, true);
}

// ---------------------------------------------------------------------------
// Proxy shutdown.
// ---------------------------------------------------------------------------

#[test]
fn shutdown_is_posted_once_to_slash_shutdown_after_the_app_exited() {
    let dir = TempDir::new("default-url");
    let watched = WatchedProxy::start(dir.path().join("pid"));
    let mut cmd = gate_for(&watched.proxy);
    cmd.arg("-S");
    app(&mut cmd, RECORD_PID_THEN_EXIT, &[dir.arg(), "0"]);
    let mut gate = Gate::spawn(&mut cmd);
    let code = gate.code_within(LIMIT);
    let exited = Instant::now();
    let err = gate.err.finish(LIMIT);
    assert_eq!(code, 0, "{err}");
    let shutdowns = watched.proxy.requests_to("/shutdown");
    assert_eq!(shutdowns.len(), 1, "{:?}", watched.proxy.requests());
    assert_eq!(shutdowns[0].method, "POST");
    // Answered at once: the gate leaves without waiting out --shutdown-timeout (5s).
    let after = exited - shutdowns[0].at;
    assert!(
        after < Duration::from_secs(1),
        "exited {after:?} after the answer"
    );
    assert_eq!(watched.app_gone(), [true], "POST only after the app ended");
    let others: Vec<_> = watched
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.path != "/shutdown")
        .map(|r| (r.method, r.path))
        .collect();
    assert!(
        others.iter().all(|(m, p)| m == "GET" && p == "/ready"),
        "{others:?}"
    );
    assert!(err.contains("asked the proxy to shut down"), "{err}");
}

#[test]
fn shutdown_is_posted_once_to_each_shutdown_uri_after_the_app_exited() {
    let dir = TempDir::new("two-urls");
    let first = WatchedProxy::start(dir.path().join("pid"));
    let second = WatchedProxy::start(dir.path().join("pid"));
    let mut cmd = gate_for(&first.proxy);
    cmd.args([
        "-S",
        "--shutdown-uri",
        &first.proxy.url("/quit-first"),
        "--shutdown-uri",
        &second.proxy.url("/quit-second"),
    ]);
    app(&mut cmd, RECORD_PID_THEN_EXIT, &[dir.arg(), "7"]);
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 7, "{}", gate.err.text());
    for (proxy, path) in [(&first, "/quit-first"), (&second, "/quit-second")] {
        let posts = proxy.proxy.requests_to(path);
        assert_eq!(posts.len(), 1, "{path}: {:?}", proxy.proxy.requests());
        assert_eq!(posts[0].method, "POST");
        assert_eq!(
            proxy.app_gone(),
            [true],
            "{path}: POST only after the app ended"
        );
    }
    assert!(
        first.proxy.requests_to("/shutdown").is_empty(),
        "--shutdown-uri replaces the default URL"
    );
}

#[test]
fn hung_shutdown_endpoint_is_abandoned_after_shutdown_timeout() {
    let proxy = proxy_answering(Reply::Hang);
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--shutdown-timeout", "500ms"]);
    app(&mut cmd, "exit 3", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 3, "{}", gate.err.text());
    let exited = Instant::now();
    let posted = proxy.requests_to("/shutdown");
    assert_eq!(posted.len(), 1, "{:?}", proxy.requests());
    let waited = exited - posted[0].at;
    // The bound is the behaviour: 500 ms, plus scheduling slack under load.
    assert!(
        waited >= Duration::from_millis(450) && waited < Duration::from_millis(1000),
        "exited {waited:?} after the shutdown request"
    );
    let err = gate.err.finish(LIMIT);
    assert!(err.contains("--shutdown-timeout"), "{err}");
}

#[test]
fn hung_shutdown_endpoint_does_not_hold_back_the_others() {
    let hung = proxy_answering(Reply::Hang);
    let ok = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&hung);
    cmd.args([
        "-S",
        "--shutdown-timeout",
        "3s",
        "--shutdown-uri",
        &hung.url("/quit"),
        "--shutdown-uri",
        &ok.url("/quit"),
    ]);
    app(&mut cmd, "exit 0", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    // The second URL is asked while the first still hangs (concurrently).
    ok.wait_for_requests(1, Duration::from_secs(2));
    assert!(
        gate.running.child.try_wait().expect("try_wait").is_none(),
        "the gate still waits for the hung endpoint"
    );
    assert_eq!(gate.code_within(LIMIT), 0, "{}", gate.err.text());
    assert_eq!(ok.requests_to("/quit").len(), 1);
    assert_eq!(hung.requests_to("/quit").len(), 1);
}

#[test]
fn refused_shutdown_connection_is_retried_until_the_proxy_listens() {
    let ready = proxy_answering(Reply::Status(200));
    let refused = RefusedPort::new();
    let url = format!("http://127.0.0.1:{}/shutdown", refused.port);
    let mut cmd = gate_for(&ready);
    cmd.args(["-S", "--shutdown-timeout", "5s", "--shutdown-uri", &url]);
    app(&mut cmd, "echo app done; exit 0", &[]);
    let mut gate = Gate::spawn(&mut cmd);
    gate.wait_out("app done");
    // Let a few attempts be refused, then start listening.
    thread::sleep(Duration::from_millis(200));
    let late = FakeProxy::serve(refused.listen(), Arc::new(|_, _| Reply::Status(200)));
    assert_eq!(gate.code_within(LIMIT), 0, "{}", gate.err.text());
    let posts = late.requests_to("/shutdown");
    assert_eq!(posts.len(), 1, "{:?}", late.requests());
    assert_eq!(posts[0].method, "POST");
}

#[test]
fn shutdown_404_names_the_annotation_and_keeps_the_apps_exit_code() {
    let proxy = proxy_answering(Reply::Status(404));
    for code in [0, 5] {
        let mut cmd = gate_for(&proxy);
        cmd.arg("-S");
        app(&mut cmd, &format!("exit {code}"), &[]);
        let out = output(&mut cmd);
        let log = stderr_text(&out);
        assert_eq!(out.status.code(), Some(code), "{log}");
        assert!(log.contains(ANNOTATION), "no annotation hint:\n{log}");
        assert!(log.contains("404"), "{log}");
    }
    assert_eq!(proxy.requests_to("/shutdown").len(), 2);
}

#[test]
fn app_that_cannot_be_started_exits_127_or_126_and_still_shuts_the_proxy_down() {
    let dir = TempDir::new("not-runnable");
    for (program, want) in [
        ("/nonexistent/linkerd-await-test-app", 127),
        ("linkerd-await-no-such-command-on-path", 127),
        (dir.arg(), 126),
    ] {
        let proxy = proxy_answering(Reply::Status(200));
        let mut cmd = gate_for(&proxy);
        cmd.args(["-S", "--", program]);
        let out = output(&mut cmd);
        assert_eq!(
            out.status.code(),
            Some(want),
            "{program}: {}",
            stderr_text(&out)
        );
        assert_eq!(
            proxy.requests_to("/shutdown").len(),
            1,
            "{program}: the Job must still complete"
        );
    }
}

#[test]
fn shutdown_on_failure_false_leaves_the_proxy_running_only_when_the_app_failed() {
    for (script, want, posts) in [
        ("exit 1", 1, 0),
        ("kill -KILL $$", 137, 0),
        ("exit 0", 0, 1),
    ] {
        let proxy = proxy_answering(Reply::Status(200));
        let mut cmd = gate_for(&proxy);
        cmd.args(["-S", "--shutdown-on-failure=false"]);
        app(&mut cmd, script, &[]);
        let out = output(&mut cmd);
        assert_eq!(
            shell_code(out.status),
            want,
            "{script}: {}",
            stderr_text(&out)
        );
        assert_eq!(
            proxy.requests_to("/shutdown").len(),
            posts,
            "app `{script}`"
        );
    }
}

#[test]
fn readiness_timeout_not_fatal_runs_the_app_and_still_shuts_down() {
    let dir = TempDir::new("not-fatal");
    let pid_file = dir.path().join("pid");
    let app_gone = Arc::new(Mutex::new(Vec::new()));
    let seen = app_gone.clone();
    let proxy = FakeProxy::start(move |req, _| {
        if req.path == "/ready" {
            return Reply::Status(503);
        }
        let gone = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|pid| pid.trim().parse::<i32>().ok())
            .is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists());
        seen.lock().expect("lock").push(gone);
        Reply::Status(200)
    });
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "-t", "300ms", "--timeout-fatal=false"]);
    app(&mut cmd, RECORD_PID_THEN_EXIT, &[dir.arg(), "4"]);
    let mut gate = Gate::spawn(&mut cmd);
    let (code, out, err) = gate.finish();
    assert_eq!(code, 4, "{err}");
    assert!(out.contains("app done"), "the app ran");
    assert!(err.contains("--timeout-fatal=false"), "{err}");
    let posts = proxy.requests_to("/shutdown");
    assert_eq!(posts.len(), 1, "{:?}", proxy.requests());
    assert_eq!(posts[0].method, "POST");
    assert_eq!(*app_gone.lock().expect("lock"), [true]);
}

#[test]
fn readiness_timeout_in_a_job_exits_69_and_still_asks_the_proxy_to_shut_down() {
    // A Job whose proxy never turns ready (identity never issued) must still
    // complete: the proxy is asked to stop, unless the user keeps failed pods.
    for (flags, posts) in [(&[][..], 1), (&["--shutdown-on-failure=false"][..], 0)] {
        let proxy = FakeProxy::start(|req, _| match req.path.as_str() {
            "/ready" => Reply::Status(503),
            _ => Reply::Status(200),
        });
        let mut cmd = gate_for(&proxy);
        cmd.args(["-S", "-t", "200ms"]).args(flags);
        app(&mut cmd, "echo app ran", &[]);
        let (code, out, err) = Gate::spawn(&mut cmd).finish();
        assert_eq!(code, 69, "{flags:?}: {err}");
        assert_eq!(out, "", "the app must not run");
        assert_eq!(
            proxy.requests_to("/shutdown").len(),
            posts,
            "{flags:?}: {err}"
        );
    }
}

/// Makes the process that runs `cmd` start with `sig` blocked.
fn blocking_parent(cmd: &mut Command, sig: i32) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sig);
            libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
            Ok(())
        });
    }
}

#[test]
fn termination_signal_blocked_by_the_parent_stays_pending_for_the_app() {
    let ready = Arc::new(AtomicBool::new(false));
    let flag = ready.clone();
    let proxy = FakeProxy::start(move |req, _| match req.path.as_str() {
        "/ready" if flag.load(Ordering::SeqCst) => Reply::Status(200),
        "/ready" => Reply::Status(503),
        _ => Reply::Status(200),
    });
    let mut cmd = gate_for(&proxy);
    // `sleep` leaves its signal mask alone (a shell would clear it).
    cmd.args(["-S", "--", "sleep", "30"]);
    blocking_parent(&mut cmd, libc::SIGTERM);
    let mut gate = Gate::spawn(&mut cmd);
    proxy.wait_for_requests(1, LIMIT);
    gate.signal(libc::SIGTERM);
    // The wait goes on: a blocked signal is not the gate's to act on.
    let seen = proxy.requests_to("/ready").len();
    proxy.wait_for_requests(seen + 3, LIMIT);
    ready.store(true, Ordering::SeqCst);
    // The app gets it as it would from a direct start: blocked and pending.
    let app = poll(LIMIT, || {
        let (pid, _) = *children_of(gate.pid).first()?;
        let pending = status_mask(pid, "ShdPnd")? & bit(libc::SIGTERM) != 0;
        let blocked = status_mask(pid, "SigBlk")? & bit(libc::SIGTERM) != 0;
        (pending && blocked).then_some(pid)
    })
    .unwrap_or_else(|| {
        panic!(
            "SIGTERM never pending in the app; stderr:\n{}",
            gate.err.text()
        )
    });
    // SAFETY: kill(2) on the app this test started through the gate.
    assert_eq!(unsafe { libc::kill(app, libc::SIGKILL) }, 0);
    let (code, _, err) = gate.finish();
    assert_eq!(code, 128 + libc::SIGKILL, "{err}");
    assert!(!err.contains("received"), "{err}");
}

#[test]
fn sigpipe_from_the_gates_own_log_writes_is_not_forwarded() {
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    // -v: forwarding SIGUSR1 writes a debug line to the closed stderr, which
    // raises SIGPIPE in the gate; that one is the gate's, not the app's.
    cmd.args(["-v", "-S"]);
    app(
        &mut cmd,
        "trap 'echo got PIPE' PIPE; trap 'echo got USR1; done=1' USR1; done=0; echo started
         while [ $done = 0 ]; do sleep 0.01; done; sleep 0.2; echo end",
        &[],
    );
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut running = Running::spawn(&mut cmd);
    // Close the read end of the gate's stderr: its next log line fails (EPIPE).
    drop(running.child.stderr.take());
    let out = LineReader::start(running.child.stdout.take().expect("stdout"));
    out.wait_for("started", LIMIT);
    running.signal(libc::SIGUSR1);
    let status = running.wait_within(LIMIT);
    let text = out.finish(LIMIT);
    assert_eq!(text, "started\ngot USR1\nend\n", "{status:?}");
}

// ---------------------------------------------------------------------------
// Mesh presets (their default ports cannot be bound safely in parallel tests:
// the ports are overridden, the paths must stay the preset's).
// ---------------------------------------------------------------------------

#[test]
fn envoy_preset_checks_ready_and_posts_quitquitquit_on_the_same_port() {
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate();
    cmd.args(["--mesh", "envoy", "-p", &proxy.port().to_string(), "-S"]);
    app(&mut cmd, "exit 0", &[]);
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let seen: Vec<(String, String)> = proxy
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(
        seen,
        [
            ("GET".to_string(), "/ready".to_string()),
            ("POST".to_string(), "/quitquitquit".to_string())
        ]
    );
}

#[test]
fn istio_preset_checks_healthz_ready_and_posts_quitquitquit_on_15020() {
    let proxy = proxy_answering(Reply::Status(200));
    // Default shutdown URL: fixed at localhost:15020, which is not ours to
    // bind; the log line names the URL the gate used.
    let mut cmd = gate();
    cmd.args([
        "--mesh",
        "istio",
        "-p",
        &proxy.port().to_string(),
        "--shutdown-timeout",
        "300ms",
        "-S",
    ]);
    app(&mut cmd, "exit 0", &[]);
    let out = output(&mut cmd);
    let log = stderr_text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(
        log.contains("http://localhost:15020/quitquitquit"),
        "the shutdown URL is Istio's:\n{log}"
    );
    let seen: Vec<(String, String)> = proxy
        .requests()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect();
    assert_eq!(seen, [("GET".to_string(), "/healthz/ready".to_string())]);

    // --shutdown-uri replaces the preset's shutdown URL, readiness path kept.
    let quit = proxy_answering(Reply::Status(200));
    let mut cmd = gate();
    cmd.args([
        "--mesh",
        "istio",
        "-p",
        &proxy.port().to_string(),
        "--shutdown-uri",
        &quit.url("/quitquitquit"),
        "-S",
    ]);
    app(&mut cmd, "exit 0", &[]);
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/healthz/ready").len(), 2);
    let posts = quit.requests_to("/quitquitquit");
    assert_eq!(posts.len(), 1, "{:?}", quit.requests());
    assert_eq!(posts[0].method, "POST");
}

// ---------------------------------------------------------------------------
// What the app inherits: stdio, signal state.
// ---------------------------------------------------------------------------

#[test]
fn app_reads_the_gates_stdin_and_writes_its_stdout_byte_exact() {
    let proxy = proxy_answering(Reply::Status(200));
    // Every byte value (not UTF-8, NULs, CR/LF), and more than a pipe buffer.
    let data: Vec<u8> = (0..=255u8).cycle().take(256 * 1024 + 7).collect();
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut running = Running::spawn(&mut cmd);
    let mut stdin = running.child.stdin.take().expect("stdin");
    let mut stdout = running.child.stdout.take().expect("stdout");
    let mut stderr = running.child.stderr.take().expect("stderr");
    let input = data.clone();
    let writer = thread::spawn(move || stdin.write_all(&input));
    let reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let log = thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        buf
    });
    let status = running.wait_within(LIMIT);
    writer.join().expect("writer").expect("write stdin");
    let got = reader.join().expect("reader");
    let log = log.join().expect("log");
    assert_eq!(status.code(), Some(0), "{log}");
    assert_eq!(got.len(), data.len(), "{log}");
    assert!(got == data, "stdout differs from stdin");
}

/// `Sig*` lines of `/proc/self/status` as `cat` sees them through the gate and
/// started directly by the same kind of parent.
fn app_signal_state(parent: impl Fn(&mut Command)) -> (Vec<String>, Vec<String>) {
    let proxy = proxy_answering(Reply::Status(200));
    let mut through_gate = gate_for(&proxy);
    through_gate.args(["-S", "--", "cat", "/proc/self/status"]);
    parent(&mut through_gate);
    let gated = output(&mut through_gate);
    assert_eq!(gated.status.code(), Some(0), "{}", stderr_text(&gated));
    let mut direct = Command::new("cat");
    direct.arg("/proc/self/status");
    parent(&mut direct);
    let direct = output(&mut direct);
    assert_eq!(direct.status.code(), Some(0));
    (signal_lines(&gated.stdout), signal_lines(&direct.stdout))
}

#[test]
fn app_sees_the_signal_state_of_a_clean_parent() {
    let (gated, direct) = app_signal_state(|_| {});
    assert_eq!(gated.len(), 3, "{gated:?}");
    assert_eq!(gated, direct);
}

#[test]
fn app_sees_the_signal_state_of_an_unusual_parent() {
    let (gated, direct) = app_signal_state(unusual_signal_parent);
    assert_eq!(gated.len(), 3, "{gated:?}");
    assert_eq!(gated, direct);
}

/// A parent that starts the gate with SIGCHLD ignored (it survives exec).
fn sigchld_ignoring_parent(cmd: &mut Command) {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGCHLD, libc::SIG_IGN);
            Ok(())
        });
    }
}

#[test]
fn app_status_survives_a_parent_that_ignores_sigchld() {
    // Ignored SIGCHLD makes the kernel reap children itself and send no
    // SIGCHLD: a gate that kept it would hang forever (and abort on a failed
    // spawn, when std's own waitpid finds no child).
    let proxy = proxy_answering(Reply::Status(200));
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--shutdown-timeout", "1s"]);
    app(&mut cmd, "exit 3", &[]);
    sigchld_ignoring_parent(&mut cmd);
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 3, "{}", gate.err.text());
    assert_eq!(proxy.requests_to("/shutdown").len(), 1);

    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--shutdown-timeout", "1s", "--", "/nonexistent/app"]);
    sigchld_ignoring_parent(&mut cmd);
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(127), "{}", stderr_text(&out));
    assert_eq!(proxy.requests_to("/shutdown").len(), 2);

    // The app still inherits the parent's choice (not through a shell: sh
    // resets SIGCHLD for itself).
    let mut cmd = gate_for(&proxy);
    cmd.args(["-S", "--", "grep", "SigIgn", "/proc/self/status"]);
    sigchld_ignoring_parent(&mut cmd);
    let out = output(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let ignored = text
        .trim()
        .strip_prefix("SigIgn:")
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no SigIgn line: {text}"));
    assert_ne!(
        ignored & (1 << (libc::SIGCHLD - 1)),
        0,
        "the app inherits SIGCHLD ignored: {text}"
    );
}

// ---------------------------------------------------------------------------
// Interactive use (`docker run -it`): a terminal's Ctrl-C.
// ---------------------------------------------------------------------------

/// Runs `shell_command` with `sh -c` on a new pseudo-terminal; the returned
/// command's stdin goes to the terminal, its stdout is what the terminal shows.
fn on_a_terminal(shell_command: &str) -> Option<Command> {
    let available = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if available("script", &["-qec", "true", "/dev/null"]) {
        let mut cmd = Command::new("script");
        // -q: no banner; -e: script's status is the command's; -c: run this.
        cmd.args(["-qec", shell_command, "/dev/null"])
            .env("SHELL", "/bin/sh");
        return Some(cmd);
    }
    if available("python3", &["-c", "import pty"]) {
        // The same as `script`: relay stdin to the terminal and the terminal to stdout.
        const RELAY: &str = r#"
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv("/bin/sh", ["sh", "-c", sys.argv[1]])
inputs = [fd, 0]
while True:
    ready, _, _ = select.select(inputs, [], [])
    if fd in ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            break
        os.write(1, data)
    if 0 in ready:
        data = os.read(0, 4096)
        if data:
            os.write(fd, data)
        else:
            inputs.remove(0)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
        let mut cmd = Command::new("python3");
        cmd.args(["-c", RELAY, shell_command]);
        return Some(cmd);
    }
    None
}

/// A shell on a new pseudo-terminal runs `gate_args`, reports the gate's exit
/// code, then reads one line from the terminal and echoes it (`read:<line>`).
/// Returns the session and its keyboard, or `None` (skip) without a pty tool.
fn gate_on_a_terminal(test: &str, gate_args: &str) -> Option<(Gate, std::process::ChildStdin)> {
    let shell_command =
        format!("{GATE} {gate_args}; echo \"gate exited $?\"; read line; echo \"read:$line\"");
    let Some(mut cmd) = on_a_terminal(&shell_command) else {
        eprintln!("SKIPPED {test}: neither script (util-linux) nor python3's pty module");
        return None;
    };
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LINKERD") {
            cmd.env_remove(&key);
        }
    }
    cmd.stdin(Stdio::piped());
    let mut terminal = Gate::spawn(&mut cmd);
    let keyboard = terminal.running.child.stdin.take().expect("stdin");
    Some((terminal, keyboard))
}

/// Types a line once the gate exited: the shell that started the gate must
/// be able to read its terminal again (the gate gives the foreground back).
fn terminal_comes_back(mut terminal: Gate, mut keyboard: std::process::ChildStdin) {
    keyboard.write_all(b"hello\n").expect("type a line");
    keyboard.flush().expect("flush");
    // Without the terminal back, the shell's read fails at once (EIO): "read:".
    let text = terminal.wait_out("read:");
    assert!(text.contains("read:hello"), "{text}");
    drop(keyboard);
    assert_eq!(terminal.code_within(LIMIT), 0, "{text}");
}

#[test]
fn ctrl_c_on_a_terminal_reaches_the_app_once_and_the_terminal_comes_back() {
    let proxy = proxy_answering(Reply::Status(200));
    let dir = TempDir::new("tty");
    let script = dir.path().join("app.sh");
    // Counts SIGINTs; after the first, leaves time for a second to arrive.
    fs::write(
        &script,
        "n=0\ntrap 'n=$((n+1)); echo \"got INT $n\"' INT\necho started\n\
         while [ $n -lt 1 ]; do sleep 0.01; done\nsleep 0.3\necho \"count $n\"\n",
    )
    .expect("write app script");
    let Some((terminal, mut keyboard)) = gate_on_a_terminal(
        "ctrl_c_on_a_terminal_reaches_the_app_once_and_the_terminal_comes_back",
        &format!("-p {} -S -- sh {}", proxy.port(), script.display()),
    ) else {
        return;
    };
    terminal.wait_out("started");
    // The terminal's interrupt character, as typed.
    keyboard.write_all(b"\x03").expect("type Ctrl-C");
    keyboard.flush().expect("flush");
    let text = terminal.wait_out("gate exited");
    assert!(
        text.contains("count 1"),
        "Ctrl-C reached the app once:\n{text}"
    );
    assert!(text.contains("gate exited 0"), "{text}");
    terminal_comes_back(terminal, keyboard);
}

#[test]
fn terminal_comes_back_after_the_app_could_not_start() {
    let proxy = proxy_answering(Reply::Status(200));
    let Some((terminal, keyboard)) = gate_on_a_terminal(
        "terminal_comes_back_after_the_app_could_not_start",
        &format!(
            "-p {} -S -- /nonexistent/linkerd-await-test-app",
            proxy.port()
        ),
    ) else {
        return;
    };
    let text = terminal.wait_out("gate exited");
    assert!(text.contains("gate exited 127"), "{text}");
    terminal_comes_back(terminal, keyboard);
}

#[test]
fn signal_for_the_app_sent_while_waiting_is_kept_for_the_app() {
    let ready = Arc::new(AtomicBool::new(false));
    let flag = ready.clone();
    let proxy = FakeProxy::start(move |req, _| match req.path.as_str() {
        "/ready" if flag.load(Ordering::SeqCst) => Reply::Status(200),
        "/ready" => Reply::Status(503),
        _ => Reply::Status(200),
    });
    let mut cmd = gate_for(&proxy);
    cmd.arg("-S");
    app(
        &mut cmd,
        r#"trap 'echo got USR1' USR1; echo started; sleep 0.3; echo done"#,
        &[],
    );
    let mut gate = Gate::spawn(&mut cmd);
    proxy.wait_for_requests(1, LIMIT);
    gate.signal(libc::SIGUSR1);
    // The gate must survive it (without the hold, SIGUSR1's default action
    // kills it): it goes on checking.
    let seen = proxy.requests_to("/ready").len();
    proxy.wait_for_requests(seen + 3, LIMIT);
    ready.store(true, Ordering::SeqCst);
    let (code, out, err) = gate.finish();
    // Forwarded as soon as the app exists: either its trap caught it, or it
    // arrived before the trap was set and its default action ended the app.
    assert!(
        (code == 0 && out.contains("got USR1")) || code == 128 + libc::SIGUSR1,
        "code {code}; stdout:\n{out}\nstderr:\n{err}"
    );
    assert_eq!(proxy.requests_to("/shutdown").len(), 1, "{err}");
}
