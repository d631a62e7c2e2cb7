//! Turns flags and environment into one validated `Config`.
//!
//! All defaults and precedence rules live here: explicit flag, then its
//! `LINKERD_AWAIT_*` variable (clap), then what the environment implies
//! (`LINKERD2_PROXY_ADMIN_LISTEN_ADDR`), then the mesh preset.

use std::{ffi::OsString, time::Duration};

use backon::BackoffBuilder;
use clap::{
    CommandFactory, FromArgMatches,
    error::{ContextKind, ContextValue, ErrorKind},
    parser::ValueSource,
};
use reqwest::Url;

use crate::{
    cli::{Args, LogFormat, Mesh},
    error::Error,
};

/// Set by Linkerd's injector in the proxy container; the gate may run there as a postStart hook.
const PROXY_ADMIN_ADDR_VAR: &str = "LINKERD2_PROXY_ADMIN_LISTEN_ADDR";
/// Either one, set to a non-empty value, skips waiting (as in the original).
const DISABLE_VARS: [&str; 2] = ["LINKERD_AWAIT_DISABLED", "LINKERD_DISABLED"];

#[derive(Debug)]
pub struct Config {
    pub ready_url: Url,
    pub backoff: Backoff,
    pub attempt_timeout: Duration,
    /// `None` waits forever.
    pub timeout: Option<Duration>,
    pub on_timeout: OnTimeout,
    /// Why waiting is skipped, if it is.
    pub disabled: Option<String>,
    pub handoff: Handoff,
    pub log: LogSettings,
}

/// What happens once waiting is over.
#[derive(Debug)]
pub enum Handoff {
    /// No command: report readiness through the exit code.
    Exit,
    /// Replace the gate with the command (argv\[0\] is the program).
    Exec(Vec<OsString>),
    /// Run the command as a child, then shut the proxy down.
    Supervise(Vec<OsString>, Shutdown),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnTimeout {
    Fail,
    Proceed,
}

#[derive(Debug, Clone)]
pub struct Shutdown {
    pub urls: Vec<Url>,
    pub timeout: Duration,
    pub on_failure: bool,
}

/// Exponential backoff between failed checks: `initial`, times `factor`, capped at `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub factor: f32,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// A filter in tracing's EnvFilter syntax.
    pub filter: String,
    pub format: LogFormat,
}

/// A zero delay would turn the wait into a busy loop; old manifests with `-b 0` get this instead.
const MIN_DELAY: Duration = Duration::from_millis(1);

impl Backoff {
    /// The delays to sleep after each failed check, forever.
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max.max(MIN_DELAY);
        backon::ExponentialBuilder::default()
            .with_min_delay(self.initial.clamp(MIN_DELAY, max))
            .with_max_delay(max)
            .with_factor(self.factor)
            .without_max_times()
            .build()
    }
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
    }
}

/// The outcome of reading the command line: a config, or a clap message
/// (which may be `--help`, so it carries its own exit code).
pub enum Loaded {
    Config(Box<Config>),
    Clap(clap::Error),
}

pub fn load(argv: Vec<OsString>) -> Result<Loaded, Error> {
    let mut command = Args::command();
    let parsed = command
        .try_get_matches_from_mut(argv.clone())
        .and_then(|matches| {
            // --port and --uri conflict only when both were typed: an image's
            // `-u` must not break because a manifest sets LINKERD_AWAIT_PORT.
            let typed = |id| matches.value_source(id) == Some(ValueSource::CommandLine);
            if typed("port") && typed("uri") {
                return Err(command.error(
                    ErrorKind::ArgumentConflict,
                    "the argument '--uri <URL>' cannot be used with '--port <PORT>'",
                ));
            }
            let args = Args::from_arg_matches(&matches)?;
            // Checked here rather than with clap's `requires`, which would also
            // fire for LINKERD_AWAIT_SHUTDOWN=false.
            if args.shutdown && args.command.is_empty() {
                return Err(command.error(
                    ErrorKind::MissingRequiredArgument,
                    "--shutdown needs a command to supervise: linkerd-await --shutdown -- CMD [ARGS]...",
                ));
            }
            Ok(args)
        });
    let args = match parsed {
        Ok(args) => args,
        Err(e) => return Ok(Loaded::Clap(with_env_source(e, &command, &argv))),
    };
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    from_args(args, env).map(|c| Loaded::Config(Box::new(c)))
}

