//! The release artifacts, in `dist/` at the workspace root.
//!
//! ```text
//! cargo xtask dist
//!
//! dist/linkerd-await-<version>-linux-amd64   static, stripped, with their dependency
//! dist/linkerd-await-<version>-linux-arm64   list in `.dep-v0` (cargo auditable)
//! dist/linkerd-await.bash                    completions for bash,
//! dist/_linkerd-await                        zsh
//! dist/linkerd-await.fish                    and fish
//! dist/linkerd-await.1                       the man page
//! dist/SHA256SUMS                            `cd dist && sha256sum -c SHA256SUMS`
//! ```
//!
//! The completions and the man page are generated from the clap definition
//! the gate parses its command line with (`linkerd_await::command()`), so they
//! never drift from it, and the gate carries no code for them.

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use clap_complete::{Generator, Shell};
use object::elf::{EM_AARCH64, EM_X86_64};
use sha2::{Digest, Sha256};

use crate::{elf, toolchain};

/// The name of the gate's package and executable.
const GATE: &str = "linkerd-await";

/// A release target: its Rust triple, the architecture name in the file name
/// (Docker's and Go's: what `TARGETARCH` says in a multi-arch build), and the
/// ELF machine its binary must be for.
struct Target {
    triple: &'static str,
    arch: &'static str,
    machine: u16,
}

const TARGETS: [Target; 2] = [
    Target {
        triple: "x86_64-unknown-linux-musl",
        arch: "amd64",
        machine: EM_X86_64,
    },
    Target {
        triple: "aarch64-unknown-linux-musl",
        arch: "arm64",
        machine: EM_AARCH64,
    },
];

/// Builds everything first and replaces `dist/` only when all of it worked,
/// so a failed run leaves the previous artifacts as they were.
pub fn run() -> Result<(), String> {
    let began = Instant::now();
    let root = crate::workspace();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let version = gate_version(root, &cargo)?;
    toolchain::ensure_cargo_auditable(root, &cargo)?;

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for target in &TARGETS {
        toolchain::ensure_target(root, target.triple)?;
        let built = build(root, &cargo, target.triple)?;
        let bytes = check(&built, target)?;
        files.push((format!("{GATE}-{version}-linux-{}", target.arch), bytes));
    }
    files.extend(docs(&version)?);
    let sums = sha256sums(&files);
    files.push(("SHA256SUMS".to_string(), sums.into_bytes()));

    let dist = root.join("dist");
    if dist.exists() {
        fs::remove_dir_all(&dist).map_err(|e| format!("cannot empty {}: {e}", dist.display()))?;
    }
    fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    for (name, bytes) in &files {
        let path = dist.join(name);
        fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        if name.starts_with(&format!("{GATE}-{version}-")) {
            make_executable(&path)?;
        }
    }
    eprintln!(
        "dist: wrote {}/ in {:.0?}:",
        dist.display(),
        began.elapsed()
    );
    for (name, bytes) in &files {
        eprintln!("  {:>9} B  {name}", bytes.len());
    }
    Ok(())
}

/// `cargo xtask docs DIR`: the completions and the man page `run` ships,
/// written to `dir`, so a test can check them without a release build.
pub fn write_docs(dir: &Path) -> Result<(), String> {
    let root = crate::workspace();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let version = gate_version(root, &cargo)?;
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, bytes) in docs(&version)? {
        let path = dir.join(&name);
        fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// The gate's version as cargo reads it from its manifest.
fn gate_version(root: &Path, cargo: &std::ffi::OsStr) -> Result<String, String> {
    let out = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version", "1", "--locked"])
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed ({})", out.status));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("cargo metadata printed no JSON: {e}"))?;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|package| package["name"] == GATE)
        .and_then(|package| package["version"].as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("cargo metadata lists no {GATE} package"))
}

/// The release build users get (the workspace's release profile: size
/// optimized, LTO, stripped), through `cargo auditable`.
fn build(root: &Path, cargo: &std::ffi::OsStr, triple: &str) -> Result<PathBuf, String> {
    eprintln!("dist: cargo auditable build --release --locked --target {triple}");
    let out = Command::new(cargo)
        .args([
            "auditable",
            "build",
            "--release",
            "--locked",
            "--target",
            triple,
        ])
        .args(["--package", GATE, "--bin", GATE])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo auditable: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the {triple} release build failed ({})",
            out.status
        ));
    }
    // cargo names the artifact in its JSON messages, wherever the target dir is.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .filter(|path| path.exists())
        .ok_or_else(|| format!("cargo did not report the {triple} executable"))
}

/// What users rely on, read from the ELF file rather than trusted: the right
/// architecture, static (runs `FROM scratch`), stripped, the dependency list
/// embedded, within the size budget. Returns the file's bytes.
fn check(path: &Path, target: &Target) -> Result<Vec<u8>, String> {
    let facts = elf::inspect(path)?;
    let bytes = fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let size = bytes.len() as u64;
    let problems: Vec<String> = [
        (facts.machine != target.machine).then(|| {
            format!(
                "ELF machine {} is not {}'s {}",
                facts.machine, target.triple, target.machine
            )
        }),
        (!facts.static_linked).then(|| "it is dynamically linked".to_string()),
        (!facts.stripped).then(|| "it is not stripped".to_string()),
        (!facts.dep_list).then(|| {
            "it has no .dep-v0 section (the dependency list cargo auditable embeds)".to_string()
        }),
        (size > crate::elf::SIZE_BUDGET).then(|| {
            format!(
                "{size} bytes is over the {} bytes budget",
                crate::elf::SIZE_BUDGET
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !problems.is_empty() {
        return Err(format!("{}: {}", path.display(), problems.join("; ")));
    }
    eprintln!(
        "dist: {}: {size} bytes ({:.2} MiB), static, stripped, .dep-v0 present",
        target.triple,
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(bytes)
}

/// Shell completions and the man page, from the gate's own clap definition.
/// Their version is the release's; the commit and target are the binaries'.
fn docs(version: &str) -> Result<Vec<(String, Vec<u8>)>, String> {
    // clap takes a `&'static str` (its `string` feature, which would change
    // the gate's clap, is off); this process ends right after.
    let version: &'static str = version.to_string().leak();
    let command = || linkerd_await::command().version(version).bin_name(GATE);
    let mut files = Vec::new();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command(), GATE, &mut script);
        files.push((shell.file_name(GATE), script));
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(command())
        .render(&mut page)
        .map_err(|e| format!("cannot render the man page: {e}"))?;
    files.push((format!("{GATE}.1"), page));
    Ok(files)
}

/// The format `sha256sum -c` reads: the hex digest, two spaces (text mode,
/// the same bytes on Linux), the file name.
fn sha256sums(files: &[(String, Vec<u8>)]) -> String {
    let mut sorted: Vec<&(String, Vec<u8>)> = files.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut sums = String::new();
    for (name, bytes) in sorted {
        let digest = Sha256::digest(bytes);
        for byte in digest {
            let _ = write!(sums, "{byte:02x}");
        }
        sums.push_str("  ");
        sums.push_str(name);
        sums.push('\n');
    }
    sums
}

fn make_executable(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot make {} executable: {e}", path.display()))
}
