//! `pg_size_pretty(bytes)`: a byte count in the unit PostgreSQL 15 picks
//! (`bytes` below 10 kB, then `kB`, `MB`, `GB`, `TB`, `PB`, each up to
//! 20479 of it, halves rounded away from zero), for a `bigint` or an
//! integral `numeric`.

use rusqlite::types::Value;
use rusqlite::{Connection, Result};

use super::deterministic;

pub(super) fn register(conn: &Connection) -> Result<()> {
    conn.create_scalar_function("pg_size_pretty", 1, deterministic(), |ctx| {
        Ok(match ctx.get::<Value>(0)? {
            Value::Integer(i) => Some(size_pretty(i128::from(i))),
            Value::Text(t) => Some(match t.parse::<i128>() {
                Ok(n) => size_pretty(n),
                // a fraction below the first unit prints as given
                Err(_) => format!("{t} bytes"),
            }),
            Value::Real(f) => Some(format!("{f} bytes")),
            Value::Null | Value::Blob(_) => None,
        })
    })
}

/// The units: name, the limit below which the unit is used, whether the
/// value is half-rounded, and its power of two (`size_pretty_units` in
/// PostgreSQL's `dbsize.c`).
const UNITS: &[(&str, i128, bool, u32)] = &[
    ("bytes", 10 * 1024, false, 0),
    ("kB", 20 * 1024 - 1, true, 10),
    ("MB", 20 * 1024 - 1, true, 20),
    ("GB", 20 * 1024 - 1, true, 30),
    ("TB", 20 * 1024 - 1, true, 40),
    ("PB", 20 * 1024 - 1, true, 50),
];

fn size_pretty(mut size: i128) -> String {
    let half_rounded = |x: i128| (x + if x < 0 { -1 } else { 1 }) / 2;
    for (i, &(name, limit, round, bits)) in UNITS.iter().enumerate() {
        let next = UNITS.get(i + 1);
        if next.is_none() || size.abs() < limit {
            let shown = if round { half_rounded(size) } else { size };
            return format!("{shown} {name}");
        }
        if let Some(&(_, _, next_round, next_bits)) = next {
            // one bit fewer when the next unit rounds, one more when this one did
            let shift = next_bits - bits - u32::from(next_round) + u32::from(round);
            size /= 1i128 << shift;
        }
    }
    format!("{size} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_as_postgres_15() {
        // SELECT pg_size_pretty(n::bigint) in PostgreSQL 15
        let cases = [
            (0, "0 bytes"),
            (8192, "8192 bytes"),
            (10239, "10239 bytes"),
            (10240, "10 kB"),
            (16384, "16 kB"),
            (12_345_678, "12 MB"),
            (10_485_760, "10 MB"),
            (20_970_496, "20 MB"),
            (20_971_008, "20 MB"),
            (-10240, "-10 kB"),
            (1_099_511_627_776, "1024 GB"),
            (9_223_372_036_854_775_807, "8192 PB"),
        ];
        for (bytes, expected) in cases {
            assert_eq!(size_pretty(bytes), expected, "{bytes}");
        }
    }
}
