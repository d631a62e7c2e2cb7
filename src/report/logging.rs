//! Log setup: stderr only (stdout belongs to the app), plain or JSON lines,
//! and the reporting of errors found before it is set up.

use std::io::Write;

use clap::ValueEnum;
use tracing::Subscriber;
use tracing_subscriber::{
    Layer, filter::Targets, fmt, layer::SubscriberExt, registry, registry::LookupSpan,
    util::SubscriberInitExt,
};

use crate::{report::error::Error, report::exit_code::Outcome};

/// `--log-format`; the doc comments are the `--help` text of each value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines
    Plain,
    /// One JSON object per line, for log pipelines
    Json,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// A level or `target=level` list: `tracing_subscriber`'s `Targets`
    /// syntax (the target part of EnvFilter's), e.g. `linkerd_await=debug,warn`.
    pub filter: String,
    pub format: LogFormat,
}

/// Installs the global subscriber. Called once, right after the config is
/// read; a filter it cannot use is reported (in `settings.format`) by the caller.
pub fn init(settings: &LogSettings) -> Result<(), Rejected> {
    init_filtered(settings).map_err(|e| Rejected {
        format: settings.format,
        error: Early::Config(e),
    })
}

fn init_filtered(settings: &LogSettings) -> Result<(), Error> {
    // `Targets` takes the `target=level` part of EnvFilter's syntax (`debug`,
    // `linkerd_await=debug,warn`), which is all a gate needs; EnvFilter's
    // span and field matching would pull in a regex engine and add about
    // 460 KB to the binary (bench/EXPERIMENTS.md).
    let invalid = |reason: String| Error::LogFilter {
        value: settings.filter.clone(),
        reason: format!("{reason}; expected e.g. debug or linkerd_await=debug,warn"),
    };
    // `Targets` would take `[span]` or `{field}` as part of a target name and
    // silently match nothing; refuse what it cannot mean.
    if let Some(c) = settings
        .filter
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_:=,.-".contains(*c)))
    {
        return Err(invalid(format!(
            "'{c}' is not supported (span and field filters are not)"
        )));
    }
    let filter: Targets = settings
        .filter
        .parse()
        .map_err(|e: tracing_subscriber::filter::ParseError| invalid(e.to_string()))?;
    let layer = fmt::layer()
        .with_writer(std::io::stderr)
        // Container log collectors do not render colour codes.
        .with_ansi(false);
    // A second init (only possible in tests) keeps the first subscriber.
    let _ = match settings.format {
        LogFormat::Plain => registry()
            .with(layer.with_target(false))
            .with(filter)
            .try_init(),
        LogFormat::Json => registry().with(json_layer()).with(filter).try_init(),
    };
    Ok(())
}

/// One JSON object per line on stderr, the event's fields at the top level.
fn json_layer<S>() -> impl Layer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .json()
        .flatten_event(true)
        .with_current_span(false)
}

/// An error found before `init` could run.
#[derive(Debug)]
pub enum Early {
    /// A usage error, as clap words it.
    Usage(clap::Error),
    /// A bad variable or log filter.
    Config(Error),
}

/// The gate refuses to start: what was wrong, and the log format to say it in.
#[derive(Debug)]
pub struct Rejected {
    pub format: LogFormat,
    pub error: Early,
}

impl Rejected {
    /// Reports the error in the format the user asked for, and says which
    /// row of the exit-code table it is.
    pub fn report(&self) -> Outcome {
        report_early(self.format, &self.error);
        match &self.error {
            Early::Usage(_) => Outcome::Usage,
            Early::Config(e) => e.outcome(),
        }
    }
}

/// Reports an error found before the log format was set up, in that format.
/// Plain is what clap and `eprintln!` always printed; JSON is one object per
/// line like every other log line (a log pipeline must not choke on the one
/// message that says why the pod does not start), with a multi-line clap
/// message kept in one object, its newlines escaped.
fn report_early(format: LogFormat, error: &Early) {
    match (format, error) {
        (LogFormat::Plain, Early::Usage(e)) => {
            let _ = e.print();
        }
        // Not `eprintln!`, which panics when stderr is a closed pipe (and a
        // panic aborts the release build): the exit code must still be 2.
        (LogFormat::Plain, Early::Config(e)) => {
            let _ = writeln!(std::io::stderr(), "error: {e}");
        }
        (LogFormat::Json, error) => {
            let message = match error {
                // The level says it is an error; the rest is clap's text.
                Early::Usage(e) => {
                    let text = e.render().to_string();
                    let text = text.trim_end();
                    text.strip_prefix("error: ").unwrap_or(text).to_string()
                }
                Early::Config(e) => e.to_string(),
            };
            // No global subscriber exists yet (and `init` may still install
            // one after a failed filter), so use one for this line only.
            let subscriber = registry().with(json_layer());
            tracing::subscriber::with_default(subscriber, || {
                tracing::error!(target: "linkerd_await", "{message}");
            });
        }
    }
}
