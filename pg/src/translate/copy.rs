//! The grammar of `COPY`, which sqlparser reads only in part: the table and
//! its columns or a `(query)`, the direction, the endpoint, and the
//! options in both spellings, `WITH (FORMAT csv, HEADER)` and the old
//! `WITH CSV HEADER`. The options are checked as PostgreSQL's
//! `ProcessCopyOptions` checks them (same messages and SQLSTATEs) and
//! resolved into the settings a COPY runs with ([`CopyOptions`]).

use sqlparser::tokenizer::Token;

use super::words::{Words, table_name};
use crate::error::Error;

/// A parsed `COPY` statement.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyStatement {
    /// What is copied.
    pub source: CopySource,
    /// `FROM` (into the table) or `TO`.
    pub from: bool,
    /// Where the data comes from or goes.
    pub endpoint: Endpoint,
    /// The options, resolved.
    pub options: CopyOptions,
}

/// A table (and columns, folded; empty for all) or a query's text.
#[derive(Debug, Clone, PartialEq)]
pub enum CopySource {
    /// `COPY t (a, b)`
    Table {
        /// The table name, folded.
        name: String,
        /// The columns named, folded.
        columns: Vec<String>,
    },
    /// `COPY (SELECT …) TO`
    Query(String),
    /// `COPY patina.backup TO STDOUT`: a consistent snapshot of the node's
    /// database file, its bytes as the data.
    Backup,
}

/// Where a COPY reads or writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Endpoint {
    /// `STDIN` / `STDOUT`: the client, through the COPY sub-protocol.
    Client,
    /// A server file.
    File(String),
    /// `PROGRAM 'command'`.
    Program(String),
}

/// The data format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    /// PostgreSQL's tab-separated text with backslash escapes.
    Text,
    /// Comma-separated values.
    Csv,
    /// PostgreSQL's binary COPY format.
    Binary,
}

/// `HEADER`: none, a line of column names, or (COPY FROM) names that must
/// match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// No header line.
    None,
    /// A header line (written, or skipped on input).
    Present,
    /// `HEADER MATCH`: the input's names must be the columns'.
    Match,
}

/// Columns named by `FORCE_QUOTE`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ForceQuote {
    /// None.
    #[default]
    None,
    /// `*`: every non-NULL value.
    All,
    /// These columns.
    Columns(Vec<String>),
}

/// The settings a COPY runs with, defaults filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyOptions {
    /// The format.
    pub format: CopyFormat,
    /// `FREEZE`: only on a table created or truncated in the current
    /// subtransaction (checked by the session); rows are visible once
    /// committed either way.
    pub freeze: bool,
    /// The column separator (one byte).
    pub delimiter: u8,
    /// The text of a NULL.
    pub null: String,
    /// The header line.
    pub header: Header,
    /// CSV quote (one byte).
    pub quote: u8,
    /// CSV escape (one byte).
    pub escape: u8,
    /// CSV columns always quoted on output.
    pub force_quote: ForceQuote,
    /// CSV columns whose NULL text is read as an empty string.
    pub force_not_null: Vec<String>,
    /// CSV columns whose quoted NULL text is read as NULL too.
    pub force_null: Vec<String>,
}

/// Whether `sql` is a COPY statement (its first word).
pub fn is_copy(sql: &str) -> bool {
    sql.trim_start()
        .get(..4)
        .is_some_and(|w| w.eq_ignore_ascii_case("copy"))
        && sql
            .trim_start()
            .chars()
            .nth(4)
            .is_none_or(|c| !c.is_alphanumeric() && c != '_')
}

/// The rest of `COPY patina.backup`: only `TO STDOUT`, without options
/// (the data is the file's bytes, in no COPY format).
fn backup(p: &mut Words) -> Result<CopyStatement, Error> {
    if !(p.eat_word("TO") && p.eat_word("STDOUT")) {
        return Err(Error::Unsupported(
            "patina.backup other than COPY patina.backup TO STDOUT".into(),
        ));
    }
    p.end().map_err(|_| {
        Error::Unsupported("options of COPY patina.backup (its data is the database file)".into())
    })?;
    Ok(CopyStatement {
        source: CopySource::Backup,
        from: false,
        endpoint: Endpoint::Client,
        options: resolve(Vec::new(), false)?,
    })
}

