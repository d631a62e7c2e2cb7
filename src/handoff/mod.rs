//! Handing off to the app once the wait is over: `exec` (the gate becomes
//! the app) or, with `--shutdown`, `supervise` (the app as a child, `child`,
//! in the terminal's foreground, `terminal`, then the proxy's shutdown).

pub mod child;
pub mod exec;
mod reap;
pub mod supervise;
pub mod terminal;
