//! Turns flags and environment into one validated `Config`.
//!
//! All defaults and precedence rules live here: a typed flag, then its
//! `LINKERD_AWAIT_*` variable (clap; empty or blank means unset), then what
//! the environment implies (`LINKERD2_PROXY_ADMIN_LISTEN_ADDR`), then the
//! mesh preset. Of two options that exclude each other (`--uri`/`--port`,
//! `--verbose`/`--quiet`) the typed one wins; see `exclusive`.

use std::{
    ffi::{OsStr, OsString},
    time::Duration,
};

use backon::BackoffBuilder;
use clap::{
    Arg, ArgMatches, Command, CommandFactory, FromArgMatches, Id, ValueEnum,
    error::{ContextKind, ContextValue, ErrorKind},
    parser::ValueSource,
};
use reqwest::Url;

use crate::{
    cli::{Args, LogFormat, Mesh, SHUTDOWN_URI_VAR, parse_url},
    error::Error,
    probe::redact_text,
};

/// Set by Linkerd's injector in the proxy container; the gate may run there as a postStart hook.
const PROXY_ADMIN_ADDR_VAR: &str = "LINKERD2_PROXY_ADMIN_LISTEN_ADDR";
/// Either one, set to a non-empty value, skips waiting (as in the original).
const DISABLE_VARS: [&str; 2] = ["LINKERD_AWAIT_DISABLED", "LINKERD_DISABLED"];
/// Read before the command line is parsed, to report usage errors in its format.
const LOG_FORMAT_VAR: &str = "LINKERD_AWAIT_LOG_FORMAT";

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

/// The command line's definition, as this process's environment sets it up.
///
/// A `LINKERD_AWAIT_*` variable that is empty or blank is the same as an
/// unset one (Helm templates and Kubernetes' `value: ""` produce them), so
/// clap's reading of it is turned off for that option. Turned off too for
/// LINKERD_AWAIT_SHUTDOWN_URI, which `from_args` reads as a comma-separated
/// list. The environment itself is left as it is: the app inherits it.
pub fn command() -> Command {
    let mut command = Args::command();
    let ignored: Vec<Id> = command
        .get_arguments()
        .filter(|arg| {
            arg.get_env()
                .is_some_and(|var| var == SHUTDOWN_URI_VAR || env_var(var).is_none())
        })
        .map(|arg| arg.get_id().clone())
        .collect();
    for id in ignored {
        command = command.mut_arg(id, |arg| arg.env(None));
    }
    // Settles each option's action, which `typed_options` reads.
    command.build();
    command
}

/// An environment variable, `None` when unset, empty or blank.
fn env_var(name: impl AsRef<OsStr>) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !is_blank(value))
}

/// Empty or only whitespace (a non-UTF-8 value is neither).
fn is_blank(value: &OsStr) -> bool {
    value.to_str().is_some_and(|v| v.trim().is_empty())
}

pub fn load(mut command: Command, argv: Vec<OsString>) -> Result<Loaded, Error> {
    let args = match parse(&mut command, argv.clone()) {
        Ok(args) => args,
        // --help and --version: render them from the untouched definition,
        // which still names every variable (`command()` dropped blank ones).
        Err(e) if !e.use_stderr() => {
            return Ok(Loaded::Clap(
                Args::command()
                    .try_get_matches_from(argv)
                    .err()
                    .unwrap_or(e),
            ));
        }
        Err(e) => return Ok(Loaded::Clap(with_env_source(e, &command, &argv))),
    };
    let env = |name: &str| env_var(name);
    from_args(args, env).map(|c| Loaded::Config(Box::new(c)))
}

/// The command line (and clap's variables) as `Args`, with the precedence
/// between mutually exclusive options applied.
fn parse(command: &mut Command, argv: Vec<OsString>) -> Result<Args, clap::Error> {
    let matches = command.try_get_matches_from_mut(argv)?;
    let mut args = Args::from_arg_matches(&matches)?;
    if let Err((first, second)) = apply_precedence(&matches, &mut args) {
        let shown = |id: &str| {
            command
                .get_arguments()
                .find(|arg| arg.get_id() == id)
                .map_or_else(|| id.to_string(), ToString::to_string)
        };
        let message = format!(
            "the argument '{}' cannot be used with '{}'",
            shown(first),
            shown(second)
        );
        return Err(command.error(ErrorKind::ArgumentConflict, message));
    }
    // Checked here rather than with clap's `requires`, which would also
    // fire for LINKERD_AWAIT_SHUTDOWN=false.
    if args.shutdown && args.command.is_empty() {
        return Err(command.error(
            ErrorKind::MissingRequiredArgument,
            "--shutdown needs a command to supervise: linkerd-await --shutdown -- CMD [ARGS]...",
        ));
    }
    Ok(args)
}

