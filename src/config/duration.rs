//! Duration syntax shared by every `<DUR>` option.
//!
//! Accepts what the original linkerd-await accepted (a bare `0`, or a number
//! with one of `ms`, `s`, `m`, `h`, `d`, with surrounding whitespace) plus
//! compound forms such as `1m30s`. Everything else is rejected with a reason,
//! because a silently misread timeout in a manifest is worse than a pod that
//! refuses to start and says why.

use std::time::Duration;

/// Shown in every error so the user sees a valid spelling next to the bad one.
pub const EXAMPLES: &str = "e.g. 0, 500ms, 5s, 2m, 1h, 1d or 1m30s";

/// The largest duration any option accepts: ten years, far beyond any
/// sensible wait, yet small enough that every use is safe. `Instant::now() +
/// d` panics on overflow (the deadline, one check, the shutdown requests all
/// do it), and backon grows a delay by at most the factor (100) in f32 seconds;
/// both are far from their limits here (about 3e10 s against 9e18 s).
pub const MAX: Duration = Duration::from_secs(MAX_DAYS * 24 * 60 * 60);
const MAX_DAYS: u64 = 3650;

/// Parses a duration such as `500ms`, `5s` or `1m30s`.
pub fn parse(input: &str) -> Result<Duration, String> {
    let text = input.trim();
    if text.is_empty() {
        return Err(format!("empty duration ({EXAMPLES})"));
    }
    // A bare zero has always meant "no duration"; any other bare number is
    // ambiguous (seconds? milliseconds?) so it is refused.
    if text.bytes().all(|b| b == b'0') {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(format!("expected a number at '{rest}' ({EXAMPLES})"));
        }
        let (number, tail) = rest.split_at(digits);
        let unit_len = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_len);
        // A number too large for u64 is certainly too large a duration.
        let value: u64 = number.parse().map_err(|_| too_large(text))?;
        let part = match unit {
            "ms" => Some(Duration::from_millis(value)),
            "s" => Some(Duration::from_secs(value)),
            "m" => value.checked_mul(60).map(Duration::from_secs),
            "h" => value.checked_mul(60 * 60).map(Duration::from_secs),
            "d" => value.checked_mul(24 * 60 * 60).map(Duration::from_secs),
            "" => return Err(format!("'{number}' has no unit ({EXAMPLES})")),
            other => return Err(format!("unknown unit '{other}' ({EXAMPLES})")),
        };
        total = part
            .and_then(|p| total.checked_add(p))
            .filter(|t| *t <= MAX)
            .ok_or_else(|| too_large(text))?;
        rest = tail;
    }
    Ok(total)
}

fn too_large(text: &str) -> String {
    format!("'{text}' is too large; the largest accepted duration is {MAX_DAYS}d ({EXAMPLES})")
}

