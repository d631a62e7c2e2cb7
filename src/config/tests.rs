//! The config's defaults and precedence, read from argv and a map of variables.

use std::collections::HashMap;

use clap::error::ErrorKind;

use super::{command_line::is_blank, *};

pub(super) fn argv(words: &[&str]) -> Vec<OsString> {
    std::iter::once("linkerd-await")
        .chain(words.iter().copied())
        .map(OsString::from)
        .collect()
}

fn config(words: &[&str], vars: &[(&str, &str)]) -> Result<Config, Error> {
    let args = parse(&mut command(), &argv(words)).expect("test argv parses");
    let vars: HashMap<String, OsString> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), OsString::from(v)))
        .collect();
    from_args(args, |name| {
        vars.get(name).cloned().filter(|v| !is_blank(v))
    })
}

fn shutdown_urls(c: &Config) -> Vec<String> {
    match &c.handoff {
        Handoff::Supervise(_, s) => s.urls.iter().map(Url::to_string).collect(),
        other => panic!("not supervising: {other:?}"),
    }
}

#[test]
fn defaults_are_linkerds() {
    let c = config(&[], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:4191/ready");
    assert_eq!(c.timeout, None);
    assert_eq!(c.on_timeout, OnTimeout::Fail);
    assert!(matches!(c.handoff, Handoff::Exit));
    assert_eq!(c.backoff.max, Duration::from_millis(50));
    assert_eq!(c.backoff.initial, Duration::from_millis(5));
}

#[test]
fn port_from_flag_then_proxy_admin_addr() {
    let c = config(&["-p", "5000"], &[(PROXY_ADMIN_ADDR_VAR, "0.0.0.0:6000")]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:5000/ready");
    let c = config(&[], &[(PROXY_ADMIN_ADDR_VAR, "[::]:6000")]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:6000/ready");
    let err = config(&[], &[(PROXY_ADMIN_ADDR_VAR, "nope")]).unwrap_err();
    assert!(err.to_string().contains(PROXY_ADMIN_ADDR_VAR), "{err}");
}

#[test]
fn mesh_presets() {
    let c = config(&["--mesh", "istio", "-S", "/job"], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:15021/healthz/ready");
    assert_eq!(shutdown_urls(&c), ["http://localhost:15020/quitquitquit"]);
    let c = config(&["--mesh", "envoy", "-S", "/job"], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:9901/ready");
    assert_eq!(shutdown_urls(&c), ["http://localhost:9901/quitquitquit"]);
    let c = config(&["-S", "/job"], &[]).unwrap();
    assert_eq!(shutdown_urls(&c), ["http://localhost:4191/shutdown"]);
}

#[test]
fn explicit_parts_override_the_preset() {
    let c = config(&["--mesh", "istio", "-p", "1234", "-S", "/job"], &[]).unwrap();
    assert_eq!(c.ready_url.as_str(), "http://localhost:1234/healthz/ready");
    assert_eq!(shutdown_urls(&c), ["http://localhost:15020/quitquitquit"]);
    let c = config(
        &[
            "-u",
            "http://127.0.0.1:7/r?x",
            "--shutdown-uri",
            "http://[::1]:8/q",
            "--shutdown-uri",
            "http://localhost:9/z",
            "-S",
            "/job",
        ],
        &[],
    )
    .unwrap();
    assert_eq!(c.ready_url.as_str(), "http://127.0.0.1:7/r?x");
    assert_eq!(
        shutdown_urls(&c),
        ["http://[::1]:8/q", "http://localhost:9/z"]
    );
    let c = config(&["-u", "http://127.0.0.1:7/r?x", "-S", "/job"], &[]).unwrap();
    assert_eq!(shutdown_urls(&c), ["http://127.0.0.1:7/shutdown"]);
}

#[test]
fn disabled_by_either_variable_when_non_empty() {
    assert!(
        config(&[], &[("LINKERD_AWAIT_DISABLED", "")])
            .unwrap()
            .disabled
            .is_none()
    );
    assert!(
        config(&[], &[("LINKERD_DISABLED", " \t")])
            .unwrap()
            .disabled
            .is_none()
    );
    assert!(
        config(&[], &[("LINKERD_DISABLED", "1")])
            .unwrap()
            .disabled
            .is_some()
    );
    assert!(
        config(&[], &[("LINKERD_AWAIT_DISABLED", "x")])
            .unwrap()
            .disabled
            .is_some()
    );
}

#[test]
fn zero_timeout_waits_forever() {
    assert_eq!(config(&["-t", "0"], &[]).unwrap().timeout, None);
    assert_eq!(
        config(&["-t", "2s"], &[]).unwrap().timeout,
        Some(Duration::from_secs(2))
    );
}

#[test]
fn backoff_grows_to_the_cap() {
    let c = config(&[], &[]).unwrap();
    // backon multiplies in f32, so allow a millisecond of rounding.
    let delays: Vec<u128> = c.backoff.delays().take(6).map(|d| d.as_millis()).collect();
    for (got, want) in delays.iter().zip([5, 10, 20, 40, 50, 50]) {
        assert!(got.abs_diff(want) <= 1, "{delays:?}");
    }
    let c = config(&["-b", "0"], &[]).unwrap();
    assert!(c.backoff.delays().take(3).all(|d| d == MIN_DELAY));
    let c = config(
        &[
            "-b",
            "1s",
            "--backoff-factor",
            "1",
            "--backoff-initial",
            "1s",
        ],
        &[],
    )
    .unwrap();
    assert!(
        c.backoff
            .delays()
            .take(3)
            .all(|d| d == Duration::from_secs(1))
    );
}

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

/// The shutdown settings of a `--shutdown-now` command line.
fn shutdown_now(argv: &[&str]) -> Shutdown {
    match config(argv, &[]).unwrap().handoff {
        Handoff::ShutdownNow(shutdown) => shutdown,
        other => panic!("{other:?}"),
    }
}

#[test]
fn shutdown_now_asks_the_meshs_shutdown_urls_and_watches_its_readiness_address() {
    let shutdown = shutdown_now(&[
        "--shutdown-now",
        "--mesh",
        "istio",
        "--shutdown-timeout",
        "2s",
    ]);
    assert_eq!(
        shutdown.urls.iter().map(Url::as_str).collect::<Vec<_>>(),
        ["http://localhost:15020/quitquitquit"]
    );
    assert_eq!(
        shutdown.proxy.as_str(),
        "http://localhost:15021/healthz/ready"
    );
    assert_eq!(shutdown.timeout, Duration::from_secs(2));
    let shutdown = shutdown_now(&[
        "--shutdown-now",
        "-p",
        "5000",
        "--shutdown-uri",
        "http://127.0.0.1:1/q",
    ]);
    assert_eq!(
        shutdown.urls.iter().map(Url::as_str).collect::<Vec<_>>(),
        ["http://127.0.0.1:1/q"]
    );
    assert_eq!(shutdown.proxy.as_str(), "http://localhost:5000/ready");
}

#[test]
fn shutdown_uri_variable_is_a_comma_separated_list() {
    let c = config(
        &["-S", "/job"],
        &[(
            SHUTDOWN_URI_VAR,
            " http://127.0.0.1:1/a?x=1 ,http://[::1]:2/b,",
        )],
    )
    .unwrap();
    assert_eq!(
        shutdown_urls(&c),
        ["http://127.0.0.1:1/a?x=1", "http://[::1]:2/b"]
    );
    // A typed URL keeps its comma and replaces the variable's list.
    let c = config(
        &["--shutdown-uri", "http://127.0.0.1:1/q?a=1,2", "-S", "/job"],
        &[(SHUTDOWN_URI_VAR, "http://127.0.0.1:1/other")],
    )
    .unwrap();
    assert_eq!(shutdown_urls(&c), ["http://127.0.0.1:1/q?a=1,2"]);
    let err = config(&["-S", "/job"], &[(SHUTDOWN_URI_VAR, "http://a/,ftp://b/")]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(SHUTDOWN_URI_VAR) && text.contains("'ftp://b/'"),
        "{text}"
    );
    assert!(matches!(
        err.outcome(),
        crate::report::exit_code::Outcome::Usage
    ));
}

/// Every spelling of our options: `--long`, `-s`.
fn flag_names() -> Vec<String> {
    command()
        .get_arguments()
        .flat_map(|arg| {
            let long = arg.get_long().map(|l| format!("--{l}"));
            let short = arg.get_short().map(|s| format!("-{s}"));
            long.into_iter().chain(short)
        })
        .collect()
}

/// A value: mostly duration-shaped (huge numbers are where durations
/// overflow), else any text.
fn value() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        3 => "\\s?[0-9]{1,22}(ms|s|m|h|d)\\s?",
        // Around the sizes that overflowed `Instant + d` before the limit.
        2 => "[1-9][0-9]{13,19}(s|d)",
        1 => "[0-9]{1,3}(ms|s)",
        2 => any::<String>(),
    ]
}

/// Some words of a command line: one of our flags, alone, with its value
/// attached, or followed by it; or any word at all.
fn words() -> impl proptest::strategy::Strategy<Value = Vec<String>> {
    use proptest::{prelude::*, sample::select};
    let flags = flag_names();
    prop_oneof![
        2 => select(flags.clone()).prop_map(|f| vec![f]),
        2 => (select(flags.clone()), value()).prop_map(|(f, v)| vec![format!("{f}={v}")]),
        4 => (select(flags), value()).prop_map(|(f, v)| vec![f, v]),
        1 => any::<String>().prop_map(|w| vec![w]),
        1 => Just(vec!["--".to_string()]),
    ]
}

/// What every loaded config must allow: each duration as a deadline from
/// now, and the backoff's delays.
fn check_durations(c: &Config) -> Result<(), proptest::test_runner::TestCaseError> {
    let now = std::time::Instant::now();
    let mut durations = vec![c.attempt_timeout, c.backoff.initial, c.backoff.max];
    durations.extend(c.timeout);
    if let Handoff::Supervise(_, shutdown) = &c.handoff {
        durations.push(shutdown.timeout);
    }
    durations.extend(c.backoff.delays().take(40));
    for d in durations {
        proptest::prop_assert!(d <= crate::config::duration::MAX, "{d:?} in {c:?}");
        proptest::prop_assert!(now.checked_add(d).is_some(), "{d:?} in {c:?}");
    }
    Ok(())
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

#[test]
fn termination_log_typed_or_default() {
    let c = config(&[], &[]).unwrap();
    assert_eq!(c.termination_log, TerminationLog::Default);
    let c = config(&["--termination-log", "/tmp/t"], &[]).unwrap();
    assert_eq!(
        c.termination_log,
        TerminationLog::Path(PathBuf::from("/tmp/t"))
    );
    let c = config(&["--termination-log="], &[]).unwrap();
    assert_eq!(c.termination_log, TerminationLog::Off);
    // Read from what was typed even when the rest cannot be read.
    let early = |words: &[&str]| rejected_termination_log(&argv(words));
    assert_eq!(
        early(&["--bogus", "--termination-log", "/tmp/t", "-t", "x"]),
        TerminationLog::Path(PathBuf::from("/tmp/t"))
    );
    assert_eq!(
        early(&["--termination-log=", "-t", "x"]),
        TerminationLog::Off
    );
    assert_eq!(early(&["-t", "x"]), TerminationLog::Default);
}

proptest::proptest! {
    // No regression files in the source tree: a failure prints its minimal input.
    #![proptest_config(proptest::test_runner::Config {
        cases: 300,
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    })]

    #[test]
    fn arbitrary_command_lines_never_panic(
        items in proptest::collection::vec(words(), 0..5)
    ) {
        let words: Vec<&str> = items.iter().flatten().map(String::as_str).collect();
        let argv = argv(&words);
        let _ = log_format(&command(), &argv);
        let _ = rejected_termination_log(&argv);
        if let Ok(Loaded::Config(c)) = load(&argv) {
            check_durations(&c)?;
        }
    }

    #[test]
    fn arbitrary_variables_never_panic(
        shutdown_uri in proptest::prelude::any::<String>(),
        admin_addr in proptest::prelude::any::<String>(),
    ) {
        let _ = config(
            &["-S", "/job"],
            &[(SHUTDOWN_URI_VAR, &shutdown_uri), (PROXY_ADMIN_ADDR_VAR, &admin_addr)],
        );
    }
}
