//! What the docs state is held to its one source. ARCHITECTURE.md's
//! module map to the tree: every source file under `src/` (test modules
//! aside) has its row in the table, and every file a row or the text names
//! exists, so a file added, moved or removed without its row fails here.
//! The benchmark figures (docs/benchmarks.md) to the harness: a budget is
//! written once, in `xtask/src/bench/verdicts.rs`, and the page states none
//! of its own.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

const MAP: &str = include_str!("../ARCHITECTURE.md");

/// Every `.rs` file under `dir`, relative to `src/`, test modules aside.
fn sources(root: &Path, dir: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("an entry").path();
        let relative = path
            .strip_prefix(root)
            .expect("under src")
            .to_string_lossy()
            .into_owned();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "tests") {
                sources(root, &path, found);
            }
        } else if relative.ends_with(".rs") && !relative.ends_with("tests.rs") {
            found.insert(relative);
        }
    }
}

/// The files the module table's first column names: `a/b.rs`, and a
/// bare `c.rs` after it in the same cell meaning `a/c.rs`.
fn table_rows() -> BTreeSet<String> {
    let section = MAP
        .split_once("## Modules")
        .map(|(_, rest)| rest)
        .expect("ARCHITECTURE.md has a Modules section");
    let mut named = BTreeSet::new();
    for line in section
        .lines()
        .skip_while(|l| !l.starts_with("| module"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
    {
        let cell = line.split('|').nth(1).unwrap_or("");
        let mut dir = String::new();
        for name in cell.split(',').map(|n| n.trim().trim_matches('`')) {
            let full = if name.contains('/') || dir.is_empty() {
                if let Some((d, _)) = name.rsplit_once('/') {
                    dir = format!("{d}/");
                }
                name.to_string()
            } else {
                format!("{dir}{name}")
            };
            named.insert(full);
        }
    }
    named
}

#[test]
fn every_source_file_has_its_row_in_the_map_and_every_row_its_file() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeSet::new();
    sources(&root, &root, &mut files);
    let rows = table_rows();
    let missing: Vec<&String> = files.difference(&rows).collect();
    let stale: Vec<&String> = rows.difference(&files).collect();
    assert!(
        missing.is_empty(),
        "files without a row in ARCHITECTURE.md: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows of ARCHITECTURE.md without a file: {stale:?}"
    );
}

#[test]
fn every_path_the_map_names_exists() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    for token in MAP.split('`').skip(1).step_by(2) {
        // A module or a folder of `src/`: `wait/until.rs`, `wait/checks/`.
        let is_source_path = token.contains('/')
            && (token.ends_with(".rs") || token.ends_with('/'))
            && token
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_/.".contains(c))
            && !token.starts_with('/')
            && !["src/", "tests/"].iter().any(|top| token.starts_with(top));
        if is_source_path {
            assert!(
                root.join(token).exists(),
                "ARCHITECTURE.md names `{token}`, which is not in src/"
            );
        }
    }
}

#[test]
fn the_benchmark_page_states_no_budget_of_its_own() {
    let readme = include_str!("../docs/benchmarks.md");
    let harness = include_str!("../xtask/src/bench/verdicts.rs");
    let (_, table) = readme
        .split_once("| metric | measured")
        .expect("the benchmark table of docs/benchmarks.md");
    for row in table.lines().skip(1).take_while(|l| l.starts_with('|')) {
        assert!(
            !row.contains('≤'),
            "a budget restated in docs/benchmarks.md: {row}"
        );
    }
    // Where the README says the budgets are, they are.
    assert!(readme.contains("`xtask/src/bench/verdicts.rs`"));
    assert!(harness.contains("metric: \"CPU (user+sys) per 5 s wait\""));
}

#[test]
fn the_readme_is_a_five_minute_read_and_its_links_lead_somewhere() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme = include_str!("../README.md");
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; the rest belongs in docs/"
    );
    // Every relative link of the README and the docs points at a file.
    for (page, text) in [
        ("README.md", readme),
        ("CONTRIBUTING.md", include_str!("../CONTRIBUTING.md")),
        ("CHANGELOG.md", include_str!("../CHANGELOG.md")),
        ("docs/reference.md", include_str!("../docs/reference.md")),
        ("docs/install.md", include_str!("../docs/install.md")),
        ("docs/benchmarks.md", include_str!("../docs/benchmarks.md")),
    ] {
        let dir = root
            .join(page)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        for target in text
            .split("](")
            .skip(1)
            .filter_map(|rest| rest.split(')').next())
        {
            let (file, anchor) = target.split_once('#').unwrap_or((target, ""));
            if target.contains("://") {
                continue;
            }
            let path = if file.is_empty() {
                root.join(page)
            } else {
                dir.join(file)
            };
            assert!(
                path.exists(),
                "{page} links to {target}, which is not there"
            );
            // An anchor names a heading of the page it points at.
            if !anchor.is_empty() && path.extension().is_some_and(|e| e == "md") {
                let text = std::fs::read_to_string(&path).expect("a linked page");
                assert!(
                    headings(&text).any(|h| h == anchor),
                    "{page} links to {target}: no such heading"
                );
            }
        }
    }
}

/// The anchors GitHub gives a Markdown page's headings: lower case, spaces
/// as `-`, punctuation other than `-` and `_` dropped.
fn headings(text: &str) -> impl Iterator<Item = String> + '_ {
    text.lines()
        .filter(|l| l.starts_with('#') && l.trim_start_matches('#').starts_with(' '))
        .map(|l| {
            l.trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
}
