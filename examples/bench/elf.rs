//! Reads just enough of an ELF file to say whether it is static and stripped,
//! without relying on `file(1)` being installed.

use std::path::Path;

#[derive(Debug, Clone)]
pub struct ElfFacts {
    /// No PT_INTERP: the kernel runs it without a dynamic loader.
    pub static_linked: bool,
    /// PT_DYNAMIC present (a static-pie still relocates itself).
    pub pie: bool,
    /// No `.symtab` section.
    pub stripped: bool,
}

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;

pub fn inspect(path: &Path) -> Result<ElfFacts, String> {
    let data = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if data.len() < 64 || &data[0..4] != b"\x7fELF" {
        return Err(format!("{} is not an ELF file", path.display()));
    }
    if data[4] != 2 || data[5] != 1 {
        return Err("only little-endian ELF64 is supported".to_string());
    }
    let u16_at = |at: usize| -> Result<u64, String> {
        data.get(at..at + 2)
            .map(|b| u64::from(u16::from_le_bytes([b[0], b[1]])))
            .ok_or_else(|| "truncated ELF".to_string())
    };
    let u32_at = |at: usize| -> Result<u64, String> {
        data.get(at..at + 4)
            .map(|b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .ok_or_else(|| "truncated ELF".to_string())
    };
    let u64_at = |at: usize| -> Result<u64, String> {
        data.get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .ok_or_else(|| "truncated ELF".to_string())
    };
    let e_type = u16_at(16)?;
    let phoff = u64_at(32)? as usize;
    let shoff = u64_at(40)? as usize;
    let phentsize = u16_at(54)? as usize;
    let phnum = u16_at(56)? as usize;
    let shentsize = u16_at(58)? as usize;
    let shnum = u16_at(60)? as usize;
    let shstrndx = u16_at(62)? as usize;

    let mut interp = false;
    let mut dynamic = false;
    for i in 0..phnum {
        match u32_at(phoff + i * phentsize)? as u32 {
            PT_INTERP => interp = true,
            PT_DYNAMIC => dynamic = true,
            _ => {}
        }
    }

    let mut symtab = false;
    if shnum > 0 && shstrndx < shnum {
        let strtab_off = u64_at(shoff + shstrndx * shentsize + 24)? as usize;
        for i in 0..shnum {
            let name_off = u32_at(shoff + i * shentsize)? as usize;
            let name = data
                .get(strtab_off + name_off..)
                .and_then(|rest| rest.split(|&b| b == 0).next())
                .unwrap_or_default();
            if name == b".symtab" {
                symtab = true;
            }
        }
    }
    Ok(ElfFacts {
        static_linked: !interp,
        // ET_DYN (3) with no interpreter is static-pie.
        pie: e_type == 3 && dynamic,
        stripped: !symtab,
    })
}
