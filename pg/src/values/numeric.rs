//! `numeric` values: exact decimals of up to 38 significant digits with a
//! display scale, parsed from and printed as PostgreSQL's text, with
//! PostgreSQL's result scales for arithmetic and typmod rounding.

use std::cmp::Ordering;

use crate::error::Error;

/// An exact decimal: `mantissa × 10^-scale`; `scale` is PostgreSQL's
/// display scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Numeric {
    mantissa: i128,
    scale: u32,
}

fn too_big() -> Error {
    Error::Unsupported("numeric values beyond 38 digits".into())
}

fn pow10(exp: u32) -> Result<i128, Error> {
    10i128.checked_pow(exp).ok_or_else(too_big)
}

/// Divides rounding half away from zero, as PostgreSQL rounds numerics.
fn div_round(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator / denominator;
    let remainder = numerator % denominator;
    if remainder.unsigned_abs() * 2 >= denominator.unsigned_abs() {
        quotient
            + if (numerator < 0) == (denominator < 0) {
                1
            } else {
                -1
            }
    } else {
        quotient
    }
}

impl Numeric {
    /// An integer.
    pub fn from_i64(value: i64) -> Numeric {
        Numeric {
            mantissa: i128::from(value),
            scale: 0,
        }
    }

    /// Parses PostgreSQL numeric input: optional sign, digits, optional
    /// fraction, optional exponent.
    pub fn parse(input: &str) -> Result<Numeric, Error> {
        let invalid = || Error::InvalidText {
            ty: "numeric".into(),
            value: input.into(),
        };
        let text = input.trim();
        let (body, exponent) = match text.find(['e', 'E']) {
            Some(at) => (
                &text[..at],
                text[at + 1..].parse::<i32>().map_err(|_| invalid())?,
            ),
            None => (text, 0),
        };
        let (negative, body) = match body.as_bytes().first() {
            Some(b'-') => (true, &body[1..]),
            Some(b'+') => (false, &body[1..]),
            _ => (false, body),
        };
        let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
        let digits_ok = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty()) || !digits_ok(whole) || !digits_ok(fraction) {
            return Err(invalid());
        }
        let mut mantissa: i128 = 0;
        for b in whole.bytes().chain(fraction.bytes()) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or_else(too_big)?;
        }
        let scale = i64::try_from(fraction.len()).map_err(|_| too_big())? - i64::from(exponent);
        let value = if scale < 0 {
            let factor = pow10(u32::try_from(-scale).map_err(|_| too_big())?)?;
            Numeric {
                mantissa: mantissa.checked_mul(factor).ok_or_else(too_big)?,
                scale: 0,
            }
        } else {
            Numeric {
                mantissa,
                scale: u32::try_from(scale).map_err(|_| too_big())?,
            }
        };
        Ok(if negative { -value } else { value })
    }

    /// Converts a float the way PostgreSQL's `float8::numeric` does (15
    /// significant digits).
    pub fn from_f64(value: f64) -> Result<Numeric, Error> {
        if !value.is_finite() {
            return Err(Error::Unsupported("NaN and infinite numerics".into()));
        }
        let text = format!("{value:.*e}", 14);
        let parsed = Numeric::parse(&text)?;
        Ok(parsed.trim_scale())
    }

    /// The value as a float.
    pub fn to_f64(self) -> f64 {
        self.to_string().parse().unwrap_or(f64::NAN)
    }

    /// Rounds (half away from zero) or pads to `scale` digits after the point.
    pub fn with_scale(self, scale: u32) -> Result<Numeric, Error> {
        let mantissa = match scale.cmp(&self.scale) {
            Ordering::Equal => self.mantissa,
            Ordering::Greater => self
                .mantissa
                .checked_mul(pow10(scale - self.scale)?)
                .ok_or_else(too_big)?,
            Ordering::Less => match pow10(self.scale - scale) {
                Ok(factor) => div_round(self.mantissa, factor),
                Err(_) => 0,
            },
        };
        Ok(Numeric { mantissa, scale })
    }

    /// Drops trailing zeros after the point.
    fn trim_scale(mut self) -> Numeric {
        while self.scale > 0 && self.mantissa % 10 == 0 {
            self.mantissa /= 10;
            self.scale -= 1;
        }
        self
    }

    /// Applies a `numeric(precision, scale)` type modifier: rounds to the
    /// scale and rejects values with too many integer digits (22003).
    pub fn apply_typmod(self, precision: u32, scale: u32) -> Result<Numeric, Error> {
        let rounded = self.with_scale(scale)?;
        let Ok(limit) = pow10(precision) else {
            return Ok(rounded);
        };
        if rounded.mantissa.abs() >= limit {
            return Err(Error::OutOfRange(format!(
                "numeric({precision},{scale}) field"
            )));
        }
        Ok(rounded)
    }

    /// Both operands at the larger scale.
    fn aligned(self, other: Numeric) -> Result<(i128, i128, u32), Error> {
        let scale = self.scale.max(other.scale);
        Ok((
            self.with_scale(scale)?.mantissa,
            other.with_scale(scale)?.mantissa,
            scale,
        ))
    }

    /// `self + other`, at the larger scale.
    pub fn checked_add(self, other: Numeric) -> Result<Numeric, Error> {
        let (a, b, scale) = self.aligned(other)?;
        Ok(Numeric {
            mantissa: a.checked_add(b).ok_or_else(too_big)?,
            scale,
        })
    }

    /// `self - other`, at the larger scale.
    pub fn checked_sub(self, other: Numeric) -> Result<Numeric, Error> {
        self.checked_add(-other)
    }

    /// `self * other`, at the sum of the scales.
    pub fn checked_mul(self, other: Numeric) -> Result<Numeric, Error> {
        Ok(Numeric {
            mantissa: self
                .mantissa
                .checked_mul(other.mantissa)
                .ok_or_else(too_big)?,
            scale: self.scale + other.scale,
        })
    }

    /// `self / other` at PostgreSQL's result scale (`select_div_scale`:
    /// at least 16 significant digits, at least either operand's scale).
    pub fn checked_div(self, other: Numeric) -> Result<Numeric, Error> {
        if other.mantissa == 0 {
            return Err(Error::DivisionByZero);
        }
        let scale = self.div_scale(other);
        // quotient mantissa = a.m * 10^(scale + b.scale - a.scale) / b.m
        let shift = i64::from(scale) + i64::from(other.scale) - i64::from(self.scale);
        let (numerator, denominator) = if shift >= 0 {
            let factor = pow10(u32::try_from(shift).map_err(|_| too_big())?)?;
            (
                self.mantissa.checked_mul(factor).ok_or_else(too_big)?,
                other.mantissa,
            )
        } else {
            let factor = pow10(u32::try_from(-shift).map_err(|_| too_big())?)?;
            (
                self.mantissa,
                other.mantissa.checked_mul(factor).ok_or_else(too_big)?,
            )
        };
        Ok(Numeric {
            mantissa: div_round(numerator, denominator),
            scale,
        })
    }

    /// `self % other`, at the larger scale, with the sign of `self`.
    pub fn checked_rem(self, other: Numeric) -> Result<Numeric, Error> {
        if other.mantissa == 0 {
            return Err(Error::DivisionByZero);
        }
        let (a, b, scale) = self.aligned(other)?;
        Ok(Numeric {
            mantissa: a % b,
            scale,
        })
    }

    /// PostgreSQL's weight (in base-10000 digits) and first base-10000
    /// digit of a nonzero value.
    fn nbase_weight(self) -> (i64, i128) {
        let digits = i64::try_from(self.mantissa.unsigned_abs().to_string().len()).unwrap_or(0);
        let exponent = digits - 1 - i64::from(self.scale);
        let weight = exponent.div_euclid(4);
        let shift = -4 * weight - i64::from(self.scale);
        let magnitude = self.mantissa.abs();
        let first = if shift >= 0 {
            magnitude * 10i128.pow(u32::try_from(shift).unwrap_or(0))
        } else {
            magnitude / 10i128.pow(u32::try_from(-shift).unwrap_or(0))
        };
        (weight, first)
    }

    fn div_scale(self, other: Numeric) -> u32 {
        const MIN_SIG_DIGITS: i64 = 16;
        let (weight1, first1) = if self.mantissa == 0 {
            (0, 0)
        } else {
            self.nbase_weight()
        };
        let (weight2, first2) = other.nbase_weight();
        let mut qweight = weight1 - weight2;
        if first1 <= first2 {
            qweight -= 1;
        }
        let rscale = (MIN_SIG_DIGITS - qweight * 4)
            .max(i64::from(self.scale))
            .max(i64::from(other.scale))
            .clamp(0, 1000);
        u32::try_from(rscale).unwrap_or(0)
    }

    /// The integer part, toward zero (`trunc`).
    pub fn trunc(self) -> Numeric {
        match pow10(self.scale) {
            Ok(factor) => Numeric {
                mantissa: self.mantissa / factor,
                scale: 0,
            },
            Err(_) => Numeric::from_i64(0),
        }
    }

    /// The largest integer not above the value (`floor`).
    pub fn floor(self) -> Numeric {
        let whole = self.trunc();
        if self.mantissa < 0 && whole.cmp_value(self) != Ordering::Equal {
            Numeric {
                mantissa: whole.mantissa - 1,
                scale: 0,
            }
        } else {
            whole
        }
    }

    /// The smallest integer not below the value (`ceil`).
    pub fn ceil(self) -> Numeric {
        -(-self).floor()
    }

    /// -1, 0 or 1 (`sign`).
    pub fn signum(self) -> Numeric {
        Numeric::from_i64(self.mantissa.signum() as i64)
    }

    /// Whether the value is an integer in `i64` range, as that integer.
    pub fn to_i64_rounded(self) -> Result<i64, Error> {
        let rounded = self.with_scale(0)?;
        i64::try_from(rounded.mantissa).map_err(|_| Error::OutOfRange("bigint".into()))
    }

    /// Numeric order, ignoring scale (`9.9 = 9.90`).
    pub fn cmp_value(self, other: Numeric) -> Ordering {
        match self.aligned(other) {
            Ok((a, b, _)) => a.cmp(&b),
            Err(_) => self.to_f64().total_cmp(&other.to_f64()),
        }
    }
}