/// Where the value of an option that is set came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Typed,
    Env,
}

impl Origin {
    fn of(source: ValueSource) -> Option<Origin> {
        match source {
            ValueSource::CommandLine => Some(Origin::Typed),
            ValueSource::EnvVariable => Some(Origin::Env),
            // A default never asks for anything (`--verbose` is false, `--port` unset).
            _ => None,
        }
    }
}

/// Which of two mutually exclusive options applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pick {
    First,
    Second,
    Neither,
}

/// Both options were typed: a usage error.
#[derive(Debug, PartialEq, Eq)]
struct BothTyped;

/// The precedence between two options that exclude each other, given where
/// each one that is set came from (`None`: not set). A typed flag beats a
/// variable, so that an operator can override a manifest (or the image's
/// ENTRYPOINT) without editing the other; both typed is a usage error; both
/// from variables, `first` wins.
fn exclusive(first: Option<Origin>, second: Option<Origin>) -> Result<Pick, BothTyped> {
    match (first, second) {
        (Some(Origin::Typed), Some(Origin::Typed)) => Err(BothTyped),
        (Some(Origin::Env), Some(Origin::Typed)) | (None, Some(_)) => Ok(Pick::Second),
        (Some(_), _) => Ok(Pick::First),
        (None, None) => Ok(Pick::Neither),
    }
}

/// Applies `exclusive` to each pair, clearing the option that lost. Between
/// two variables, the URI beats the port (it is the more specific setting)
/// and verbose beats quiet (whoever turned on debug logs is debugging).
/// On a conflict, returns the ids of the two options.
fn apply_precedence(
    matches: &ArgMatches,
    args: &mut Args,
) -> Result<(), (&'static str, &'static str)> {
    let origin = |id: &str, set: bool| {
        matches
            .value_source(id)
            .filter(|_| set)
            .and_then(Origin::of)
    };
    match exclusive(
        origin("uri", args.uri.is_some()),
        origin("port", args.port.is_some()),
    )
    .map_err(|BothTyped| ("uri", "port"))?
    {
        Pick::First => args.port = None,
        Pick::Second => args.uri = None,
        Pick::Neither => {}
    }
    match exclusive(origin("verbose", args.verbose), origin("quiet", args.quiet))
        .map_err(|BothTyped| ("verbose", "quiet"))?
    {
        Pick::First => args.quiet = false,
        Pick::Second => args.verbose = false,
        Pick::Neither => {}
    }
    Ok(())
}

/// Our own options as typed on the command line, in order, each with its
/// value when it has one (`--x v`, `--x=v`, `-x v`, `-xv`, `-abx v`).
/// Scanning stops at `--` and at the first positional word (CMD): everything
/// after it belongs to the app, even if it looks like one of our flags.
/// Unknown options are skipped; clap reports them. `command` must be built.
fn typed_options<'c>(command: &'c Command, argv: &[OsString]) -> Vec<(&'c Arg, Option<OsString>)> {
    // Whether the next word is the option's value (not for `--timeout-fatal`,
    // whose value can only follow an `=`).
    let takes_next = |arg: &Arg| arg.get_action().takes_values() && !arg.is_require_equals_set();
    let mut typed = Vec::new();
    let mut words = argv.iter().skip(1);
    while let Some(word) = words.next() {
        // A non-UTF-8 word is no option of ours: it is CMD.
        let Some(text) = word.to_str() else { break };
        if text == "--" {
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(OsString::from(value))),
                None => (long, None),
            };
            let Some(arg) = command.get_arguments().find(|a| a.get_long() == Some(name)) else {
                continue;
            };
            let value = match inline {
                Some(value) => Some(value),
                None if takes_next(arg) => words.next().cloned(),
                None => None,
            };
            typed.push((arg, value));
        } else if let Some(shorts) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (at, short) in shorts.char_indices() {
                let Some(arg) = command
                    .get_arguments()
                    .find(|a| a.get_short() == Some(short))
                else {
                    break;
                };
                if !arg.get_action().takes_values() {
                    typed.push((arg, None));
                    continue;
                }
                // The rest of the word is the value, else the next word.
                let rest = &shorts[at + short.len_utf8()..];
                let rest = rest.strip_prefix('=').unwrap_or(rest);
                let value = if rest.is_empty() {
                    words.next().cloned()
                } else {
                    Some(OsString::from(rest))
                };
                typed.push((arg, value));
                break;
            }
        } else {
            break;
        }
    }
    typed
}

