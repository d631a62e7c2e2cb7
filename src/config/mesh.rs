//! The meshes the gate knows, and where each one serves readiness and
//! shutdown. Everything mesh-specific is here: the presets, their URLs, and
//! the variable Linkerd's injector sets in its proxy container.

use std::ffi::OsString;

use clap::ValueEnum;
use reqwest::Url;

use crate::report::error::Error;

/// Set by Linkerd's injector in the proxy container; the gate may run there as a postStart hook.
pub const PROXY_ADMIN_ADDR_VAR: &str = "LINKERD2_PROXY_ADMIN_LISTEN_ADDR";

/// `--mesh`; the doc comments are the `--help` text of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mesh {
    /// http://localhost:4191/ready; POST /shutdown on the same port
    Linkerd,
    /// http://localhost:15021/healthz/ready; POST http://localhost:15020/quitquitquit
    Istio,
    /// http://localhost:9901/ready; POST /quitquitquit on the same port
    Envoy,
    /// No proxy: wait only for --wait-for targets (Docker Compose, pods without a mesh)
    None,
}

/// Where a mesh's readiness and shutdown endpoints are.
struct Preset {
    port: u16,
    ready_path: &'static str,
    shutdown: ShutdownEndpoint,
}

enum ShutdownEndpoint {
    /// A path on the readiness URL's host and port.
    SamePort(&'static str),
    /// A fixed local port and path (Istio's pilot-agent quits on another port than it reports readiness).
    Fixed(u16, &'static str),
}

fn preset(mesh: Mesh) -> Preset {
    match mesh {
        Mesh::Linkerd => Preset {
            port: 4191,
            ready_path: "/ready",
            shutdown: ShutdownEndpoint::SamePort("/shutdown"),
        },
        Mesh::Istio => Preset {
            port: 15021,
            ready_path: "/healthz/ready",
            shutdown: ShutdownEndpoint::Fixed(15020, "/quitquitquit"),
        },
        Mesh::Envoy => Preset {
            port: 9901,
            ready_path: "/ready",
            shutdown: ShutdownEndpoint::SamePort("/quitquitquit"),
        },
        // Never used: `config` skips the proxy wait for `none` and
        // refuses a shutdown that has no --shutdown-uri to go to.
        Mesh::None => preset(Mesh::Linkerd),
    }
}

/// The readiness URL on `localhost` when no `--uri` is given. The port: the
/// one typed or set (`--port`), else, for Linkerd only, the port of
/// `admin_addr` (LINKERD2_PROXY_ADMIN_LISTEN_ADDR, read only when needed),
/// else the preset's.
pub fn ready_url(
    mesh: Mesh,
    port: Option<u16>,
    admin_addr: impl FnOnce() -> Option<OsString>,
) -> Result<Url, Error> {
    let preset = preset(mesh);
    let port = match port {
        Some(port) => port,
        None if mesh == Mesh::Linkerd => match admin_addr() {
            Some(addr) => port_of_listen_addr(&addr)?,
            None => preset.port,
        },
        None => preset.port,
    };
    Ok(local_url(port, preset.ready_path))
}

/// The mesh's shutdown URL, when no `--shutdown-uri` is given: "same port"
/// endpoints follow the readiness URL (`--port`, `--uri`).
pub fn shutdown_url(mesh: Mesh, ready_url: &Url) -> Url {
    match preset(mesh).shutdown {
        ShutdownEndpoint::SamePort(path) => with_path(ready_url, path),
        ShutdownEndpoint::Fixed(port, path) => local_url(port, path),
    }
}

/// `http://localhost:<port><path>`.
fn local_url(port: u16, path: &str) -> Url {
    // A constant that always parses; only the port and path vary, through
    // setters that cannot fail for http.
    let mut url = Url::parse("http://localhost/").expect("constant URL parses");
    let _ = url.set_port(Some(port));
    url.set_path(path);
    url
}

fn with_path(url: &Url, path: &str) -> Url {
    let mut url = url.clone();
    url.set_path(path);
    url.set_query(None);
    url
}

/// `0.0.0.0:4191`, `[::]:4191` or `localhost:4191` → 4191.
fn port_of_listen_addr(value: &OsString) -> Result<u16, Error> {
    let text = value.to_string_lossy();
    text.trim()
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse::<u16>().ok())
        .filter(|port| *port != 0)
        .ok_or_else(|| Error::Env {
            var: PROXY_ADMIN_ADDR_VAR,
            value: text.to_string(),
            reason: "expected <address>:<port>, e.g. 0.0.0.0:4191; or pass --port".to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mesh_has_its_endpoints_on_localhost() {
        for (mesh, ready, shutdown) in [
            (
                Mesh::Linkerd,
                "http://localhost:4191/ready",
                "http://localhost:4191/shutdown",
            ),
            (
                Mesh::Istio,
                "http://localhost:15021/healthz/ready",
                "http://localhost:15020/quitquitquit",
            ),
            (
                Mesh::Envoy,
                "http://localhost:9901/ready",
                "http://localhost:9901/quitquitquit",
            ),
        ] {
            let url = ready_url(mesh, None, || None).unwrap();
            assert_eq!(url.as_str(), ready, "{mesh:?}");
            assert_eq!(shutdown_url(mesh, &url).as_str(), shutdown, "{mesh:?}");
        }
    }

    #[test]
    fn only_linkerd_reads_the_admin_address() {
        let addr = || Some(OsString::from("0.0.0.0:6000"));
        let linkerd = ready_url(Mesh::Linkerd, None, addr).unwrap();
        assert_eq!(linkerd.as_str(), "http://localhost:6000/ready");
        let istio = ready_url(Mesh::Istio, None, addr).unwrap();
        assert_eq!(istio.as_str(), "http://localhost:15021/healthz/ready");
    }
}
