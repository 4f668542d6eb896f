//! File and folder names made from data: a PCN's patient list is
//! `lists/CODE.csv`, its report `pcn/CODE/`, a chart `gradient_NAME_CODE`.
//! Every such name goes through [`component`], which accepts only a plain
//! path component (letters, digits, `-` and `_`), so a code like `../../x`,
//! `/etc` or `a/b` can never put a file outside `--out`. The extract contract
//! (extract.md v1.1) already rejects such codes; this is the second lock on
//! the same door, for names that come from configs or future inputs.

use crate::error::{PhmError, Result};

/// Longest name accepted: codes are at most 20 characters (extract.md), and
/// names joined from two codes and an indicator stay well inside this.
pub const MAX_LEN: usize = 100;

/// True when `value` is a plain path component phm may create: 1 to
/// [`MAX_LEN`] characters of `A–Z a–z 0–9 - _`. No dot at all, so neither
/// `.`/`..` nor a hidden or double-extension name gets through.
pub fn is_plain(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `value` (a `what`, e.g. "pcn_code") as a file or folder name, or an input
/// error naming it.
pub fn component<'a>(what: &str, value: &'a str) -> Result<&'a str> {
    if is_plain(value) {
        Ok(value)
    } else {
        Err(PhmError::Input(format!(
            "{what} `{}` cannot name a file or folder: it must be 1 to {MAX_LEN} letters, \
             digits, `-` or `_` (extract.md v1.1 codes are 1 to 20 of them)",
            value.escape_debug()
        )))
    }
}

/// A file name `STEM.EXT` whose stem comes from data.
pub fn file_name(what: &str, stem: &str, extension: &str) -> Result<String> {
    Ok(format!("{}.{extension}", component(what, stem)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_components_pass() {
        for ok in ["U12345", "P84001", "QOP", "E01005062", "a-b_c", "x"] {
            assert_eq!(component("pcn_code", ok).unwrap(), ok);
        }
        let long = "A".repeat(200);
        for bad in [
            "",
            ".",
            "..",
            "../../x",
            "../x",
            "/abs",
            "/etc/passwd",
            "a/b",
            "a\\b",
            "C:x",
            ".hidden",
            "x.csv",
            "a b",
            "nul\0byte",
            "é",
            "line\nbreak",
            long.as_str(),
        ] {
            let e = component("pcn_code", bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
            assert!(e.to_string().starts_with("pcn_code `"), "{e}");
        }
        assert!(is_plain(&"A".repeat(MAX_LEN)));
        assert!(!is_plain(&"A".repeat(MAX_LEN + 1)));
    }

    #[test]
    fn file_names_keep_their_extension() {
        assert_eq!(file_name("pcn_code", "U1", "csv").unwrap(), "U1.csv");
        assert!(file_name("pcn_code", "../U1", "csv").is_err());
    }
}
