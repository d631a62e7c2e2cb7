//! Calls that can block for as long as something outside the gate likes,
//! and that no deadline or signal can interrupt: name lookups (a DNS
//! server that never answers) and path operations (`stat` or `connect` on
//! a stuck NFS, CSI or FUSE mount). Each runs on a thread of its own that
//! nobody joins: the caller waits for its result under its own deadline
//! and leaves when that ends, and the process exits (or execs) without
//! waiting for the thread. A caller that retries meanwhile joins the call
//! of the same key still under way instead of starting another thread,
//! so a hung resolver or mount costs one thread per key, not one per check.
//!
//! Invariant: the runtime's one thread never makes such a call itself.

use std::{
    io,
    sync::{Mutex, MutexGuard, PoisonError},
};

use tokio::sync::watch;

/// The calls of one kind under way, by key; each a channel that says the
/// result once it is in. A handful at most (the targets' names and paths),
/// so a list is enough.
pub struct InFlight<K, T> {
    calls: Mutex<Vec<(K, watch::Receiver<Option<T>>)>>,
    /// The threads' name, for `ps -L` and debuggers.
    thread: &'static str,
}

impl<K, T> InFlight<K, T>
where
    K: PartialEq + Clone + Send + 'static,
    T: Clone + Send + Sync + 'static,
{
    pub const fn new(thread: &'static str) -> Self {
        InFlight {
            calls: Mutex::new(Vec::new()),
            thread,
        }
    }

    fn calls(&self) -> MutexGuard<'_, Vec<(K, watch::Receiver<Option<T>>)>> {
        // The list stays usable even if a thread panicked while holding it.
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The result of `call` for `key`, joining a call of the same key
    /// already under way. Cancel-safe: dropping the future leaves the
    /// thread to finish alone.
    pub async fn run(
        &'static self,
        key: &K,
        call: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<T> {
        let mut found = {
            let mut calls = self.calls();
            match calls.iter().find(|(k, _)| k == key) {
                Some((_, found)) => found.clone(),
                None => {
                    let (tell, found) = watch::channel(None);
                    self.start(key.clone(), tell, call)?;
                    calls.push((key.clone(), found.clone()));
                    found
                }
            }
        };
        let ended = || io::Error::other("the call ended without a result");
        found
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ended())?
            .clone()
            .ok_or_else(ended)
    }

    /// Whether a call for `key` is under way now: a caller whose deadline
    /// passed learns what it was waiting for, so its message can say so.
    pub fn running(&self, key: &K) -> bool {
        self.calls().iter().any(|(k, _)| k == key)
    }

    /// Runs the call on a detached thread, which says what it found and
    /// then forgets the key, so the next call asks afresh.
    fn start(
        &'static self,
        key: K,
        tell: watch::Sender<Option<T>>,
        call: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<()> {
        std::thread::Builder::new()
            .name(self.thread.to_string())
            // These calls need little stack; the default 2 MiB is only
            // reserved, but a smaller one keeps the mapping small too.
            .stack_size(256 * 1024)
            .spawn(move || {
                let result = call();
                self.calls().retain(|(other, _)| *other != key);
                // Nobody may be waiting any more: that is fine.
                let _ = tell.send(Some(result));
            })
            .map(drop)
    }
}

/// An `io::Result` as a channel can share it (`io::Error` is not `Clone`).
pub type Shared<T> = Result<T, (io::ErrorKind, String)>;

/// Back from [`Shared`].
pub fn unshared<T>(result: Shared<T>) -> io::Result<T> {
    result.map_err(|(kind, message)| io::Error::new(kind, message))
}

/// Into [`Shared`].
pub fn shared<T>(result: io::Result<T>) -> Shared<T> {
    result.map_err(|e| (e.kind(), e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::{sync::mpsc, time::Duration};

    static SLOW: InFlight<u32, u32> = InFlight::new("test");

    #[tokio::test]
    async fn a_call_under_way_is_joined_and_an_abandoned_one_holds_nobody() {
        let (release, hold) = mpsc::channel::<()>();
        let first = tokio::time::timeout(
            Duration::from_millis(50),
            SLOW.run(&1, move || {
                let _ = hold.recv();
                7
            }),
        )
        .await;
        assert!(first.is_err(), "the caller left at its deadline");
        assert!(SLOW.running(&1));
        // A second caller joins the call under way (this closure never
        // runs): polled once while the call still hangs, then released.
        let mut second = Box::pin(SLOW.run(&1, || 8));
        let polled = tokio::time::timeout(Duration::from_millis(10), &mut second).await;
        assert!(polled.is_err(), "the call still hangs");
        release.send(()).expect("the thread waits");
        assert_eq!(second.await.expect("a result"), 7);
        assert!(!SLOW.running(&1));
    }
}
