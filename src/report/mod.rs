//! What the gate tells: typed errors, the exit-code table, log lines, the
//! termination message, and URLs without their credentials. The bottom
//! layer: every phase uses it, and it uses no phase.

pub mod error;
pub mod exit_code;
pub mod logging;
pub mod redact;
pub mod termination_log;
