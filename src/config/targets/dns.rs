//! The `dns://name[?min=N]` family: a host name and how many addresses it
//! must have (at least 1); nothing else.

use std::net::Ipv4Addr;

use reqwest::Url;

use super::target::Target;

pub(super) fn target(url: &Url) -> Result<Target, String> {
    let userinfo = !url.username().is_empty() || url.password().is_some();
    let name = url.host_str().unwrap_or_default();
    if name.starts_with('[') || name.parse::<Ipv4Addr>().is_ok() {
        return Err(
            "dns:// takes a name to resolve, not an address (for an address, wait for a \
             port: tcp://10.0.0.7:5432)"
                .to_string(),
        );
    }
    if name.is_empty()
        || userinfo
        || url.port().is_some()
        || !matches!(url.path(), "" | "/")
        || url.fragment().is_some()
    {
        return Err(
            "dns:// takes a name and nothing else, e.g. dns://db-headless?min=3".to_string(),
        );
    }
    let mut min = 1;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "min" => {
                min = value
                    .parse::<u16>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| {
                        "dns:// min= holds no count of addresses (1 to 65535)".to_string()
                    })?;
            }
            _ => return Err("dns:// takes only min=N after the '?'".to_string()),
        }
    }
    Ok(Target::Dns {
        name: name.trim_end_matches('.').to_ascii_lowercase(),
        min,
    })
}