/// The log format, decided before the command line is fully parsed so that
/// usage and configuration errors are reported in it too: a `--log-format`
/// typed among our own options, else LINKERD_AWAIT_LOG_FORMAT. A value that is
/// no format means plain (and the error about it is printed plainly).
pub fn log_format(command: &Command, argv: &[OsString]) -> LogFormat {
    let typed = typed_options(command, argv)
        .into_iter()
        .rfind(|(arg, _)| arg.get_id() == "log_format");
    let value = match typed {
        Some((_, value)) => value,
        None => env_var(LOG_FORMAT_VAR),
    };
    value
        .as_deref()
        .and_then(OsStr::to_str)
        .and_then(|v| LogFormat::from_str(v.trim(), false).ok())
        .unwrap_or(LogFormat::Plain)
}

/// A bad value that came from a `LINKERD_AWAIT_*` variable is reported by
/// clap under the flag's name; say which variable to fix as well.
fn with_env_source(mut err: clap::Error, command: &Command, argv: &[OsString]) -> clap::Error {
    // clap repeats a rejected value; a URL's password must not reach the log.
    if let Some(ContextValue::String(value)) = err.get(ContextKind::InvalidValue).cloned() {
        err.insert(
            ContextKind::InvalidValue,
            ContextValue::String(redact_text(&value)),
        );
    }
    let Some(ContextValue::String(shown)) = err.get(ContextKind::InvalidArg).cloned() else {
        return err;
    };
    let Some(arg) = command.get_arguments().find(|a| a.to_string() == shown) else {
        return err;
    };
    let Some(var) = arg.get_env() else { return err };
    let typed = typed_options(command, argv)
        .iter()
        .any(|(a, _)| a.get_id() == arg.get_id());
    if !typed && env_var(var).is_some() {
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

/// LINKERD_AWAIT_SHUTDOWN_URI: URLs separated by commas (empty items, as a
/// trailing comma leaves, are skipped). Errors name the variable and the item.
fn shutdown_urls_from_env(env: &impl Fn(&str) -> Option<OsString>) -> Result<Vec<Url>, Error> {
    let Some(value) = env(SHUTDOWN_URI_VAR) else {
        return Ok(Vec::new());
    };
    let text = value.to_str().ok_or_else(|| Error::Env {
        var: SHUTDOWN_URI_VAR,
        value: value.to_string_lossy().into_owned(),
        reason: "not valid UTF-8; expected e.g. http://localhost:4191/shutdown".to_string(),
    })?;
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            parse_url(item).map_err(|reason| Error::Env {
                var: SHUTDOWN_URI_VAR,
                value: redact_text(item),
                reason,
            })
        })
        .collect()
}

