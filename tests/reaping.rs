//! `--shutdown` mode reaps like an init: an orphan the app leaves behind is
//! re-parented to the gate (as subreaper, or as PID 1) and reaped as soon as
//! it ends, while the app runs; and the gate does not wait for orphans that
//! still run when the app exits.

mod common;
use common::*;

use std::{fs, path::Path, time::Duration};

/// The app leaves an orphan (a double fork) that ends while the app keeps
/// running. The orphan must be re-parented to the gate and reaped at once,
/// while the app runs.
fn orphan_of_the_app_is_reaped_while_the_app_runs(mut gate: Gate, dir: &Path, pid1: bool) {
    gate.wait_out("app ");
    let text = gate.out.wait_for("grandchild ", LIMIT);
    let field = |prefix: &str, index: usize| -> i32 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(index))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix:?} line in:\n{text}"))
    };
    // "grandchild <pid>" and "app <pid> parent <ppid>", as the app's namespace numbers them.
    let grandchild = field("grandchild ", 1);
    let app_parent = field("app ", 3);
    let want_parent = if pid1 { 1 } else { gate.pid };
    assert_eq!(app_parent, want_parent, "the app's parent is the gate");

    // The orphan's parent is now the gate: as subreaper, or as PID 1.
    let orphan = poll(LIMIT, || {
        children_of(gate.pid)
            .into_iter()
            .find(|&(pid, _)| ns_pid(pid) == Some(grandchild))
    });
    let (orphan, _) = orphan.unwrap_or_else(|| {
        panic!(
            "orphan {grandchild} never re-parented to the gate {}; gate's children: {:?}",
            gate.pid,
            children_of(gate.pid)
        )
    });

    touch(dir, "release-grandchild");
    let reaped = poll(Duration::from_secs(3), || {
        stat(orphan)
            .is_none_or(|(_, ppid)| ppid != gate.pid)
            .then_some(())
    });
    // The orphan itself: gone from the gate's children, not a zombie
    // under it. (Not every zombie below the gate: the app's own short-lived
    // children, its `sleep`s, are zombies for a moment until the app,
    // their parent, reaps them; that is the app's business, not the
    // gate's, and counting them made this test fail now and then.)
    assert!(
        reaped.is_some(),
        "the orphan ended but stays unreaped: {:?}",
        stat(orphan)
    );
    assert!(
        !children_of(gate.pid).iter().any(|&(pid, _)| pid == orphan),
        "the orphan is still the gate's child: {:?}",
        children_of(gate.pid)
    );
    assert!(
        !gate.out.text().contains("app exiting"),
        "the app was still running"
    );

    touch(dir, "release-app");
    assert_eq!(gate.code_within(LIMIT), 0, "{}", gate.err.text());
}

const LEAVE_AN_ORPHAN: &str = r#"d=$1
( sh -c 'echo grandchild $$; while [ -d "$1" ] && [ ! -e "$1/release-grandchild" ]; do sleep 0.01; done' grandchild "$d" & )
echo "app $$ parent $PPID"
while [ -d "$d" ] && [ ! -e "$d/release-app" ]; do sleep 0.01; done
echo "app exiting""#;

#[test]
fn orphan_of_the_app_is_reaped_by_the_gate_as_subreaper() {
    let proxy = proxy_answering(Reply::Status(200));
    let dir = temp_dir();
    let mut cmd = gate_for(&proxy);
    cmd.arg("-S");
    app(&mut cmd, LEAVE_AN_ORPHAN, &[path_arg(dir.path())]);
    let gate = Gate::spawn(&mut cmd);
    orphan_of_the_app_is_reaped_while_the_app_runs(gate, dir.path(), false);
}

#[test]
fn orphan_of_the_app_is_reaped_by_the_gate_as_pid1() {
    if !pid_namespaces_available("orphan_of_the_app_is_reaped_by_the_gate_as_pid1") {
        return;
    }
    let proxy = proxy_answering(Reply::Status(200));
    let dir = temp_dir();
    let mut cmd = gate_as_pid1_for(&proxy);
    cmd.arg("-S");
    app(&mut cmd, LEAVE_AN_ORPHAN, &[path_arg(dir.path())]);
    let gate = Gate::spawn_as_pid1(&mut cmd);
    orphan_of_the_app_is_reaped_while_the_app_runs(gate, dir.path(), true);
}

#[test]
fn gate_exits_with_the_app_while_an_orphan_of_the_app_still_runs() {
    let proxy = proxy_answering(Reply::Status(200));
    let dir = temp_dir();
    let mut cmd = gate_for(&proxy);
    cmd.arg("-S");
    app(
        &mut cmd,
        // The orphan records its PID; the app exits once the orphan runs.
        r#"( sh -c 'echo $$ > "$1/orphan.tmp"; mv "$1/orphan.tmp" "$1/orphan"; while [ -d "$1" ] && [ ! -e "$1/release" ]; do sleep 0.01; done' orphan "$1" & )
while [ ! -e "$1/orphan" ]; do sleep 0.01; done
exit 5"#,
        &[path_arg(dir.path())],
    );
    let mut gate = Gate::spawn(&mut cmd);
    assert_eq!(gate.code_within(LIMIT), 5, "{}", gate.err.text());
    let orphan: i32 = fs::read_to_string(dir.path().join("orphan"))
        .expect("orphan pid")
        .trim()
        .parse()
        .expect("orphan pid is a number");
    let state = stat(orphan).map(|(state, _)| state);
    assert!(
        state.is_some_and(|s| s != 'Z'),
        "the orphan still runs after the gate exited: {state:?}"
    );
    touch(dir.path(), "release");
}
