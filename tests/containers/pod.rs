//! Support for the container tests: static builds, locally built `FROM scratch`
//! images, and pods made of containers that share one network namespace.
//!
//! A pod here is what Kubernetes makes: a sandbox ("pause") container that
//! holds the network namespace (`--network none`: loopback only), and member
//! containers joined to it with `--network container:<sandbox>`, so they share
//! `localhost` and can be started in any order. Every container carries the
//! label `linkerd-await-test=<pid>` and is removed when its `Pod` is dropped,
//! also when a test panics.

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
};

/// Bound on any one container scenario's wait (a pod normally finishes in ~2 s).
pub const LIMIT: Duration = Duration::from_secs(30);
/// "Promptly": what a user would not call a hang.
pub const PROMPT: Duration = Duration::from_secs(10);

/// The proxy of the race: refuses connections, then answers 503, then is ready at ~1.5 s.
pub const STARTING_PROXY: [&str; 4] = ["--refuse-for", "300ms", "--ready-after", "1500ms"];

/// The app's first instruction: one GET to the proxy's admin port.
pub const FIRST_INSTRUCTION: [&str; 3] = ["get", "127.0.0.1:4191", "/ready"];

/// The images, or `return` from the test (skipped, with the reason printed).
macro_rules! images_or_skip {
    ($test:expr) => {
        match crate::pod::images($test) {
            Some(images) => images,
            None => return,
        }
    };
}

/// Label on every container and image these tests make; its value is the test process's PID.
pub const LABEL: &str = "linkerd-await-test";
/// Set to 1 (CI does) to turn "Docker is unavailable" from a skip into a failure.
pub const REQUIRE_VAR: &str = "LINKERD_AWAIT_REQUIRE_DOCKER";

/// Bound on one docker command (create, start, inspect, rm, ...).
const DOCKER_LIMIT: Duration = Duration::from_secs(60);
/// Bound on the static release build; a no-op when CI built it beforehand.
const BUILD_LIMIT: Duration = Duration::from_secs(20 * 60);

/// The images every scenario uses, built once per test process.
pub struct Images {
    /// The gate alone, assembled like the repository's Dockerfile: the static
    /// binary at /linkerd-await, an exec-form ENTRYPOINT, nothing else.
    pub gate: String,
    /// An app image built from examples/docker/Dockerfile (`COPY --from=` the
    /// gate image, `ENTRYPOINT ["/linkerd-await", "--"]`) on `scratch`, with the
    /// test app (tests/containers/app.rs) as /my-app.
    pub app: String,
    /// The simulated proxy (examples/sim-proxy), listening on 0.0.0.0:4191.
    pub proxy: String,
    /// Scratch space of this test process (build contexts, files to bind-mount).
    pub dir: PathBuf,
}

enum Setup {
    Ready(Images),
    /// Docker cannot be used here; why, for the skip message.
    Unavailable(String),
    /// Docker works but building the images failed: always a test failure.
    Broken(String),
}

static SETUP: OnceLock<Setup> = OnceLock::new();
/// Whether the skip reason was printed in full already.
static EXPLAINED: AtomicBool = AtomicBool::new(false);

/// The images, or `None` (with a printed reason) when Docker is unavailable
/// and `LINKERD_AWAIT_REQUIRE_DOCKER` is not 1. Builds them on first use.
pub fn images(test: &str) -> Option<&'static Images> {
    match SETUP.get_or_init(setup) {
        Setup::Ready(images) => Some(images),
        Setup::Broken(why) => panic!("cannot prepare the container tests: {why}"),
        Setup::Unavailable(why) => {
            if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                panic!("{why}, and {REQUIRE_VAR}=1 requires the container tests to run");
            }
            // Straight to the stderr handle: the harness captures `eprintln!`
            // of passing tests, and a skip must be seen.
            let mut stderr = std::io::stderr();
            if EXPLAINED.swap(true, Ordering::SeqCst) {
                let _ = writeln!(stderr, "SKIPPED {test}: no Docker (see above)");
            } else {
                let _ = writeln!(
                    stderr,
                    "SKIPPED {test}: {why}. Start Docker to run the container tests (CI sets {REQUIRE_VAR}=1, which makes this a failure)."
                );
            }
            None
        }
    }
}

