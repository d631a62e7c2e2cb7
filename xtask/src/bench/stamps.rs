//! The stand-in app the measurements start as the gate's app: this
//! executable in its `--stamp` modes, whose first action is to read the
//! clock and write it down; and what starting it costs by itself.

use std::{ffi::OsString, path::Path, process::Command, thread, time::Duration};

use crate::bench::{
    measure::{Ctx, run},
    process::{ms_between, now_ns},
};

/// `xtask --stamp FILE [T0]`: the stand-in app. Its first action is to read
/// the clock; it writes that (and T0 if given) to FILE.
pub fn stamp_main(file: &OsString, t0: Option<&OsString>) -> i32 {
    let now = now_ns();
    let text = match t0 {
        Some(t0) => format!("{now} {}\n", t0.to_string_lossy()),
        None => format!("{now}\n"),
    };
    match std::fs::write(file, text) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// `xtask --stamp-exec FILE`: reads the clock, then execs `xtask --stamp FILE
/// T0`, so the stamp difference is exactly what the stand-in costs between an
/// exec and its first action (loader, libc and Rust runtime start-up).
pub fn stamp_exec_main(me: &Path, file: &OsString, idle_ms: u64) -> i32 {
    use std::os::unix::process::CommandExt;
    thread::sleep(Duration::from_millis(idle_ms));
    let t0 = now_ns();
    let err = Command::new(me)
        .arg("--stamp")
        .arg(file)
        .arg(t0.to_string())
        .exec();
    eprintln!("xtask --stamp-exec: cannot exec {}: {err}", me.display());
    1
}

pub fn read_stamp(path: &Path) -> Result<Vec<u64>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("the stand-in app left no stamp in {}: {e}", path.display()))?;
    text.split_whitespace()
        .map(|n| n.parse().map_err(|_| format!("bad stamp {text:?}")))
        .collect()
}

/// Exec-to-first-action cost of the stand-in app, in ms, when its exec
/// follows `idle_ms` of sleep (an exec after idling finds colder caches, as
/// the gate's exec does after a wait).
pub fn stand_in_cost(ctx: &Ctx, runs: usize, idle_ms: u64) -> Result<Vec<f64>, String> {
    let file = ctx.tmp.join("exec-stamp");
    let mut costs = Vec::with_capacity(runs);
    for _ in 0..runs {
        let _ = std::fs::remove_file(&file);
        let mut cmd = ctx.bare(&ctx.me);
        cmd.arg("--stamp-exec").arg(&file).arg(idle_ms.to_string());
        let finished = run(&mut cmd, "stand-in app")?;
        if finished.code != 0 {
            return Err(format!("stand-in app exited {}", finished.code));
        }
        match read_stamp(&file)?.as_slice() {
            [t1, t0] => costs.push(ms_between(*t0, *t1)),
            other => return Err(format!("bad exec stamp {other:?}")),
        }
    }
    Ok(costs)
}
