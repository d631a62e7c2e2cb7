//! Whether the gate's binary is static and stripped, for which machine, and
//! whether it carries its dependency list, from its ELF headers (the `object`
//! crate reads them), without relying on `file(1)`. Read by the benchmark
//! and by `cargo xtask dist`.

use std::path::Path;

use object::{
    Endianness, Object,
    elf::{ET_DYN, PT_DYNAMIC, PT_INTERP},
    read::elf::{ElfFile64, FileHeader, ProgramHeader},
};

/// The size budget of the stripped static gate, for every architecture,
/// with every `--wait-for` scheme and TLS: 3.5 MiB (3,670,016 B). The benchmark's
/// verdicts and `cargo xtask dist` both read it here (`.ci/arm64.sh`
/// repeats it in shell).
pub const SIZE_BUDGET: u64 = 7 * 512 * 1024;

#[derive(Debug, Clone)]
pub struct ElfFacts {
    /// No PT_INTERP: the kernel runs it without a dynamic loader.
    pub static_linked: bool,
    /// PT_DYNAMIC present (a static-pie still relocates itself).
    pub pie: bool,
    /// No `.symtab` section.
    pub stripped: bool,
    /// `e_machine`: `EM_X86_64`, `EM_AARCH64`, ...
    pub machine: u16,
    /// A `.dep-v0` section: the dependency list `cargo auditable` embeds,
    /// which `cargo audit bin`, syft and trivy read.
    pub dep_list: bool,
}

pub fn inspect(path: &Path) -> Result<ElfFacts, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let elf = ElfFile64::<Endianness>::parse(data.as_slice())
        .map_err(|e| format!("{} is not a 64-bit ELF file: {e}", path.display()))?;
    let endian = elf.endian();
    let segment = |wanted: u32| {
        elf.elf_program_headers()
            .iter()
            .any(|header| header.p_type(endian) == wanted)
    };
    Ok(ElfFacts {
        static_linked: !segment(PT_INTERP),
        // ET_DYN with no interpreter is static-pie.
        pie: elf.elf_header().e_type(endian) == ET_DYN && segment(PT_DYNAMIC),
        stripped: elf.section_by_name(".symtab").is_none(),
        machine: elf.elf_header().e_machine(endian),
        dep_list: elf.section_by_name(".dep-v0").is_some(),
    })
}
