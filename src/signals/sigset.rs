//! Small wrappers over libc's `sigset_t` calls, which cannot fail with the
//! arguments these give them.

pub fn empty_set() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the set it is given.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        set
    }
}

pub fn add(set: &mut libc::sigset_t, n: i32) {
    // SAFETY: `set` is initialised. An invalid number only makes sigaddset
    // fail with EINVAL, and `class` never yields one.
    unsafe {
        libc::sigaddset(set, n);
    }
}

pub fn contains(set: &libc::sigset_t, n: i32) -> bool {
    // SAFETY: `set` is initialised; sigismember only reads it.
    unsafe { libc::sigismember(set, n) == 1 }
}
