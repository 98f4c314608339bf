//! Locking reads: `SELECT … FOR UPDATE | FOR NO KEY UPDATE | FOR SHARE |
//! FOR KEY SHARE [OF t] [NOWAIT | SKIP LOCKED]`. patina serializes writes
//! on one writer, so a locking read runs there, inside its transaction,
//! which then holds the writer until it ends: a stronger lock than
//! PostgreSQL's row locks. The clause itself is dropped from the SQL.
//!
//! sqlparser reads only `FOR UPDATE` and `FOR SHARE`; [`parse`] folds the
//! other two strengths into them before parsing and remembers each
//! statement's first one, which names the statement in errors as
//! PostgreSQL's command tag does (`SELECT FOR NO KEY UPDATE`).

use sqlparser::ast::{
    GroupByExpr, LockClause, LockType, Select, SelectItem, SetExpr, Statement, TableFactor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use super::context::Translator;
use super::grouping::{has_aggregate, has_window_function};
use super::names::{fold, unqualified};
use crate::error::Error;

/// The strength of a locking read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowLock {
    /// `FOR UPDATE`
    Update,
    /// `FOR NO KEY UPDATE`
    NoKeyUpdate,
    /// `FOR SHARE`
    Share,
    /// `FOR KEY SHARE`
    KeyShare,
}

impl RowLock {
    /// The clause, as PostgreSQL names it in messages.
    pub fn clause(self) -> &'static str {
        match self {
            RowLock::Update => "FOR UPDATE",
            RowLock::NoKeyUpdate => "FOR NO KEY UPDATE",
            RowLock::Share => "FOR SHARE",
            RowLock::KeyShare => "FOR KEY SHARE",
        }
    }

    /// How PostgreSQL names a statement with this lock in its messages.
    pub fn verb(self) -> &'static str {
        match self {
            RowLock::Update => "SELECT FOR UPDATE",
            RowLock::NoKeyUpdate => "SELECT FOR NO KEY UPDATE",
            RowLock::Share => "SELECT FOR SHARE",
            RowLock::KeyShare => "SELECT FOR KEY SHARE",
        }
    }
}

fn keyword(token: &TokenWithSpan) -> Option<Keyword> {
    match &token.token {
        Token::Word(word) if word.quote_style.is_none() => Some(word.keyword),
        _ => None,
    }
}

/// A parsed query string.
pub(crate) struct Parsed {
    pub(crate) statements: Vec<Statement>,
    /// Each statement's first row lock.
    pub(crate) locks: Vec<Option<RowLock>>,
    /// Each statement's text, as written.
    pub(crate) texts: Vec<String>,
}

/// Byte offsets of tokenizer locations (1-based line and column, in
/// characters) in `sql`, for locations asked in ascending order: each call
/// goes on from the previous one, so a whole statement costs one pass.
struct Offsets<'a> {
    sql: &'a str,
    line: u64,
    column: u64,
    byte: usize,
}

impl<'a> Offsets<'a> {
    fn new(sql: &'a str) -> Offsets<'a> {
        Offsets {
            sql,
            line: 1,
            column: 1,
            byte: 0,
        }
    }

    fn at(&mut self, line: u64, column: u64) -> usize {
        if (line, column) < (self.line, self.column) {
            *self = Offsets::new(self.sql);
        }
        while self.line < line {
            match self.sql[self.byte..].find('\n') {
                Some(newline) => {
                    self.byte += newline + 1;
                    self.line += 1;
                    self.column = 1;
                }
                None => {
                    self.byte = self.sql.len();
                    return self.byte;
                }
            }
        }
        for c in self.sql[self.byte..].chars() {
            if self.column >= column || c == '\n' {
                break;
            }
            self.byte += c.len_utf8();
            self.column += 1;
        }
        self.byte
    }
}

/// Parses a query string.
pub(crate) fn parse(sql: &str) -> Result<Parsed, Error> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| Error::Syntax(e.to_string()))?;
    // the significant tokens: what the strength words are matched on
    let mut kept: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    let mut locks = vec![None];
    let mut texts = Vec::new();
    let mut significant: Vec<usize> = Vec::new();
    let mut statement_start = None;
    let mut offsets = Offsets::new(sql);
    for token in tokens {
        let at = offsets.at(token.span.start.line, token.span.start.column);
        match &token.token {
            Token::Whitespace(_) => {}
            Token::SemiColon => {
                if let Some(start) = statement_start.take() {
                    texts.push(sql[start..at].trim_end().to_string());
                    locks.push(None);
                }
            }
            _ => {
                statement_start.get_or_insert(at);
            }
        }
        let is_whitespace = matches!(token.token, Token::Whitespace(_));
        kept.push(token);
        if is_whitespace {
            continue;
        }
        significant.push(kept.len() - 1);
        let words: Vec<Option<Keyword>> = significant
            .iter()
            .rev()
            .take(4)
            .rev()
            .map(|&i| keyword(&kept[i]))
            .collect();
        let found = match words.as_slice() {
            [
                ..,
                Some(Keyword::FOR),
                Some(Keyword::NO),
                Some(Keyword::KEY),
                Some(Keyword::UPDATE),
            ] => Some((RowLock::NoKeyUpdate, 2)),
            [
                ..,
                Some(Keyword::FOR),
                Some(Keyword::KEY),
                Some(Keyword::SHARE),
            ] => Some((RowLock::KeyShare, 1)),
            [.., Some(Keyword::FOR), Some(Keyword::UPDATE)] => Some((RowLock::Update, 0)),
            [.., Some(Keyword::FOR), Some(Keyword::SHARE)] => Some((RowLock::Share, 0)),
            _ => None,
        };
        if let Some((lock, extra_words)) = found {
            // drop the words sqlparser does not know (`NO KEY`, `KEY`)
            let last = significant.len() - 1;
            for &index in significant[last - extra_words..last].iter().rev() {
                kept.remove(index);
            }
            significant.truncate(last - extra_words);
            significant.push(kept.len() - 1);
            if let Some(first) = locks.last_mut() {
                first.get_or_insert(lock);
            }
        }
    }
    if let Some(start) = statement_start {
        texts.push(sql[start..].trim_end().to_string());
    }
    let statements = Parser::new(&dialect)
        .with_tokens_with_locations(kept)
        .parse_statements()
        .map_err(|e| Error::Syntax(e.to_string()))?;
    Ok(Parsed {
        statements,
        locks,
        texts,
    })
}

