//! Random bits for what must differ between processes: the names of
//! `--install`'s temporary files, and the seed of the dependency checks'
//! jitter (a fleet of pods restarting together must not share one).

use std::time::SystemTime;

/// 64 random bits from the kernel (getrandom(2), which never blocks once
/// the pool is initialised, as it is long before containers start); should
/// it fail, the time and the PID still make a clash unlikely, and every
/// caller copes with one (O_EXCL for the temp files; jitter only spreads).
pub fn u64() -> u64 {
    let mut bytes = [0u8; 8];
    // SAFETY: getrandom writes at most `bytes.len()` bytes into `bytes`.
    let n = unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), 0) };
    if n == bytes.len() as isize {
        return u64::from_ne_bytes(bytes);
    }
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}
