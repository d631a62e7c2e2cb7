//! Tools from outside the project that some tests need (`strace`, `zsh`,
//! `fish`): present, or a visible skip; under CI (`CI=true`, whose `.ci/run`
//! installs them) a missing one is a failure, never a silent pass.

use std::process::{Command, Stdio};

/// True when `program args...` runs and succeeds here; else prints why
/// `test` is skipped (and fails it under CI).
pub fn tool_available(test: &str, program: &str, args: &[&str]) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v != "true"),
            "{test}: {program} is missing or does not work here, and CI=true (.ci/run installs it)"
        );
        eprintln!("SKIPPED {test}: {program} is missing or does not work here");
    }
    ok
}