/// Builds the config; `env` reads the variables that are not clap options (tests pass a map).
fn from_args(mut args: Args, env: impl Fn(&str) -> Option<OsString>) -> Result<Config, Error> {
    // Typed URLs replace the variable's list, as for every other option.
    if args.shutdown_uri.is_empty() {
        args.shutdown_uri = shutdown_urls_from_env(&env)?;
    }
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
    use std::collections::HashMap;

    fn argv(words: &[&str]) -> Vec<OsString> {
        std::iter::once("linkerd-await")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect()
    }

    fn config(words: &[&str], vars: &[(&str, &str)]) -> Result<Config, Error> {
        let args = parse(&mut command(), argv(words)).expect("test argv parses");
        let vars: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        from_args(args, |name| {
            vars.get(name).cloned().filter(|v| !is_blank(v))
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
            config(&[], &[("LINKERD_DISABLED", " \t")])
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

    #[test]
    fn precedence_between_exclusive_options() {
        use Origin::{Env, Typed};
        // (first, second) → which applies; for --uri/--port and --verbose/--quiet.
        let table = [
            (None, None, Ok(Pick::Neither)),
            (Some(Env), None, Ok(Pick::First)),
            (Some(Typed), None, Ok(Pick::First)),
            (None, Some(Env), Ok(Pick::Second)),
            (None, Some(Typed), Ok(Pick::Second)),
            // Typed beats the environment, on either side.
            (Some(Typed), Some(Env), Ok(Pick::First)),
            (Some(Env), Some(Typed), Ok(Pick::Second)),
            // The documented tie-break: the first (the URI, verbose).
            (Some(Env), Some(Env), Ok(Pick::First)),
            (Some(Typed), Some(Typed), Err(BothTyped)),
        ];
        for (first, second, want) in table {
            assert_eq!(exclusive(first, second), want, "{first:?} {second:?}");
        }
    }

    #[test]
    fn each_exclusive_pair_conflicts_only_when_both_are_typed() {
        for (words, conflict) in [
            (
                &["-p", "1", "-u", "http://127.0.0.1:2/r"][..],
                Some("'--uri <URL>' cannot be used with '--port <PORT>'"),
            ),
            (
                &["-v", "-q"][..],
                Some("'--verbose' cannot be used with '--quiet'"),
            ),
            (
                &["-vq"][..],
                Some("'--verbose' cannot be used with '--quiet'"),
            ),
            (&["-p", "1"][..], None),
            (&["-q"][..], None),
        ] {
            match (parse(&mut command(), argv(words)), conflict) {
                (Err(e), Some(message)) => {
                    assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{words:?}");
                    assert!(e.to_string().contains(message), "{words:?}: {e}");
                }
                (Ok(_), None) => {}
                (got, _) => panic!("{words:?}: {:?}", got.map(|_| ())),
            }
        }
        let c = config(&["-q"], &[]).unwrap();
        assert_eq!(c.log.filter, "error");
    }

    #[test]
    fn typed_options_stop_at_the_command() {
        let command = command();
        type Case<'a> = (&'a [&'a str], &'a [(&'a str, Option<&'a str>)]);
        let cases: [Case; 10] = [
            (&[], &[]),
            (&["-b", "3", "app", "-t", "1s"], &[("backoff", Some("3"))]),
            (&["--", "-t", "1s"], &[]),
            (&["app", "--log-format", "json"], &[]),
            (
                &["-vb5s", "-q"],
                &[("verbose", None), ("backoff", Some("5s")), ("quiet", None)],
            ),
            (
                &["-t=1s", "--uri=http://x/", "-S"],
                &[
                    ("timeout", Some("1s")),
                    ("uri", Some("http://x/")),
                    ("shutdown", None),
                ],
            ),
            // --timeout-fatal takes its value only after `=`: `x` is CMD.
            (&["--timeout-fatal", "x", "-v"], &[("timeout_fatal", None)]),
            (
                &["--timeout-fatal=no", "--log-format", "json"],
                &[("timeout_fatal", Some("no")), ("log_format", Some("json"))],
            ),
            // Unknown options are skipped (clap reports them), a lone `-` is CMD.
            (&["--bogus", "-x", "-", "-v"], &[]),
            // A value that looks like a flag is still the value.
            (
                &["-t", "-1s", "-v"],
                &[("timeout", Some("-1s")), ("verbose", None)],
            ),
        ];
        for (words, want) in cases {
            let got: Vec<(String, Option<String>)> = typed_options(&command, &argv(words))
                .into_iter()
                .map(|(arg, value)| {
                    (
                        arg.get_id().to_string(),
                        value.map(|v| v.to_string_lossy().into_owned()),
                    )
                })
                .collect();
            let want: Vec<(String, Option<String>)> = want
                .iter()
                .map(|(id, value)| (id.to_string(), value.map(str::to_string)))
                .collect();
            assert_eq!(got, want, "{words:?}");
        }
        assert!(typed_options(&command, &[]).is_empty());
    }

    #[test]
    fn log_format_from_typed_options() {
        let command = command();
        for (words, want) in [
            (&["--log-format", "json"][..], LogFormat::Json),
            (&["--log-format=json"][..], LogFormat::Json),
            (&["--log-format", " json ", "-v"][..], LogFormat::Json),
            (&["--log-format", "xml"][..], LogFormat::Plain),
            (&["--log-format", "plain"][..], LogFormat::Plain),
            (&["app", "--log-format", "json"][..], LogFormat::Plain),
        ] {
            assert_eq!(log_format(&command, &argv(words)), want, "{words:?}");
        }
    }

    #[test]
    fn shutdown_uri_variable_is_a_comma_separated_list() {
        let c = config(
            &["-S", "/job"],
            &[(
                SHUTDOWN_URI_VAR,
                " http://127.0.0.1:1/a?x=1 ,http://[::1]:2/b,",
            )],
        )
        .unwrap();
        assert_eq!(
            shutdown_urls(&c),
            ["http://127.0.0.1:1/a?x=1", "http://[::1]:2/b"]
        );
        // A typed URL keeps its comma and replaces the variable's list.
        let c = config(
            &["--shutdown-uri", "http://127.0.0.1:1/q?a=1,2", "-S", "/job"],
            &[(SHUTDOWN_URI_VAR, "http://127.0.0.1:1/other")],
        )
        .unwrap();
        assert_eq!(shutdown_urls(&c), ["http://127.0.0.1:1/q?a=1,2"]);
        let err = config(&["-S", "/job"], &[(SHUTDOWN_URI_VAR, "http://a/,ftp://b/")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(SHUTDOWN_URI_VAR) && text.contains("'ftp://b/'"),
            "{text}"
        );
        assert!(matches!(err.outcome(), crate::exit_code::Outcome::Usage));
    }

    /// Every spelling of our options: `--long`, `-s`.
    fn flag_names() -> Vec<String> {
        command()
            .get_arguments()
            .flat_map(|arg| {
                let long = arg.get_long().map(|l| format!("--{l}"));
                let short = arg.get_short().map(|s| format!("-{s}"));
                long.into_iter().chain(short)
            })
            .collect()
    }

    /// A value: mostly duration-shaped (huge numbers are where durations
    /// overflow), else any text.
    fn value() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        prop_oneof![
            3 => "\\s?[0-9]{1,22}(ms|s|m|h|d)\\s?",
            // Around the sizes that overflowed `Instant + d` before the limit.
            2 => "[1-9][0-9]{13,19}(s|d)",
            1 => "[0-9]{1,3}(ms|s)",
            2 => any::<String>(),
        ]
    }

    /// Some words of a command line: one of our flags, alone, with its value
    /// attached, or followed by it; or any word at all.
    fn words() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
        use proptest::{prelude::*, sample::select};
        let flags = flag_names();
        prop_oneof![
            2 => select(flags.clone()).prop_map(|f| vec![f]),
            2 => (select(flags.clone()), value()).prop_map(|(f, v)| vec![format!("{f}={v}")]),
            4 => (select(flags), value()).prop_map(|(f, v)| vec![f, v]),
            1 => any::<String>().prop_map(|w| vec![w]),
            1 => Just(vec!["--".to_string()]),
        ]
    }

    /// What every loaded config must allow: each duration as a deadline from
    /// now, and the backoff's delays.
    fn check_durations(c: &Config) -> Result<(), proptest::test_runner::TestCaseError> {
        let now = std::time::Instant::now();
        let mut durations = vec![c.attempt_timeout, c.backoff.initial, c.backoff.max];
        durations.extend(c.timeout);
        if let Handoff::Supervise(_, shutdown) = &c.handoff {
            durations.push(shutdown.timeout);
        }
        durations.extend(c.backoff.delays().take(40));
        for d in durations {
            proptest::prop_assert!(d <= crate::duration::MAX, "{d:?} in {c:?}");
            proptest::prop_assert!(now.checked_add(d).is_some(), "{d:?} in {c:?}");
        }
        Ok(())
    }

    proptest::proptest! {
        // No regression files in the source tree: a failure prints its minimal input.
        #![proptest_config(proptest::test_runner::Config {
            cases: 300,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn arbitrary_command_lines_never_panic(
            items in proptest::collection::vec(words(), 0..5)
        ) {
            let words: Vec<&str> = items.iter().flatten().map(String::as_str).collect();
            let argv = argv(&words);
            let command = command();
            let _ = log_format(&command, &argv);
            if let Ok(Loaded::Config(c)) = load(command, argv) {
                check_durations(&c)?;
            }
        }

        #[test]
        fn arbitrary_variables_never_panic(
            shutdown_uri in proptest::prelude::any::<String>(),
            admin_addr in proptest::prelude::any::<String>(),
        ) {
            let _ = config(
                &["-S", "/job"],
                &[(SHUTDOWN_URI_VAR, &shutdown_uri), (PROXY_ADMIN_ADDR_VAR, &admin_addr)],
            );
        }
    }
}
