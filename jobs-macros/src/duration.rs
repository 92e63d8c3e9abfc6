//! Duration strings in attributes: `"500ms"`, `"2s"`, `"5m"`, `"1h"`, `"1d"`,
//! and compounds with the larger units first (`"1h30m"`, `"1m30s"`).

/// What the error messages show as the accepted form.
pub(crate) const ACCEPTED: &str = "a number followed by `ms`, `s`, `m`, `h` or `d`, such as \"500ms\", \"2s\", \"5m\", \"1h\", \"1d\" or \"1h30m\"";

const UNITS: [(&str, u128); 5] = [
    ("d", 86_400_000_000_000),
    ("h", 3_600_000_000_000),
    ("m", 60_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
];

/// Why a duration string was rejected (the message finishes the sentence
/// "invalid duration `x`: ...").
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DurationError {
    /// Not of the accepted form.
    Malformed,
    /// A unit appears after a smaller one, or twice (`"30m1h"`).
    UnitOrder,
    /// More nanoseconds than a `u64` holds (about 584 years).
    TooLong,
}

impl DurationError {
    pub(crate) fn reason(&self) -> String {
        match self {
            DurationError::Malformed => format!("write {ACCEPTED}"),
            DurationError::UnitOrder => {
                "write each unit once, larger units first, such as \"1h30m\"".to_owned()
            }
            DurationError::TooLong => "the longest duration is about 584 years".to_owned(),
        }
    }
}

/// Parses a duration string into nanoseconds.
pub(crate) fn parse_nanos(text: &str) -> Result<u64, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Malformed);
    }
    let mut rest = text;
    let mut total: u128 = 0;
    // index into UNITS of the last unit used; the next must come after it
    let mut next_allowed = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError::Malformed);
        }
        let (number, after) = rest.split_at(digits);
        let number: u128 = number.parse().map_err(|_| DurationError::TooLong)?;
        let letters = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(letters);
        let index = UNITS
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or(DurationError::Malformed)?;
        if index < next_allowed {
            return Err(DurationError::UnitOrder);
        }
        next_allowed = index + 1;
        let nanos = number
            .checked_mul(UNITS[index].1)
            .ok_or(DurationError::TooLong)?;
        total = total.checked_add(nanos).ok_or(DurationError::TooLong)?;
        rest = after;
    }
    u64::try_from(total).map_err(|_| DurationError::TooLong)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    #[test]
    fn single_units() {
        assert_eq!(parse_nanos("500ms"), Ok(500_000_000));
        assert_eq!(parse_nanos("2s"), Ok(2 * SECOND));
        assert_eq!(parse_nanos("5m"), Ok(300 * SECOND));
        assert_eq!(parse_nanos("1h"), Ok(3_600 * SECOND));
        assert_eq!(parse_nanos("1d"), Ok(86_400 * SECOND));
        assert_eq!(parse_nanos("0s"), Ok(0));
    }

    #[test]
    fn compounds_go_from_large_to_small() {
        assert_eq!(parse_nanos("1h30m"), Ok(5_400 * SECOND));
        assert_eq!(parse_nanos("1d2h3m4s5ms"), Ok(93_784 * SECOND + 5_000_000));
        assert_eq!(parse_nanos("30m1h"), Err(DurationError::UnitOrder));
        assert_eq!(parse_nanos("1m1m"), Err(DurationError::UnitOrder));
        assert_eq!(parse_nanos("1s500ms"), Ok(1_500_000_000));
    }

    #[test]
    fn malformed_strings_are_rejected() {
        for bad in [
            "", "5", "s", "5 s", " 5s", "5s ", "1.5s", "-1s", "5sec", "5S", "5us", "1h 30m", "h1",
        ] {
            assert_eq!(parse_nanos(bad), Err(DurationError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(parse_nanos("213503d"), Ok(213_503 * 86_400 * SECOND));
        assert_eq!(parse_nanos("213504d"), Err(DurationError::TooLong));
        assert_eq!(
            parse_nanos("99999999999999999999999999999999999999999d"),
            Err(DurationError::TooLong)
        );
    }
}
