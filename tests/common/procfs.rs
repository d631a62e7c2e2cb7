//! What `/proc` says about a process: its state, parent, session, children,
//! PID in its own namespace and signal masks. Every reader returns `None` (or
//! nothing) for a process that is gone, since processes come and go while a
//! test looks.

use std::fs;

/// The fields of `/proc/<pid>/stat` after the command name (state, ppid,
/// pgrp, session, ...): the name is in parentheses and may itself contain
/// spaces and parentheses, so the fields start after the last `)`.
pub fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.get(text.rfind(')')? + 1..)?;
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// State letter and parent PID.
pub fn stat(pid: i32) -> Option<(char, i32)> {
    let fields = stat_fields(pid)?;
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    Some((state, ppid))
}

/// The command name (`/proc/<pid>/comm`).
pub fn comm(pid: i32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim_end().to_string())
}

/// The PID in the innermost PID namespace (what `$$` prints there).
pub fn ns_pid(pid: i32) -> Option<i32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

/// Every PID in `/proc`.
pub fn all_pids() -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .collect()
}

/// Every process whose parent is `parent`, with its state letter.
pub fn children_of(parent: i32) -> Vec<(i32, char)> {
    all_pids()
        .into_iter()
        .filter_map(|pid| {
            let (state, ppid) = stat(pid)?;
            (ppid == parent).then_some((pid, state))
        })
        .collect()
}

/// The host PID of the only child of `parent`; panics unless there is exactly one.
pub fn child_of(parent: i32) -> i32 {
    let children: Vec<i32> = children_of(parent)
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    assert_eq!(children.len(), 1, "children of {parent}: {children:?}");
    children[0]
}

/// Every descendant of `root` (children, their children, ...), with its state.
pub fn descendants_of(root: i32) -> Vec<(i32, char)> {
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for (pid, state) in children_of(parent) {
            queue.push(pid);
            found.push((pid, state));
        }
    }
    found
}

/// Live (not zombie) processes whose session is `session`.
pub fn session_members(session: i32) -> Vec<i32> {
    let session = session.to_string();
    all_pids()
        .into_iter()
        .filter(|&pid| {
            stat_fields(pid).is_some_and(|fields| {
                fields.first().map(String::as_str) != Some("Z") && fields.get(3) == Some(&session)
            })
        })
        .collect()
}

/// The `Sig*` lines of a `/proc/<pid>/status` dump.
pub fn signal_lines(status: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(status)
        .lines()
        .filter(|l| l.starts_with("SigIgn") || l.starts_with("SigBlk") || l.starts_with("SigCgt"))
        .map(str::to_string)
        .collect()
}

/// The `SigIgn` mask in lines of a `/proc/<pid>/status` dump, if there is one.
pub fn ignored_mask(lines: &str) -> Option<u64> {
    lines
        .lines()
        .find_map(|l| l.trim().strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
}

/// A signal-set field (`ShdPnd`, `SigBlk`, `SigIgn`, ...) of `/proc/<pid>/status`.
pub fn status_mask(pid: i32, field: &str) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let value = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?;
    u64::from_str_radix(value.trim(), 16).ok()
}

/// The bit of signal `sig` in a `/proc/<pid>/status` signal set.
pub fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}
