//! The initial stack of a new program (System V x86-64 ABI, as Linux builds it): at `sp`,
//! argc; the argv pointers and a NULL; the envp pointers and a NULL; the auxiliary vector as
//! (key, value) pairs ending with AT_NULL. Above that, the strings they point to: the
//! executable's name (AT_EXECFN), the platform (AT_PLATFORM), the arguments, the environment
//! and 16 random bytes (AT_RANDOM).

use alloc::string::String;
use alloc::vec::Vec;

pub const AT_NULL: u64 = 0;
pub const AT_PHDR: u64 = 3;
pub const AT_PHENT: u64 = 4;
pub const AT_PHNUM: u64 = 5;
pub const AT_PAGESZ: u64 = 6;
pub const AT_BASE: u64 = 7;
pub const AT_FLAGS: u64 = 8;
pub const AT_ENTRY: u64 = 9;
pub const AT_UID: u64 = 11;
pub const AT_EUID: u64 = 12;
pub const AT_GID: u64 = 13;
pub const AT_EGID: u64 = 14;
pub const AT_PLATFORM: u64 = 15;
pub const AT_HWCAP: u64 = 16;
pub const AT_CLKTCK: u64 = 17;
pub const AT_SECURE: u64 = 23;
pub const AT_RANDOM: u64 = 25;
pub const AT_HWCAP2: u64 = 26;
pub const AT_EXECFN: u64 = 31;

const PLATFORM: &[u8] = b"x86_64";

/// The strings are more than the stack may hold (E2BIG).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooBig;

/// Where the strings an auxiliary vector points at ended up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringAddrs {
    pub platform: u64,
    pub random: u64,
    pub execfn: u64,
}

/// The two pieces to copy to user memory: `strings` at `strings_base`, `words` at `sp`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackImage {
    pub strings_base: u64,
    pub strings: Vec<u8>,
    pub sp: u64,
    pub words: Vec<u64>,
}

/// Lays the stack out below `top`, the string area at most `limit` bytes. `auxv` gets the
/// string addresses and returns the auxiliary vector without its AT_NULL.
pub fn layout<A>(
    top: u64,
    limit: usize,
    execfn: &str,
    argv: &[String],
    envp: &[String],
    random: [u8; 16],
    auxv: impl FnOnce(StringAddrs) -> A,
) -> Result<StackImage, TooBig>
where
    A: IntoIterator<Item = (u64, u64)>,
{
    let mut strings: Vec<u8> = Vec::new();
    let mut push = |s: &[u8]| {
        let off = strings.len();
        strings.extend_from_slice(s);
        strings.push(0);
        off
    };
    let execfn_off = push(execfn.as_bytes());
    let platform_off = push(PLATFORM);
    let argv_offs: Vec<usize> = argv.iter().map(|a| push(a.as_bytes())).collect();
    let envp_offs: Vec<usize> = envp.iter().map(|e| push(e.as_bytes())).collect();
    let random_off = strings.len();
    strings.extend_from_slice(&random);
    if strings.len() > limit || strings.len() as u64 + 16 > top {
        return Err(TooBig);
    }

    let strings_base = (top - 16 - strings.len() as u64) & !15;
    let at = |off: usize| strings_base + off as u64;
    let mut words: Vec<u64> = Vec::with_capacity(argv.len() + envp.len() + 48);
    words.push(argv.len() as u64);
    words.extend(argv_offs.iter().map(|&o| at(o)));
    words.push(0);
    words.extend(envp_offs.iter().map(|&o| at(o)));
    words.push(0);
    let addrs =
        StringAddrs { platform: at(platform_off), random: at(random_off), execfn: at(execfn_off) };
    for (key, value) in auxv(addrs) {
        words.extend([key, value]);
    }
    words.extend([AT_NULL, 0]);
    let bytes = words.len() as u64 * 8;
    if bytes > strings_base {
        return Err(TooBig);
    }
    let sp = (strings_base - bytes) & !15;
    Ok(StackImage { strings_base, strings, sp, words })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use std::vec;

    const TOP: u64 = 0x7fff_ffff_f000;

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// The NUL-terminated string at user address `addr` of the image.
    fn string_at(img: &StackImage, addr: u64) -> &[u8] {
        let from = (addr - img.strings_base) as usize;
        let len = img.strings[from..].iter().position(|&b| b == 0).unwrap();
        &img.strings[from..from + len]
    }

    fn sample() -> StackImage {
        let argv = strs(&["/bin/prog", "-x", ""]);
        let envp = strs(&["HOME=/", "TERM=vt100"]);
        layout(TOP, 1 << 20, "/bin/prog", &argv, &envp, [7; 16], |a| {
            [
                (AT_PAGESZ, 4096),
                (AT_RANDOM, a.random),
                (AT_EXECFN, a.execfn),
                (AT_PLATFORM, a.platform),
            ]
        })
        .unwrap()
    }

    #[test]
    fn sp_is_16_byte_aligned_and_below_the_strings() {
        let img = sample();
        assert_eq!(img.sp % 16, 0);
        assert_eq!(img.strings_base % 16, 0);
        assert!(img.sp + img.words.len() as u64 * 8 <= img.strings_base);
        assert!(img.strings_base + img.strings.len() as u64 <= TOP);
    }

    #[test]
    fn argc_argv_envp_in_order_with_null_terminators() {
        let img = sample();
        let w = &img.words;
        assert_eq!(w[0], 3);
        assert_eq!(string_at(&img, w[1]), b"/bin/prog");
        assert_eq!(string_at(&img, w[2]), b"-x");
        assert_eq!(string_at(&img, w[3]), b"");
        assert_eq!(w[4], 0);
        assert_eq!(string_at(&img, w[5]), b"HOME=/");
        assert_eq!(string_at(&img, w[6]), b"TERM=vt100");
        assert_eq!(w[7], 0);
    }

    #[test]
    fn auxv_points_at_its_strings_and_ends_with_at_null() {
        let img = sample();
        let aux: Vec<(u64, u64)> = img.words[8..].chunks(2).map(|p| (p[0], p[1])).collect();
        assert_eq!(aux.last(), Some(&(AT_NULL, 0)));
        assert_eq!(aux[0], (AT_PAGESZ, 4096));
        let random = (aux[1].1 - img.strings_base) as usize;
        assert_eq!(&img.strings[random..random + 16], &[7; 16]);
        assert_eq!(string_at(&img, aux[2].1), b"/bin/prog");
        assert_eq!(string_at(&img, aux[3].1), b"x86_64");
    }

    #[test]
    fn no_arguments_still_has_both_terminators() {
        let img = layout(TOP, 4096, "p", &[], &[], [0; 16], |_| []).unwrap();
        assert_eq!(img.words, vec![0, 0, 0, AT_NULL, 0]);
    }

    #[test]
    fn strings_beyond_the_limit_are_too_big() {
        let fits = vec!["a".repeat(3000)];
        assert!(layout(TOP, 4096, "p", &strs(&["p"]), &fits, [0; 16], |_| []).is_ok());
        let too_much = vec!["a".repeat(5000)];
        assert_eq!(layout(TOP, 4096, "p", &strs(&["p"]), &too_much, [0; 16], |_| []), Err(TooBig));
    }
}