/// Formats a duration for log lines in the syntax of the options, so what
/// a message says can be typed back: `250ms`, `1s`, `1s230ms`, and from a
/// minute on whole seconds (`2m`, `1m30s`, `1h0m5s`, `3650d`), so a
/// message about `--timeout 2m` says `after 2m`, not `after 120.00s`.
pub fn human(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        return match (d.as_secs(), d.subsec_millis()) {
            (0, ms) => format!("{ms}ms"),
            (s, 0) => format!("{s}s"),
            (s, ms) => format!("{s}s{ms}ms"),
        };
    }
    // Rounded to the second: the milliseconds a deadline overshoots by mean
    // nothing at this scale.
    let secs = d.as_secs() + u64::from(d.subsec_millis() >= 500);
    let (days, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let mut shown = if days > 0 {
        format!("{days}d")
    } else {
        String::new()
    };
    // Zero parts are written only between two that are not (`1h0m5s`).
    let parts = [(h, "h"), (m, "m"), (s, "s")];
    let first = if days > 0 {
        Some(0)
    } else {
        parts.iter().position(|(n, _)| *n != 0)
    };
    if let (Some(first), Some(last)) = (first, parts.iter().rposition(|(n, _)| *n != 0)) {
        for (n, unit) in &parts[first..=last] {
            shown.push_str(&format!("{n}{unit}"));
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_everything_the_original_accepted() {
        let cases = [
            ("0", Duration::ZERO),
            ("000", Duration::ZERO),
            ("0ms", Duration::ZERO),
            ("1ms", Duration::from_millis(1)),
            ("500ms", Duration::from_millis(500)),
            ("1s", Duration::from_secs(1)),
            ("10s", Duration::from_secs(10)),
            ("1m", Duration::from_secs(60)),
            ("2h", Duration::from_secs(7200)),
            ("1d", Duration::from_secs(86400)),
            ("  5s ", Duration::from_secs(5)),
            ("\t1m\n", Duration::from_secs(60)),
        ];
        for (input, want) in cases {
            assert_eq!(parse(input), Ok(want), "input {input:?}");
        }
    }

    #[test]
    fn accepts_compound_forms() {
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1h1m1s1ms"), Ok(Duration::from_millis(3_661_001)));
        assert_eq!(parse("1s500ms"), Ok(Duration::from_millis(1500)));
    }

    #[test]
    fn rejects_with_a_reason_and_an_example() {
        for input in [
            "",
            " ",
            "5",
            "-1s",
            "1x",
            "s",
            "1.5s",
            "1 s",
            "1s 2m",
            "+1s",
            "1S",
            "ms",
            "1sm",
            "99999999999999999999s",
            "18446744073709551615d",
            "1m5",
        ] {
            let err = parse(input).expect_err(input);
            assert!(err.contains("e.g."), "{input:?}: {err}");
        }
    }

    #[test]
    fn the_largest_duration_is_accepted_and_no_more() {
        assert_eq!(parse("3650d"), Ok(MAX));
        assert_eq!(parse("87600h"), Ok(MAX));
        for input in [
            "3650d1ms",
            "3651d",
            "106751991167301d",
            "10000000000000000000s",
            "18446744073709551615ms",
            "99999999999999999999999s",
        ] {
            let err = parse(input).expect_err(input);
            assert!(
                err.contains("largest accepted duration is 3650d"),
                "{input}: {err}"
            );
            assert!(err.contains(&format!("'{input}'")), "{input}: {err}");
        }
    }

    proptest::proptest! {
        // No regression files in the source tree: a failure prints its minimal input.
        #![proptest_config(proptest::test_runner::Config {
            cases: 1000,
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn arbitrary_text_never_panics(input in proptest::prelude::any::<String>()) {
            check(&input)?;
        }

        /// Mostly well-formed input with huge numbers, where overflow lives.
        #[test]
        fn duration_shaped_text_never_panics(
            input in "\\s?([0-9]{1,22}(ms|s|m|h|d|)){1,4}\\s?"
        ) {
            check(&input)?;
        }
    }

    /// What every parsed duration must allow: a deadline from now.
    fn check(input: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        if let Ok(d) = parse(input) {
            proptest::prop_assert!(d <= MAX, "{input:?} gave {d:?}");
            proptest::prop_assert!(std::time::Instant::now().checked_add(d).is_some());
        }
        Ok(())
    }

    #[test]
    fn human_is_short() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_millis(1234)), "1s234ms");
        for (ms, shown) in [
            (59_994, "59s994ms"),
            (120_003, "2m"),
            (90_400, "1m30s"),
            (3_605_000, "1h0m5s"),
            (7_200_000, "2h"),
            (3_660_000, "1h1m"),
            (1_000, "1s"),
            (1_500, "1s500ms"),
            (86_400_000, "1d"),
            (90_000_000, "1d1h"),
            (86_405_000, "1d0h0m5s"),
            (MAX.as_millis() as u64, "3650d"),
        ] {
            assert_eq!(human(Duration::from_millis(ms)), shown, "{ms} ms");
            // What a log line says can be typed back as an option.
            let back = parse(shown).expect("parses");
            assert!(back.abs_diff(Duration::from_millis(ms)) < Duration::from_secs(1));
        }
    }
}
