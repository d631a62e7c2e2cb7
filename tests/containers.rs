//! End-to-end tests in real containers: the gate where users run it.
//!
//! A pod is a sandbox container holding a loopback-only network namespace, a
//! "proxy" container running the simulated proxy (examples/sim-proxy, static
//! build), and app containers joined to the same namespace with
//! `--network container:<sandbox>`, exactly as Kubernetes shares `localhost`
//! inside a pod. Every image is built here `FROM scratch` from static binaries
//! (nothing is pulled). See tests/containers/pod.rs.
//!
//! Without a Docker daemon these tests print why and pass as skipped, unless
//! `LINKERD_AWAIT_REQUIRE_DOCKER=1` (CI), which makes that a failure.

//!
//! One test crate for every container test, in modules by what they cover
//! (this file: the race, PID 1, the images; `containers/jobs.rs`: Jobs;
//! `containers/lifecycle.rs`: `--install` and the termination message), so
//! that the images are built once per test run.

mod common;
#[allow(dead_code)]
#[macro_use]
#[path = "containers/pod.rs"]
mod pod;
#[path = "containers/jobs.rs"]
mod jobs;
#[path = "containers/lifecycle.rs"]
mod lifecycle;

use std::{
    collections::BTreeSet,
    path::Path,
    process::Command,
    thread,
    time::{Duration, Instant},
};

use common::{FakeProxy, closed_port, gate_bin, output, stderr_text};
use pod::{FIRST_INSTRUCTION, Images, LIMIT, PROMPT, Pod, STARTING_PROXY, docker_ok, text};

/// `docker stop` grace period in the stop tests; "promptly" means well under it.
const STOP_GRACE: &str = "30";

const PODS_PER_ORDER: usize = 10;
/// Pods run side by side: enough to keep the file quick, few enough that a
/// loaded 2-core machine still starts each container within the proxy's
/// not-ready window.
const CONCURRENT_PODS: usize = 2;

// ---------------------------------------------------------------------------
// 1. The race, reproduced and cured.

#[derive(Debug, Clone, Copy)]
enum Order {
    /// The proxy container starts first, the apps right after (it is still starting).
    ProxyFirst,
    /// The apps start first; the proxy container only once they are running.
    AppFirst,
}

fn race_in_fresh_pods(test: &str, order: Order) {
    let images = images_or_skip!(test);
    let started = Instant::now();
    for _round in 0..PODS_PER_ORDER / CONCURRENT_PODS {
        thread::scope(|scope| {
            for _ in 0..CONCURRENT_PODS {
                scope.spawn(|| race_pod(test, images, order));
            }
        });
    }
    eprintln!("{test}: {PODS_PER_ORDER} pods in {:.1?}", started.elapsed());
}

/// One fresh pod with a starting proxy, an app without the gate and the same
/// app behind the gate. The first must fail, the second must succeed.
fn race_pod(test: &str, images: &Images, order: Order) {
    let mut pod = Pod::new(test, images);
    let proxy = pod.create("proxy", &[], &images.proxy, &STARTING_PROXY);
    let bare = pod.create(
        "bare",
        &["--entrypoint", "/my-app"],
        &images.app,
        &FIRST_INSTRUCTION,
    );
    // The same first instruction; then the app says which PID it is.
    let mut gated_cmd = vec!["/my-app"];
    gated_cmd.extend(FIRST_INSTRUCTION);
    gated_cmd.push("id");
    let gated = pod.create("gated", &[], &images.app, &gated_cmd);

    match order {
        Order::ProxyFirst => pod.start(&[&proxy, &bare, &gated]),
        Order::AppFirst => {
            pod.start(&[&bare, &gated]);
            pod.wait_exit(&bare, LIMIT);
            pod.wait_for_log(&gated, "waiting for the proxy", LIMIT);
            pod.start(&[&proxy]);
        }
    }

    let bare_end = pod.wait_exit(&bare, LIMIT);
    let bare_out = pod.stdout(&bare);
    assert_eq!(
        bare_end.code,
        1,
        "{order:?}: without the gate the app's first connection must fail; app said:\n{bare_out}\nproxy:\n{}",
        pod.logs(&proxy)
    );
    assert!(
        bare_out.contains("Connection refused") || bare_out.contains(" 503 "),
        "{order:?}: the bare app failed for another reason than a starting proxy:\n{bare_out}"
    );

    let gated_end = pod.wait_exit(&gated, LIMIT);
    let gated_out = pod.stdout(&gated);
    assert_eq!(
        gated_end.code,
        0,
        "{order:?}: behind the gate the app must succeed; logs:\n{}\nproxy:\n{}",
        pod.logs(&gated),
        pod.logs(&proxy)
    );
    assert!(
        gated_out.contains("GET /ready: HTTP/1.1 200"),
        "{gated_out}"
    );
    assert!(
        gated_out.contains("app pid=1 "),
        "the app is PID 1 after exec: {gated_out}"
    );
    assert!(
        pod.stderr(&gated).contains("proxy ready after"),
        "{}",
        pod.logs(&gated)
    );
}