impl Translator<'_> {
    /// Checks a query's row-lock clauses as PostgreSQL does, and drops
    /// them; records that the statement locks rows.
    pub(crate) fn row_locks(
        &mut self,
        locks: &mut Vec<LockClause>,
        body: &SetExpr,
    ) -> Result<(), Error> {
        if locks.is_empty() {
            return Ok(());
        }
        let what = match (self.row_lock, locks[0].lock_type) {
            (Some(lock), _) => lock.clause(),
            (None, LockType::Update) => RowLock::Update.clause(),
            (None, LockType::Share) => RowLock::Share.clause(),
        };
        let select = match body {
            SetExpr::Select(select) => select,
            SetExpr::Query(query) => return self.row_locks(locks, &query.body),
            _ => {
                return Err(Error::NotImplemented(format!(
                    "{what} is not allowed with UNION/INTERSECT/EXCEPT"
                )));
            }
        };
        // PostgreSQL's `CheckSelectLocking`, in its order
        let projected = || {
            select.projection.iter().filter_map(|item| match item {
                SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } => {
                    Some(expr)
                }
                _ => None,
            })
        };
        let grouped =
            !matches!(&select.group_by, GroupByExpr::Expressions(exprs, _) if exprs.is_empty());
        let refused = if select.distinct.is_some() {
            Some("DISTINCT clause")
        } else if grouped {
            Some("GROUP BY clause")
        } else if select.having.is_some() {
            Some("HAVING clause")
        } else if projected().any(has_aggregate) {
            Some("aggregate functions")
        } else if projected().any(has_window_function) {
            Some("window functions")
        } else {
            None
        };
        if let Some(refused) = refused {
            return Err(Error::NotImplemented(format!(
                "{what} is not allowed with {refused}"
            )));
        }
        for lock in locks.iter() {
            if let Some(of) = &lock.of {
                let name = fold(&unqualified(of)?);
                if from_entry(select, &name).is_none() {
                    return Err(Error::UndefinedTable(format!(
                        "\"{name}\" in {what} clause not found in FROM clause"
                    )));
                }
            }
        }
        self.locks_rows = true;
        locks.clear();
        Ok(())
    }
}

/// The `FROM` entry of `select` named `name` (its alias, else its table).
fn from_entry<'s>(select: &'s Select, name: &str) -> Option<&'s TableFactor> {
    select
        .from
        .iter()
        .flat_map(|item| {
            std::iter::once(&item.relation).chain(item.joins.iter().map(|j| &j.relation))
        })
        .find(|factor| match factor {
            TableFactor::Table {
                name: table, alias, ..
            } => match alias {
                Some(alias) => fold(&alias.name) == name,
                None => unqualified(table).is_ok_and(|t| fold(&t) == name),
            },
            TableFactor::Derived {
                alias: Some(alias), ..
            } => fold(&alias.name) == name,
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_lines_and_multibyte_characters() {
        let sql = "SELECT 'é'\n  , 2;\nSELECT 3";
        let mut offsets = Offsets::new(sql);
        for (line, column, expected) in [(1, 1, 0), (1, 8, 7), (1, 11, 11), (2, 3, 14), (3, 8, 26)]
        {
            assert_eq!(offsets.at(line, column), expected, "{line}:{column}");
        }
        assert_eq!(offsets.at(1, 8), 7, "going back starts over");
        assert_eq!(offsets.at(9, 1), sql.len());
    }

    #[test]
    fn strengths_fold_and_are_remembered_per_statement() {
        let Parsed {
            statements,
            locks,
            texts,
        } = parse(
            "SELECT 1; SELECT a FROM t FOR NO KEY UPDATE OF t SKIP LOCKED;\n \
             SELECT 'for key share; é' FROM t FOR KEY SHARE FOR UPDATE;",
        )
        .expect("parses");
        assert_eq!(
            texts,
            [
                "SELECT 1",
                "SELECT a FROM t FOR NO KEY UPDATE OF t SKIP LOCKED",
                "SELECT 'for key share; é' FROM t FOR KEY SHARE FOR UPDATE"
            ]
        );
        assert_eq!(
            locks[..3],
            [None, Some(RowLock::NoKeyUpdate), Some(RowLock::KeyShare)]
        );
        assert_eq!(
            statements[1].to_string(),
            "SELECT a FROM t FOR UPDATE OF t SKIP LOCKED"
        );
        assert_eq!(
            statements[2].to_string(),
            "SELECT 'for key share; é' FROM t FOR SHARE FOR UPDATE"
        );
    }
}
