//! A statement's tokens as words, for the utility statements whose
//! grammar patina reads itself (`COPY`, `VACUUM`, `ANALYZE`, `TRUNCATE`):
//! sqlparser's tokenizer, whitespace skipped, identifiers folded.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer};

use crate::error::Error;

/// The statement's tokens (whitespace skipped as they are read), with the
/// byte offset where each starts.
pub(crate) struct Words {
    sql: String,
    tokens: Vec<Token>,
    offsets: Vec<usize>,
    pub(crate) at: usize,
}

/// Each token of `sql` and the byte offset where it starts.
fn tokens(sql: &str) -> Result<(Vec<Token>, Vec<usize>), Error> {
    let located = Tokenizer::new(&PostgreSqlDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| Error::Syntax(e.to_string()))?;
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let offset = |at: Location| -> usize {
        let Some(&start) = usize::try_from(at.line)
            .ok()
            .and_then(|l| line_starts.get(l.saturating_sub(1)))
        else {
            return sql.len();
        };
        let column = usize::try_from(at.column).unwrap_or(1).saturating_sub(1);
        sql[start..]
            .char_indices()
            .nth(column)
            .map_or(sql.len(), |(i, _)| start + i)
    };
    Ok(located
        .into_iter()
        .map(|t| {
            let at = offset(t.span.start);
            (t.token, at)
        })
        .unzip())
}

impl Words {
    pub(crate) fn new(sql: &str) -> Result<Words, Error> {
        let (tokens, offsets) = tokens(sql)?;
        Ok(Words {
            sql: sql.to_owned(),
            tokens,
            offsets,
            at: 0,
        })
    }

    pub(crate) fn skip_space(&mut self) {
        while matches!(self.tokens.get(self.at), Some(Token::Whitespace(_))) {
            self.at += 1;
        }
    }

    pub(crate) fn peek(&mut self) -> Option<&Token> {
        self.skip_space();
        self.tokens.get(self.at)
    }

    pub(crate) fn next(&mut self) -> Option<Token> {
        self.skip_space();
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    pub(crate) fn unexpected(&mut self) -> Error {
        match self.peek().cloned() {
            None | Some(Token::EOF) | Some(Token::SemiColon) => {
                Error::Syntax("syntax error at end of input".into())
            }
            Some(token) => Error::Syntax(format!("syntax error at or near \"{token}\"")),
        }
    }

    pub(crate) fn eat(&mut self, token: &Token) -> bool {
        if self.peek() == Some(token) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn peek_word(&mut self) -> Option<String> {
        match self.peek() {
            Some(Token::Word(w)) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
            _ => None,
        }
    }

    pub(crate) fn eat_word(&mut self, word: &str) -> bool {
        if self.peek_word().as_deref() == Some(word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn expect_word(&mut self, word: &str) -> Result<(), Error> {
        if self.eat_word(word) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    pub(crate) fn end(&mut self) -> Result<(), Error> {
        while self.eat(&Token::SemiColon) {}
        match self.peek() {
            None | Some(Token::EOF) => Ok(()),
            _ => Err(self.unexpected()),
        }
    }

    /// An identifier, folded (unquoted to lower case).
    pub(crate) fn ident(&mut self) -> Result<String, Error> {
        match self.peek().cloned() {
            Some(Token::Word(w)) => {
                self.at += 1;
                Ok(match w.quote_style {
                    Some(_) => w.value,
                    None => w.value.to_lowercase(),
                })
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A table name: `t`, `public.t`.
    pub(crate) fn name(&mut self) -> Result<String, Error> {
        let parts = self.qualified_name()?;
        table_name(&parts)
    }

    /// A possibly qualified name, its parts folded.
    pub(crate) fn qualified_name(&mut self) -> Result<Vec<String>, Error> {
        let mut parts = vec![self.ident()?];
        while self.eat(&Token::Period) {
            parts.push(self.ident()?);
        }
        Ok(parts)
    }

    /// `a, b)` after an opening parenthesis.
    pub(crate) fn name_list(&mut self) -> Result<Vec<String>, Error> {
        let mut names = vec![self.ident()?];
        while self.eat(&Token::Comma) {
            names.push(self.ident()?);
        }
        if !self.eat(&Token::RParen) {
            return Err(self.unexpected());
        }
        Ok(names)
    }

    pub(crate) fn string(&mut self) -> Result<String, Error> {
        match self.peek().cloned() {
            Some(Token::SingleQuotedString(s) | Token::EscapedStringLiteral(s)) => {
                self.at += 1;
                Ok(s)
            }
            _ => Err(self.unexpected()),
        }
    }

    /// The text up to the parenthesis closing one just read, as written.
    pub(crate) fn parenthesized_text(&mut self) -> Result<String, Error> {
        let mut depth = 1;
        let start = self.offsets.get(self.at).copied().unwrap_or(self.sql.len());
        while let Some(token) = self.tokens.get(self.at).cloned() {
            let at = self.offsets[self.at];
            self.at += 1;
            match token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(self.sql[start..at].trim().to_owned());
                    }
                }
                Token::EOF => break,
                _ => {}
            }
        }
        Err(Error::Syntax("syntax error at end of input".into()))
    }
}

/// The table a qualified name names: unqualified or in `public`.
pub(crate) fn table_name(parts: &[String]) -> Result<String, Error> {
    match parts {
        [name] => Ok(name.clone()),
        [schema, name] if schema == "public" => Ok(name.clone()),
        _ => Err(Error::UndefinedTable(parts.join("."))),
    }
}

/// Splits a query string that sqlparser could not read because it holds a
/// utility statement patina parses itself: each such statement is checked
/// with its own grammar, every other one with sqlparser. `None` if the
/// string holds no utility statement (sqlparser's error stands).
pub(crate) fn split_utility(sql: &str) -> Option<Result<Vec<String>, Error>> {
    let (tokens, offsets) = tokens(sql).ok()?;
    let mut texts = Vec::new();
    let mut start = 0;
    for (token, at) in tokens.iter().zip(&offsets) {
        if *token == Token::SemiColon {
            texts.push(sql[start..*at].trim().to_owned());
            start = at + 1;
        }
    }
    texts.push(sql[start..].trim().to_owned());
    texts.retain(|t| !t.is_empty());
    let utility = |text: &str| {
        if super::copy::is_copy(text) {
            Some(super::copy::parse_copy(text).map(|_| ()))
        } else {
            super::maintenance::parse_maintenance(text).map(|m| m.map(|_| ()))
        }
    };
    if !texts.iter().any(|t| utility(t).is_some()) {
        return None;
    }
    Some(
        texts
            .iter()
            .try_for_each(|text| match utility(text) {
                Some(checked) => checked,
                None => super::locks::parse(text).map(|_| ()),
            })
            .map(|()| texts.clone()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_keeping_the_text_as_written() {
        assert_eq!(
            split_utility("COPY t FROM STDIN (FORMAT csv, QUOTE '''', NULL 'a;b'); SELECT 'x'';'"),
            Some(Ok(vec![
                "COPY t FROM STDIN (FORMAT csv, QUOTE '''', NULL 'a;b')".to_owned(),
                "SELECT 'x'';'".to_owned()
            ]))
        );
        assert_eq!(split_utility("SELECT 1; SELEC 2"), None);
        assert!(matches!(split_utility("VACUUM; SELEC 2"), Some(Err(_))));
        let mut words = Words::new("(SELECT 'it''s (' FROM t) TO STDOUT").unwrap();
        words.next();
        assert_eq!(
            words.parenthesized_text().unwrap(),
            "SELECT 'it''s (' FROM t"
        );
    }
}
