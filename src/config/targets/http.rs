//! The `http://` and `https://` family: a URL to GET (or HEAD), without credentials,
//! and what "ready" means, from its fragment (`expect`).

use reqwest::Url;

use super::{expect, network, target::Target, tls};

pub(super) fn target(
    mut url: Url,
    default_port: Option<u16>,
    implicit: bool,
) -> Result<Target, String> {
    network::no_at_after_host(&url)?;
    network::host(&url)?;
    // The port stays implicit when it is the default (the URL type leaves
    // it so); it is only checked.
    network::port(&url, default_port)?;
    // The check sends no credentials, for http:// as for every scheme: a
    // health endpoint answers without them, and reqwest would send a
    // password given here as basic auth.
    let _ = url.set_password(None);
    let _ = url.set_username("");
    // `#insecure` is the gate's, beside the expectations.
    let tls = tls::read(&mut url, implicit)?;
    let expect = expect::parse(url.fragment().unwrap_or_default())?;
    url.set_fragment(None);
    Ok(Target::Http { url, expect, tls })
}
