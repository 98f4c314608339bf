//! The grammar of `VACUUM`, `ANALYZE` and `TRUNCATE` (sqlparser reads
//! only some of their forms): which tables, and whether VACUUM also
//! analyzes or rewrites (`FULL`).

use sqlparser::tokenizer::Token;

use super::words::Words;
use crate::error::Error;

/// A maintenance statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Maintenance {
    /// `VACUUM [FULL] [ANALYZE] [tables]`.
    Vacuum {
        /// `FULL`: rewrite the database file.
        full: bool,
        /// `ANALYZE`: gather statistics too.
        analyze: bool,
        /// The tables named, folded (none: all).
        tables: Vec<String>,
    },
    /// `ANALYZE [tables]`.
    Analyze(Vec<String>),
    /// `TRUNCATE [TABLE] tables`.
    Truncate(Vec<String>),
}

/// The maintenance statement `sql` is, if its first word names one.
pub fn parse_maintenance(sql: &str) -> Option<Result<Maintenance, Error>> {
    let first = sql
        .trim_start()
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()?
        .to_ascii_uppercase();
    if !matches!(
        first.as_str(),
        "VACUUM" | "ANALYZE" | "ANALYSE" | "TRUNCATE"
    ) {
        return None;
    }
    Some(Words::new(sql).and_then(|mut p| {
        p.next();
        let statement = match first.as_str() {
            "VACUUM" => vacuum(&mut p)?,
            "TRUNCATE" => truncate(&mut p)?,
            _ => {
                let (_, _, tables) = options_and_tables(&mut p)?;
                Maintenance::Analyze(tables)
            }
        };
        p.end()?;
        Ok(statement)
    }))
}

fn vacuum(p: &mut Words) -> Result<Maintenance, Error> {
    let (full, analyze, tables) = options_and_tables(p)?;
    Ok(Maintenance::Vacuum {
        full,
        analyze,
        tables,
    })
}

/// `[(option, …)] [FULL] [FREEZE] [VERBOSE] [ANALYZE] [table [(cols)], …]`:
/// whether FULL and ANALYZE were given, and the tables.
fn options_and_tables(p: &mut Words) -> Result<(bool, bool, Vec<String>), Error> {
    let (mut full, mut analyze) = (false, false);
    let mut set = |word: &str, on: bool| -> Result<(), Error> {
        match word {
            "FULL" => full = on,
            "ANALYZE" | "ANALYSE" => analyze = on,
            "FREEZE"
            | "VERBOSE"
            | "SKIP_LOCKED"
            | "DISABLE_PAGE_SKIPPING"
            | "INDEX_CLEANUP"
            | "PROCESS_TOAST"
            | "TRUNCATE"
            | "PARALLEL" => {}
            other => {
                return Err(Error::Syntax(format!(
                    "unrecognized VACUUM option \"{}\"",
                    other.to_lowercase()
                )));
            }
        }
        Ok(())
    };
    if p.eat(&Token::LParen) {
        loop {
            let word = p.ident()?.to_ascii_uppercase();
            let on = match p.peek().cloned() {
                Some(Token::Word(w)) => {
                    p.next();
                    !matches!(w.value.to_ascii_lowercase().as_str(), "false" | "off" | "0")
                }
                Some(Token::Number(n, _)) => {
                    p.next();
                    n != "0"
                }
                _ => true,
            };
            set(&word, on)?;
            if p.eat(&Token::RParen) {
                break;
            }
            if !p.eat(&Token::Comma) {
                return Err(p.unexpected());
            }
        }
    } else {
        while let Some(word) = p.peek_word() {
            if !matches!(
                word.as_str(),
                "FULL" | "FREEZE" | "VERBOSE" | "ANALYZE" | "ANALYSE"
            ) {
                break;
            }
            p.next();
            set(&word, true)?;
        }
    }
    let mut tables = Vec::new();
    while matches!(p.peek(), Some(Token::Word(_))) {
        tables.push(p.name()?);
        if p.eat(&Token::LParen) {
            p.name_list()?;
        }
        if !p.eat(&Token::Comma) {
            break;
        }
    }
    Ok((full, analyze, tables))
}

fn truncate(p: &mut Words) -> Result<Maintenance, Error> {
    p.eat_word("TABLE");
    let mut tables = Vec::new();
    loop {
        p.eat_word("ONLY");
        tables.push(p.name()?);
        p.eat(&Token::Mul);
        if !p.eat(&Token::Comma) {
            break;
        }
    }
    if p.eat_word("RESTART") || p.eat_word("CONTINUE") {
        p.expect_word("IDENTITY")?;
    }
    if p.eat_word("CASCADE") {
        return Err(Error::Unsupported("TRUNCATE … CASCADE".into()));
    }
    p.eat_word("RESTRICT");
    Ok(Maintenance::Truncate(tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Result<Maintenance, Error> {
        parse_maintenance(sql).expect(sql)
    }

    #[test]
    fn reads_what_pgbench_sends() {
        assert_eq!(
            parse("vacuum analyze pgbench_branches"),
            Ok(Maintenance::Vacuum {
                full: false,
                analyze: true,
                tables: vec!["pgbench_branches".into()]
            })
        );
        assert_eq!(
            parse("truncate table pgbench_accounts, public.pgbench_branches"),
            Ok(Maintenance::Truncate(vec![
                "pgbench_accounts".into(),
                "pgbench_branches".into()
            ]))
        );
        assert_eq!(
            parse("VACUUM (VERBOSE, ANALYZE false, FULL) a (x, y), b"),
            Ok(Maintenance::Vacuum {
                full: true,
                analyze: false,
                tables: vec!["a".into(), "b".into()]
            })
        );
        assert_eq!(parse("ANALYZE"), Ok(Maintenance::Analyze(vec![])));
        assert_eq!(
            parse("TRUNCATE ONLY t RESTART IDENTITY;"),
            Ok(Maintenance::Truncate(vec!["t".into()]))
        );
        assert!(parse_maintenance("SELECT 1").is_none());
        assert!(parse("TRUNCATE").is_err());
        assert!(parse("VACUUM (BOGUS) t").is_err());
        assert!(parse("VACUUM t u").is_err());
    }
}
