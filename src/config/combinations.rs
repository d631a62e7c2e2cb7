//! Options that make no sense together, whichever way each was given
//! (typed or set): usage errors before anything runs.

use super::{cli::Args, mesh::Mesh};
use crate::report::error::Error;

/// A typed `--wait-for` where nothing is waited for (the variable is not
/// read there: `config`), and `--mesh none` where a proxy would be needed:
/// usage errors, before anything runs.
pub(super) fn refuse_combinations(args: &Args) -> Result<(), Error> {
    let refuse = |message: &str| Err(Error::Usage(message.to_string()));
    if !args.wait_for.is_empty() {
        if args.shutdown_now {
            return refuse(
                "--wait-for cannot be used with --shutdown-now, which waits for nothing",
            );
        }
        if args.install.is_some() {
            return refuse("--wait-for cannot be used with --install, which waits for nothing");
        }
    }
    if args.mesh == Mesh::None {
        if args.uri.is_some() || args.port.is_some() {
            return refuse(
                "--mesh none waits for no proxy, so --uri and --port have nothing to check; drop one side",
            );
        }
        if (args.shutdown || args.shutdown_now) && args.shutdown_uri.is_empty() {
            return refuse(
                "--mesh none has no proxy to shut down: give --shutdown-uri, or drop --shutdown/--shutdown-now",
            );
        }
    }
    Ok(())
}
