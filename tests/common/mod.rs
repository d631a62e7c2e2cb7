//! Shared test support, one owner per concern:
//!
//! - here: the scripted fake proxy admin server on loopback (`FakeProxy`),
//!   and loopback ports that refuse connections (`closed_port`, `RefusedPort`);
//! - `process`: the gate as a bounded process (`gate`, `Running`, `Gate`,
//!   `LineReader`, `output`, `poll`);
//! - `proxies`: the proxy scripts most tests need (never ready, ready on cue,
//!   answering shutdown requests a given way);
//! - `procfs`: what `/proc` says about a process (state, parent, children,
//!   namespace PID, signal masks);
//! - `pidns`: running the gate as PID 1 of a new PID namespace;
//! - `parents`: parents with an unusual signal state (ignored, blocked);
//! - `scratch`: temporary directories the app and the test share;
//! - `tools`: outside tools some tests need, or a visible skip;
//! - `usage`: the options table and usage-error checks for command-line tests;
//! - `pty`: an interactive bash on a pseudo-terminal;
//! - `real_servers`: real PostgreSQL, Redis and MariaDB on loopback, or a
//!   visible skip; `fake_servers`: scripted TCP servers for the answers
//!   real ones cannot give on demand (`--wait-for`);
//! - `resolver`: a resolv.conf of the test's own for one gate, in a
//!   private mount namespace;
//! - `fuse`: a mount whose every lookup hangs (a stuck filesystem);
//! - `targets`: the gate waiting for `--wait-for` targets without a proxy,
//!   the scripted answers that mean ready, and several gates at once.
//!
//! Each integration test file uses only part of this module (hence the
//! allowances: what one file leaves unused, another uses).
#![allow(dead_code, unused_imports)]

mod certs;
mod emulation;
mod fake_servers;
mod fuse;
mod parents;
mod pidns;
mod process;
mod procfs;
mod proxies;
pub mod pty;
mod real_servers;
mod resolver;
mod scratch;
mod targets;
mod tools;
mod usage;

pub use certs::*;
pub use emulation::*;
pub use fake_servers::*;
pub use fuse::*;
pub use parents::*;
pub use pidns::*;
pub use process::*;
pub use procfs::*;
pub use proxies::*;
pub use real_servers::*;
pub use resolver::*;
pub use scratch::*;
pub use targets::*;
pub use tools::*;
pub use usage::*;

use std::{
    net::{Ipv4Addr, SocketAddr, TcpListener},
    time::Duration,
};

/// Every test process is killed after this long, whatever it is doing.
pub const PROCESS_LIMIT: Duration = Duration::from_secs(20);

/// The scripted proxy admin server: the workspace's one simulated proxy.
// Each test file uses only part of it, as of this module.
#[allow(unused_imports)]
pub use sim_proxy::{FakeProxy, Outbound, PROTOCOL_SCHEMES, Reply, Request};

/// A port on loopback that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    sim_proxy::closed_port().expect("bind loopback")
}

/// A loopback port where connections are refused (a bound socket that does
/// not listen) until `listen`. Unlike `closed_port`, no other test can take
/// the port in the meantime, so "refused" is guaranteed.
pub struct RefusedPort {
    reserved: sim_proxy::Reserved,
    pub port: u16,
}

impl RefusedPort {
    pub fn new() -> Self {
        let reserved = sim_proxy::Reserved::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .expect("bind loopback");
        let port = reserved.addr().port();
        RefusedPort { reserved, port }
    }

    /// Starts accepting on the port (e.g. for `FakeProxy::serve`).
    pub fn listen(self) -> TcpListener {
        self.reserved.listen().expect("listen")
    }
}