impl std::ops::Neg for Numeric {
    type Output = Numeric;

    fn neg(self) -> Numeric {
        Numeric {
            mantissa: -self.mantissa,
            scale: self.scale,
        }
    }
}

impl std::fmt::Display for Numeric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = usize::try_from(self.scale).unwrap_or(0);
        let sign = if self.mantissa < 0 { "-" } else { "" };
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Numeric {
        Numeric::parse(text).expect(text)
    }

    #[test]
    fn keeps_scale_like_postgres() {
        assert_eq!(n("9.90").to_string(), "9.90");
        assert_eq!(n("-0.05").to_string(), "-0.05");
        assert_eq!(n("1e3").to_string(), "1000");
        assert_eq!(n("1.5e-3").to_string(), "0.0015");
        assert_eq!(n(".5").to_string(), "0.5");
        assert!(Numeric::parse("1.2.3").is_err());
        assert!(Numeric::parse("abc").is_err());
    }

    #[test]
    fn arithmetic_scales_match_postgres_15() {
        // SELECT 9.90 + 1, 9.90 * 2.5, 3::numeric / 2, 1::numeric / 3, 10.5 % 3
        assert_eq!(
            n("9.90").checked_add(n("1")).map(|v| v.to_string()),
            Ok("10.90".into())
        );
        assert_eq!(
            n("9.90").checked_mul(n("2.5")).map(|v| v.to_string()),
            Ok("24.750".into())
        );
        assert_eq!(
            n("3").checked_div(n("2")).map(|v| v.to_string()),
            Ok("1.5000000000000000".into())
        );
        assert_eq!(
            n("1").checked_div(n("3")).map(|v| v.to_string()),
            Ok("0.33333333333333333333".into())
        );
        assert_eq!(
            n("10.5").checked_rem(n("3")).map(|v| v.to_string()),
            Ok("1.5".into())
        );
        assert_eq!(n("1").checked_div(n("0")), Err(Error::DivisionByZero));
    }

    #[test]
    fn typmod_rounds_half_away_from_zero() {
        // SELECT 2.345::numeric(10,2), (-2.345)::numeric(10,2) → 2.35, -2.35
        assert_eq!(
            n("2.345").apply_typmod(10, 2).map(|v| v.to_string()),
            Ok("2.35".into())
        );
        assert_eq!(
            n("-2.345").apply_typmod(10, 2).map(|v| v.to_string()),
            Ok("-2.35".into())
        );
        assert_eq!(
            n("7").apply_typmod(10, 2).map(|v| v.to_string()),
            Ok("7.00".into())
        );
        assert!(matches!(
            n("1000").apply_typmod(4, 2),
            Err(Error::OutOfRange(_))
        ));
    }

    #[test]
    fn compares_by_value() {
        assert_eq!(n("9.9").cmp_value(n("9.90")), Ordering::Equal);
        assert_eq!(n("10").cmp_value(n("9.90")), Ordering::Greater);
        assert_eq!(n("-1").cmp_value(n("0.5")), Ordering::Less);
    }

    #[test]
    fn from_float_keeps_fifteen_digits() {
        // SELECT 0.1::float8::numeric → 0.1
        assert_eq!(
            Numeric::from_f64(0.1).map(|v| v.to_string()),
            Ok("0.1".into())
        );
        assert_eq!(
            Numeric::from_f64(2.5).map(|v| v.to_string()),
            Ok("2.5".into())
        );
    }
}
