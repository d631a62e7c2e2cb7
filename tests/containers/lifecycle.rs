//! End-to-end tests in real containers of what happens around the wait:
//! `--install` (the init-container pattern for images you cannot rebuild)
//! and the termination message Kubernetes shows in `kubectl describe pod`.
//!
//! A module of tests/containers.rs, with its pods, images and their cleanup
//! (tests/containers/pod.rs); this file adds one image, `bare`: FROM scratch
//! with only the test app, *without* the gate, as a vendor's image would be.

use std::{
    fs,
    os::unix::fs::PermissionsExt,
    path::PathBuf,
    sync::{
        OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
};

use crate::pod::{FIRST_INSTRUCTION, Images, LABEL, LIMIT, Pod, STARTING_PROXY};

/// The `bare` image: FROM scratch with only the test app as /my-app (its
/// ENTRYPOINT), built once per test process (labelled as the process's:
/// removed with its other images when it exits).
fn bare_image(images: &Images) -> &'static str {
    static BARE: OnceLock<String> = OnceLock::new();
    BARE.get_or_init(|| {
        let pid = std::process::id();
        let tag = format!("{LABEL}-bare:{pid}");
        let context = images.dir.join("bare");
        fs::create_dir_all(&context).expect("create build context");
        fs::copy(images.dir.join("app/my-app"), context.join("my-app")).expect("copy test app");
        fs::write(
            context.join("Dockerfile"),
            "FROM scratch\nCOPY my-app /my-app\nENTRYPOINT [\"/my-app\"]\n",
        )
        .expect("write Dockerfile");
        crate::pod::build_image(&tag, &[], &context).unwrap_or_else(|e| panic!("{e}"));
        tag
    })
}

/// A new directory to bind-mount into a pod's containers (an emptyDir),
/// writable by any user; under the test process's scratch space, removed with it.
fn shared_dir(images: &Images, test: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = images
        .dir
        .join(format!("{test}-{}", N.fetch_add(1, Ordering::SeqCst)));
    fs::create_dir_all(&dir).expect("create shared dir");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).expect("chmod shared dir");
    dir
}

fn volume(dir: &std::path::Path, at: &str) -> String {
    format!("{}:{at}", dir.display())
}

// ---------------------------------------------------------------------------
// 1. --install: an image without the gate, made to wait.

#[test]
fn installed_copy_makes_an_image_without_the_gate_wait_for_a_late_proxy() {
    let test = "install-pattern";
    let images = images_or_skip!(test);
    let bare_image = bare_image(images);
    let shared = shared_dir(images, test);
    let mut pod = Pod::new(test, images);

    // The init container: the gate's own image, `--install` into the volume.
    let init = pod.run(
        "init",
        &["-v", &volume(&shared, "/shared")],
        &images.gate,
        &["--install", "/shared"],
    );
    let end = pod.wait_exit(&init, LIMIT);
    assert_eq!(end.code, 0, "init container; logs:\n{}", pod.logs(&init));
    assert!(
        pod.stderr(&init)
            .contains("installed /shared/linkerd-await"),
        "{}",
        pod.logs(&init)
    );

    // The image's own entrypoint alone races the proxy; the same image with
    // the copy in front of its entrypoint (the volume read-only) does not.
    let bare = pod.create("bare", &[], bare_image, &FIRST_INSTRUCTION);
    let mut gated_cmd = vec!["--", "/my-app"];
    gated_cmd.extend(FIRST_INSTRUCTION);
    gated_cmd.push("id");
    let gated = pod.create(
        "gated",
        &[
            "-v",
            &volume(&shared, "/shared:ro"),
            "--entrypoint",
            "/shared/linkerd-await",
        ],
        bare_image,
        &gated_cmd,
    );
    let proxy = pod.create("proxy", &[], &images.proxy, &STARTING_PROXY);
    // The app containers start first; the proxy only once the gate waits.
    pod.start(&[&bare, &gated]);
    let bare_end = pod.wait_exit(&bare, LIMIT);
    assert_eq!(
        bare_end.code,
        1,
        "without the gate the app's first connection must fail; app said:\n{}",
        pod.stdout(&bare)
    );
    pod.wait_for_log(&gated, "waiting for the proxy", LIMIT);
    pod.start(&[&proxy]);

    let gated_end = pod.wait_exit(&gated, LIMIT);
    let out = pod.stdout(&gated);
    assert_eq!(
        gated_end.code,
        0,
        "behind the installed gate the app must succeed; logs:\n{}\nproxy:\n{}",
        pod.logs(&gated),
        pod.logs(&proxy)
    );
    assert!(out.contains("GET /ready: HTTP/1.1 200"), "{out}");
    assert!(out.contains("app pid=1 "), "exec'd as PID 1: {out}");
    assert!(pod.stderr(&gated).contains("proxy ready after"));
}

