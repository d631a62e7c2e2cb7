//! libpq's URL forms for `postgres://` targets: the query parameters that
//! change what the check sends (`user`, `dbname`) or where it goes
//! (`host`, `hostaddr`, `port`), the defaults libpq applies, and what the
//! gate refuses by name (a socket directory, several hosts); `sslmode`
//! and `sslrootcert` (read with every scheme's TLS: `tls.rs`). Everything
//! else libpq reads (`connect_timeout`, `password`, ...) changes nothing
//! the check does.

use std::net::IpAddr;

use reqwest::Url;

use super::{
    network,
    target::{ACCEPTED, Target},
};
use crate::config::values::percent_decoded;

/// Used when a `postgres://` URL names no user: the user every PostgreSQL
/// installation has, so a server that trusts local connections has no
/// reason to log a failed start-up.
const DEFAULT_PG_USER: &str = "postgres";

/// A `postgres://` URL as libpq reads it: its parameters applied, then
/// the host (a socket directory refused by name), the port, and the user
/// and database the StartupMessage names.
pub(super) fn target(mut url: Url, default_port: Option<u16>) -> Result<Target, String> {
    network::no_at_after_host(&url)?;
    apply_parameters(&mut url)?;
    let host = percent_decoded(url.host_str().unwrap_or_default());
    if host.is_empty() || host == NO_HOST {
        return Err(format!(
            "missing host (libpq would use its local socket: give host:port, or \
             unix:///run/postgresql/.s.PGSQL.5432 for the socket); {}",
            ACCEPTED
        ));
    }
    if host.starts_with('/') {
        return Err(socket_directory(&host));
    }
    let at = network::endpoint(url, default_port, false)?;
    let (user, database) = user_and_database(&at.0)?;
    Ok(Target::Postgres { at, user, database })
}

/// Stands in for the empty host of `postgres://user@/db?host=db` (a URL
/// the URL parser refuses: userinfo needs a host), until `host=` or
/// `hostaddr=` replaces it. A name that never resolves (RFC 6761).
const NO_HOST: &str = "libpq-no-host.invalid";

/// `text` with [`NO_HOST`] where a `postgres://` URL with userinfo has
/// no host; any other URL as it is.
pub(super) fn host_placeholder(text: &str) -> std::borrow::Cow<'_, str> {
    let Some((scheme, rest)) = text.split_once("://") else {
        return text.into();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].strip_suffix('@') {
        Some(userinfo) if matches!(scheme, "postgres" | "postgresql") => {
            format!("{scheme}://{userinfo}@{NO_HOST}{}", &rest[end..]).into()
        }
        _ => text.into(),
    }
}

/// The user and database the StartupMessage names, as libpq picks them: a
/// query parameter overrides the URL's own part; no user is `postgres`, no
/// database is the user's name.
fn user_and_database(url: &Url) -> Result<(String, String), String> {
    let parameter = |name: &str| {
        url.query_pairs()
            .filter(|(key, _)| key == name)
            .last()
            .map(|(_, value)| value.into_owned())
    };
    let user = parameter("user").unwrap_or_else(|| percent_decoded(url.username()));
    let user = if user.is_empty() {
        DEFAULT_PG_USER.to_string()
    } else {
        user
    };
    let database =
        parameter("dbname").unwrap_or_else(|| percent_decoded(url.path().trim_start_matches('/')));
    let database = if database.is_empty() {
        user.clone()
    } else {
        database
    };
    if user.contains('\0') || database.contains('\0') {
        return Err("the user and database names cannot hold a NUL byte".to_string());
    }
    Ok((user, database))
}

/// libpq's query parameters that say where the check goes: `host`,
/// `hostaddr` (connect to this address, as libpq does) and `port` replace
/// the URL's own. (`user` and `dbname`, what it sends, are read with the
/// target; everything else, `sslmode`, `connect_timeout`, ..., changes
/// nothing the check does, and `password` is never sent.) What the gate
/// cannot do is refused by name: a socket directory, several hosts.
fn apply_parameters(url: &mut Url) -> Result<(), String> {
    let (mut host, mut hostaddr, mut port) = (None, None, None);
    for (name, value) in url.query_pairs() {
        let slot = match name.as_ref() {
            "host" => &mut host,
            "hostaddr" => &mut hostaddr,
            "port" => &mut port,
            _ => continue,
        };
        if value.contains(',') {
            return Err(format!(
                "several hosts in {name}= are not supported: give one host per --wait-for"
            ));
        }
        *slot = Some(value.into_owned());
    }
    if let Some(dir) = host.as_deref().filter(|h| h.starts_with('/')) {
        return Err(socket_directory(dir));
    }
    // Where libpq connects: hostaddr when given, else host.
    let address = match hostaddr {
        Some(text) => Some(match text.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
            Ok(IpAddr::V4(v4)) => v4.to_string(),
            Err(_) => {
                return Err(
                    "hostaddr= holds no IP address (libpq's hostaddr takes one)".to_string()
                );
            }
        }),
        None => host,
    };
    if let Some(address) = address {
        url.set_host(Some(&address))
            .map_err(|e| format!("host= or hostaddr=: {e}"))?;
    }
    if let Some(text) = port {
        let number = text
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| "port= holds no port number (1-65535)".to_string())?;
        url.set_port(Some(number))
            .map_err(|()| format!("cannot use port {number}"))?;
    }
    Ok(())
}

/// Why a libpq socket directory is refused, and what to give instead.
fn socket_directory(dir: &str) -> String {
    format!(
        "a socket directory as the host ({dir}) cannot be checked through the mesh: give \
         host:port, or unix://{}/.s.PGSQL.5432 to wait for the socket itself",
        dir.trim_end_matches('/')
    )
}

/// libpq's multi-host form, `postgres://[userinfo@]h1[:p1],h2[:p2]/rest`:
/// one URL per host, each with the userinfo and the rest. `None` for any
/// other URL.
pub(super) fn hosts(text: &str) -> Option<Vec<String>> {
    let (scheme, rest) = text.split_once("://")?;
    if !matches!(scheme, "postgres" | "postgresql") || !network::several_hosts(text) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (format!("{userinfo}@"), hosts),
        None => (String::new(), authority),
    };
    Some(
        hosts
            .split(',')
            .map(|host| format!("{scheme}://{userinfo}{host}{tail}"))
            .collect(),
    )
}