#[test]
fn race_app_fails_without_the_gate_and_succeeds_with_it_in_every_pod_proxy_started_first() {
    race_in_fresh_pods("race-proxy-first", Order::ProxyFirst);
}

#[test]
fn race_app_fails_without_the_gate_and_succeeds_with_it_in_every_pod_app_started_first() {
    race_in_fresh_pods("race-app-first", Order::AppFirst);
}

// ---------------------------------------------------------------------------
// 2. PID 1 in a real runtime.

/// The value after `key` in a `key=value` line.
fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split_whitespace()
        .find_map(|word| word.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"))
}

#[test]
fn gate_is_pid_1_while_waiting_and_the_app_is_the_same_pid_1_after_exec() {
    const TEST: &str = "pid1-exec";
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    // No proxy yet: the gate waits for as long as the test needs to look at it.
    let app = pod.run("app", &[], &images.app, &["/my-app", "id"]);
    pod.wait_for_log(&app, "waiting for the proxy", LIMIT);
    let seen = docker_ok(&["exec", &app, "/my-app", "proc", "1"]);
    assert!(
        seen.contains("cmdline=/linkerd-await -- /my-app id"),
        "PID 1 while waiting must be the gate: {seen}"
    );
    let gate_start = field(&seen, "start=").to_string();

    pod.run("proxy", &[], &images.proxy, &[]);
    let end = pod.wait_exit(&app, LIMIT);
    let out = pod.stdout(&app);
    assert_eq!(end.code, 0, "{}", pod.logs(&app));
    // Same PID and the same kernel start time: exec replaced the gate, no fork.
    assert!(
        out.contains(&format!(
            "app pid=1 ppid=0 start={gate_start} argv0=/my-app"
        )),
        "after exec the app must be the same PID 1 (gate: {seen}); app: {out}"
    );
}

#[test]
fn progress_line_in_a_container_without_ipv6_loopback_says_connection_refused() {
    const TEST: &str = "refused-reason";
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    let app = pod.run("app", &[], &images.app, &["/my-app", "id"]);
    let logs = pod.wait_for_log(&app, "still waiting for the proxy", LIMIT);
    assert!(
        logs.contains("last: connection refused"),
        "nothing listens on the proxy's port: the user must read 'connection refused':\n{logs}"
    );
}

#[test]
fn docker_stop_while_waiting_ends_the_container_at_once_with_143() {
    const TEST: &str = "stop-waiting";
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    let app = pod.run("app", &[], &images.app, &["/my-app", "id"]);
    pod.wait_for_log(&app, "waiting for the proxy", LIMIT);

    let started = Instant::now();
    docker_ok(&["stop", "-t", STOP_GRACE, &app]);
    let took = started.elapsed();
    let end = pod.wait_exit(&app, LIMIT);
    assert_eq!(
        end.code,
        143,
        "SIGTERM while waiting must exit 128+15 (137 = killed after the grace period); took {took:?}; logs:\n{}",
        pod.logs(&app)
    );
    assert!(
        took < PROMPT,
        "docker stop took {took:?} (grace {STOP_GRACE}s): the gate as PID 1 did not act on SIGTERM"
    );
    assert!(!end.oom_killed);
    assert!(
        !pod.stdout(&app).contains("app pid"),
        "the app must not start"
    );
    assert!(
        pod.stderr(&app)
            .contains("received SIGTERM while waiting for the proxy"),
        "{}",
        pod.logs(&app)
    );
}