/// A bad value that came from a `LINKERD_AWAIT_*` variable is reported by
/// clap under the flag's name; say which variable to fix as well.
fn with_env_source(
    mut err: clap::Error,
    command: &clap::Command,
    argv: &[OsString],
) -> clap::Error {
    let Some(ContextValue::String(shown)) = err.get(ContextKind::InvalidArg).cloned() else {
        return err;
    };
    let Some(arg) = command.get_arguments().find(|a| a.to_string() == shown) else {
        return err;
    };
    let Some(var) = arg.get_env() else { return err };
    let typed = argv.iter().skip(1).any(|a| {
        let a = a.to_string_lossy();
        arg.get_long()
            .is_some_and(|l| a.starts_with(&format!("--{l}")))
            || arg
                .get_short()
                .is_some_and(|s| a.starts_with(&format!("-{s}")))
    });
    if !typed && std::env::var_os(var).is_some() {
        err.insert(
            ContextKind::Suggested,
            ContextValue::StyledStrs(vec![
                format!(
                    "the value comes from the environment variable {}",
                    var.to_string_lossy()
                )
                .into(),
            ]),
        );
    }
    err
}

/// Builds the config; `env` reads the variables that are not clap options (tests pass a map).
fn from_args(args: Args, env: impl Fn(&str) -> Option<OsString>) -> Result<Config, Error> {
    let preset = preset(args.mesh);
    let ready_url = match args.uri {
        Some(url) => url,
        None => {
            let port = match args.port {
                Some(port) => port,
                None if args.mesh == Mesh::Linkerd => match env(PROXY_ADMIN_ADDR_VAR) {
                    Some(addr) => port_of_listen_addr(&addr)?,
                    None => preset.port,
                },
                None => preset.port,
            };
            local_url(port, preset.ready_path)
        }
    };

    let handoff = match (args.command.is_empty(), args.shutdown) {
        (true, _) => Handoff::Exit,
        (false, false) => Handoff::Exec(args.command),
        (false, true) => {
            let urls = if args.shutdown_uri.is_empty() {
                vec![match preset.shutdown {
                    ShutdownEndpoint::SamePort(path) => with_path(&ready_url, path),
                    ShutdownEndpoint::Fixed(port, path) => local_url(port, path),
                }]
            } else {
                args.shutdown_uri
            };
            Handoff::Supervise(
                args.command,
                Shutdown {
                    urls,
                    timeout: args.shutdown_timeout,
                    on_failure: args.shutdown_on_failure,
                },
            )
        }
    };

    let disabled = DISABLE_VARS
        .iter()
        .find_map(|var| env(var).map(|v| format!("{var}={}", v.to_string_lossy())));

    let filter = match (args.log_filter, args.verbose, args.quiet) {
        (Some(filter), _, _) => filter,
        (None, true, _) => "linkerd_await=debug,info".to_string(),
        (None, _, true) => "error".to_string(),
        (None, false, false) => "info".to_string(),
    };

    Ok(Config {
        ready_url,
        backoff: Backoff {
            initial: args.backoff_initial,
            max: args.backoff,
            factor: args.backoff_factor,
        },
        attempt_timeout: args.attempt_timeout.max(MIN_DELAY),
        timeout: args.timeout.filter(|t| !t.is_zero()),
        on_timeout: if args.timeout_fatal {
            OnTimeout::Fail
        } else {
            OnTimeout::Proceed
        },
        disabled,
        handoff,
        log: LogSettings {
            filter,
            format: args.log_format,
        },
    })
}

