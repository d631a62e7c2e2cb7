//! What the environment holds: the disabling variables and the shutdown
//! URL list.

use super::*;

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
