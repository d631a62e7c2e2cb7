//! `--shutdown`, for Jobs and CronJobs: run the app as a child (`child`),
//! then let the pod complete by asking the proxy to shut down (`shutdown`).
//! The one decision made here is whether to ask.

use reqwest::Client;
use tracing::{error, info};

use crate::{
    config::{Command, OnFailure, Shutdown},
    handoff::child::{self, Ending},
    report::error::Error,
    report::exit_code::Outcome,
    shutdown,
    signals::{Event, Sig, Signals},
    wait::Verdict,
};

/// Runs the app if the wait let it start, then shuts the proxy down: however
/// the app ended, and also when the proxy never became ready (a Job whose
/// proxy never came up must still complete), unless the run failed and
/// `--shutdown-on-failure=false` keeps the pod for inspection.
///
/// A signal that ended the wait ends the gate before any of this, and so does
/// a failure of the gate itself: no request is sent then.
pub async fn run(
    waited: Verdict,
    command: &Command,
    shutdown: &Shutdown,
    client: &Client,
    signals: &mut Signals,
) -> Result<Outcome, Error> {
    let (outcome, succeeded) = match waited {
        Verdict::Stop(Outcome::TimedOut) => (Outcome::TimedOut, false),
        Verdict::Stop(outcome) => return Ok(outcome),
        Verdict::Go | Verdict::GoAnyway => {
            info!("starting {} and supervising it", command.name());
            // The gate now stays for the app's whole life: the stack its
            // checks touched (a connect through reqwest goes ~35 KiB deep)
            // is given back first.
            crate::stack::release_unused();
            match child::run(command, signals).await {
                Ending::Ended(end) => {
                    info!("the app {end}");
                    (end.outcome(), end.succeeded())
                }
                Ending::NotStarted(e) => {
                    error!("{e}");
                    crate::report::termination_log::append(&e.to_string());
                    (e.outcome(), false)
                }
                Ending::Failed(e) => return Err(e),
            }
        }
    };
    if succeeded || shutdown.on_failure == OnFailure::ShutDown {
        // Logged (and failures recorded) there; the app's status is the
        // gate's, whatever the proxy did. A termination signal (kubelet
        // ending the pod, a Ctrl-C) ends the requests and the watch at once,
        // as it ends `--shutdown-now`: nothing is left to stop gracefully.
        tokio::select! {
            biased;
            sig = termination(signals) => {
                let sig = sig?;
                info!("received {sig} while shutting the proxy down; exiting with the app's status");
            }
            _report = shutdown::request(client, shutdown) => {}
        }
    } else {
        info!("leaving the proxy running for inspection (--shutdown-on-failure=false)");
    }
    Ok(outcome)
}

/// The next termination signal once the app is gone (or never started,
/// after a timeout). While supervising, every signal is read as one for the
/// app: the others have no one left to go to, and the app's statuses are
/// all in.
async fn termination(signals: &Signals) -> Result<Sig, Error> {
    loop {
        match signals.recv().await? {
            Event::Terminate(sig) => return Ok(sig),
            Event::Forward(sig) if sig.is_termination() => return Ok(sig),
            Event::Forward(_) | Event::ChildChanged => {}
        }
    }
}
