//! JSON numbers as the OpenAPI document's `integer` means them: `12.0` is the integer 12
//! (JSON Schema counts a number with a zero fraction as an integer), while `12.5`, negative
//! numbers and numbers past [`MAX_SEQ`] are refused.

use crate::MAX_SEQ;
use serde::de::{Deserializer, Error, Unexpected, Visitor};
use std::fmt;

/// Deserializes a sequence number (0 to [`MAX_SEQ`]) from a JSON integer, or from a number
/// with a zero fraction.
pub fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number from 0 to 9223372036854775807")
        }

        fn visit_u64<E: Error>(self, value: u64) -> Result<u64, E> {
            if value > MAX_SEQ {
                return Err(E::invalid_value(Unexpected::Unsigned(value), &self));
            }
            Ok(value)
        }

        fn visit_i64<E: Error>(self, value: i64) -> Result<u64, E> {
            u64::try_from(value).map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
        }

        fn visit_f64<E: Error>(self, value: f64) -> Result<u64, E> {
            // 2^63 as a float: the first whole number past `MAX_SEQ`.
            const PAST_MAX: f64 = 9_223_372_036_854_775_808.0;
            if value.fract() == 0.0 && (0.0..PAST_MAX).contains(&value) {
                // Whole and in range: the conversion is exact up to 2^53 and the nearest
                // float above it, as JSON parsers read such numbers anyway.
                #[allow(clippy::as_conversions, clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                return Ok(value as u64);
            }
            Err(E::invalid_value(Unexpected::Float(value), &self))
        }
    }

    deserializer.deserialize_any(Whole)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Seq {
        #[serde(deserialize_with = "super::whole")]
        seq: u64,
    }

    fn seq(json: &str) -> Option<u64> {
        serde_json::from_str::<Seq>(json).ok().map(|s| s.seq)
    }

    #[test]
    fn whole_numbers_with_or_without_a_fraction() {
        assert_eq!(seq(r#"{"seq": 12}"#), Some(12));
        assert_eq!(seq(r#"{"seq": 12.0}"#), Some(12));
        assert_eq!(seq(r#"{"seq": 1.2e1}"#), Some(12));
        assert_eq!(seq(r#"{"seq": 12.5}"#), None);
        assert_eq!(seq(r#"{"seq": -1}"#), None);
        assert_eq!(seq(r#"{"seq": -0.0}"#), Some(0));
        assert_eq!(seq(r#"{"seq": 1e30}"#), None);
        assert_eq!(seq(r#"{"seq": 9223372036854775807}"#), Some(crate::MAX_SEQ));
        assert_eq!(seq(r#"{"seq": 9223372036854775808}"#), None, "past the stores' numbers");
        assert_eq!(seq(r#"{"seq": 9.3e18}"#), None);
        assert_eq!(seq(r#"{"seq": "12"}"#), None);
    }
}
