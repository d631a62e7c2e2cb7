//! The stack the configuration used, given back before the wait.
//!
//! clap's derive builds the command line's definition in one function
//! whose frame is ~40 KiB, and the stack probes of so large a frame touch
//! every page of it: ~50 KiB of the main thread's stack become resident
//! while the command line is read, and would stay so (a process's stack
//! never shrinks) through the whole wait and, under `--shutdown`, the app's
//! whole life. That is private memory in every pod, for nothing after the
//! first milliseconds.

/// How far below the stack pointer pages are given back: past the deepest
/// the configuration goes (~55 KiB), with room to spare.
const SPAN: usize = 256 * 1024;

/// Gives the pages below the current stack frame back to the kernel
/// (`madvise(MADV_DONTNEED)`): nothing lives below the stack pointer, and a
/// page that is touched again is a fresh zero page. One page below is
/// kept, for the x86-64 red zone and the frames of this call.
///
/// The range can only hold the main thread's stack: Linux places other
/// mappings at least 128 MiB below the stack's top (`mmap_base`) and keeps
/// a guard gap of 256 pages below a stack that grows down
/// (`stack_guard_gap`), so no other mapping is within `SPAN` of it; a part
/// of the range that is not mapped at all makes `madvise` fail with ENOMEM
/// after it has done the rest, which is fine. Call it on the main thread
/// (the gate's only one that runs Rust frames), where what follows is
/// shallow: between the configuration and the wait (`lib.rs`), and before
/// supervising the app (`handoff/supervise.rs`).
#[inline(never)]
pub fn release_unused() {
    let here = 0u8;
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let below = (std::ptr::addr_of!(here) as usize & !(page - 1)).saturating_sub(page);
    let start = below.saturating_sub(SPAN);
    if start == 0 {
        return;
    }
    // SAFETY: the range lies below the stack pointer (see above): no live
    // data of this thread is there, and no other mapping is near enough.
    // MADV_DONTNEED only drops pages; their contents are not needed.
    let _ = unsafe {
        libc::madvise(
            start as *mut libc::c_void,
            below - start,
            libc::MADV_DONTNEED,
        )
    };
}
