//! Build script of the gate: only the `--version` line. A binary found in an
//! image should say what it was built from and for:
//!
//! ```text
//! linkerd-await 0.4.0 (abc1234 aarch64-unknown-linux-musl)
//! ```
//!
//! It sets `LINKERD_AWAIT_VERSION` for `lib.rs`; nothing else of the build
//! depends on it, and it adds no code to the gate.

use std::{
    env,
    path::Path,
    process::{Command, Stdio},
};

/// Names the commit where the sources are not a git checkout (a Docker build
/// context without `.git`, a source tarball), e.g. from `--build-arg`.
const COMMIT_VAR: &str = "LINKERD_AWAIT_BUILD_COMMIT";

/// What `--version` says when the commit is not known.
const UNKNOWN_COMMIT: &str = "unknown commit";

fn main() {
    // Cargo gives every build script the triple it builds for.
    let target = env::var("TARGET").unwrap_or_else(|_| "unknown target".to_string());
    let version = env::var("CARGO_PKG_VERSION").unwrap_or_default();
    println!(
        "cargo:rustc-env=LINKERD_AWAIT_VERSION={version} ({} {target})",
        commit()
    );
}

fn commit() -> String {
    println!("cargo:rerun-if-env-changed={COMMIT_VAR}");
    let given = env::var(COMMIT_VAR).unwrap_or_default();
    if !given.trim().is_empty() {
        return given.trim().to_string();
    }
    git_commit().unwrap_or_else(|| {
        // Without this, cargo would rerun the script after any change in the
        // package; with it, only when this file changes.
        println!("cargo:rerun-if-changed=build.rs");
        UNKNOWN_COMMIT.to_string()
    })
}

/// The short hash of HEAD, when the package is the top of a git checkout
/// (not a directory inside someone else's repository, as when vendored) and
/// git is installed. Asks cargo to rerun when HEAD moves.
fn git_commit() -> Option<String> {
    let dir = env::var_os("CARGO_MANIFEST_DIR")?;
    let dir = Path::new(&dir);
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    if Path::new(&top).canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    let commit = git(&["rev-parse", "--short", "HEAD"])?;
    // HEAD changes on checkout, the branch it names on commit, and
    // packed-refs when git packs that branch. `--git-path` finds them in a
    // linked worktree too, where `.git` is a file. Cargo would rerun every
    // time for a file that does not exist, so only existing ones are named.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        let Some(path) = git(&["rev-parse", "--git-path", &name]) else {
            continue;
        };
        let path = dir.join(path);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    Some(commit)
}
