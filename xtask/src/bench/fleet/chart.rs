//! The fleet's chart: connections per 100 ms at the database over time,
//! one line per schedule (dashed: the `--baseline` gate's), with the
//! server's phases marked. Plain SVG, as the lag chart (`bench/chart.rs`);
//! the count axis is logarithmic, so the 1 s schedules and the 100 ms one
//! read on one chart.

use std::fmt::Write as _;

use super::figures::{BUCKET_MS, READY_AT_MS, REFUSING_MS};
use crate::bench::chart::{BOTTOM, LEFT, RIGHT, legend, open};

const WIDTH: f64 = 760.0;
const PLOT_H: f64 = 276.0;
/// The time axis: the phases and the last apps' start after them.
const END_MS: f64 = 21_000.0;
const COLOURS: [&str; 4] = ["#1f77b4", "#ff7f0e", "#d62728", "#2ca02c"];

/// One schedule's line: its label and counts per 100 ms.
pub struct Line<'a> {
    pub label: &'a str,
    pub counts: &'a [u64],
    /// The schedule's, so that a baseline's line has its counterpart's.
    pub colour: usize,
    pub dashed: bool,
}

pub fn connections(title: &str, lines: &[Line]) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = PLOT_H;
    // Below the title and one legend row a line.
    let top_y = 46.0 + 16.0 * lines.len() as f64;
    let height = top_y + PLOT_H + BOTTOM;
    let top = lines
        .iter()
        .flat_map(|l| l.counts.iter().copied())
        .max()
        .unwrap_or(1)
        .max(10);
    // Decades up to the busiest bucket: 1, 10, 100, ...
    let decades = (top as f64).log10().ceil().max(1.0);
    let x = |ms: f64| LEFT + ms.clamp(0.0, END_MS) / END_MS * plot_w;
    let y = |count: u64| top_y + (1.0 - ((count as f64) + 1.0).log10() / decades) * plot_h;
    let mut svg = open(WIDTH, height, title);
    for decade in 0..=decades as u32 {
        let count = 10u64.pow(decade).saturating_sub(1);
        let gy = y(count);
        let _ = writeln!(
            svg,
            r##"<line x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            gy + 4.0,
            10u64.pow(decade)
        );
    }
    for s in (0..=END_MS as u64 / 1000).step_by(2) {
        let gx = x(s as f64 * 1000.0);
        let _ = writeln!(
            svg,
            r#"<text x="{gx:.1}" y="{:.1}" text-anchor="middle">{s}s</text>"#,
            top_y + plot_h + 16.0
        );
    }
    // The server's phases.
    for (at, name) in [
        (0, "refusing"),
        (REFUSING_MS, "starting up"),
        (READY_AT_MS, "ready"),
    ] {
        let gx = x(at as f64);
        let _ = writeln!(
            svg,
            r##"<line x1="{gx:.1}" y1="{top_y}" x2="{gx:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="4 3"/><text x="{:.1}" y="{:.1}" fill="#555">{name}</text>"##,
            top_y + plot_h,
            gx + 4.0,
            top_y + 12.0
        );
    }
    let _ = writeln!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">time since the first gate started (connections per 100 ms, log scale)</text>"#,
        LEFT + plot_w / 2.0,
        height - 10.0
    );
    for (n, line) in lines.iter().enumerate() {
        let colour = COLOURS[line.colour % COLOURS.len()];
        let dash = if line.dashed {
            r#" stroke-dasharray="5 3""#
        } else {
            ""
        };
        let points: Vec<String> = line
            .counts
            .iter()
            .enumerate()
            .map(|(i, &count)| format!("{:.1},{:.1}", x((i as u64 * BUCKET_MS) as f64), y(count)))
            .collect();
        let ly = 44.0 + 16.0 * n as f64;
        let _ = writeln!(
            svg,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>"#,
            points.join(" "),
        );
        legend(&mut svg, ly, colour, line.dashed, line.label);
    }
    svg.push_str("</svg>\n");
    svg
}