/// Parses a COPY statement.
pub fn parse_copy(sql: &str) -> Result<CopyStatement, Error> {
    let mut p = Words::new(sql)?;
    p.expect_word("COPY")?;
    let source = if p.eat(&Token::LParen) {
        CopySource::Query(p.parenthesized_text()?)
    } else {
        let parts = p.qualified_name()?;
        if parts == ["patina", "backup"] {
            return backup(&mut p);
        }
        let name = table_name(&parts)?;
        let columns = if p.eat(&Token::LParen) {
            p.name_list()?
        } else {
            Vec::new()
        };
        CopySource::Table { name, columns }
    };
    let from = if p.eat_word("FROM") {
        true
    } else if p.eat_word("TO") {
        false
    } else {
        return Err(p.unexpected());
    };
    if from && matches!(source, CopySource::Query(_)) {
        return Err(Error::Syntax("syntax error at or near \"FROM\"".into()));
    }
    let endpoint = if p.eat_word("STDIN") || p.eat_word("STDOUT") {
        Endpoint::Client
    } else if p.eat_word("PROGRAM") {
        Endpoint::Program(p.string()?)
    } else {
        Endpoint::File(p.string()?)
    };
    let raw = p.options()?;
    if p.eat_word("WHERE") {
        return Err(Error::Unsupported("COPY … WHERE".into()));
    }
    p.end()?;
    let options = resolve(raw, from)?;
    Ok(CopyStatement {
        source,
        from,
        endpoint,
        options,
    })
}

/// An option as written: its name (lower case) and its argument.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    None,
    Text(String),
    List(Vec<String>),
    Star,
}

impl Words {
    /// An option's argument in the parenthesized list, if any.
    fn argument(&mut self) -> Result<Arg, Error> {
        Ok(match self.peek().cloned() {
            Some(Token::Comma | Token::RParen) | None => Arg::None,
            Some(Token::Mul) => {
                self.at += 1;
                Arg::Star
            }
            Some(Token::LParen) => {
                self.at += 1;
                Arg::List(self.name_list()?)
            }
            Some(Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s)) => {
                self.at += 1;
                Arg::Text(s)
            }
            Some(Token::Word(w)) => {
                self.at += 1;
                Arg::Text(w.value)
            }
            Some(Token::Number(n, _)) => {
                self.at += 1;
                Arg::Text(n)
            }
            Some(_) => return Err(self.unexpected()),
        })
    }

    /// The options, in either syntax, as (name, argument).
    fn options(&mut self) -> Result<Vec<(String, Arg)>, Error> {
        self.eat_word("WITH");
        let mut options = Vec::new();
        if self.eat(&Token::LParen) {
            loop {
                let name = match self.next() {
                    Some(Token::Word(w)) => w.value.to_lowercase(),
                    _ => {
                        self.at -= 1;
                        return Err(self.unexpected());
                    }
                };
                options.push((name, self.argument()?));
                if self.eat(&Token::RParen) {
                    return Ok(options);
                }
                if !self.eat(&Token::Comma) {
                    return Err(self.unexpected());
                }
            }
        }
        // The old syntax: keywords in any order.
        while let Some(word) = self.peek_word() {
            let string_after = |p: &mut Words| -> Result<Arg, Error> {
                p.eat_word("AS");
                p.string().map(Arg::Text)
            };
            self.at += 1;
            let option = match word.as_str() {
                "BINARY" => ("format".to_owned(), Arg::Text("binary".into())),
                "CSV" => ("format".to_owned(), Arg::Text("csv".into())),
                "FREEZE" => ("freeze".to_owned(), Arg::None),
                "HEADER" => ("header".to_owned(), Arg::None),
                "DELIMITER" => ("delimiter".to_owned(), string_after(self)?),
                "NULL" => ("null".to_owned(), string_after(self)?),
                "QUOTE" => ("quote".to_owned(), string_after(self)?),
                "ESCAPE" => ("escape".to_owned(), string_after(self)?),
                "ENCODING" => ("encoding".to_owned(), string_after(self)?),
                "FORCE" => {
                    let name = if self.eat_word("QUOTE") {
                        "force_quote"
                    } else if self.eat_word("NOT") {
                        self.expect_word("NULL")?;
                        "force_not_null"
                    } else {
                        self.expect_word("NULL")?;
                        "force_null"
                    };
                    let columns = if self.eat(&Token::Mul) {
                        Arg::Star
                    } else {
                        let mut names = vec![self.ident()?];
                        while self.eat(&Token::Comma) {
                            names.push(self.ident()?);
                        }
                        Arg::List(names)
                    };
                    (name.to_owned(), columns)
                }
                "WHERE" => {
                    self.at -= 1;
                    break;
                }
                _ => {
                    self.at -= 1;
                    return Err(self.unexpected());
                }
            };
            options.push(option);
        }
        Ok(options)
    }
}

