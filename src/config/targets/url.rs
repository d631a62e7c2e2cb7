//! One URL, in any dialect the gate reads: a JDBC URL, libpq's multi-host
//! form, or a URL of one of the schemes' table.

use reqwest::Url;

use super::{
    jdbc, libpq, network, schemes,
    target::{ACCEPTED, Target},
};

pub(super) fn parse(text: &str) -> Result<Target, String> {
    if !text.contains(':') {
        return Err(format!("not a URL; {}", ACCEPTED));
    }
    if let Some(rest) = text.strip_prefix("jdbc:") {
        return parse(jdbc::plain_url(rest)?);
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
             host its own --wait-for (or list item); {}",
            ACCEPTED
        ));
    }
    let url = Url::parse(text).map_err(|e| format!("{e}; {}", ACCEPTED))?;
    schemes::read(url)
}
