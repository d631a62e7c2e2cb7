//! JDBC URLs, as Java apps keep them (`SPRING_DATASOURCE_URL`), read as
//! the URL they name: `jdbc:postgresql://`, pgJDBC's host-less
//! `jdbc:postgresql:db` (localhost, as the driver reads it),
//! `jdbc:mysql://` and `jdbc:mariadb://` with Connector/J's host forms
//! (`address=(host=db)(port=3306)(...)`, `(host=db,port=3306,...)`). The
//! JDBC properties, after `?` or `;` or among a host's key=value pairs,
//! are the driver's (`user`, `password`, ...) and change nothing the
//! check sends: they are dropped here, before anything can show them; but
//! those that say how TLS is used (`sslmode`, `sslrootcert`, `ssl`,
//! `sslMode`), which are kept for the scheme's TLS reading.
//!
//! Invariant: no error repeats any part of the value but the driver's name.

/// The drivers whose URLs name a server the gate can check.
const DRIVERS: &str = "postgresql, mysql and mariadb \
     (jdbc:postgresql://host[:port]/db, jdbc:mysql://host[:port]/db)";

/// The URL a `jdbc:` value names (`rest` is what follows `jdbc:`),
/// without its JDBC properties.
pub(super) fn plain_url(rest: &str) -> Result<String, String> {
    let refused = |why: &str| format!("jdbc: URLs are accepted for {DRIVERS}; {why}");
    let Some(driver) = driver(rest) else {
        return Err(refused("this one names no driver"));
    };
    let after = &rest[driver.len()..];
    let known = matches!(driver, "postgresql" | "mysql" | "mariadb");
    match after.strip_prefix("://") {
        Some(after) if known => {
            let (authority, tail) = split_authority(after);
            let path = tail.split(['?', ';']).next().unwrap_or_default();
            let authority = match driver {
                "mysql" | "mariadb" => connector_j_host(authority)?,
                _ => authority.to_string(),
            };
            Ok(format!(
                "{driver}://{authority}{path}{}",
                tls_properties(tail)
            ))
        }
        // pgJDBC's `jdbc:postgresql:database` and `jdbc:postgresql:/`:
        // the server on localhost, at the default port.
        None if driver == "postgresql" => {
            let database = after[1..].split(['?', ';']).next().unwrap_or_default();
            Ok(format!(
                "postgresql://localhost/{}",
                database.trim_start_matches('/')
            ))
        }
        _ if known => Err(refused(&format!(
            "read jdbc:{driver}: as jdbc:{driver}://host[:port]/db (a multi-host or \
             load-balancing mode: one --wait-for per host)"
        ))),
        _ => Err(refused(&format!("not '{driver}'"))),
    }
}

/// The JDBC properties that say how TLS is used, as a query the scheme's
/// TLS reading takes (`tls.rs`): pgJDBC's `sslmode` and `sslrootcert`
/// (its `ssl=true` alone means `verify-full`), Connector/J's and MariaDB's
/// `sslMode`. Every other property is dropped.
fn tls_properties(tail: &str) -> String {
    let properties = tail.split_once(['?', ';']).map_or("", |(_, p)| p);
    let mut kept: Vec<String> = Vec::new();
    for pair in properties.split(['&', ';']) {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        match name {
            "sslmode" | "sslrootcert" | "sslMode" => kept.push(format!("{name}={value}")),
            "ssl" if value.eq_ignore_ascii_case("true") && !properties.contains("sslmode=") => {
                kept.push("sslmode=verify-full".to_string());
            }
            _ => {}
        }
    }
    if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    }
}

/// The driver's name, when `rest` starts with one and a `:`
/// (`postgresql`, `oracle`, `sqlserver`, `informix-sqli`).
pub(super) fn driver(rest: &str) -> Option<&str> {
    let end = rest.find(':')?;
    let name = &rest[..end];
    let plain = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.len() <= 20
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    plain.then_some(name)
}

/// The authority and what follows it; parentheses (Connector/J's
/// key=value hosts) may hold any character.
pub(super) fn split_authority(after: &str) -> (&str, &str) {
    let mut depth = 0u32;
    for (at, c) in after.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            '/' | '?' | ';' | '#' if depth == 0 => return after.split_at(at),
            _ => {}
        }
    }
    (after, "")
}

/// A Connector/J authority as `host[:port]`: a plain one as it is (the
/// URL parser reads it), a key=value one reduced to its `host` and
/// `port`, the userinfo and every other key dropped.
fn connector_j_host(authority: &str) -> Result<String, String> {
    let hosts = match outside_parentheses(authority).rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let pairs = if let Some(groups) = hosts.strip_prefix("address=") {
        groups_of(groups)?
    } else if hosts.starts_with('(') {
        let groups = groups_of(hosts)?;
        groups.iter().flat_map(|g| g.split(',')).collect()
    } else {
        return Ok(authority.to_string());
    };
    let value = |key: &str| {
        pairs.iter().rev().find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case(key)
                .then(|| v.trim().trim_matches(['\'', '"']))
        })
    };
    let host = value("host")
        .filter(|h| !h.is_empty())
        .ok_or("a Connector/J host of key=value pairs without host=")?;
    let host = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    Ok(match value("port") {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// `(a=1)(b=2)` → `["a=1", "b=2"]`; anything after the last group (a
/// second host) is refused.
fn groups_of(text: &str) -> Result<Vec<&str>, String> {
    let mut groups = Vec::new();
    let mut rest = text;
    while let Some(inner) = rest.strip_prefix('(') {
        let close = inner
            .find(')')
            .ok_or("a Connector/J host with an unclosed '('")?;
        groups.push(&inner[..close]);
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() {
        return Err(
            "one host per URL: give each host of a Connector/J host list its own --wait-for"
                .to_string(),
        );
    }
    Ok(groups)
}

/// `text` with everything inside parentheses blanked, byte for byte (so
/// offsets stay), so a search for `@` finds only the userinfo's.
fn outside_parentheses(text: &str) -> String {
    let mut depth = 0u32;
    let mut blanked = String::with_capacity(text.len());
    for c in text.chars() {
        let inside = match c {
            '(' => {
                depth += 1;
                true
            }
            ')' => {
                depth = depth.saturating_sub(1);
                true
            }
            _ => depth > 0,
        };
        if inside {
            blanked.extend(std::iter::repeat_n(' ', c.len_utf8()));
        } else {
            blanked.push(c);
        }
    }
    blanked
}
