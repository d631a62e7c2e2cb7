//! The `file:///path` and `unix:///path` family: an absolute local path
//! the kernel can take.

use reqwest::Url;

use super::target::Target;

/// `unix://` paths end up in `sockaddr_un.sun_path`: 108 bytes with the NUL.
const MAX_SOCKET_PATH: usize = 107;

pub(super) fn target(url: &Url) -> Result<Target, String> {
    let scheme = url.scheme();
    // A host other than localhost would be another machine's file.
    let path = url
        .to_file_path()
        .ok()
        .filter(|path| path.is_absolute() && path.as_os_str().len() > 1)
        .ok_or_else(|| {
            format!("{scheme}:// takes an absolute path and no host, e.g. {scheme}:///run/ready")
        })?;
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes.contains(&0) {
        return Err(format!("{scheme}:// path cannot hold a NUL byte (%00)"));
    }
    if scheme == "unix" && bytes.len() > MAX_SOCKET_PATH {
        return Err(format!(
            "unix:// path is {} bytes long; a socket's path holds at most {MAX_SOCKET_PATH} \
             (sun_path): use a shorter path or a symlink to its directory",
            bytes.len()
        ));
    }
    Ok(match scheme {
        "unix" => Target::Unix(path),
        _ => Target::File(path),
    })
}
