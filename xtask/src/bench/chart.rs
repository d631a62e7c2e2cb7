//! The chart of the benchmark: the distribution of the app's start after
//! the proxy turned ready (the detection lag), the gate's default schedule
//! against a fixed 1 s poll (the original linkerd-await 0.3's), as two
//! empirical CDFs on one logarithmic axis. Plain SVG written by hand: no
//! plotting crate for two lines and two axes.

use std::fmt::Write as _;

use super::measure::LagRun;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 400.0;
/// Room for the axes' labels.
const LEFT: f64 = 60.0;
const RIGHT: f64 = 20.0;
/// Room for the title and the legend above the plot.
const TOP: f64 = 76.0;
const BOTTOM: f64 = 50.0;
/// The lag axis, in ms (logarithmic): from a millisecond to past the
/// 1 s poll's worst case.
const MIN_MS: f64 = 1.0;
const MAX_MS: f64 = 2000.0;

/// One run's line: its label, colour and sorted lags.
struct Series<'a> {
    label: &'a str,
    colour: &'static str,
    lags: Vec<f64>,
}

/// The SVG, or `None` when neither run has trials (a partial run).
pub fn lag_cdf(gate: &LagRun, poll_1s: &LagRun) -> Option<String> {
    let series: Vec<Series> = [(gate, "#1f77b4"), (poll_1s, "#d62728")]
        .into_iter()
        .map(|(run, colour)| {
            let mut lags: Vec<f64> = run.trials.iter().map(|t| t.lag_ms).collect();
            lags.sort_by(f64::total_cmp);
            Series {
                label: run.label,
                colour,
                lags,
            }
        })
        .filter(|s| !s.lags.is_empty())
        .collect();
    if series.is_empty() {
        return None;
    }
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |ms: f64| {
        let ms = ms.clamp(MIN_MS, MAX_MS);
        LEFT + (ms / MIN_MS).ln() / (MAX_MS / MIN_MS).ln() * plot_w
    };
    let y = |fraction: f64| TOP + (1.0 - fraction) * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>
<text x="{LEFT}" y="22" font-size="14">App start after the proxy turned ready (detection lag): share of trials at or below</text>
"#
    );
    // Grid and axis labels: decades and their halves on x, quarters on y.
    for ms in [
        1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0,
    ] {
        let gx = x(ms);
        let label = if ms >= 1000.0 {
            format!("{}s", ms / 1000.0)
        } else {
            format!("{ms}ms")
        };
        let _ = writeln!(
            svg,
            r##"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{:.1}" stroke="#ddd"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle">{label}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 16.0
        );
    }
    for quarter in 0..=4 {
        let fraction = f64::from(quarter) / 4.0;
        let gy = y(fraction);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}%</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            gy + 4.0,
            quarter * 25
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">lag (log scale)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 10.0
    );
    for (n, s) in series.iter().enumerate() {
        // A step line: the share of trials at or below each lag.
        let mut points = format!("{:.1},{:.1}", x(s.lags[0]), y(0.0));
        for (i, lag) in s.lags.iter().enumerate() {
            let before = i as f64 / s.lags.len() as f64;
            let after = (i + 1) as f64 / s.lags.len() as f64;
            let _ = write!(
                points,
                " {:.1},{:.1} {:.1},{:.1}",
                x(*lag),
                y(before),
                x(*lag),
                y(after)
            );
        }
        let median = super::stats::median(&s.lags).unwrap_or(0.0);
        let ly = 44.0 + 18.0 * n as f64;
        let _ = writeln!(
            svg,
            r#"<polyline points="{points}" fill="none" stroke="{}" stroke-width="2"/>
<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{}" stroke-width="2"/><text x="{:.1}" y="{:.1}">{} (median {:.0} ms, {} trials)</text>"#,
            s.colour,
            LEFT + 10.0,
            ly - 4.0,
            LEFT + 30.0,
            ly - 4.0,
            s.colour,
            LEFT + 36.0,
            ly,
            escape(s.label),
            median,
            s.lags.len()
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
