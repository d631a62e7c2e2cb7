//! LINKERD_AWAIT_WAIT_FOR's list: values separated by commas or
//! whitespace (a YAML block of one per line), every documented form
//! (`scheme://`, `env:NAME`, `jdbc:`) starting a value of its own wherever
//! it stands; a typed `--wait-for` replaces the list; a space left inside
//! one value is a usage error, never a URL with `%20` in it.

mod common;
use common::*;

#[test]
fn the_variable_is_a_list_separated_by_commas_or_whitespace_and_a_typed_flag_replaces_it() {
    let dir = temp_dir();
    let missing = |name: &str| format!("file://{}/{name}", path_arg(dir.path()));
    let list = format!("{},{}\n  {} ,", missing("a"), missing("b"), missing("c"));
    let mut cmd = gate();
    cmd.args(["--mesh", "none", "-t", "300ms"])
        .env("LINKERD_AWAIT_WAIT_FOR", &list);
    let out = output(&mut cmd);
    let err = stderr_text(&out);
    assert_eq!(out.status.code(), Some(69), "{err}");
    assert!(err.contains("3 dependencies not ready"), "{err}");
    for name in ["a", "b", "c"] {
        assert!(
            err.contains(&format!("{}: ", missing(name))),
            "{name}: {err}"
        );
    }
    // A typed --wait-for replaces the list: only the file that exists is awaited.
    touch(dir.path(), "d");
    let out = output(cmd.arg("--wait-for").arg(missing("d")));
    assert_eq!(out.status.code(), Some(0), "{}", stderr_text(&out));
}

#[test]
fn an_env_or_jdbc_item_after_a_space_or_a_newline_is_a_target_of_its_own() {
    let health = FakeProxy::start(|_, _| Reply::Status(200));
    let database_down = RefusedPort::new();
    let database = format!("postgres://app:pw@127.0.0.1:{}/orders", database_down.port);
    let http = format!("http://127.0.0.1:{}/health", health.port());
    let jdbc = format!("jdbc:postgresql://127.0.0.1:{}/orders", database_down.port);
    for list in [
        format!("{http} env:DATABASE_URL"),
        format!("\n  {http}\n  env:DATABASE_URL\n"),
        format!("{http} {jdbc}"),
        "env:HEALTH_URL,env:DATABASE_URL".to_string(),
    ] {
        let mut cmd = gate();
        cmd.args(["--mesh", "none", "-t", "300ms"])
            .env("LINKERD_AWAIT_WAIT_FOR", &list)
            .env("DATABASE_URL", &database)
            .env("HEALTH_URL", &http);
        app(&mut cmd, "echo started", &[]);
        let out = output(&mut cmd);
        let err = stderr_text(&out);
        // The database is down: the app must not start.
        assert_eq!(out.status.code(), Some(69), "{list:?}: {err}");
        assert_eq!(stdout_text(&out), "", "{list:?}");
        assert!(err.contains("1 dependency not ready"), "{list:?}: {err}");
        assert!(!err.contains("%20"), "{list:?}: {err}");
    }
}

#[test]
fn a_space_inside_one_url_is_a_usage_error_never_encoded() {
    for value in [
        "http://127.0.0.1:1/health env:DATABASE_URL",
        "http://127.0.0.1:1/a b",
    ] {
        let out = output(gate().args(["--mesh", "none", "-t", "1s", "--wait-for", value]));
        assert_usage_error(&out, &["--wait-for", "a space or line break inside a URL"]);
    }
    let out = output(
        gate()
            .args(["--mesh", "none", "-t", "1s", "--wait-for", "env:HEALTH_URL"])
            .env("HEALTH_URL", "http://127.0.0.1:1/a b"),
    );
    assert_usage_error(&out, &["env:HEALTH_URL: the URL in HEALTH_URL", "a space"]);
}
