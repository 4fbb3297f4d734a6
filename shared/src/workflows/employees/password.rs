//! Initial passwords for TimeTrack users the sync creates.
//!
//! TimeTrack requires a password on create. The user is expected to reset it (or sign in another way), so
//! the sync generates a strong random one, hands it to the create call wrapped in [`SecretString`] and
//! forgets it: it is never logged, stored, or printed by `Debug`.
use rand::rngs::OsRng;
use rand::seq::SliceRandom;
use rand::{CryptoRng, Rng, TryRngCore};
use secrecy::SecretString;

/// Length of generated passwords.
pub(crate) const PASSWORD_LENGTH: usize = 24;

const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const LOWER: &[u8] = b"abcdefghijkmnopqrstuvwxyz";
const DIGITS: &[u8] = b"23456789";
/// Symbols that need no quoting in JSON, URLs' userinfo aside, or shells.
const SYMBOLS: &[u8] = b"!#%+-=?@^_~*";

/// A fresh password from the operating system's random source: [`PASSWORD_LENGTH`] characters with at
/// least one upper-case letter, lower-case letter, digit and symbol.
pub(crate) fn generate_password() -> SecretString {
    // The OS RNG failing is an unrecoverable platform fault, not a data error.
    let mut rng = OsRng.unwrap_err();
    generate_password_with(&mut rng)
}

/// [`generate_password`] with a caller-supplied cryptographic RNG (for tests with a seeded generator).
pub(crate) fn generate_password_with<R: Rng + CryptoRng + ?Sized>(rng: &mut R) -> SecretString {
    let all: Vec<u8> = [UPPER, LOWER, DIGITS, SYMBOLS].concat();
    let mut chars: Vec<u8> = Vec::with_capacity(PASSWORD_LENGTH);
    for class in [UPPER, LOWER, DIGITS, SYMBOLS] {
        chars.push(class[rng.random_range(0..class.len())]);
    }
    while chars.len() < PASSWORD_LENGTH {
        chars.push(all[rng.random_range(0..all.len())]);
    }
    chars.shuffle(rng);
    // Every byte comes from the ASCII tables above.
    let text: String = chars.into_iter().map(char::from).collect();
    SecretString::from(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn passwords_are_long_and_mix_every_class() {
        for _ in 0..200 {
            let p = generate_password();
            let s = p.expose_secret();
            assert!(s.len() >= 20);
            assert!(s.bytes().any(|b| b.is_ascii_uppercase()), "{}", s.len());
            assert!(s.bytes().any(|b| b.is_ascii_lowercase()));
            assert!(s.bytes().any(|b| b.is_ascii_digit()));
            assert!(s.bytes().any(|b| SYMBOLS.contains(&b)));
        }
    }

    #[test]
    fn passwords_differ() {
        let a = generate_password();
        let b = generate_password();
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn debug_never_prints_the_password() {
        let p = generate_password();
        let printed = format!("{p:?}");
        assert!(!printed.contains(p.expose_secret()));
        // Not even a fragment long enough to matter.
        let secret = p.expose_secret();
        for window in secret.as_bytes().windows(6) {
            let fragment = std::str::from_utf8(window).unwrap_or_default();
            assert!(!printed.contains(fragment), "{printed}");
        }
    }
}
