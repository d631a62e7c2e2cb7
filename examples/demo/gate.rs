//! The gate the demo runs: the one `LINKERD_AWAIT_DEMO_GATE` names, or this
//! workspace's, built by cargo with the demo's own profile.

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// The gate binary: `LINKERD_AWAIT_DEMO_GATE`, or built by cargo with this demo's profile.
pub fn gate_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("LINKERD_AWAIT_DEMO_GATE") {
        return Ok(PathBuf::from(path));
    }
    // `cargo run` sets CARGO to the cargo that runs us; the same toolchain builds the gate.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut command = Command::new(&cargo);
    command
        .args([
            "build",
            "--locked",
            "--bin",
            "linkerd-await",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(&manifest)
        .stdin(Stdio::null())
        // Cargo's progress and any compiler message go straight to the user.
        .stderr(Stdio::inherit());
    // Same profile as this demo: a release demo gets a release gate.
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    eprintln!("demo: building the gate (cargo build --locked --bin linkerd-await)");
    let output = command.output().map_err(|e| {
        format!(
            "cannot run {} to build the gate: {e}",
            cargo.to_string_lossy()
        )
    })?;
    if !output.status.success() {
        return Err(format!(
            "building the gate failed ({}); see cargo's messages above",
            output.status
        ));
    }
    // The artifact message names the executable wherever the target directory is.
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter(|line| {
            line.contains(r#""name":"linkerd-await""#) && line.contains(r#""kind":["bin"]"#)
        })
        .find_map(|line| json_string_after(line, r#""executable":"#))
        .map(PathBuf::from)
        .ok_or_else(|| "cargo built the gate but did not say where the executable is".to_string())
}

/// The JSON string value that follows `key` in `line` (cargo's one-line messages).
pub fn json_string_after(line: &str, key: &str) -> Option<String> {
    let rest = &line[line.find(key)? + key.len()..];
    let mut chars = rest.strip_prefix('"')?.chars();
    let mut value = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                't' => value.push('\t'),
                // A path has no other escapes than \\ and \" in practice.
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}
