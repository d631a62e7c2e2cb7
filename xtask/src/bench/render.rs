//! The results rendered: a console table, and Markdown (bench/RESULTS.md).

use std::fmt::Write as _;

use crate::bench::{
    MUSL_ARM64,
    report::{Results, fmt_kib},
    rows::*,
    tls, wait_for,
};

pub fn console(results: &Results) -> String {
    let mut out = String::new();
    let m = &results.machine;
    let _ = writeln!(
        out,
        "\nlinkerd-await benchmark{} — {}",
        if results.quick { " (--quick)" } else { "" },
        m.date_utc
    );
    let _ = writeln!(out, "machine: {}", machine_line(m));
    let _ = writeln!(out, "gate:    {}", results.gate_path);
    for note in &results.notes {
        let _ = writeln!(out, "NOTE:    {note}");
    }
    out.push('\n');
    out += &text_table(&VERDICT_HEAD, &verdict_rows(results));

    let _ = writeln!(out, "\n1. detection lag, default settings");
    let _ = writeln!(out, "   {}", lag_line(results, &results.lag));
    let _ = writeln!(
        out,
        "   stand-in app's own exec-to-first-action (warm median subtracted): warm {}; after 1 s idle {}",
        summary_line(&results.stand_in_ms),
        summary_line(&results.stand_in_idle_ms)
    );
    let rows: Vec<Vec<String>> = per_delay(results, &results.lag)
        .into_iter()
        .map(Vec::from)
        .collect();
    out += &indent(&text_table(&PER_DELAY_HEAD, &rows));
    let _ = writeln!(
        out,
        "\n   context, not a budget: fixed 1 s poll like the original linkerd-await ({})",
        results.poll_1s.args.join(" ")
    );
    let _ = writeln!(out, "   {}", lag_line(results, &results.poll_1s));
    let rows: Vec<Vec<String>> = per_delay(results, &results.poll_1s)
        .into_iter()
        .map(Vec::from)
        .collect();
    out += &indent(&text_table(&PER_DELAY_HEAD, &rows));

    let _ = writeln!(out, "\n2. ready path (proxy already ready)");
    for line in ready_lines(&results.ready) {
        let _ = writeln!(out, "   {line}");
    }
    let _ = writeln!(out, "\n3. memory");
    out += &indent(&text_table(&MEMORY_HEAD, &memory_rows(results)));
    let _ = writeln!(
        out,
        "\n4. CPU while waiting 5 s: {}",
        cpu_line(&results.cpu)
    );
    let _ = writeln!(out, "\n5. size: {}", size_line(&results.size));
    if let Some(arm64) = &results.size_arm64 {
        let _ = writeln!(out, "   arm64: {}", size_line(arm64));
    }
    if let Some(w) = &results.wait_for {
        let _ = writeln!(out, "\n6. --wait-for, three PostgreSQL targets");
        for line in wait_for::lines(w) {
            let _ = writeln!(out, "   {line}");
        }
        for line in w.tls.iter().flat_map(tls::lines) {
            let _ = writeln!(out, "   {line}");
        }
        let _ = writeln!(out, "   memory: {}", fmt_kib(w.memory.peak.vm_hwm_kib));
        let _ = writeln!(
            out,
            "   memory, one target of each kind: {}",
            w.every_kind.as_ref().map_or_else(
                || "not measured (this gate does not know every scheme)".to_string(),
                |m| fmt_kib(m.peak.vm_hwm_kib)
            )
        );
    }
    let _ = writeln!(out, "\nbenchmark took {:.0} s", results.took_s);
    out
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}

pub fn markdown(results: &Results) -> String {
    let m = &results.machine;
    let mut out = String::new();
    out += "<!-- Written by `cargo xtask bench`; do not edit by hand. -->\n";
    let _ = writeln!(
        out,
        "### Benchmark results{}\n",
        if results.quick { " (quick run)" } else { "" }
    );
    let _ = writeln!(
        out,
        "Measured {} on {} ({} CPUs, Linux {}, load average {} at start), {}, gate at commit {}: the release, stripped, static (musl) binary, {} bytes.\n",
        m.date_utc, m.cpu, m.nproc, m.kernel, m.loadavg, m.rustc, m.commit, results.size.bytes
    );
    out += &md_table(&VERDICT_HEAD, &verdict_rows(results));
    let _ = writeln!(
        out,
        "\n#### Detection lag (default settings)\n\n{}\n",
        lag_line(results, &results.lag)
    );
    let rows: Vec<Vec<String>> = per_delay(results, &results.lag)
        .into_iter()
        .map(Vec::from)
        .collect();
    out += &md_table(&PER_DELAY_HEAD, &rows);
    let _ = writeln!(
        out,
        "\nFor context only (not a budget): a fixed 1 s poll like the original linkerd-await (`{}`): {}\n",
        results.poll_1s.args.join(" "),
        lag_line(results, &results.poll_1s)
    );
    let rows: Vec<Vec<String>> = per_delay(results, &results.poll_1s)
        .into_iter()
        .map(Vec::from)
        .collect();
    out += &md_table(&PER_DELAY_HEAD, &rows);
    out += "\n#### Ready path (proxy already ready)\n\n";
    for line in ready_lines(&results.ready) {
        let _ = writeln!(
            out,
            "- {}",
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    out += "\n#### Memory\n\n";
    out += &md_table(&MEMORY_HEAD, &memory_rows(results));
    let _ = writeln!(
        out,
        "\n#### CPU while waiting 5 s\n\n{}",
        cpu_line(&results.cpu)
    );
    let _ = writeln!(out, "\n#### Size\n\n{}", size_line(&results.size));
    if let Some(arm64) = &results.size_arm64 {
        let _ = writeln!(out, "\narm64 (`{MUSL_ARM64}`): {}", size_line(arm64));
    }
    if let Some(w) = &results.wait_for {
        out += "\n#### --wait-for, three PostgreSQL targets\n\n";
        for line in wait_for::lines(w) {
            let _ = writeln!(out, "- {line}");
        }
        for line in w.tls.iter().flat_map(tls::lines) {
            let _ = writeln!(out, "- {line}");
        }
        let _ = writeln!(
            out,
            "- peak RSS while waiting for three targets: {}",
            fmt_kib(w.memory.peak.vm_hwm_kib)
        );
    }
    out += "\n#### How it is measured\n\n";
    for note in method_notes(results) {
        let _ = writeln!(out, "- {note}");
    }
    out
}