/// `http://localhost:<port><path>`.
fn local_url(port: u16, path: &str) -> Url {
    // A constant that always parses; only the port and path vary, through setters that cannot fail for http.
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
    use clap::Parser;
    use std::collections::HashMap;

    fn config(argv: &[&str], vars: &[(&str, &str)]) -> Result<Config, Error> {
        let args =
            Args::try_parse_from(std::iter::once("linkerd-await").chain(argv.iter().copied()))
                .expect("test argv parses");
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        from_args(args, |name| {
            vars.get(name).cloned().filter(|v| !v.is_empty())
        })
    }

    fn shutdown_urls(c: &Config) -> Vec<String> {
        match &c.handoff {
            Handoff::Supervise(_, s) => s.urls.iter().map(Url::to_string).collect(),
            other => panic!("not supervising: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_linkerds() {
        let c = config(&[], &[]).unwrap();
        assert_eq!(c.ready_url.as_str(), "http://localhost:4191/ready");
        assert_eq!(c.timeout, None);
        assert_eq!(c.on_timeout, OnTimeout::Fail);
        assert!(matches!(c.handoff, Handoff::Exit));
        assert_eq!(c.backoff.max, Duration::from_millis(50));
        assert_eq!(c.backoff.initial, Duration::from_millis(5));
    }

    #[test]
    fn port_from_flag_then_proxy_admin_addr() {
        let c = config(&["-p", "5000"], &[(PROXY_ADMIN_ADDR_VAR, "0.0.0.0:6000")]).unwrap();
        assert_eq!(c.ready_url.as_str(), "http://localhost:5000/ready");
        let c = config(&[], &[(PROXY_ADMIN_ADDR_VAR, "[::]:6000")]).unwrap();
        assert_eq!(c.ready_url.as_str(), "http://localhost:6000/ready");
        let err = config(&[], &[(PROXY_ADMIN_ADDR_VAR, "nope")]).unwrap_err();
        assert!(err.to_string().contains(PROXY_ADMIN_ADDR_VAR), "{err}");
    }

    #[test]
    fn mesh_presets() {
        let c = config(&["--mesh", "istio", "-S", "/job"], &[]).unwrap();
        assert_eq!(c.ready_url.as_str(), "http://localhost:15021/healthz/ready");
        assert_eq!(shutdown_urls(&c), ["http://localhost:15020/quitquitquit"]);
        let c = config(&["--mesh", "envoy", "-S", "/job"], &[]).unwrap();
        assert_eq!(c.ready_url.as_str(), "http://localhost:9901/ready");
        assert_eq!(shutdown_urls(&c), ["http://localhost:9901/quitquitquit"]);
        let c = config(&["-S", "/job"], &[]).unwrap();
        assert_eq!(shutdown_urls(&c), ["http://localhost:4191/shutdown"]);
    }

    #[test]
    fn explicit_parts_override_the_preset() {
        let c = config(&["--mesh", "istio", "-p", "1234", "-S", "/job"], &[]).unwrap();
        assert_eq!(c.ready_url.as_str(), "http://localhost:1234/healthz/ready");
        assert_eq!(shutdown_urls(&c), ["http://localhost:15020/quitquitquit"]);
        let c = config(
            &[
                "-u",
                "http://127.0.0.1:7/r?x",
                "--shutdown-uri",
                "http://[::1]:8/q",
                "--shutdown-uri",
                "http://localhost:9/z",
                "-S",
                "/job",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(c.ready_url.as_str(), "http://127.0.0.1:7/r?x");
        assert_eq!(
            shutdown_urls(&c),
            ["http://[::1]:8/q", "http://localhost:9/z"]
        );
        let c = config(&["-u", "http://127.0.0.1:7/r?x", "-S", "/job"], &[]).unwrap();
        assert_eq!(shutdown_urls(&c), ["http://127.0.0.1:7/shutdown"]);
    }

    #[test]
    fn disabled_by_either_variable_when_non_empty() {
        assert!(
            config(&[], &[("LINKERD_AWAIT_DISABLED", "")])
                .unwrap()
                .disabled
                .is_none()
        );
        assert!(
            config(&[], &[("LINKERD_DISABLED", "1")])
                .unwrap()
                .disabled
                .is_some()
        );
        assert!(
            config(&[], &[("LINKERD_AWAIT_DISABLED", "x")])
                .unwrap()
                .disabled
                .is_some()
        );
    }

    #[test]
    fn zero_timeout_waits_forever() {
        assert_eq!(config(&["-t", "0"], &[]).unwrap().timeout, None);
        assert_eq!(
            config(&["-t", "2s"], &[]).unwrap().timeout,
            Some(Duration::from_secs(2))
        );
    }

    #[test]
    fn backoff_grows_to_the_cap() {
        let c = config(&[], &[]).unwrap();
        // backon multiplies in f32, so allow a millisecond of rounding.
        let delays: Vec<u128> = c.backoff.delays().take(6).map(|d| d.as_millis()).collect();
        for (got, want) in delays.iter().zip([5, 10, 20, 40, 50, 50]) {
            assert!(got.abs_diff(want) <= 1, "{delays:?}");
        }
        let c = config(&["-b", "0"], &[]).unwrap();
        assert!(c.backoff.delays().take(3).all(|d| d == MIN_DELAY));
        let c = config(
            &[
                "-b",
                "1s",
                "--backoff-factor",
                "1",
                "--backoff-initial",
                "1s",
            ],
            &[],
        )
        .unwrap();
        assert!(
            c.backoff
                .delays()
                .take(3)
                .all(|d| d == Duration::from_secs(1))
        );
    }

    #[test]
    fn command_after_cmd_belongs_to_the_app() {
        let c = config(&["/app", "--timeout", "5s", "-v"], &[]).unwrap();
        assert_eq!(c.timeout, None);
        match c.handoff {
            Handoff::Exec(argv) => assert_eq!(argv, ["/app", "--timeout", "5s", "-v"]),
            other => panic!("{other:?}"),
        }
    }
}
