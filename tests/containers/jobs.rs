//! Jobs in real containers: with `--shutdown` the gate runs the task, then asks
//! the proxy to shut down, so the Job's pod completes; with the endpoint
//! disabled (404) the task's status is kept and the log names the annotation;
//! the env-var form of the example manifest and `--mesh istio` work the same.
//!
//! A module of tests/containers.rs: its pods and images (tests/containers/pod.rs).

use std::{path::Path, time::Instant};

use crate::pod::{LIMIT, PROMPT, Pod};

#[test]
fn job_pod_completes_app_and_proxy_both_exit_0_within_seconds() {
    const TEST: &str = "job";
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    let proxy = pod.create(
        "proxy",
        &[],
        &images.proxy,
        &[
            "--refuse-for",
            "300ms",
            "--ready-after",
            "1s",
            "--exit-on-shutdown",
        ],
    );
    let job = pod.create(
        "job",
        &["--entrypoint", "/linkerd-await"],
        &images.app,
        &[
            "--shutdown",
            "--",
            "/my-app",
            "id",
            "sleep",
            "200",
            "exit",
            "0",
        ],
    );
    let started = Instant::now();
    pod.start(&[&job, &proxy]);
    let job_end = pod.wait_exit(&job, LIMIT);
    let proxy_end = pod.wait_exit(&proxy, LIMIT);
    let took = started.elapsed();

    assert_eq!(job_end.code, 0, "{}", pod.logs(&job));
    assert_eq!(
        proxy_end.code,
        0,
        "the proxy must exit once asked to shut down:\n{}",
        pod.logs(&proxy)
    );
    assert!(
        took < PROMPT,
        "the pod took {took:?} to complete (proxy ready at 1 s, task 0.2 s)"
    );
    assert!(pod.stdout(&job).contains("slept 200ms"));
    assert!(
        pod.logs(&job).contains("asked the proxy to shut down"),
        "{}",
        pod.logs(&job)
    );
    assert!(
        pod.stderr(&proxy).contains("POST /shutdown"),
        "{}",
        pod.logs(&proxy)
    );
}

#[test]
fn job_with_the_shutdown_endpoint_disabled_exits_with_the_tasks_status_and_names_the_annotation() {
    const TEST: &str = "job-404";
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    // Linkerd ≥ 2.16 without config.linkerd.io/proxy-admin-shutdown: enabled.
    let proxy = pod.run("proxy", &[], &images.proxy, &["--shutdown-status", "404"]);
    let job = |status: &'static str| ["--shutdown", "--", "/my-app", "id", "exit", status];
    let passed = pod.create(
        "passed",
        &["--entrypoint", "/linkerd-await"],
        &images.app,
        &job("0"),
    );
    let failed = pod.create(
        "failed",
        &["--entrypoint", "/linkerd-await"],
        &images.app,
        &job("3"),
    );
    pod.start(&[&passed, &failed]);

    for (name, status) in [(&passed, 0), (&failed, 3)] {
        let end = pod.wait_exit(name, LIMIT);
        let logs = pod.logs(name);
        assert_eq!(end.code, status, "the task's own status: {logs}");
        assert!(
            logs.contains("config.linkerd.io/proxy-admin-shutdown"),
            "the 404 must name the annotation:\n{logs}"
        );
    }
    assert!(
        pod.running(&proxy),
        "a proxy that answered 404 keeps running (the pod would not complete):\n{}",
        pod.logs(&proxy)
    );
}

/// The `LINKERD_AWAIT_*` variables of a manifest's `env:` list, in order.
fn manifest_env(path: &Path) -> Vec<(String, String)> {
    let manifest =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut vars = Vec::new();
    let mut name: Option<String> = None;
    for line in manifest.lines() {
        let line = line.trim().trim_start_matches("- ");
        if let Some(value) = line.strip_prefix("name: ") {
            name = Some(value.trim().to_string()).filter(|n| n.starts_with("LINKERD_AWAIT_"));
        } else if let Some(value) = line.strip_prefix("value: ") {
            if let Some(name) = name.take() {
                let value = value.trim().trim_matches('"').to_string();
                vars.push((name, value));
            }
        }
    }
    vars
}

#[test]
fn job_configured_by_the_example_manifests_environment_variables_completes() {
    const TEST: &str = "job-env";
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes/job-env.yaml");
    let vars = manifest_env(&manifest);
    assert!(
        vars.iter()
            .any(|(k, v)| k == "LINKERD_AWAIT_SHUTDOWN" && v == "true"),
        "{} must configure --shutdown by environment: {vars:?}",
        manifest.display()
    );
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    let mut options: Vec<String> = Vec::new();
    for (k, v) in &vars {
        options.push("-e".into());
        options.push(format!("{k}={v}"));
    }
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let proxy = pod.create(
        "proxy",
        &[],
        &images.proxy,
        &["--ready-after", "500ms", "--exit-on-shutdown"],
    );
    // The image's own ENTRYPOINT ["/linkerd-await", "--"]: only the environment differs.
    let job = pod.create(
        "job",
        &options,
        &images.app,
        &["/my-app", "id", "exit", "0"],
    );
    pod.start(&[&job, &proxy]);
    let job_end = pod.wait_exit(&job, LIMIT);
    let proxy_end = pod.wait_exit(&proxy, LIMIT);
    assert_eq!(job_end.code, 0, "{}", pod.logs(&job));
    assert_eq!(
        proxy_end.code,
        0,
        "with LINKERD_AWAIT_SHUTDOWN=true the proxy is asked to shut down:\n{}\n{}",
        pod.logs(&job),
        pod.logs(&proxy)
    );
}

#[test]
fn istio_job_with_mesh_istio_waits_on_15021_and_quits_pilot_agent_on_15020() {
    const TEST: &str = "job-istio";
    let images = images_or_skip!(TEST);
    let mut pod = Pod::new(TEST, images);
    let sim = ["--entrypoint", "/sim-proxy"];
    let envoy = pod.create(
        "envoy",
        &sim,
        &images.proxy,
        &[
            "--listen",
            "0.0.0.0:15021",
            "--ready-path",
            "/healthz/ready",
            "--ready-after",
            "500ms",
        ],
    );
    let agent = pod.create(
        "pilot-agent",
        &sim,
        &images.proxy,
        &["--listen", "0.0.0.0:15020", "--exit-on-shutdown"],
    );
    let job = pod.create(
        "job",
        &["--entrypoint", "/linkerd-await"],
        &images.app,
        &[
            "--mesh",
            "istio",
            "--shutdown",
            "--",
            "/my-app",
            "id",
            "exit",
            "0",
        ],
    );
    pod.start(&[&job, &envoy, &agent]);
    let job_end = pod.wait_exit(&job, LIMIT);
    let agent_end = pod.wait_exit(&agent, LIMIT);
    assert_eq!(job_end.code, 0, "{}", pod.logs(&job));
    assert_eq!(agent_end.code, 0, "{}", pod.logs(&agent));
    assert!(
        pod.stderr(&envoy).contains("GET /healthz/ready"),
        "{}",
        pod.logs(&envoy)
    );
    assert!(
        pod.stderr(&agent).contains("POST /quitquitquit"),
        "{}",
        pod.logs(&agent)
    );
}