#[test]
fn docker_stop_in_shutdown_mode_reaches_the_app_whose_status_is_the_containers() {
    const TEST: &str = "stop-supervised";
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    let proxy = pod.run("proxy", &[], &images.proxy, &["--exit-on-shutdown"]);
    let app = pod.run(
        "app",
        &["--entrypoint", "/linkerd-await"],
        &images.app,
        &["--shutdown", "--", "/my-app", "id", "on-term", "42", "wait"],
    );
    pod.wait_for_log(&app, "waiting for a signal", LIMIT);

    let started = Instant::now();
    docker_ok(&["stop", "-t", STOP_GRACE, &app]);
    let took = started.elapsed();
    let end = pod.wait_exit(&app, LIMIT);
    let logs = pod.logs(&app);
    assert_eq!(
        end.code, 42,
        "the container's status must be the app's own exit status; logs:\n{logs}"
    );
    assert!(took < PROMPT, "docker stop took {took:?}");
    let out = pod.stdout(&app);
    assert!(
        out.contains("got SIGTERM"),
        "SIGTERM must reach the app: {out}"
    );
    assert!(
        out.contains(" ppid=1 "),
        "the app is the gate's child (the gate is PID 1): {out}"
    );
    assert!(logs.contains("asked the proxy to shut down"), "{logs}");
    let proxy_end = pod.wait_exit(&proxy, LIMIT);
    assert_eq!(proxy_end.code, 0, "{}", pod.logs(&proxy));
}

// ---------------------------------------------------------------------------
// 4. Scratch image and hosts file.

#[test]
fn scratch_image_with_an_empty_etc_hosts_still_resolves_localhost() {
    const TEST: &str = "empty-hosts";
    let images = images_or_skip!(TEST);
    let empty = images.dir.join("empty-hosts");
    std::fs::write(&empty, "").expect("write the empty hosts file");
    let mount = format!("{}:/etc/hosts:ro", empty.display());
    let mut pod = Pod::new(TEST, images);
    pod.run("proxy", &[], &images.proxy, &["--ready-after", "300ms"]);
    let app = pod.run(
        "app",
        &["-v", &mount],
        &images.app,
        &["/my-app", "hosts", "get", "127.0.0.1:4191", "/ready"],
    );
    let end = pod.wait_exit(&app, LIMIT);
    let logs = pod.logs(&app);
    assert_eq!(end.code, 0, "{logs}");
    assert!(
        pod.stdout(&app).contains("hosts-bytes=0"),
        "the app must see the empty /etc/hosts: {logs}"
    );
    assert!(
        logs.contains("waiting for the proxy at http://localhost:4191/ready"),
        "the default URL names localhost: {logs}"
    );
    assert!(logs.contains("proxy ready after"), "{logs}");
}

// ---------------------------------------------------------------------------
// 5. The Dockerfile's image.

/// Paths a container runtime adds to every container's filesystem.
fn added_by_the_runtime(path: &str) -> bool {
    let path = path.trim_start_matches("./").trim_end_matches('/');
    path.is_empty()
        || [
            ".dockerenv",
            "dev",
            "proc",
            "sys",
            "etc",
            "etc/hosts",
            "etc/hostname",
            "etc/resolv.conf",
            "etc/mtab",
        ]
        .contains(&path)
        || path.starts_with("dev/")
        || path.starts_with("proc/")
        || path.starts_with("sys/")
}

