//! What the tasks need of the toolchain: a target's standard library
//! (rustup ships the musl C runtime and libc with it), `cargo auditable`.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// Whether rustup has installed `triple`'s standard library.
pub fn target_installed(root: &Path, triple: &str) -> Result<bool, String> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    Ok(sysroot.join("lib/rustlib").join(triple).exists())
}

/// `cargo auditable` embeds the dependency list that `cargo audit bin`, syft
/// and trivy read. Installed the way its README says when it is missing.
pub fn ensure_cargo_auditable(root: &Path, cargo: &std::ffi::OsStr) -> Result<(), String> {
    let found = Command::new(cargo)
        .args(["auditable", "--version"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if found {
        return Ok(());
    }
    eprintln!("dist: cargo-auditable is missing; running: cargo install --locked cargo-auditable");
    let status = Command::new(cargo)
        .args(["install", "--locked", "cargo-auditable"])
        .current_dir(root)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run cargo install: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo install --locked cargo-auditable failed ({status}); install it, then rerun"
        ));
    }
    Ok(())
}

/// rustup ships the musl C runtime and libc with these targets, and
/// `.cargo/config.toml` links aarch64 with rustc's own rust-lld: adding the
/// target is all a plain x86_64 machine needs.
pub fn ensure_target(root: &Path, triple: &str) -> Result<(), String> {
    if target_installed(root, triple)? {
        return Ok(());
    }
    eprintln!("dist: the {triple} target is missing; running: rustup target add {triple}");
    let added = Command::new("rustup")
        .args(["target", "add", triple])
        .current_dir(root)
        .stdin(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !added {
        return Err(format!(
            "cannot add the {triple} target; install it with:  rustup target add {triple}"
        ));
    }
    Ok(())
}