fn setup() -> Setup {
    if let Err(why) = docker_usable() {
        return Setup::Unavailable(why);
    }
    match build_images() {
        Ok(images) => Setup::Ready(images),
        Err(why) => Setup::Broken(why),
    }
}

/// Ok when the docker CLI is on PATH and its daemon answers.
fn docker_usable() -> Result<(), String> {
    let out = match bounded(
        Command::new("docker").args(["info", "--format", "{{.ServerVersion}}"]),
        Duration::from_secs(20),
    ) {
        Ok(out) => out,
        Err(e) => return Err(format!("cannot run `docker info`: {e}")),
    };
    if !out.status.success() {
        return Err(format!(
            "the Docker daemon does not answer (`docker info`: {})",
            text(&out.stderr).trim()
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Static binaries and images.

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/tmp`, which cargo provides to integration tests; its parent is the target dir.
fn target_tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A Rust target whose binaries need nothing from the image: musl when the
/// toolchain has it (`rustup target add <arch>-unknown-linux-musl`), else the
/// gnu target with a statically linked C library.
struct StaticTarget {
    triple: String,
    rustflags: Option<&'static str>,
}

fn static_target() -> Result<StaticTarget, String> {
    let arch = std::env::consts::ARCH;
    let musl = format!("{arch}-unknown-linux-musl");
    let out = bounded(
        Command::new(rustc()).args(["--print", "sysroot"]),
        Duration::from_secs(60),
    )?;
    let sysroot = text(&out.stdout).trim().to_string();
    if Path::new(&sysroot)
        .join("lib/rustlib")
        .join(&musl)
        .join("lib")
        .is_dir()
    {
        return Ok(StaticTarget {
            triple: musl,
            rustflags: None,
        });
    }
    eprintln!(
        "note: target {musl} is not installed (rustup target add {musl}); building with +crt-static on the gnu target instead"
    );
    Ok(StaticTarget {
        triple: format!("{arch}-unknown-linux-gnu"),
        rustflags: Some("-C target-feature=+crt-static"),
    })
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_string())
}

fn cargo() -> String {
    option_env!("CARGO").unwrap_or("cargo").to_string()
}

fn build_images() -> Result<Images, String> {
    let pid = std::process::id();
    remove_stale();
    let target = static_target()?;

    // The gate and the simulated proxy, as CI's release gate builds them.
    let mut build = Command::new(cargo());
    build
        .current_dir(manifest_dir())
        .args(["build", "--release", "--locked", "--target", &target.triple])
        .args(["--bin", "linkerd-await", "--example", "sim-proxy"]);
    if let Some(flags) = target.rustflags {
        let var = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            target.triple.to_uppercase().replace('-', "_")
        );
        build.env(var, flags);
    }
    let out = bounded(&mut build, BUILD_LIMIT)?;
    if !out.status.success() {
        return Err(format!(
            "the static release build failed:\n{}",
            text(&out.stderr)
        ));
    }
    let release = target_tmp()
        .parent()
        .ok_or("CARGO_TARGET_TMPDIR has no parent")?
        .join(&target.triple)
        .join("release");

    let dir = target_tmp().join(format!("containers-{pid}"));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["gate", "app", "proxy"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
    }

    // The test app: std only, compiled straight to a static binary.
    let mut app = Command::new(rustc());
    app.args([
        "--edition",
        "2024",
        "-C",
        "opt-level=1",
        "-C",
        "strip=symbols",
    ])
    .args(["--target", &target.triple])
    .args(target.rustflags.map(|f| f.split(' ')).into_iter().flatten())
    .arg("-o")
    .arg(dir.join("app/my-app"))
    .arg(manifest_dir().join("tests/containers/app.rs"));
    let out = bounded(&mut app, Duration::from_secs(5 * 60))?;
    if !out.status.success() {
        return Err(format!(
            "building the test app failed:\n{}",
            text(&out.stderr)
        ));
    }

    let copy = |from: PathBuf, to: PathBuf| {
        std::fs::copy(&from, &to)
            .map(drop)
            .map_err(|e| format!("copy {} to {}: {e}", from.display(), to.display()))
    };
    // The gate under test: this build's, or the one `LINKERD_AWAIT_TEST_GATE`
    // names (CI: the static arm64 gate, run through qemu-user's binfmt
    // handler, whose fix-binary flag makes it work inside FROM scratch).
    let gate = std::env::var_os(crate::common::TEST_GATE_VAR)
        .filter(|p| !p.is_empty())
        .map_or_else(|| release.join("linkerd-await"), PathBuf::from);
    copy(gate, dir.join("gate/linkerd-await"))?;
    copy(
        release.join("examples/sim-proxy"),
        dir.join("proxy/sim-proxy"),
    )?;

    let images = Images {
        gate: format!("{LABEL}-gate:{pid}"),
        app: format!("{LABEL}-app:{pid}"),
        proxy: format!("{LABEL}-proxy:{pid}"),
        dir,
    };
    write(&images.dir.join("gate/Dockerfile"), &gate_dockerfile())?;
    write(
        &images.dir.join("proxy/Dockerfile"),
        "FROM scratch\n\
         COPY sim-proxy /sim-proxy\n\
         ENTRYPOINT [\"/sim-proxy\", \"--listen\", \"0.0.0.0:4191\"]\n",
    )?;
    // Removed when the test process exits, whatever the outcome.
    // SAFETY: registers a plain `extern "C" fn` with the C library.
    unsafe { libc::atexit(remove_own) };
    // The app image is built from the example users copy, with the gate image
    // built here and `scratch` as its base (nothing can be pulled).
    let example = manifest_dir().join("examples/docker/Dockerfile");
    let gate_arg = format!("LINKERD_AWAIT_IMAGE={}", images.gate);
    for (tag, sub, extra) in [
        (&images.gate, "gate", vec![]),
        (
            &images.app,
            "app",
            vec![
                "-f".to_string(),
                example.to_string_lossy().into_owned(),
                "--build-arg".into(),
                gate_arg,
                "--build-arg".into(),
                "BASE_IMAGE=scratch".into(),
            ],
        ),
        (&images.proxy, "proxy", vec![]),
    ] {
        build_image(tag, &extra, &images.dir.join(sub))?;
    }
    Ok(images)
}

/// `docker build` of `context` as `tag`, labelled as this test process's.
pub fn build_image(tag: &str, extra: &[String], context: &Path) -> Result<(), String> {
    let out = bounded(
        Command::new("docker")
            .args([
                "build",
                "-q",
                "--label",
                &format!("{LABEL}={}", std::process::id()),
                "-t",
                tag,
            ])
            .args(extra)
            .arg(context),
        Duration::from_secs(5 * 60),
    )?;
    if !out.status.success() {
        return Err(format!(
            "docker build of {tag} failed:\n{}",
            text(&out.stderr)
        ));
    }
    Ok(())
}

/// The gate image's Dockerfile: a FROM scratch stage holding only the static
/// binary, with the repository Dockerfile's own ENTRYPOINT/CMD lines when it
/// has them, so the test image keeps the runtime contract users get.
pub fn gate_dockerfile() -> String {
    let mut dockerfile = String::from(
        "# The runtime contract of the repository's Dockerfile (its builder cannot be pulled here).\n\
         FROM scratch\n\
         COPY linkerd-await /linkerd-await\n",
    );
    let stage = repository_final_stage().unwrap_or_default();
    let runtime: Vec<&String> = stage
        .iter()
        .filter(|l| {
            let word = l
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            ["ENTRYPOINT", "CMD", "USER"].contains(&word.as_str())
        })
        .collect();
    if runtime
        .iter()
        .any(|l| l.to_ascii_uppercase().starts_with("ENTRYPOINT"))
    {
        for line in runtime {
            dockerfile.push_str(line);
            dockerfile.push('\n');
        }
    } else {
        dockerfile.push_str("ENTRYPOINT [\"/linkerd-await\"]\n");
    }
    dockerfile
}

/// The instructions of the repository Dockerfile's last stage (from its last
/// FROM), continuation lines joined, comments dropped; `None` without a Dockerfile.
pub fn repository_final_stage() -> Option<Vec<String>> {
    let text = std::fs::read_to_string(manifest_dir().join("Dockerfile")).ok()?;
    let mut lines: Vec<String> = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') || (line.is_empty() && pending.is_empty()) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            pending.push_str(part.trim());
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        lines.push(std::mem::take(&mut pending).trim().to_string());
    }
    let last_from = lines
        .iter()
        .rposition(|l| l.to_ascii_uppercase().starts_with("FROM "))?;
    Some(lines.split_off(last_from))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
}

/// Removes what earlier test processes left behind (killed before their
/// cleanup ran): containers and images labelled with a PID that is gone.
fn remove_stale() {
    let alive = |pid: &str| {
        pid.parse::<i32>()
            .is_ok_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
    };
    let filter = format!("label={LABEL}");
    let label = format!("{{{{.Names}}}} {{{{.Label \"{LABEL}\"}}}}");
    if let Ok(out) = docker(&["ps", "-a", "--filter", &filter, "--format", &label]) {
        for line in text(&out.stdout).lines() {
            match line.split_once(' ') {
                Some((name, pid)) if !alive(pid) => {
                    let _ = docker(&["rm", "-f", "-v", name]);
                }
                _ => {}
            }
        }
    }
    if let Ok(out) = docker(&[
        "images",
        "--filter",
        &filter,
        "--format",
        "{{.Repository}}:{{.Tag}}",
    ]) {
        for image in text(&out.stdout).lines() {
            match image.rsplit_once(':') {
                Some((_, pid)) if !alive(pid) => {
                    let _ = docker(&["rmi", "-f", image]);
                }
                _ => {}
            }
        }
    }
}

/// At exit: this process's containers (normally gone already) and images.
extern "C" fn remove_own() {
    let pid = std::process::id().to_string();
    let filter = format!("label={LABEL}={pid}");
    if let Ok(out) = docker(&["ps", "-aq", "--filter", &filter]) {
        let ids: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
        if !ids.is_empty() {
            let mut args = vec!["rm".to_string(), "-f".into(), "-v".into()];
            args.extend(ids);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _ = docker(&args);
        }
    }
    // Every image this process built: the three of `Images`, and those of
    // single tests (the docs' Dockerfiles, the bare app image).
    if let Ok(out) = docker(&["images", "-q", "--filter", &filter]) {
        let ids: Vec<String> = text(&out.stdout).lines().map(str::to_string).collect();
        if !ids.is_empty() {
            let mut args = vec!["rmi".to_string(), "-f".into()];
            args.extend(ids);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _ = docker(&args);
        }
    }
    let _ = std::fs::remove_dir_all(target_tmp().join(format!("containers-{pid}")));
}

// ---------------------------------------------------------------------------
// Running commands, bounded.

/// Runs `cmd` to completion within `limit`, capturing both streams; a command
/// still running at the limit is killed and reported as an error.
pub fn bounded(cmd: &mut Command, limit: Duration) -> Result<Output, String> {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{shown} did not finish within {limit:?}"));
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("waiting for {shown}: {e}")),
        }
    };
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One docker command, bounded.
pub fn docker(args: &[&str]) -> Result<Output, String> {
    bounded(Command::new("docker").args(args), DOCKER_LIMIT)
}

/// One docker command that must succeed; its stdout, trimmed.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "docker {} failed: {}",
        args.join(" "),
        text(&out.stderr)
    );
    text(&out.stdout).trim().to_string()
}

// ---------------------------------------------------------------------------
// Pods.

static PODS: AtomicUsize = AtomicUsize::new(0);

/// A pod: a sandbox holding a loopback-only network namespace, and the
/// containers joined to it. Dropping it removes them all.
pub struct Pod {
    pub name: String,
    sandbox: String,
    members: Vec<String>,
}

/// How a container ended, as `docker inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub code: i32,
    pub oom_killed: bool,
}

impl Pod {
    /// Starts the sandbox of a new pod named after the test and this process.
    pub fn new(test: &str, images: &Images) -> Pod {
        let n = PODS.fetch_add(1, Ordering::SeqCst);
        let name = format!("la-{test}-{}-{n}", std::process::id());
        let sandbox = format!("{name}-sandbox");
        let pod = Pod {
            name,
            sandbox: sandbox.clone(),
            members: vec![sandbox.clone()],
        };
        let label = pod.label();
        docker_ok(&[
            "run",
            "-d",
            "--name",
            &sandbox,
            "--label",
            &label,
            "--network",
            "none",
            "--entrypoint",
            "/my-app",
            &images.app,
            "pause",
        ]);
        pod
    }

    fn label(&self) -> String {
        format!("{LABEL}={}", std::process::id())
    }

    /// Creates (does not start) container `<pod>-<role>` in the pod's network namespace.
    pub fn create(&mut self, role: &str, options: &[&str], image: &str, args: &[&str]) -> String {
        let name = format!("{}-{role}", self.name);
        // Recorded first: if create fails half-way, Drop still removes it.
        self.members.push(name.clone());
        let label = self.label();
        let network = format!("container:{}", self.sandbox);
        let mut argv = vec![
            "create",
            "--name",
            &name,
            "--label",
            &label,
            "--network",
            &network,
        ];
        argv.extend_from_slice(options);
        argv.push(image);
        argv.extend_from_slice(args);
        docker_ok(&argv);
        name
    }

    /// Creates and starts a container.
    pub fn run(&mut self, role: &str, options: &[&str], image: &str, args: &[&str]) -> String {
        let name = self.create(role, options, image, args);
        self.start(&[&name]);
        name
    }

    /// Starts containers, in this order, as fast as the engine allows.
    pub fn start(&self, names: &[&str]) {
        let mut argv = vec!["start"];
        argv.extend_from_slice(names);
        docker_ok(&argv);
    }

    /// Waits until the container has exited; panics with its logs after `limit`.
    pub fn wait_exit(&self, name: &str, limit: Duration) -> Ended {
        let start = Instant::now();
        loop {
            let state = docker_ok(&[
                "inspect",
                "-f",
                "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}",
                name,
            ]);
            let mut fields = state.split_whitespace();
            let status = fields.next().unwrap_or_default();
            if status == "exited" || status == "dead" {
                return Ended {
                    code: fields.next().and_then(|c| c.parse().ok()).unwrap_or(-1),
                    oom_killed: fields.next() == Some("true"),
                };
            }
            assert!(
                start.elapsed() < limit,
                "{name} still {status} after {limit:?}; logs:\n{}",
                self.logs(name)
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the container is running now.
    pub fn running(&self, name: &str) -> bool {
        docker_ok(&["inspect", "-f", "{{.State.Running}}", name]) == "true"
    }

    /// stdout and stderr so far, merged (each line in the order docker stored it).
    pub fn logs(&self, name: &str) -> String {
        match docker(&["logs", name]) {
            Ok(out) => format!("{}{}", text(&out.stdout), text(&out.stderr)),
            Err(e) => format!("(no logs: {e})"),
        }
    }

    /// stdout only: what the app printed (the gate logs to stderr only).
    pub fn stdout(&self, name: &str) -> String {
        docker(&["logs", name]).map_or_else(|e| e, |out| text(&out.stdout))
    }

    /// stderr only: the gate's (and the proxy's) log lines.
    pub fn stderr(&self, name: &str) -> String {
        docker(&["logs", name]).map_or_else(|e| e, |out| text(&out.stderr))
    }

    /// Waits until the container's output has a line containing `needle`;
    /// returns the output so far. Panics with it after `limit`.
    pub fn wait_for_log(&self, name: &str, needle: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let logs = self.logs(name);
            if logs.contains(needle) {
                return logs;
            }
            assert!(
                start.elapsed() < limit,
                "{name}: no line with {needle:?} within {limit:?}; logs:\n{logs}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Pod {
    fn drop(&mut self) {
        let mut argv = vec!["rm", "-f", "-v"];
        argv.extend(self.members.iter().rev().map(String::as_str));
        let _ = docker(&argv);
    }
}
