//! Options that exclude each other, and what belongs to the app.

use super::*;
use clap::error::ErrorKind;

#[test]
fn command_after_cmd_belongs_to_the_app() {
    let c = config(&["/app", "--timeout", "5s", "-v"], &[]).unwrap();
    assert_eq!(c.timeout, None);
    match c.handoff {
        Handoff::Exec(command) => {
            assert_eq!(command.program, "/app");
            assert_eq!(command.args, ["--timeout", "5s", "-v"]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn each_exclusive_pair_conflicts_only_when_both_are_typed() {
    for (words, conflict) in [
        (
            &["-p", "1", "-u", "http://127.0.0.1:2/r"][..],
            Some("'--uri <URL>' cannot be used with '--port <PORT>'"),
        ),
        (
            &["-v", "-q"][..],
            Some("'--verbose' cannot be used with '--quiet'"),
        ),
        (
            &["-vq"][..],
            Some("'--verbose' cannot be used with '--quiet'"),
        ),
        (
            &["--shutdown-now", "-S", "/job"][..],
            Some("'--shutdown-now' cannot be used with '--shutdown'"),
        ),
        (
            &["--shutdown-now", "--", "/job"][..],
            Some("--shutdown-now runs no command"),
        ),
        (&["-p", "1"][..], None),
        (&["-q"][..], None),
        (&["--shutdown-now"][..], None),
    ] {
        match (parse(&mut command(), &argv(words)), conflict) {
            (Err(e), Some(message)) => {
                assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{words:?}");
                assert!(e.to_string().contains(message), "{words:?}: {e}");
            }
            (Ok(_), None) => {}
            (got, _) => panic!("{words:?}: {:?}", got.map(|_| ())),
        }
    }
    let c = config(&["-q"], &[]).unwrap();
    assert_eq!(c.log.filter, "error");
}

#[test]
fn install_takes_no_command_and_no_shutdown() {
    let c = config(&["--install", " /shared "], &[]).unwrap();
    assert_eq!(c.install, Some(PathBuf::from("/shared")));
    assert!(matches!(c.handoff, Handoff::Exit));
    for words in [
        &["--install", "/shared", "/app"][..],
        &["--install", "/shared", "--", "/app"][..],
        &["--install", "/shared", "-S", "/app"][..],
    ] {
        let Err(e) = parse(&mut command(), &argv(words)) else {
            panic!("{words:?} must be refused");
        };
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{words:?}");
        assert!(e.to_string().contains("--install"), "{e}");
    }
}
