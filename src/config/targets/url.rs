//! One URL, in any dialect the gate reads: a JDBC URL, libpq's multi-host
//! form, or a URL of one of the schemes' table.

use reqwest::Url;

use super::{
    jdbc, libpq, network, schemes,
    target::{ACCEPTED, Target},
};
use crate::report::redact::starts_with_scheme;

pub(super) fn parse(text: &str) -> Result<Target, String> {
    if text.contains(char::is_whitespace) {
        // The URL parser would percent-encode it in silence, and check
        // `/health%20env:DATABASE_URL` instead of two targets.
        return Err(
            "a space or line break inside a URL: percent-encode it (%20); for several \
             targets, give each its own --wait-for (in LINKERD_AWAIT_WAIT_FOR, separate them \
             by commas or whitespace)"
                .to_string(),
        );
    }
    if let Some(rest) = text.strip_prefix("jdbc:") {
        return parse(&jdbc::plain_url(rest)?);
    }
    // What is not `scheme://...` is not shown back, even its "scheme":
    // in `app:S3cr3t@db` that would be a user name.
    if !starts_with_scheme(text) {
        return Err(format!("not a URL (no scheme://); {ACCEPTED}"));
    }
    if let Some(hosts) = libpq::hosts(text) {
        return hosts
            .iter()
            .map(|one| parse(one))
            .collect::<Result<Vec<_>, _>>()
            .map(Target::AnyOf);
    }
    if network::several_hosts(text) {
        return Err(format!(
            "one host per URL (but for postgres://, where one ready host is enough): give each \
             host its own --wait-for (or list item); {ACCEPTED}"
        ));
    }
    let url = Url::parse(&libpq::host_placeholder(text)).map_err(|e| format!("{e}; {ACCEPTED}"))?;
    schemes::read(url)
}
