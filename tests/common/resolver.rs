//! A resolver of the test's own for one gate: a resolv.conf naming a DNS
//! server the test runs on a loopback address, bind-mounted over
//! `/etc/resolv.conf` in a mount namespace of the gate's own, so neither
//! the machine's resolver nor any other address is ever asked. Needs root
//! (`unshare --mount`): `private_resolver_available` says, or skips.

use std::{net::Ipv4Addr, process::Command};

use super::{clean_slate, temp_dir, unshare_available};

pub struct ResolvConf {
    dir: tempfile::TempDir,
}

impl ResolvConf {
    /// A resolv.conf whose one name server is `server`.
    pub fn naming(server: Ipv4Addr) -> ResolvConf {
        let dir = temp_dir();
        std::fs::write(
            dir.path().join("resolv.conf"),
            format!("nameserver {server}\n"),
        )
        .expect("write resolv.conf");
        ResolvConf { dir }
    }

    /// `cmd` (its program, arguments and environment) run where this is
    /// `/etc/resolv.conf`. `unshare` and `sh` exec, so the process spawned
    /// is `cmd`'s program itself (same PID).
    pub fn around(&self, cmd: &Command) -> Command {
        let mut wrapped = Command::new("unshare");
        wrapped
            .args(["--mount", "sh", "-c"])
            .arg(r#"mount --bind "$0" /etc/resolv.conf && exec "$@""#)
            .arg(self.dir.path().join("resolv.conf"))
            .arg(cmd.get_program())
            .args(cmd.get_args());
        clean_slate(&mut wrapped);
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        wrapped
    }
}

/// Root, and a private mount namespace can be made; else a visible skip
/// (a failure when the run requires these tests).
pub fn private_resolver_available(test: &str) -> bool {
    unshare_available(
        test,
        &["--mount"],
        "needs root and unshare --mount for a private resolv.conf",
    )
}
