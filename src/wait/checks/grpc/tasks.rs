//! The tasks hyper spawns for one attempt's HTTP/2 connection, run on
//! the runtime and ended with the attempt, whatever the peer does: a
//! check never outlives its own bound.

use std::{
    future::Future,
    sync::{Arc, Mutex, PoisonError},
};

use hyper::rt::Executor;
use tokio::task::AbortHandle;

/// Where hyper runs a connection's tasks: on the runtime, remembered so
/// that [`EndTasks`] can end them with the attempt.
#[derive(Clone, Default)]
pub(super) struct AttemptTasks(Arc<Mutex<Vec<AbortHandle>>>);

impl<F> Executor<F> for AttemptTasks
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, task: F) {
        let handle = tokio::spawn(task).abort_handle();
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }
}

pub(super) struct EndTasks(pub(super) AttemptTasks);

impl Drop for EndTasks {
    fn drop(&mut self) {
        let tasks = std::mem::take(&mut *self.0.0.lock().unwrap_or_else(PoisonError::into_inner));
        for task in tasks {
            task.abort();
        }
    }
}