#[test]
fn install_into_a_read_only_volume_exits_73_naming_the_path() {
    let test = "install-read-only";
    let images = images_or_skip!(test);
    let shared = shared_dir(images, test);
    let mut pod = Pod::new(test, images);
    let init = pod.run(
        "init",
        &["-v", &volume(&shared, "/shared:ro")],
        &images.gate,
        &["--install", "/shared"],
    );
    let end = pod.wait_exit(&init, LIMIT);
    let logs = pod.logs(&init);
    assert_eq!(end.code, 73, "{logs}");
    assert!(logs.contains("/shared"), "{logs}");
    assert!(logs.contains("Read-only file system"), "{logs}");
    assert_eq!(
        fs::read_dir(&shared).expect("list").count(),
        0,
        "nothing left in the volume"
    );
}

// ---------------------------------------------------------------------------
// 2. The termination message, in the file kubelet bind-mounts.

/// A file for `/dev/termination-log`, holding `before`.
fn termination_log(images: &Images, test: &str, before: &str) -> PathBuf {
    let path = shared_dir(images, test).join("termination-log");
    fs::write(&path, before).expect("write termination log");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o666)).expect("chmod");
    path
}

#[test]
fn readiness_timeout_is_appended_to_the_bind_mounted_dev_termination_log() {
    let test = "termination-log";
    let images = images_or_skip!(test);
    let before = "app: an earlier message\n";
    let mut pod = Pod::new(test, images);

    // No proxy in this pod: the gate times out (69) and says why, after
    // what the file held. With the variable empty, it says nothing.
    let written = termination_log(images, test, before);
    let off = termination_log(images, test, before);
    let mount = |file: &PathBuf| volume(file, "/dev/termination-log");
    let timing_out = pod.create(
        "timing-out",
        &["-v", &mount(&written), "-e", "LINKERD_AWAIT_TIMEOUT=500ms"],
        &images.app,
        &["/my-app", "id"],
    );
    let turned_off = pod.create(
        "turned-off",
        &[
            "-v",
            &mount(&off),
            "-e",
            "LINKERD_AWAIT_TIMEOUT=500ms",
            "-e",
            "LINKERD_AWAIT_TERMINATION_LOG=",
        ],
        &images.app,
        &["/my-app", "id"],
    );
    pod.start(&[&timing_out, &turned_off]);
    for name in [&timing_out, &turned_off] {
        let end = pod.wait_exit(name, LIMIT);
        assert_eq!(end.code, 69, "{}", pod.logs(name));
    }
    let text = fs::read_to_string(&written).expect("read");
    let line = text
        .strip_prefix(before)
        .unwrap_or_else(|| panic!("truncated: {text:?}"));
    assert_eq!(line.lines().count(), 1, "{line:?}");
    for needle in [
        "linkerd-await: proxy at http://localhost:4191/ready not ready after",
        "last: connection refused",
    ] {
        assert!(line.contains(needle), "{needle:?} missing from {line:?}");
    }
    assert_eq!(
        fs::read_to_string(&off).expect("read"),
        before,
        "turned off"
    );

    // A proxy that is ready: the app runs, nothing is written.
    let quiet = termination_log(images, test, "");
    let proxy = pod.run("proxy", &[], &images.proxy, &[]);
    let ready = pod.run(
        "ready",
        &["-v", &mount(&quiet)],
        &images.app,
        &["/my-app", "id"],
    );
    let end = pod.wait_exit(&ready, LIMIT);
    assert_eq!(
        end.code,
        0,
        "{}\nproxy:\n{}",
        pod.logs(&ready),
        pod.logs(&proxy)
    );
    assert_eq!(
        fs::read_to_string(&quiet).expect("read"),
        "",
        "success writes nothing"
    );
}
