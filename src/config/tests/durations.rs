//! Durations and the backoff they give, and arbitrary input: no command
//! line or variable panics the loader, and every duration it accepts is
//! safe as a deadline.

use super::*;

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