fn redundant() -> Error {
    Error::Syntax("conflicting or redundant options".into())
}

fn boolean(name: &str, arg: &Arg) -> Result<bool, Error> {
    match arg {
        Arg::None => Ok(true),
        Arg::Text(text) => match text.to_ascii_lowercase().as_str() {
            "true" | "on" | "1" | "yes" => Ok(true),
            "false" | "off" | "0" | "no" => Ok(false),
            _ => Err(Error::InvalidParameterValue(format!(
                "{name} requires a Boolean value"
            ))),
        },
        _ => Err(Error::InvalidParameterValue(format!(
            "{name} requires a Boolean value"
        ))),
    }
}

fn unsupported(message: &str) -> Error {
    Error::NotImplemented(message.to_owned())
}

/// Checks the options as PostgreSQL does and fills in the defaults.
fn resolve(raw: Vec<(String, Arg)>, from: bool) -> Result<CopyOptions, Error> {
    let mut format = None;
    let mut freeze = None;
    let mut delimiter: Option<String> = None;
    let mut null: Option<String> = None;
    let mut header = None;
    let mut quote: Option<String> = None;
    let mut escape: Option<String> = None;
    let mut force_quote = None;
    let mut force_not_null = None;
    let mut force_null = None;
    let mut encoding = None;
    for (name, arg) in raw {
        let text = || match &arg {
            Arg::Text(text) => Ok(text.clone()),
            _ => Err(Error::InvalidParameterValue(format!(
                "{name} requires a string value"
            ))),
        };
        let columns = || match &arg {
            Arg::List(names) => Ok(names.clone()),
            _ => Err(Error::InvalidParameterValue(format!(
                "argument to option \"{name}\" must be a list of column names"
            ))),
        };
        fn set<T>(slot: &mut Option<T>, value: T) -> Result<(), Error> {
            if slot.replace(value).is_some() {
                return Err(redundant());
            }
            Ok(())
        }
        match name.as_str() {
            "format" => {
                let f = match text()?.to_ascii_lowercase().as_str() {
                    "text" => CopyFormat::Text,
                    "csv" => CopyFormat::Csv,
                    "binary" => CopyFormat::Binary,
                    other => {
                        return Err(Error::InvalidParameterValue(format!(
                            "COPY format \"{other}\" not recognized"
                        )));
                    }
                };
                set(&mut format, f)?;
            }
            "freeze" => set(&mut freeze, boolean(&name, &arg)?)?,
            "delimiter" => set(&mut delimiter, text()?)?,
            "null" => set(&mut null, text()?)?,
            "header" => {
                let h = match &arg {
                    Arg::Text(t) if t.eq_ignore_ascii_case("match") => Header::Match,
                    _ => {
                        if boolean(&name, &arg)? {
                            Header::Present
                        } else {
                            Header::None
                        }
                    }
                };
                set(&mut header, h)?;
            }
            "quote" => set(&mut quote, text()?)?,
            "escape" => set(&mut escape, text()?)?,
            "force_quote" => {
                let f = match &arg {
                    Arg::Star => ForceQuote::All,
                    _ => ForceQuote::Columns(columns()?),
                };
                set(&mut force_quote, f)?;
            }
            "force_not_null" => set(&mut force_not_null, columns()?)?,
            "force_null" => set(&mut force_null, columns()?)?,
            "encoding" => {
                let e = text()?;
                if !matches!(
                    e.to_ascii_uppercase().replace(['-', '_'], "").as_str(),
                    "UTF8" | "UNICODE" | "SQLASCII"
                ) {
                    return Err(unsupported(&format!("COPY encoding \"{e}\"")));
                }
                set(&mut encoding, e)?;
            }
            other => {
                return Err(Error::Syntax(format!("option \"{other}\" not recognized")));
            }
        }
    }
    let format = format.unwrap_or(CopyFormat::Text);
    let csv = format == CopyFormat::Csv;
    if format == CopyFormat::Binary {
        for (given, what) in [
            (delimiter.is_some(), "DELIMITER"),
            (null.is_some(), "NULL"),
            (header.is_some_and(|h| h != Header::None), "HEADER"),
        ] {
            if given {
                return Err(Error::Syntax(format!(
                    "cannot specify {what} in BINARY mode"
                )));
            }
        }
    }
    let one_byte = |value: &str, what: &str| -> Result<u8, Error> {
        match value.as_bytes() {
            [byte] if byte.is_ascii() => Ok(*byte),
            _ => Err(unsupported(&format!(
                "COPY {what} must be a single one-byte character"
            ))),
        }
    };
    let delimiter = match &delimiter {
        Some(d) => one_byte(d, "delimiter")?,
        None if csv => b',',
        None => b'\t',
    };
    let null = null.unwrap_or_else(|| if csv { String::new() } else { "\\N".into() });
    if matches!(delimiter, b'\n' | b'\r') {
        return Err(unsupported(
            "COPY delimiter cannot be newline or carriage return",
        ));
    }
    if null.contains(['\n', '\r']) {
        return Err(unsupported(
            "COPY null representation cannot use newline or carriage return",
        ));
    }
    if !csv && b"\\.abcdefghijklmnopqrstuvwxyz0123456789".contains(&delimiter) {
        return Err(unsupported(&format!(
            "COPY delimiter cannot be \"{}\"",
            delimiter as char
        )));
    }
    if header == Some(Header::Match) && !from {
        return Err(unsupported("cannot use \"match\" with HEADER in COPY TO"));
    }
    if !csv && quote.is_some() {
        return Err(unsupported("COPY quote available only in CSV mode"));
    }
    let quote = match &quote {
        Some(q) => one_byte(q, "quote")?,
        None => b'"',
    };
    if csv && quote == delimiter {
        return Err(unsupported("COPY delimiter and quote must be different"));
    }
    if !csv && escape.is_some() {
        return Err(unsupported("COPY escape available only in CSV mode"));
    }
    let escape = match &escape {
        Some(e) => one_byte(e, "escape")?,
        None => quote,
    };
    if force_quote.is_some() && !csv {
        return Err(unsupported("COPY force quote available only in CSV mode"));
    }
    if force_quote.is_some() && from {
        return Err(unsupported("COPY force quote only available using COPY TO"));
    }
    if force_not_null.is_some() && !csv {
        return Err(unsupported(
            "COPY force not null available only in CSV mode",
        ));
    }
    if force_not_null.is_some() && !from {
        return Err(unsupported(
            "COPY force not null only available using COPY FROM",
        ));
    }
    if force_null.is_some() && !csv {
        return Err(unsupported("COPY force null available only in CSV mode"));
    }
    if force_null.is_some() && !from {
        return Err(unsupported(
            "COPY force null only available using COPY FROM",
        ));
    }
    if format != CopyFormat::Binary && null.as_bytes().contains(&delimiter) {
        return Err(unsupported(
            "COPY delimiter must not appear in the NULL specification",
        ));
    }
    if csv && null.as_bytes().contains(&quote) {
        return Err(unsupported(
            "CSV quote character must not appear in the NULL specification",
        ));
    }
    Ok(CopyOptions {
        format,
        freeze: freeze.unwrap_or(false),
        delimiter,
        null,
        header: header.unwrap_or(Header::None),
        quote,
        escape,
        force_quote: force_quote.unwrap_or_default(),
        force_not_null: force_not_null.unwrap_or_default(),
        force_null: force_null.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, columns: &[&str]) -> CopySource {
        CopySource::Table {
            name: name.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn reads_what_clients_send() {
        let c = parse_copy("copy pgbench_accounts from stdin with (freeze on)").unwrap();
        assert_eq!(c.source, table("pgbench_accounts", &[]));
        assert!(c.from && c.options.freeze);
        assert_eq!(c.endpoint, Endpoint::Client);
        assert_eq!(c.options.delimiter, b'\t');
        assert_eq!(c.options.null, "\\N");

        let c =
            parse_copy("COPY \"public\".\"T\"(\"a\",\"b\") FROM STDIN (FORMAT binary)").unwrap();
        assert_eq!(c.source, table("T", &["a", "b"]));
        assert_eq!(c.options.format, CopyFormat::Binary);

        let c = parse_copy(
            "COPY t FROM STDIN WITH CSV HEADER DELIMITER ';' NULL AS 'x' QUOTE '''' ESCAPE E'\\\\'",
        )
        .unwrap();
        assert_eq!(c.options.format, CopyFormat::Csv);
        assert_eq!(c.options.header, Header::Present);
        assert_eq!(
            (
                c.options.delimiter,
                c.options.null.as_str(),
                c.options.quote,
                c.options.escape
            ),
            (b';', "x", b'\'', b'\\')
        );

        let c = parse_copy(
            "COPY (SELECT a, (b) FROM t) TO STDOUT WITH (FORMAT csv, HEADER true, FORCE_QUOTE *)",
        )
        .unwrap();
        assert_eq!(c.source, CopySource::Query("SELECT a, (b) FROM t".into()));
        assert!(!c.from);
        assert_eq!(c.options.force_quote, ForceQuote::All);
        assert_eq!(c.options.delimiter, b',');
        assert_eq!(c.options.null, "");

        let c = parse_copy("COPY t TO '/tmp/x'").unwrap();
        assert_eq!(c.endpoint, Endpoint::File("/tmp/x".into()));
        let c = parse_copy("COPY t FROM PROGRAM 'ls'").unwrap();
        assert_eq!(c.endpoint, Endpoint::Program("ls".into()));
    }

    #[test]
    fn refuses_options_as_postgres_does() {
        let sqlstate = |sql: &str| parse_copy(sql).unwrap_err().sqlstate();
        assert_eq!(sqlstate("COPY t FROM STDIN (FORMAT xml)"), "22023");
        assert_eq!(sqlstate("COPY t FROM STDIN (bogus)"), "42601");
        assert_eq!(
            sqlstate("COPY t FROM STDIN (FORMAT csv, FORMAT text)"),
            "42601"
        );
        assert_eq!(
            sqlstate("COPY t FROM STDIN (FORMAT binary, DELIMITER ',')"),
            "42601"
        );
        assert_eq!(sqlstate("COPY t FROM STDIN (DELIMITER ',,')"), "0A000");
        assert_eq!(sqlstate("COPY t FROM STDIN (QUOTE '\"')"), "0A000");
        assert_eq!(
            sqlstate("COPY t TO STDOUT (FORMAT csv, HEADER match)"),
            "0A000"
        );
        assert_eq!(sqlstate("COPY t FROM STDIN (FREEZE maybe)"), "22023");
        assert_eq!(sqlstate("COPY (SELECT 1) FROM STDIN"), "42601");
        assert_eq!(
            sqlstate("COPY t FROM STDIN (FORMAT csv, DELIMITER '\"')"),
            "0A000"
        );
    }

    #[test]
    fn recognises_the_statement() {
        assert!(is_copy("  copy t from stdin"));
        assert!(is_copy("COPY(SELECT 1) TO STDOUT"));
        assert!(!is_copy("copying"));
        assert!(!is_copy("SELECT 1"));
    }
}
