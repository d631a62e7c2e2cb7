//! Log setup: stderr only (stdout belongs to the app), plain or JSON lines.

use tracing_subscriber::{
    filter::Targets, fmt, layer::SubscriberExt, registry, util::SubscriberInitExt,
};

use crate::{cli::LogFormat, config::LogSettings, error::Error};

/// Installs the global subscriber. Called once, right after the config is read.
pub fn init(settings: &LogSettings) -> Result<(), Error> {
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
        LogFormat::Json => registry()
            .with(layer.json().flatten_event(true).with_current_span(false))
            .with(filter)
            .try_init(),
    };
    Ok(())
}
