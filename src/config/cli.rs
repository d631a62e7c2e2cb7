//! The command line: flags, their environment variables and help text.
//!
//! Only declarations live here (how each value is read: `values`); `config` turns the parsed values into checked
//! types. Every option has a `LINKERD_AWAIT_*` variable so that a manifest can
//! set it without touching the image's ENTRYPOINT.

use std::{ffi::OsString, path::PathBuf, time::Duration};

use clap::{
    ArgAction, Parser,
    builder::{EnumValueParser, OsStringValueParser, PathBufValueParser, StringValueParser},
};

pub use super::values::parse_url;
use super::{
    mesh::Mesh,
    targets::{Target, parse_target},
    values::{Boolish, Trimmed, parse_dependency_cap, parse_duration, parse_factor},
};
use crate::report::{logging::LogFormat, termination_log};

/// Wait for the service-mesh proxy to become ready, then run CMD in place of this process.
///
/// With --wait-for, also wait for each dependency (after the proxy, all at once, under the
/// same --timeout). Without CMD, exit 0 once everything is ready. With --shutdown, run CMD as a
/// child and ask the proxy to shut down when it exits (for Jobs and CronJobs);
/// with --shutdown-now, only ask the proxy to shut down.
/// Waiting is skipped when LINKERD_AWAIT_DISABLED or LINKERD_DISABLED is set to
/// a non-blank value. A typed flag beats its LINKERD_AWAIT_* variable (which is
/// then not read at all); an empty variable counts as unset. Booleans accept
/// true/false, yes/no, on/off, 1/0.
#[derive(Debug, Parser)]
#[command(name = "linkerd-await", version = crate::VERSION, max_term_width = 100)]
pub struct Args {
    /// Proxy admin port: the readiness URL becomes http://localhost:<PORT> with the mesh's
    /// path (/ready for linkerd and envoy, /healthz/ready for istio)
    /// [default: 4191, or the port of LINKERD2_PROXY_ADMIN_LISTEN_ADDR when set]
    #[arg(short, long, env = "LINKERD_AWAIT_PORT", value_name = "PORT",
          value_parser = Trimmed(clap::value_parser!(u16).range(1..)))]
    pub port: Option<u16>,

    /// Full readiness URL (any host, port and path), e.g. http://127.0.0.1:4191/ready;
    /// conflicts with a typed --port; a typed one beats the other's variable, and
    /// LINKERD_AWAIT_URI beats LINKERD_AWAIT_PORT
    // hide_env_values: --help would print the variable's value, password
    // and all, into the container's log (likewise for every URL option).
    #[arg(short, long, env = "LINKERD_AWAIT_URI", value_name = "URL", hide_env_values = true,
          value_parser = Trimmed(parse_url))]
    pub uri: Option<reqwest::Url>,

    /// Service mesh whose readiness and shutdown endpoints to use
    #[arg(long, env = "LINKERD_AWAIT_MESH", value_name = "MESH",
          value_parser = Trimmed(EnumValueParser::<Mesh>::new()), default_value = "linkerd")]
    pub mesh: Mesh,

    /// Maximum delay between two readiness checks
    #[arg(short, long, env = "LINKERD_AWAIT_BACKOFF", value_name = "DUR",
          allow_hyphen_values = true, value_parser = Trimmed(parse_duration), default_value = "50ms")]
    pub backoff: Duration,

    /// Delay after the first failed check; it grows by --backoff-factor up to --backoff
    #[arg(long, env = "LINKERD_AWAIT_BACKOFF_INITIAL", value_name = "DUR",
          allow_hyphen_values = true, value_parser = Trimmed(parse_duration), default_value = "5ms")]
    pub backoff_initial: Duration,

    /// Growth factor of the delay after each failed check (1 = constant delay)
    #[arg(long, env = "LINKERD_AWAIT_BACKOFF_FACTOR", value_name = "F",
          value_parser = Trimmed(parse_factor), default_value = "2")]
    pub backoff_factor: f32,

    /// Bound on one readiness check (connect and response head)
    #[arg(long, env = "LINKERD_AWAIT_ATTEMPT_TIMEOUT", value_name = "DUR",
          allow_hyphen_values = true, value_parser = Trimmed(parse_duration), default_value = "1s")]
    pub attempt_timeout: Duration,

    /// Overall readiness deadline; 0 or unset waits forever
    #[arg(short, long, env = "LINKERD_AWAIT_TIMEOUT", value_name = "DUR",
          allow_hyphen_values = true, value_parser = Trimmed(parse_duration))]
    pub timeout: Option<Duration>,

    /// On timeout: true exits 69 without running CMD; false logs a warning and runs CMD anyway
    /// (without CMD: exits 0, and the warning says so)
    #[arg(long, env = "LINKERD_AWAIT_TIMEOUT_FATAL", value_name = "BOOL",
          num_args = 0..=1, require_equals = true, default_value = "true",
          default_missing_value = "true", action = ArgAction::Set,
          value_parser = Trimmed(Boolish))]
    pub timeout_fatal: bool,

    /// Also wait for this dependency, through the proxy, before running CMD: tcp://, http://,
    /// postgres://, redis://, mysql://, memcached://, nats://, zookeeper://, amqp://, kafka://,
    /// grpc://, mongodb://, cassandra://, dns://, file:// or unix://; env:NAME (the URL in that
    /// variable), jdbc: URLs; http:// expectations after '#' (docs/reference.md, "Waiting for
    /// dependencies"); repeatable, replaces the variable's list (comma- or space-separated)
    // A typed value is one URL. The variable is a list, read and split by
    // `config`, which turns clap's reading of it off.
    #[arg(long = "wait-for", env = WAIT_FOR_VAR, value_name = "URL", hide_env_values = true,
          value_parser = Trimmed(parse_target), action = ArgAction::Append)]
    pub wait_for: Vec<Target>,

    /// PEM file of CA certificates to trust for TLS --wait-for targets (https://, rediss://,
    /// sslmode=verify-full, ...), beside the image's roots (or Mozilla's, built in); a URL's own
    /// sslrootcert=, tlsCAFile= or ssl-ca= replaces both for its target
    #[arg(long, env = "LINKERD_AWAIT_CA_FILE", value_name = "PEM",
          value_parser = Trimmed(PathBufValueParser::new()))]
    pub ca_file: Option<PathBuf>,

    /// Maximum delay between two checks of one --wait-for target, at least 100ms (from 200ms,
    /// growing ~1.8-fold a check; each pause drawn from the upper half of a bound that grows from
    /// the pause before, so pods restarting together drift apart)
    #[arg(long, env = "LINKERD_AWAIT_WAIT_FOR_BACKOFF", value_name = "DUR",
          allow_hyphen_values = true, value_parser = Trimmed(parse_dependency_cap), default_value = "1s")]
    pub wait_for_backoff: Duration,

    /// Run CMD as a child and ask the proxy to shut down when it exits (Jobs, CronJobs)
    #[arg(
        short = 'S',
        long,
        env = "LINKERD_AWAIT_SHUTDOWN",
        value_parser = Trimmed(Boolish)
    )]
    pub shutdown: bool,

    /// Do not wait and run no CMD: ask the proxy to shut down now, exit 0 if it
    /// accepted, 69 if not (Argo Workflows' kill command, Helm hooks, scripts)
    // Not `conflicts_with`: clap would also refuse a typed flag next to the
    // other's variable. `config` applies the precedence instead.
    #[arg(
        long,
        env = "LINKERD_AWAIT_SHUTDOWN_NOW",
        value_parser = Trimmed(Boolish)
    )]
    pub shutdown_now: bool,

    /// Shutdown URL to POST to after CMD exits (--shutdown) or at once (--shutdown-now);
    /// repeatable, replaces the mesh's default (comma-separated in the environment variable)
    // A typed value is one URL, commas included. The variable is a list, read
    // and split by `config`, which turns clap's reading of it off.
    #[arg(long = "shutdown-uri", env = SHUTDOWN_URI_VAR, value_name = "URL", hide_env_values = true,
          value_parser = Trimmed(parse_url), action = ArgAction::Append)]
    pub shutdown_uri: Vec<reqwest::Url>,

    /// Bound on all shutdown requests together; 0 sends them without waiting for answers
    #[arg(long, env = "LINKERD_AWAIT_SHUTDOWN_TIMEOUT", value_name = "DUR",
          allow_hyphen_values = true, value_parser = Trimmed(parse_duration), default_value = "5s")]
    pub shutdown_timeout: Duration,

    /// Shut the proxy down even when CMD failed; false keeps a failed pod inspectable
    #[arg(long, env = "LINKERD_AWAIT_SHUTDOWN_ON_FAILURE", value_name = "BOOL",
          num_args = 0..=1, require_equals = true, default_value = "true",
          default_missing_value = "true", action = ArgAction::Set,
          value_parser = Trimmed(Boolish))]
    pub shutdown_on_failure: bool,

    /// Debug-level logs, including why waiting was skipped when disabled
    /// (a typed -q beats LINKERD_AWAIT_VERBOSE; with both variables set, verbose wins)
    // Not `conflicts_with = "quiet"`: clap would also refuse a typed -q next to
    // LINKERD_AWAIT_VERBOSE. `config` applies the precedence instead.
    #[arg(short, long, env = "LINKERD_AWAIT_VERBOSE",
          value_parser = Trimmed(Boolish))]
    pub verbose: bool,

    /// Log errors only
    #[arg(short, long, env = "LINKERD_AWAIT_QUIET",
          value_parser = Trimmed(Boolish))]
    pub quiet: bool,

    /// Log filter: a level or target=level list (e.g. debug, linkerd_await=debug,warn); a typed
    /// --log overrides -v/-q, a typed -v/-q overrides LINKERD_AWAIT_LOG
    /// [default: info; with -v linkerd_await=debug,info; with -q error]
    #[arg(long = "log", env = "LINKERD_AWAIT_LOG", value_name = "FILTER",
          value_parser = Trimmed(StringValueParser::new()))]
    pub log_filter: Option<String>,

    /// Copy this binary to DIR/linkerd-await (mode 0755, atomically) and exit, for
    /// images you cannot rebuild: run it in an init container, then the copy in front
    /// of the app's entrypoint. Takes no CMD
    #[arg(long, env = "LINKERD_AWAIT_INSTALL", value_name = "DIR",
          value_parser = Trimmed(PathBufValueParser::new()))]
    pub install: Option<PathBuf>,

    /// File to append a one-line reason to when the gate itself fails (Kubernetes'
    /// terminationMessagePath); empty = off [default: /dev/termination-log if it exists]
    // Read by `config` rather than clap when it comes from the variable: an
    // empty value means "off" here, not "unset".
    #[arg(long, env = termination_log::VAR, value_name = "PATH",
          value_parser = Trimmed(OsStringValueParser::new()))]
    pub termination_log: Option<OsString>,

    /// Format of the log lines on stderr
    #[arg(long, env = "LINKERD_AWAIT_LOG_FORMAT", value_name = "FORMAT",
          value_parser = Trimmed(EnumValueParser::<LogFormat>::new()), default_value = "plain")]
    pub log_format: LogFormat,

    /// Variables not read because a typed option outranks them, for the debug
    /// log (`config::precedence`).
    #[arg(skip)]
    pub unread: Vec<String>,

    /// The command to run once the proxy is ready, and its arguments (passed byte for byte)
    #[arg(value_name = "CMD", num_args = 1.., trailing_var_arg = true,
          value_parser = clap::value_parser!(OsString))]
    pub command: Vec<OsString>,
}

