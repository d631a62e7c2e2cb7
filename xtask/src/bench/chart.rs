//! The chart of the benchmark: the distribution of the app's start after
//! the proxy turned ready (the detection lag), the gate's default schedule
//! against a fixed 1 s poll (the original linkerd-await 0.3's), as two
//! empirical CDFs on one logarithmic axis. Plain SVG written by hand: no
//! plotting crate for two lines and two axes.

use std::fmt::Write as _;

use super::measure::LagRun;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 400.0;
/// Room for the axes' labels (the fleet's chart too, `fleet/chart.rs`).
pub(super) const LEFT: f64 = 60.0;
pub(super) const RIGHT: f64 = 20.0;
pub(super) const BOTTOM: f64 = 50.0;
/// Room for the title and the legend above the plot.
const TOP: f64 = 76.0;
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
    let mut svg = open(
        WIDTH,
        HEIGHT,
        "App start after the proxy turned ready (detection lag): share of trials at or below",
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
            r#"<polyline points="{points}" fill="none" stroke="{}" stroke-width="2"/>"#,
            s.colour
        );
        let label = format!(
            "{} (median {median:.0} ms, {} trials)",
            s.label,
            s.lags.len()
        );
        legend(&mut svg, ly, s.colour, false, &label);
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

/// An SVG of `width` × `height` on white, with its `title`: the bench's
/// charts' frame.
pub(super) fn open(width: f64, height: f64, title: &str) -> String {
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">
<rect width="{width}" height="{height}" fill="white"/>
<text x="{LEFT}" y="22" font-size="14">{}</text>
"#,
        escape(title)
    )
}

/// One row of a chart's legend, its text's baseline at `y`: a short line in
/// the series' colour (dashed for a baseline), then `text`.
pub(super) fn legend(svg: &mut String, y: f64, colour: &str, dashed: bool, text: &str) {
    let dash = if dashed {
        r#" stroke-dasharray="5 3""#
    } else {
        ""
    };
    let _ = writeln!(
        svg,
        r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"{dash}/><text x="{:.1}" y="{y:.1}">{}</text>"#,
        LEFT + 10.0,
        y - 4.0,
        LEFT + 30.0,
        y - 4.0,
        LEFT + 36.0,
        escape(text)
    );
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