#[test]
fn gate_image_holds_only_the_static_binary_behind_an_exec_form_entrypoint() {
    const TEST: &str = "gate-image";
    let images = images_or_skip!(TEST);
    let entrypoint = docker_ok(&[
        "image",
        "inspect",
        "-f",
        "{{json .Config.Entrypoint}}",
        &images.gate,
    ]);
    assert!(
        entrypoint.starts_with("[\"/linkerd-await\""),
        "exec-form ENTRYPOINT starting with /linkerd-await: {entrypoint}"
    );

    let mut pod = Pod::new(TEST, images);
    let files = pod.create("files", &[], &images.gate, &[]);
    let tar = images.dir.join(format!("{files}.tar"));
    docker_ok(&["export", "-o", &tar.to_string_lossy(), &files]);
    let listing = Command::new("tar")
        .arg("-tf")
        .arg(&tar)
        .output()
        .expect("run tar");
    let _ = std::fs::remove_file(&tar);
    assert!(listing.status.success(), "{}", text(&listing.stderr));
    let own: BTreeSet<String> = text(&listing.stdout)
        .lines()
        .filter(|p| !added_by_the_runtime(p))
        .map(str::to_string)
        .collect();
    assert_eq!(
        own,
        BTreeSet::from(["linkerd-await".to_string()]),
        "the image must hold the binary and nothing else"
    );

    // The image alone is a complete "wait, then exit 0" container (e.g. an
    // init container), so it needs no shell, libc or hosts file.
    if entrypoint == "[\"/linkerd-await\"]" {
        pod.run("proxy", &[], &images.proxy, &["--ready-after", "300ms"]);
        let init = pod.run("init", &[], &images.gate, &["--timeout", "20s"]);
        let end = pod.wait_exit(&init, LIMIT);
        assert_eq!(end.code, 0, "{}", pod.logs(&init));
        assert!(pod.logs(&init).contains("proxy ready after"));
    }
}

/// The amd64 gate is a static PIE: an ELF of type ET_DYN with no
/// interpreter (the arm64 one cannot be: Rust's aarch64 musl target links
/// no static PIE, docs/install.md).
#[test]
fn the_amd64_release_gate_is_a_static_pie() {
    const TEST: &str = "static-pie";
    let images = images_or_skip!(TEST);
    let elf = std::fs::read(images.dir.join("gate/linkerd-await")).expect("the gate");
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]);
    let machine = u16_at(0x12);
    if machine != 62 {
        eprintln!("SKIPPED {TEST}: not an x86-64 gate (e_machine {machine})");
        return;
    }
    assert_eq!(
        u16_at(0x10),
        3,
        "e_type: not ET_DYN, so not position-independent"
    );
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().expect("e_phoff")) as usize;
    let (size, count) = (usize::from(u16_at(0x36)), usize::from(u16_at(0x38)));
    let types: Vec<u32> = (0..count)
        .map(|n| {
            let at = phoff + n * size;
            u32::from_le_bytes(elf[at..at + 4].try_into().expect("p_type"))
        })
        .collect();
    assert!(!types.contains(&3), "a PT_INTERP: not static");
    assert!(
        types.contains(&2),
        "no PT_DYNAMIC: nothing to relocate itself with"
    );
}

#[test]
fn repository_dockerfile_final_stage_is_scratch_with_only_the_binary() {
    let stage = pod::repository_final_stage()
        .expect("the README documents a repository Dockerfile with a FROM stage");
    let upper: Vec<String> = stage.iter().map(|l| l.to_ascii_uppercase()).collect();
    assert!(
        upper[0].starts_with("FROM SCRATCH"),
        "final stage must be FROM scratch: {stage:?}"
    );
    for (line, up) in stage.iter().zip(&upper) {
        let word = up.split_whitespace().next().unwrap_or("");
        assert!(
            !["RUN", "ADD", "SHELL"].contains(&word),
            "nothing but the binary in the final stage: {line}"
        );
        if word == "COPY" {
            assert!(
                line.split_whitespace().last() == Some("/linkerd-await"),
                "the final stage copies only to /linkerd-await: {line}"
            );
        }
    }
    let entrypoint = stage
        .iter()
        .find(|l| l.to_ascii_uppercase().starts_with("ENTRYPOINT"))
        .expect("an ENTRYPOINT");
    assert!(
        entrypoint.contains("[\"/linkerd-await\""),
        "exec form, so the gate is PID 1 and receives docker stop's SIGTERM: {entrypoint}"
    );
    // The images of the tests above are built with these same lines.
    assert!(pod::gate_dockerfile().contains(entrypoint.as_str()));
}

