//! JSON numbers as the OpenAPI document's `integer` means them: `12.0` is the integer 12
//! (JSON Schema counts a number with a zero fraction as an integer), while `12.5`, negative
//! numbers and numbers past `u64` are refused.

use serde::de::{Deserializer, Error, Unexpected, Visitor};
use std::fmt;

/// Deserializes a `u64` from a JSON integer, or from a number with a zero fraction.
pub fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a whole number from 0")
        }

        fn visit_u64<E: Error>(self, value: u64) -> Result<u64, E> {
            Ok(value)
        }

        fn visit_i64<E: Error>(self, value: i64) -> Result<u64, E> {
            u64::try_from(value).map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
        }

        fn visit_f64<E: Error>(self, value: f64) -> Result<u64, E> {
            // 2^64 as a float: the first whole number past `u64`.
            const PAST_U64: f64 = 18_446_744_073_709_551_616.0;
            if value.fract() == 0.0 && (0.0..PAST_U64).contains(&value) {
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
        assert_eq!(seq(r#"{"seq": "12"}"#), None);
    }
}
