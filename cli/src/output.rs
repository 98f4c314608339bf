//! How `patina exec` and `patina query` print results: psql's aligned
//! table (numbers right-aligned, headers centred, `(N rows)` footer),
//! JSON lines or CSV; notices and errors go to stderr.

use std::io::{self, Write};

use crate::pgclient::{Column, Outcome, Results, ServerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

impl Format {
    /// `--json`, else `--csv`, else psql's aligned table.
    pub fn from_flags(json: bool, csv: bool) -> Format {
        if json {
            Format::Json
        } else if csv {
            Format::Csv
        } else {
            Format::Table
        }
    }
}

/// Prints the results of a query string: the notices on stderr, every
/// outcome in `format` on stdout; then the error that stopped it, if any.
pub fn print(results: Results, format: Format) -> anyhow::Result<()> {
    notices(&results.notices);
    let mut out = io::stdout().lock();
    for outcome in &results.outcomes {
        write(&mut out, outcome, format)?;
    }
    out.flush()?;
    finish(results.error)
}

/// The command tag of an outcome.
pub fn tag(outcome: &Outcome) -> &str {
    match outcome {
        Outcome::Rows { tag, .. } | Outcome::Command(tag) => tag,
    }
}

/// Prints the server's notices to stderr, as psql does.
pub fn notices(notices: &[String]) {
    let mut err = io::stderr().lock();
    for notice in notices {
        let _ = writeln!(err, "{notice}");
    }
}

/// The end of a command: the server's error, if any, as the command's.
pub fn finish(error: Option<ServerError>) -> anyhow::Result<()> {
    match error {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

/// Prints one outcome: its rows in `format`, or (for the table and CSV,
/// as psql) the command tag of a statement without rows.
pub fn write(out: &mut impl Write, outcome: &Outcome, format: Format) -> io::Result<()> {
    match (outcome, format) {
        (Outcome::Rows { columns, rows, .. }, Format::Table) => table(out, columns, rows),
        (Outcome::Rows { columns, rows, .. }, Format::Json) => json(out, columns, rows),
        (Outcome::Rows { columns, rows, .. }, Format::Csv) => csv(out, columns, rows),
        // as psql, in CSV too
        (Outcome::Command(tag), Format::Table | Format::Csv) => writeln!(out, "{tag}"),
        // JSON lines carry rows only
        (Outcome::Command(_), Format::Json) => Ok(()),
    }
}

/// The types psql right-aligns.
fn is_numeric(type_oid: u32) -> bool {
    // int8, int2, int4, oid, xid, cid, float4, float8, money, numeric, xid8
    matches!(
        type_oid,
        20 | 21 | 23 | 26 | 28 | 29 | 700 | 701 | 790 | 1700 | 5069
    )
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn table(out: &mut impl Write, columns: &[Column], rows: &[Vec<Option<String>>]) -> io::Result<()> {
    // Every cell as its lines: a value with line breaks spans several
    // output lines, marked with `+` as psql marks them.
    let cells: Vec<Vec<Vec<&str>>> = rows
        .iter()
        .map(|row| {
            (0..columns.len())
                .map(|i| {
                    let value = row.get(i).and_then(Option::as_deref).unwrap_or("");
                    value.split('\n').collect()
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, column)| {
            cells
                .iter()
                .flat_map(|row| row[i].iter().map(|line| width(line)))
                .chain([width(&column.name)])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let last = columns.len().saturating_sub(1);
    let mut line = String::new();
    for (i, column) in columns.iter().enumerate() {
        let pad = widths[i] - width(&column.name);
        line.push_str(if i == 0 { " " } else { " | " });
        line.push_str(&" ".repeat(pad / 2));
        line.push_str(&column.name);
        line.push_str(&" ".repeat(pad - pad / 2));
    }
    writeln!(out, "{line} ")?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(w + 2)).collect();
    writeln!(out, "{}", rule.join("+"))?;
    for row in &cells {
        let height = row.iter().map(Vec::len).max().unwrap_or(1);
        for k in 0..height {
            let mut line = String::from(" ");
            for (i, column) in columns.iter().enumerate() {
                let text = row[i].get(k).copied().unwrap_or("");
                let more = k + 1 < row[i].len();
                let pad = " ".repeat(widths[i] - width(text));
                if is_numeric(column.type_oid) {
                    line.push_str(&pad);
                    line.push_str(text);
                } else {
                    line.push_str(text);
                    // psql pads every column but the last, unless marked
                    if i != last || more {
                        line.push_str(&pad);
                    }
                }
                let marker = if more { "+" } else { " " };
                if i != last {
                    line.push_str(marker);
                    line.push_str("| ");
                } else if more {
                    line.push_str(marker);
                }
            }
            writeln!(out, "{line}")?;
        }
    }
    let count = rows.len();
    writeln!(out, "({count} {})", if count == 1 { "row" } else { "rows" })?;
    writeln!(out)
}

fn json(out: &mut impl Write, columns: &[Column], rows: &[Vec<Option<String>>]) -> io::Result<()> {
    for row in rows {
        let mut object = serde_json::Map::new();
        for (i, column) in columns.iter().enumerate() {
            let value = row.get(i).cloned().flatten();
            object.insert(column.name.clone(), json_value(column.type_oid, value));
        }
        serde_json::to_writer(&mut *out, &serde_json::Value::Object(object))?;
        writeln!(out)?;
    }
    Ok(())
}

/// A text value as JSON by its type: numbers, booleans and json as
/// themselves, everything else (and non-finite numbers) as a string.
fn json_value(type_oid: u32, value: Option<String>) -> serde_json::Value {
    use serde_json::Value;
    let Some(text) = value else {
        return Value::Null;
    };
    match type_oid {
        16 => Value::Bool(text == "t"),
        114 | 3802 => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        oid if is_numeric(oid) && oid != 790 => serde_json::from_str::<serde_json::Number>(&text)
            .map_or(Value::String(text), Value::Number),
        _ => Value::String(text),
    }
}

fn csv(out: &mut impl Write, columns: &[Column], rows: &[Vec<Option<String>>]) -> io::Result<()> {
    let header: Vec<String> = columns.iter().map(|c| csv_field(Some(&c.name))).collect();
    writeln!(out, "{}", header.join(","))?;
    for row in rows {
        let fields: Vec<String> = (0..columns.len())
            .map(|i| csv_field(row.get(i).and_then(Option::as_deref)))
            .collect();
        writeln!(out, "{}", fields.join(","))?;
    }
    Ok(())
}

/// RFC 4180 quoting, as psql --csv quotes: fields with a comma, a quote
/// or a line break, and `\.`; NULL is an empty field.
fn csv_field(value: Option<&str>) -> String {
    match value {
        None => String::new(),
        Some(text) if text == "\\." || text.contains([',', '"', '\n', '\r']) => {
            format!("\"{}\"", text.replace('"', "\"\""))
        }
        Some(text) => text.to_owned(),
    }
}
