//! `numeric` in binary (`numeric_send`/`numeric_recv`): the number of
//! base-10000 digits, the weight of the first one, the sign, the display
//! scale, then the digits, all 16-bit big-endian. Works on the decimal
//! text, so any precision converts exactly.

use super::{PgError, insufficient, malformed};
use crate::types::PgType;

const NBASE: u16 = 10_000;
const POSITIVE: u16 = 0x0000;
const NEGATIVE: u16 = 0x4000;
const NAN: u16 = 0xC000;
const INFINITY: u16 = 0xD000;
const NEG_INFINITY: u16 = 0xF000;
/// The largest display scale a numeric can carry.
const DSCALE_MAX: u16 = 0x3FFF;

fn header(ndigits: u16, weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
    [ndigits, weight as u16, sign, dscale]
        .iter()
        .flat_map(|word| word.to_be_bytes())
        .collect()
}

/// The binary form of PostgreSQL's decimal text for a numeric; `None` if
/// the text is not one.
pub(super) fn send(text: &str) -> Option<Vec<u8>> {
    match text {
        "NaN" => return Some(header(0, 0, NAN, 0)),
        // PostgreSQL reads the scale of ±Infinity out of bits of its header
        // that hold no scale, and sends 32 (PostgreSQL 15: numeric_send).
        "Infinity" => return Some(header(0, 0, INFINITY, 32)),
        "-Infinity" => return Some(header(0, 0, NEG_INFINITY, 32)),
        _ => {}
    }
    let (sign, body) = match text.strip_prefix('-') {
        Some(body) => (NEGATIVE, body),
        None => (POSITIVE, text),
    };
    let (whole, fraction) = body.split_once('.').unwrap_or((body, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let dscale = u16::try_from(fraction.len())
        .ok()
        .filter(|s| *s <= DSCALE_MAX)?;
    let whole = whole.trim_start_matches('0');
    // Align the decimal point to a digit boundary: pad the whole part on
    // the left and the fraction on the right to multiples of four.
    let lead = (4 - whole.len() % 4) % 4;
    let trail = (4 - fraction.len() % 4) % 4;
    let decimal: Vec<u8> = std::iter::repeat_n(b'0', lead)
        .chain(whole.bytes())
        .chain(fraction.bytes())
        .chain(std::iter::repeat_n(b'0', trail))
        .collect();
    let mut digits: Vec<u16> = decimal
        .chunks(4)
        .map(|chunk| chunk.iter().fold(0, |n, b| n * 10 + u16::from(b - b'0')))
        .collect();
    let mut weight = i64::try_from((lead + whole.len()) / 4).ok()? - 1;
    // Like PostgreSQL, keep no leading or trailing zero digits.
    let leading = digits.iter().take_while(|d| **d == 0).count();
    digits.drain(..leading);
    weight -= i64::try_from(leading).ok()?;
    while digits.last() == Some(&0) {
        digits.pop();
    }
    let (weight, sign) = if digits.is_empty() {
        (0, POSITIVE)
    } else {
        (i16::try_from(weight).ok()?, sign)
    };
    let mut out = header(u16::try_from(digits.len()).ok()?, weight, sign, dscale);
    out.extend(digits.iter().flat_map(|d| d.to_be_bytes()));
    Some(out)
}

/// The decimal text of a binary numeric, with exactly its display scale
/// (digits beyond it are truncated, as `numeric_recv` does).
pub(super) fn recv(bytes: &[u8]) -> Result<String, PgError> {
    let bad = || malformed(PgType::NUMERIC);
    let word = |i: usize| -> Result<u16, PgError> {
        let pair = bytes.get(2 * i..2 * i + 2).ok_or_else(insufficient)?;
        Ok(u16::from_be_bytes([pair[0], pair[1]]))
    };
    let ndigits = usize::from(word(0)?);
    let weight = i64::from(word(1)? as i16);
    let sign = word(2)?;
    if ![POSITIVE, NEGATIVE, NAN, INFINITY, NEG_INFINITY].contains(&sign) {
        return Err(bad());
    }
    let dscale = word(3)?;
    if dscale > DSCALE_MAX {
        return Err(bad());
    }
    let digits = (0..ndigits)
        .map(|i| word(4 + i).and_then(|d| if d < NBASE { Ok(d) } else { Err(bad()) }))
        .collect::<Result<Vec<u16>, PgError>>()?;
    if bytes.len() != 8 + 2 * ndigits {
        return Err(bad());
    }
    match sign {
        NAN => return Ok("NaN".into()),
        INFINITY => return Ok("Infinity".into()),
        NEG_INFINITY => return Ok("-Infinity".into()),
        _ => {}
    }
    // The digit at `k` weighs NBASE^(weight - k).
    let digit_at = |position: i64| -> u16 {
        usize::try_from(weight - position)
            .ok()
            .and_then(|k| digits.get(k).copied())
            .unwrap_or(0)
    };
    let mut whole = String::new();
    for position in (0..=weight).rev() {
        whole.push_str(&format!("{:04}", digit_at(position)));
    }
    let whole = whole.trim_start_matches('0');
    let mut fraction = String::new();
    let mut position = -1;
    while fraction.len() < usize::from(dscale) {
        fraction.push_str(&format!("{:04}", digit_at(position)));
        position -= 1;
    }
    fraction.truncate(usize::from(dscale));
    let is_zero = whole.is_empty() && fraction.bytes().all(|b| b == b'0');
    let mut out = String::new();
    if sign == NEGATIVE && !is_zero {
        out.push('-');
    }
    out.push_str(if whole.is_empty() { "0" } else { whole });
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(&fraction);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sends_like_postgres_15() {
        // SELECT numeric_send(x) for each x
        let cases = [
            ("NaN", "00000000c0000000"),
            ("Infinity", "00000000d0000020"),
            ("-Infinity", "00000000f0000020"),
            ("0.00", "0000000000000002"),
            ("-0.00", "0000000000000002"),
            ("12345.678900", "0003000100000006000109291a85"),
            ("0.0001", "0001ffff000000040001"),
            ("100000000", "00010002000000000001"),
            ("-1.5", "000200004000000100011388"),
        ];
        for (text, expected) in cases {
            assert_eq!(send(text).map(|b| hex(&b)), Some(expected.into()), "{text}");
        }
        assert_eq!(send("1e5"), None);
        assert_eq!(send(""), None);
    }

    #[test]
    fn receives_with_the_display_scale() {
        for text in [
            "0",
            "0.00",
            "-1.5",
            "12345.678900",
            "0.0001",
            "100000000",
            "NaN",
            "-0.000000012345",
            "99999999999999999999999999999999999999999.5",
        ] {
            let bytes = send(text).unwrap();
            assert_eq!(recv(&bytes).as_deref(), Ok(text));
        }
        // digits beyond the scale are cut: 1.2345 sent with dscale 2
        assert_eq!(
            recv(&[0, 2, 0, 0, 0, 0, 0, 2, 0, 1, 0x09, 0x29]).as_deref(),
            Ok("1.23")
        );
        assert!(recv(&[0, 0, 0, 0, 0x12, 0x34, 0, 0]).is_err());
        assert!(recv(&[0, 1, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
