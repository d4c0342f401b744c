//! Exact point values in integer hundredths.
//!
//! Every figure of an assessment (rule points, caps, scores, totals) has at most two decimals, so it is
//! kept as an `i64` count of hundredths: addition and comparison are exact and fast, and there is no
//! binary floating point anywhere. Parsing refuses a third decimal instead of rounding it away. The only
//! roundings of the whole system are [`div_half_up`] calls made by the scoring module.
//! This module must not know about rules, units or files.

use std::fmt;
use std::str::FromStr;

/// A number of points with at most two decimals, stored as hundredths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(i64);

/// Why a text is not a valid point value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PointsError {
    #[error("不是数字")]
    NotANumber,
    #[error("最多两位小数")]
    TooManyDecimals,
    #[error("数值过大")]
    TooLarge,
}

impl Points {
    pub const ZERO: Points = Points(0);

    /// Points from a count of hundredths.
    pub const fn from_hundredths(h: i64) -> Self {
        Points(h)
    }

    /// Points from a whole number.
    pub const fn whole(n: i64) -> Self {
        Points(n * 100)
    }

    pub const fn hundredths(self) -> i64 {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// `self × n`, saturating (a count is bounded well below overflow by the ledger).
    pub fn times(self, n: u64) -> Self {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        Points(self.0.saturating_mul(n))
    }

    pub fn min(self, other: Self) -> Self {
        Points(self.0.min(other.0))
    }

    pub fn max(self, other: Self) -> Self {
        Points(self.0.max(other.0))
    }

    /// Parses a plain decimal text: optional sign, digits, optional `.` and at most two decimals.
    /// Surrounding spaces are allowed; exponents, thousands separators and a third decimal are not
    /// (`"1.805"` is refused, never rounded).
    pub fn parse(text: &str) -> Result<Self, PointsError> {
        parse_hundredths(text.trim().as_bytes()).map(Points)
    }

    /// The shortest exact text: `"30"`, `"17.4"`, `"18.25"`, `"-0.5"`.
    pub fn to_min_string(self) -> String {
        self.to_string()
    }

    /// The exact decimal value.
    pub fn to_decimal(self) -> rust_decimal::Decimal {
        rust_decimal::Decimal::new(self.0, 2)
    }

    /// The text with exactly two decimals: `"95.15"`, `"0.00"`.
    pub fn to_fixed2(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", a / 100, a % 100)
    }
}

/// Parses bytes into hundredths; shared by [`Points::parse`] and the ledger's hot path.
pub(crate) fn parse_hundredths(b: &[u8]) -> Result<i64, PointsError> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return Err(PointsError::NotANumber);
    }
    let mut int: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0u32;
    let mut seen_dot = false;
    let mut any_digit = false;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                any_digit = true;
                let d = i64::from(c - b'0');
                if seen_dot {
                    frac_digits += 1;
                    if frac_digits > 2 {
                        if d != 0 {
                            return Err(PointsError::TooManyDecimals);
                        }
                        // Trailing zeros beyond two decimals ("1.500") carry no extra precision.
                        continue;
                    }
                    frac = frac * 10 + d;
                } else {
                    int = int
                        .checked_mul(10)
                        .and_then(|v| v.checked_add(d))
                        .ok_or(PointsError::TooLarge)?;
                    if int > 1_000_000_000_000 {
                        return Err(PointsError::TooLarge);
                    }
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return Err(PointsError::NotANumber),
        }
    }
    if !any_digit {
        return Err(PointsError::NotANumber);
    }
    let frac_digits = frac_digits.min(2);
    let frac = frac * 10i64.pow(2 - frac_digits);
    let v = int * 100 + frac;
    Ok(if neg { -v } else { v })
}

/// `n ÷ d` rounded half away from zero (四舍五入), for `d > 0`.
pub fn div_half_up(n: i128, d: i128) -> i128 {
    debug_assert!(d > 0);
    let q = n / d;
    let r = n % d;
    if 2 * r.abs() >= d {
        if n < 0 { q - 1 } else { q + 1 }
    } else {
        q
    }
}

impl fmt::Display for Points {
    /// The shortest exact text (`"30"`, `"17.4"`, `"0.25"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let a = self.0.unsigned_abs();
        let (i, c) = (a / 100, a % 100);
        if c == 0 {
            write!(f, "{sign}{i}")
        } else if c % 10 == 0 {
            write!(f, "{sign}{i}.{}", c / 10)
        } else {
            write!(f, "{sign}{i}.{c:02}")
        }
    }
}

impl FromStr for Points {
    type Err = PointsError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Points::parse(s)
    }
}

impl std::ops::Add for Points {
    type Output = Points;
    fn add(self, o: Points) -> Points {
        Points(self.0.saturating_add(o.0))
    }
}

impl std::ops::Sub for Points {
    type Output = Points;
    fn sub(self, o: Points) -> Points {
        Points(self.0.saturating_sub(o.0))
    }
}

impl std::ops::AddAssign for Points {
    fn add_assign(&mut self, o: Points) {
        *self = *self + o;
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        iter.fold(Points::ZERO, |a, b| a + b)
    }
}

impl serde::Serialize for Points {
    /// Points travel as decimal strings, never as JSON numbers.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_exactly() {
        for (text, h, min, fixed) in [
            ("0", 0, "0", "0.00"),
            ("30", 3000, "30", "30.00"),
            ("0.2", 20, "0.2", "0.20"),
            ("17.40", 1740, "17.4", "17.40"),
            ("18.25", 1825, "18.25", "18.25"),
            (" 4.5 ", 450, "4.5", "4.50"),
            ("-0.5", -50, "-0.5", "-0.50"),
            ("1.500", 150, "1.5", "1.50"),
            (".5", 50, "0.5", "0.50"),
        ] {
            let p = Points::parse(text).unwrap();
            assert_eq!(p.hundredths(), h, "{text}");
            assert_eq!(p.to_string(), min, "{text}");
            assert_eq!(p.to_fixed2(), fixed, "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_exact() {
        assert_eq!(Points::parse("1.805"), Err(PointsError::TooManyDecimals));
        for bad in [
            "", "-", ".", "1e2", "1,5", "abc", "1..2", "１", "NaN", "1.2.3",
        ] {
            assert!(Points::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(
            Points::parse("99999999999999999999"),
            Err(PointsError::TooLarge)
        );
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(div_half_up(18050, 100), 181); // 1.805 → 1.81
        assert_eq!(div_half_up(28545, 100), 285); // 2.8545 → 2.85
        assert_eq!(div_half_up(28550, 100), 286);
        assert_eq!(div_half_up(-150, 100), -2);
        assert_eq!(div_half_up(925, 2), 463); // mean 4.625 → 4.63
        assert_eq!(div_half_up(149, 100), 1);
    }
}
