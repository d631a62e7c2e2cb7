//! `--wait-for` values: each becomes a typed [`Target`] while the config
//! is read, so a bad one is a usage error before anything waits. How
//! each kind is checked lives in `wait/checks`.
//!
//! The folder, one file per form, each using only those below it:
//!
//! ```text
//! mod.rs      the entry: env:NAME, else a URL
//! list.rs     LINKERD_AWAIT_WAIT_FOR's list: where each value starts
//! shown.rs    a refused value as an error shows it
//! env.rs      env:NAME, the URL in the app's own variable
//! url.rs      one URL: jdbc:, libpq's multi-host form, else the scheme table
//! jdbc.rs     jdbc: URLs, as the URL they name
//! schemes.rs  the one table: scheme → default port, family
//! libpq.rs    the postgres:// family (libpq's parameters and host lists)
//! http.rs     the http:// family; expect.rs, the expectations in its
//!             fragment; json_value.rs, the values a json= item may hold
//! network.rs  host[:port] (every network scheme), grpc://'s service
//! tls.rs      TLS as each family's URLs turn it on and verify it
//! dns.rs      dns://name[?min=N]
//! path.rs     file:// and unix://
//! target.rs   what they all make: Target, Endpoint, and how logs show them
//! ```
//!
//! Invariant: nothing here panics on any input; no reason repeats the
//! text of the value it refuses (a refused value is shown only through
//! [`shown`]: by clap's error, `typed.rs`, and the list's, `lists.rs`).

mod dns;
mod env;
pub mod expect;
mod http;
mod jdbc;
mod json_value;
mod libpq;
pub mod list;
mod network;
mod path;
mod schemes;
mod shown;
mod target;
#[cfg(test)]
mod tests;
pub mod tls;
mod url;

pub use self::{
    shown::shown,
    target::{Endpoint, Target},
};

/// clap's parser for one `--wait-for` value (and each item of
/// LINKERD_AWAIT_WAIT_FOR).
pub fn parse_target(text: &str) -> Result<Target, String> {
    let text = text.trim();
    match text.strip_prefix("env:") {
        Some(name) => env_target(name, |name| std::env::var_os(name)),
        None => url::parse(text),
    }
}

/// `env:NAME`: the variable's value, parsed as any `--wait-for` value but
/// never shown (its errors name the variable, not the value).
fn env_target(
    name: &str,
    read: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<Target, String> {
    let value = env::value(name, read)?;
    let target = url::parse(&value).map_err(|e| env::refused(name, &e))?;
    Ok(Target::Env {
        name: name.to_string(),
        target: Box::new(target.with_hidden_values()),
    })
}