/// Every `dockerfile` block of the README and the docs builds, and the image
/// it makes runs the gate. Nothing can be pulled here, so a block's public
/// base (`gcr.io/distroless/...`) becomes `scratch` (the gate needs no base)
/// and `FROM linkerd-await:0.4.0` the gate image built from the repository's
/// Dockerfile lines; the files a block copies are in its build context as a
/// user has them (`app`, the release file names of `cargo xtask dist`).
#[test]
fn every_dockerfile_block_in_the_docs_builds_and_runs_the_gate() {
    const TEST: &str = "docs-dockerfiles";
    let images = images_or_skip!(TEST);
    let context = images.dir.join("docs");
    std::fs::create_dir_all(&context).expect("a build context");
    let copy = |from: &str, to: &str| {
        std::fs::copy(images.dir.join(from), context.join(to)).expect("a file of the context");
    };
    copy("app/my-app", "app");
    for arch in ["amd64", "arm64"] {
        copy(
            "gate/linkerd-await",
            &format!("linkerd-await-0.4.0-linux-{arch}"),
        );
    }
    let arch = if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "amd64"
    };
    let mut blocks = Vec::new();
    for (page, text) in [
        ("README.md", include_str!("../README.md")),
        ("docs/install.md", include_str!("../docs/install.md")),
        ("docs/reference.md", include_str!("../docs/reference.md")),
    ] {
        for (n, block) in text.split("```dockerfile\n").skip(1).enumerate() {
            let block = block.split("```").next().unwrap_or_default();
            let dockerfile: String = block
                .lines()
                .map(
                    |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                        ["FROM", image, ..] if image.starts_with("gcr.io/distroless/") => {
                            "FROM scratch".to_string()
                        }
                        ["FROM", "linkerd-await:0.4.0", "AS", stage] => {
                            format!("FROM {} AS {stage}", images.gate)
                        }
                        _ => line.to_string(),
                    },
                )
                .map(|line| line + "\n")
                .collect();
            blocks.push((page, n + 1, dockerfile));
        }
    }
    let built = blocks.len();
    // At once: each build makes a container per instruction.
    common::at_once(blocks, |(page, n, dockerfile)| {
        let file = context.join(format!("Dockerfile.{}.{n}", page.replace('/', "-")));
        std::fs::write(&file, &dockerfile).expect("write the Dockerfile");
        let tag = format!(
            "{}-docs-{}-{n}:{}",
            pod::LABEL,
            page.replace(['/', '.'], "-").to_lowercase(),
            std::process::id()
        );
        let extra = [
            "-f".to_string(),
            file.to_string_lossy().into_owned(),
            "--build-arg".to_string(),
            format!("TARGETARCH={arch}"),
        ];
        if let Err(e) = pod::build_image(&tag, &extra, &context) {
            panic!("{page}, dockerfile block {n}:\n{dockerfile}\n{e}");
        }
        let version = docker_ok(&[
            "run",
            "--rm",
            "--entrypoint",
            "/linkerd-await",
            &tag,
            "--version",
        ]);
        assert!(
            version.starts_with("linkerd-await 0.4.0"),
            "{page}: {version}"
        );
    });
    assert!(built >= 3, "only {built} dockerfile blocks found");
}

// ---------------------------------------------------------------------------
// The script example (no container needed).

fn migrate_script() -> Command {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/scripts/wait-then-migrate.sh");
    let gate_dir = Path::new(gate_bin())
        .parent()
        .expect("the gate's directory");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![gate_dir.to_path_buf()];
    dirs.extend(std::env::split_paths(&path));
    let mut cmd = Command::new("sh");
    cmd.arg(script);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("LINKERD") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("PATH", std::env::join_paths(dirs).expect("PATH"));
    cmd
}

#[test]
fn script_example_runs_the_task_once_the_proxy_is_ready() {
    let proxy = FakeProxy::ready_after(3);
    let out = output(
        migrate_script()
            .env("LINKERD_AWAIT_PORT", proxy.port().to_string())
            .env("MIGRATE", "echo")
            .arg("migrated"),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
    assert_eq!(text(&out.stdout), "migrated\n");
    assert_eq!(proxy.requests_to("/ready").len(), 3);
}

#[test]
fn script_example_gives_up_after_its_timeout_without_running_the_task() {
    let started = Instant::now();
    let out = output(
        migrate_script()
            .env("LINKERD_AWAIT_PORT", closed_port().to_string())
            .env("PROXY_TIMEOUT", "300ms")
            .env("MIGRATE", "echo")
            .arg("migrated"),
    );
    assert_eq!(out.status.code(), Some(69), "{}", stderr_text(&out));
    assert_eq!(text(&out.stdout), "", "the task must not run");
    assert!(
        stderr_text(&out).contains("not running"),
        "{}",
        stderr_text(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}
