//! linkerd-await's project tasks, run with `cargo xtask <task>` (the alias in
//! `.cargo/config.toml`; see <https://github.com/matklad/cargo-xtask>).
//!
//! ```text
//! cargo xtask bench [--quick] [--json PATH] [--markdown PATH] ...
//! cargo xtask bench fleet [--gates N]
//! cargo xtask dist
//! cargo xtask docs DIR
//! ```

mod bench;
mod dist;
mod elf;
mod toolchain;

use std::{
    ffi::OsString,
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", max_term_width = 100)]
struct Xtask {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Benchmark the startup gate against its budgets (issue 5): builds the
    /// static release binary, measures it against a simulated proxy on
    /// loopback, prints a table and writes bench/RESULTS.md and bench/results.json
    Bench(bench::Options),
    /// Build the release artifacts into dist/: the static binaries for
    /// linux-amd64 and linux-arm64 (with cargo auditable), shell completions,
    /// the man page and SHA256SUMS
    Dist,
    /// Write the shell completions and the man page, exactly as `dist` does,
    /// into DIR (for checking them without building the release binaries)
    Docs {
        /// The directory to write them to (created if missing)
        dir: PathBuf,
    },
}

/// The workspace root: the gate's package.
fn workspace() -> &'static Path {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask)
}

/// A task's error on stderr, prefixed with the task's name.
fn report(task: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{task}: {message}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // The benchmark runs this very binary as its stand-in app. Those modes come
    // before any parsing: how soon the app reads the clock is what is measured.
    if let Some(code) = bench::stand_in_app(&args[1.min(args.len())..]) {
        return code;
    }
    match Xtask::parse_from(args).task {
        Task::Bench(options) => report("bench", bench::run(options)),
        Task::Dist => report("dist", dist::run()),
        Task::Docs { dir } => report("docs", dist::write_docs(&dir)),
    }
}
