//! The gate's executable: only the C `main` symbol. Everything else is in the
//! library (`lib.rs`), whose `entry::main` is the whole life of the process.

// Rust's runtime would set SIGPIPE to "ignore" before `main` and lose what
// the parent gave us; with our own C `main` the signal state is captured
// untouched (see `signals::Inherited`).
#![cfg_attr(not(test), no_main)]

/// SAFETY (of `no_mangle`): this is the only `main` symbol in the binary
/// (`#![no_main]` removes Rust's), with the C signature libc calls. The
/// test harness brings its own `main`.
#[cfg(not(test))]
#[unsafe(no_mangle)]
extern "C" fn main(argc: std::ffi::c_int, argv: *const *const std::ffi::c_char) -> std::ffi::c_int {
    // SAFETY: `argc` and `argv` are what the C runtime passed, and nothing
    // ran before this call.
    unsafe { linkerd_await::entry::main(argc, argv) }
}
