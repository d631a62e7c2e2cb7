//! The binary under test, built as users get it, and the machine it is
//! measured on.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{SystemTime, UNIX_EPOCH},
};

use crate::bench::report::Machine;

/// Builds the musl release binary with the project's own profile.
pub fn build_gate(manifest: &Path, triple: &str) -> Result<PathBuf, String> {
    if !crate::toolchain::target_installed(manifest, triple)? {
        return Err(format!(
            "the {triple} target is not installed; it is needed to build the static binary users get.\n\
             Install it with:  rustup target add {triple}"
        ));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: building the static release binary ({triple})");
    let output = Command::new(&cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            triple,
            "--package",
            "linkerd-await",
            "--bin",
            "linkerd-await",
        ])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(manifest)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    if !output.status.success() {
        return Err(format!("the release build failed ({})", output.status));
    }
    // cargo names the artifact in its JSON messages, wherever the target dir is.
    let built = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .find_map(|message| message["executable"].as_str().map(PathBuf::from));
    built
        .filter(|p| p.exists())
        .ok_or_else(|| "cargo build did not report the linkerd-await executable".to_string())
}

pub fn machine(manifest: &Path) -> Machine {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_string())
        .unwrap_or_else(|| "unknown CPU".to_string());
    let stdout = |cmd: &mut Command| {
        cmd.output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = stdout(
        Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(manifest),
    );
    let dirty = stdout(
        Command::new("git")
            .args([
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                "src",
                "Cargo.toml",
                "Cargo.lock",
            ])
            .current_dir(manifest),
    )
    .is_some_and(|s| !s.is_empty());
    Machine {
        nproc: std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
        date_utc: date_utc(),
        loadavg: read("/proc/loadavg")
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        rustc: stdout(Command::new("rustc").arg("--version").current_dir(manifest))
            .unwrap_or_else(|| "rustc unknown".to_string()),
        commit: match commit {
            Some(c) if dirty => format!("{c} (with uncommitted changes to src/ or Cargo.*)"),
            Some(c) => c,
            None => "unknown".to_string(),
        },
    }
}

/// `YYYY-MM-DD HH:MM UTC`, from the civil-from-days algorithm (H. Hinnant),
/// to avoid a date crate for one line.
fn date_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}
