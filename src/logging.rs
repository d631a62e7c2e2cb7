//! Log setup: stderr only (stdout belongs to the app), plain or JSON lines.

use tracing_subscriber::EnvFilter;

use crate::{cli::LogFormat, config::LogSettings, error::Error};

/// Installs the global subscriber. Called once, right after the config is read.
pub fn init(settings: &LogSettings) -> Result<(), Error> {
    let filter = EnvFilter::try_new(&settings.filter).map_err(|e| Error::LogFilter {
        value: settings.filter.clone(),
        reason: format!("{e}; expected e.g. debug or linkerd_await=debug,warn"),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        // Container log collectors do not render colour codes.
        .with_ansi(false);
    // A second init (only possible in tests) keeps the first subscriber.
    let _ = match settings.format {
        LogFormat::Plain => builder.with_target(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    Ok(())
}
