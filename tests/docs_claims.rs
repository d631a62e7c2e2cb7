//! What the README, the docs, the CHANGELOG and the example manifests claim,
//! held to the code, to the benchmark's record (`bench/results.json`) or to
//! each other, where a claim can be: a number the benchmark measured, an
//! annotation's place in a manifest, what the gate sends, what it reads.

use std::path::Path;

const README: &str = include_str!("../README.md");
const REFERENCE: &str = include_str!("../docs/reference.md");
const BENCHMARKS: &str = include_str!("../docs/benchmarks.md");
const CHANGELOG: &str = include_str!("../CHANGELOG.md");
const RESULTS_MD: &str = include_str!("../bench/RESULTS.md");
const RESULTS_JSON: &str = include_str!("../bench/results.json");
const FLEET_MD: &str = include_str!("../bench/FLEET.md");

fn results() -> serde_json::Value {
    serde_json::from_str(RESULTS_JSON).expect("bench/results.json is JSON")
}

/// A budget row of the benchmark's record, by its metric.
fn measured(metric: &str) -> f64 {
    results()["budgets"]
        .as_array()
        .expect("budgets")
        .iter()
        .find(|b| b["metric"] == metric)
        .and_then(|b| b["measured"].as_f64())
        .unwrap_or_else(|| panic!("no {metric:?} in bench/results.json"))
}

#[test]
fn the_size_the_readme_states_is_the_one_the_benchmark_measured() {
    let bytes = results()["size"]["bytes"].as_f64().expect("size.bytes");
    let mib = format!(
        "{:.2} MiB (amd64, static PIE, measured)",
        bytes / 1024.0 / 1024.0
    );
    assert!(README.contains(&mib), "the README's comparison row: {mib}");
    assert!(results()["size"]["static_pie"] == true);
}

