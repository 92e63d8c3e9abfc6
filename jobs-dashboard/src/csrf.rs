//! The token every action form carries: random per dashboard, so a page of
//! another site, which cannot read the dashboard's pages, cannot know it.

use std::fmt::Write;

/// A dashboard's form token.
pub(crate) struct Token(String);

impl Token {
    /// A fresh token from the operating system's random source. If that
    /// fails (it practically never does), the dashboard still works and
    /// relies on its cross-site header checks alone.
    pub(crate) fn new() -> Self {
        let mut bytes = [0u8; 32];
        if getrandom::fill(&mut bytes).is_err() {
            for byte in &mut bytes {
                *byte = fastrand::u8(..);
            }
        }
        let mut text = String::with_capacity(64);
        for byte in bytes {
            let _ = write!(text, "{byte:02x}");
        }
        Self(text)
    }

    /// The token as the forms carry it.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `given` is the token, compared in constant time.
    pub(crate) fn matches(&self, given: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_match_only_themselves() {
        let (one, two) = (Token::new(), Token::new());
        assert_eq!(one.as_str().len(), 64);
        assert_ne!(one.as_str(), two.as_str());
        assert!(one.matches(one.as_str()));
        assert!(!one.matches(two.as_str()));
        assert!(!one.matches(""));
    }
}
