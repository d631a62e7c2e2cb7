//! JDBC URLs, as Java apps keep them (`SPRING_DATASOURCE_URL`):
//! `jdbc:postgresql://`, `jdbc:mysql://`, `jdbc:mariadb://`, read as the
//! URL they name. The JDBC properties after `?` or `;` are the driver's
//! (`user`, `password`, `ssl`, ...) and change nothing the check sends.

/// The URL a `jdbc:` value names (`rest` is what follows `jdbc:`),
/// without its JDBC properties.
pub(super) fn plain_url(rest: &str) -> Result<&str, String> {
    let scheme = rest.split("://").next().unwrap_or_default();
    if !matches!(scheme, "postgresql" | "mysql" | "mariadb") {
        return Err(format!(
            "jdbc: URLs are accepted for postgresql, mysql and mariadb \
             (jdbc:postgresql://host[:port]/db), not '{}'",
            scheme.escape_debug()
        ));
    }
    Ok(rest.split(['?', ';']).next().unwrap_or_default())
}
