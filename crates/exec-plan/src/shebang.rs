//! `#!interp [one-arg]` on a script's first line, read as Linux's binfmt_script reads it.

use alloc::string::String;

/// How much of the first line Linux looks at (BINPRM_BUF_SIZE).
pub const LINE_MAX: usize = 256;

/// An empty or non-UTF-8 `#!` line (ENOEXEC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadScript;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang {
    pub interpreter: String,
    /// Everything after the interpreter, blanks trimmed, as one argument.
    pub argument: Option<String>,
}

/// Parses `data`, which starts with `#!`.
pub fn parse(data: &[u8]) -> Result<Shebang, BadScript> {
    let limit = data.len().min(LINE_MAX);
    let line_end = data[..limit].iter().position(|&b| b == b'\n').unwrap_or(limit);
    let line = core::str::from_utf8(data.get(2..line_end).unwrap_or(&[])).map_err(|_| BadScript)?;
    let blank = |c: char| c == ' ' || c == '\t';
    let line = line.trim_matches(blank);
    if line.is_empty() {
        return Err(BadScript);
    }
    let (interpreter, rest) = match line.find(blank) {
        Some(i) => (&line[..i], line[i..].trim_matches(blank)),
        None => (line, ""),
    };
    Ok(Shebang {
        interpreter: String::from(interpreter),
        argument: (!rest.is_empty()).then(|| String::from(rest)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> (String, Option<String>) {
        let sb = parse(s.as_bytes()).unwrap();
        (sb.interpreter, sb.argument)
    }

    #[test]
    fn interpreter_alone() {
        assert_eq!(ok("#!/bin/sh\necho hi\n"), ("/bin/sh".into(), None));
        assert_eq!(ok("#!/bin/sh"), ("/bin/sh".into(), None));
    }

    #[test]
    fn blanks_around_are_trimmed_and_the_rest_is_one_argument() {
        assert_eq!(ok("#! \t/bin/awk  -f  x \n"), ("/bin/awk".into(), Some("-f  x".into())));
    }

    #[test]
    fn empty_lines_are_rejected() {
        assert_eq!(parse(b"#!\n/bin/sh"), Err(BadScript));
        assert_eq!(parse(b"#!  \t\n"), Err(BadScript));
        assert_eq!(parse(b"#!"), Err(BadScript));
    }

    #[test]
    fn only_the_first_256_bytes_count() {
        let mut long = std::vec::Vec::from(&b"#!/bin/sh "[..]);
        long.resize(300, b'a');
        let sb = parse(&long).unwrap();
        assert_eq!(sb.argument.unwrap().len(), LINE_MAX - 10);
    }

    #[test]
    fn non_utf8_is_rejected() {
        assert_eq!(parse(b"#!/bin/\xff\n"), Err(BadScript));
    }
}