#[test]
fn the_private_memory_the_changelog_states_is_the_one_the_benchmark_measured() {
    let kib = measured("private memory (RssAnon) while waiting");
    let said: f64 = CHANGELOG
        .split_once("it keeps about ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("the CHANGELOG's memory figure");
    assert!(
        (said - kib).abs() <= kib * 0.1,
        "CHANGELOG: about {said} KiB; measured {kib} KiB"
    );
}

#[test]
fn the_chart_is_credited_to_the_run_that_drew_it() {
    let commit = results()["machine"]["commit"]
        .as_str()
        .expect("the commit")
        .to_string();
    assert!(RESULTS_MD.contains(&format!("gate at commit {commit}")));
    assert!(
        BENCHMARKS.contains(&format!("This chart: the full run below, at {commit}")),
        "docs/benchmarks.md credits the chart to another run than {commit}"
    );
}

#[test]
fn the_readme_says_that_without_a_timeout_the_gate_waits_for_as_long_as_it_takes() {
    assert!(README.contains("Without `--timeout` it waits for as long as it takes"));
    assert!(!README.contains("waits the whole `--timeout`"));
}

/// Pasted at the Job's top level, the annotations never reach the proxy:
/// `/shutdown` answers 404 and the Job never completes.
#[test]
fn the_readme_s_job_snippet_puts_its_annotations_on_the_pod_template() {
    let snippet = README
        .split("```yaml")
        .find(|block| block.contains("proxy-admin-shutdown"))
        .and_then(|block| block.split("```").next())
        .expect("the Job snippet");
    let indent = |needle: &str| {
        snippet
            .lines()
            .find(|l| l.trim_start().starts_with(needle))
            .map(|l| l.len() - l.trim_start().len())
            .unwrap_or_else(|| panic!("no {needle} in:\n{snippet}"))
    };
    assert!(indent("template:") < indent("metadata:"), "{snippet}");
    assert!(indent("metadata:") < indent("annotations:"), "{snippet}");
    assert!(snippet.find("template:") < snippet.find("annotations:"));
}

/// 0.3 read three variables; each still works, and the migration says what
/// differs.
#[test]
fn the_migration_names_every_variable_0_3_read_and_what_behaves_differently() {
    for var in [
        "LINKERD_AWAIT_DISABLED",
        "LINKERD_DISABLED",
        "LINKERD_AWAIT_VERBOSE",
    ] {
        assert!(CHANGELOG.contains(var), "{var}");
    }
    for row in [
        "`-S` with `LINKERD_AWAIT_DISABLED`",
        "`-S` with `-t`",
        "Nothing printed on a normal start",
    ] {
        assert!(CHANGELOG.contains(row), "{row}");
    }
    assert!(!README.contains("keeps its meaning"));
    // Completions complete flags; the man page and --help name variables.
    assert!(!CHANGELOG.contains("completions name them all"));
}

/// An initContainer hangs only in front of a regular-sidecar proxy: every
/// sentence that says it hangs, or runs before the proxy, says which.
#[test]
fn an_init_container_is_said_to_hang_only_with_a_regular_sidecar() {
    let manifests = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes");
    let mut pages = vec![
        ("README.md".to_string(), README.to_string()),
        ("docs/reference.md".to_string(), REFERENCE.to_string()),
    ];
    for entry in std::fs::read_dir(&manifests).expect("the manifests") {
        let path = entry.expect("a manifest").path();
        let text = std::fs::read_to_string(&path).expect("a manifest");
        pages.push((path.display().to_string(), text));
    }
    for (page, text) in pages {
        // Paragraphs, as the page wraps them (a YAML comment block is one).
        for paragraph in text.split("\n\n").chain(text.split("\n#\n")) {
            let flat = paragraph
                .replace('#', " ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let says_it_hangs = flat.contains("initContainer")
                && (flat.contains("hangs") || flat.contains("runs before the proxy"));
            if says_it_hangs {
                assert!(
                    flat.contains("regular-sidecar") || flat.contains("regular sidecar"),
                    "{page}: says an initContainer hangs without saying with which proxy:\n{paragraph}"
                );
            }
        }
    }
}

/// Elasticsearch 8 answers 401 to a request without credentials, its health
/// included: an example that waits for its colour cannot pass there.
#[test]
fn no_example_waits_for_an_elasticsearch_colour_it_cannot_see() {
    let manifests = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kubernetes");
    for entry in std::fs::read_dir(&manifests).expect("the manifests") {
        let path = entry.expect("a manifest").path();
        let text = std::fs::read_to_string(&path).expect("a manifest");
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            assert!(
                !line.contains("_cluster/health"),
                "{}: {line}",
                path.display()
            );
        }
    }
    let example = README
        .split("```yaml")
        .find(|block| block.contains("LINKERD_AWAIT_WAIT_FOR"))
        .expect("the README's list example");
    assert!(
        !example
            .split("```")
            .next()
            .unwrap_or_default()
            .contains("_cluster/health")
    );
}

#[test]
fn what_the_postgres_check_sends_is_documented() {
    let check = include_str!("../src/wait/checks/postgres.rs");
    assert!(check.contains(r#"("application_name", "linkerd-await")"#));
    assert!(REFERENCE.contains("`application_name=linkerd-await`"));
}

#[test]
fn the_mesh_notes_name_what_bounds_the_wait_on_linkerd_s_http_path() {
    for setting in [
        "LINKERD2_PROXY_OUTBOUND_CONNECT_EXP_BACKOFF",
        "LINKERD2_PROXY_OUTBOUND_HTTP_FAILFAST_TIMEOUT",
    ] {
        assert!(REFERENCE.contains(setting), "{setting}");
    }
    assert!(README.contains("LINKERD2_PROXY_OUTBOUND_CONNECT_EXP_BACKOFF"));
}

/// The 404 hint names the native-sidecar annotation by its current name:
/// the `config.beta.` one is deprecated, and the docs say so.
#[test]
fn the_native_sidecar_annotation_is_named_by_its_current_name() {
    let requests = include_str!("../src/shutdown/requests.rs");
    assert!(requests.contains(
        r#"NATIVE_SIDECAR_ANNOTATION: &str = "config.linkerd.io/proxy-enable-native-sidecar""#
    ));
    let job_env = include_str!("../examples/kubernetes/job-env.yaml");
    assert!(
        !job_env.contains("drop --shutdown"),
        "job-env.yaml sets LINKERD_AWAIT_SHUTDOWN, not --shutdown"
    );
}

/// A cell of `bench/FLEET.md`'s PostgreSQL row for `schedule`, by column.
fn fleet_cell(schedule: &str, column: usize) -> f64 {
    let row = FLEET_MD
        .lines()
        .find(|l| l.starts_with(&format!("| postgres | {schedule} |")))
        .unwrap_or_else(|| panic!("no {schedule:?} row in bench/FLEET.md"));
    let cell = row
        .split('|')
        .map(str::trim)
        .nth(column + 1)
        .expect("the cell");
    cell.split(',')
        .next()
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("not a number: {cell:?}"))
}

#[test]
fn the_fleet_rates_the_readme_states_are_the_ones_the_fleet_bench_measured() {
    let gates: f64 = FLEET_MD
        .split_once("fleet of ")
        .and_then(|(_, rest)| rest.split(':').next())
        .and_then(|n| n.parse().ok())
        .expect("the fleet's size");
    // Columns: db, schedule, refusing, starting, waves, per pod (refusing), ...
    let default = fleet_cell("gate, default (--wait-for-backoff 1s)", 5);
    let large_cap = fleet_cell("gate, --wait-for-backoff 5s", 3) / gates;
    // The README wraps its lines anywhere.
    let readme = README.split_whitespace().collect::<Vec<_>>().join(" ");
    let said_in = |before: &str| -> f64 {
        readme
            .split_once(before)
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("the README's figure after {before:?}"))
    };
    for (said, measured) in [
        (said_in("(1 s), about"), default),
        (said_in("`--wait-for-backoff 5s` (~"), large_cap),
    ] {
        assert!(
            (said - measured).abs() <= measured * 0.1,
            "README: {said}; bench/FLEET.md: {measured:.2}"
        );
    }
}
