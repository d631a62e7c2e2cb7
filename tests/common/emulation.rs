//! Which build of the gate the tests run. By default the one cargo built for
//! this test run; `LINKERD_AWAIT_TEST_GATE=<path>` points them at another
//! build, e.g. the static arm64 gate, which CI runs under qemu-user (binfmt).
//! The tests that emulation cannot hold are listed, with their reasons, in
//! `tests/emulation.txt`; `.ci/run` skips exactly those there, and prints them.

use std::sync::OnceLock;

/// Set to the path of a gate binary to test it instead of the one cargo built.
pub const TEST_GATE_VAR: &str = "LINKERD_AWAIT_TEST_GATE";

/// Path of the binary under test.
pub fn gate_bin() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::var(TEST_GATE_VAR)
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_linkerd-await").to_string())
    })
}

/// True when the tests run a gate that `LINKERD_AWAIT_TEST_GATE` names: a
/// static release build (musl), maybe for another architecture.
pub fn testing_a_release_build() -> bool {
    std::env::var_os(TEST_GATE_VAR).is_some_and(|p| !p.is_empty())
}

/// The first real-time signal of the gate under test: the C library keeps the
/// numbers below it for itself, and the gate never forwards those. glibc's
/// (the test build's) is 34; musl's (every static release build, the only
/// kind `LINKERD_AWAIT_TEST_GATE` is meant for) is 35.
pub fn gate_sigrtmin() -> i32 {
    if testing_a_release_build() {
        35
    } else {
        libc::SIGRTMIN()
    }
}