/// Read by `config` rather than clap: a comma-separated list.
pub const SHUTDOWN_URI_VAR: &str = "LINKERD_AWAIT_SHUTDOWN_URI";

/// Read by `config` rather than clap: a list separated by commas or whitespace.
pub const WAIT_FOR_VAR: &str = "LINKERD_AWAIT_WAIT_FOR";

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn every_option_has_an_env_var() {
        let cmd = Args::command();
        for arg in cmd.get_arguments() {
            if arg.is_positional() || ["help", "version"].contains(&arg.get_id().as_str()) {
                continue;
            }
            let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
            assert!(
                env.as_deref()
                    .is_some_and(|e| e.starts_with("LINKERD_AWAIT_")),
                "--{} has no LINKERD_AWAIT_ env var",
                arg.get_id()
            );
        }
    }

    /// (long, short, env var) of one option.
    type Documented = (String, Option<char>, String);

    /// Every row of the reference's option table: `| `-p, --port <PORT>` | `VAR` | ...`.
    fn readme_options() -> Vec<Documented> {
        let readme = include_str!("../../docs/reference.md");
        let section = readme
            .split_once("## Options")
            .map(|(_, rest)| rest)
            .expect("docs/reference.md has an options section");
        let cell = |line: &str, n: usize| {
            line.split(" | ")
                .nth(n)
                .unwrap_or("")
                .trim_matches(|c: char| c == '|' || c == '`' || c.is_whitespace())
                .to_string()
        };
        section
            .lines()
            .skip_while(|line| !line.starts_with("| flag"))
            .skip(2) // header and separator
            .take_while(|line| line.starts_with('|'))
            .map(|line| {
                let flag = cell(line, 0);
                let long = flag
                    .split_once("--")
                    .map(|(_, rest)| rest)
                    .unwrap_or("")
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '-')
                    .collect();
                let short = flag
                    .strip_prefix('-')
                    .filter(|rest| rest.chars().nth(1) == Some(','))
                    .and_then(|rest| rest.chars().next());
                (long, short, cell(line, 1))
            })
            .collect()
    }

    #[test]
    fn the_readme_documents_every_option_and_no_other() {
        let cmd = Args::command();
        let mut options: Vec<Documented> = cmd
            .get_arguments()
            .filter(|arg| !arg.is_positional())
            .filter(|arg| !["help", "version"].contains(&arg.get_id().as_str()))
            .map(|arg| {
                (
                    arg.get_long().unwrap_or("").to_string(),
                    arg.get_short(),
                    arg.get_env()
                        .map(|e| e.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                )
            })
            .collect();
        let mut documented = readme_options();
        options.sort();
        documented.sort();
        assert_eq!(documented, options, "docs/reference.md, ## Options");
    }
}
