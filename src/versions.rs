//! Release versions as the control file and `pg_extension.extversion` spell them (`0.2.0`):
//! which of two is newer, so that a worker whose library and database disagree can say what
//! ends the wait: a server restart (the database was updated past the loaded library) or
//! `ALTER EXTENSION … UPDATE` (a newer library is loaded, the database not updated yet).

use std::cmp::Ordering;

/// The library's own version, which is also the control file's `default_version`.
pub const LIBRARY: &str = env!("CARGO_PKG_VERSION");

/// Compares two `MAJOR.MINOR.PATCH` versions numerically; `None` if either is not one.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(parse(a)?.cmp(&parse(b)?))
}

fn parse(v: &str) -> Option<[u64; 3]> {
    let mut parts = v.split('.');
    let mut out = [0u64; 3];
    for slot in &mut out {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number_not_by_text() {
        assert_eq!(compare("0.10.0", "0.9.9"), Some(Ordering::Greater));
        assert_eq!(compare("0.2.0", "0.2.0"), Some(Ordering::Equal));
        assert_eq!(compare("0.1.0", "1.0.0"), Some(Ordering::Less));
    }

    #[test]
    fn anything_but_three_numbers_is_not_a_version() {
        for odd in [
            "",
            "0.1",
            "0.1.0.1",
            "0.1.x",
            "0.1.0-beta",
            "v0.1.0",
            "0..1",
            " 0.1.0",
        ] {
            assert_eq!(compare(odd, "0.1.0"), None, "{odd:?}");
        }
    }

    #[test]
    fn the_library_version_is_one() {
        assert_eq!(compare(LIBRARY, LIBRARY), Some(Ordering::Equal));
    }
}
