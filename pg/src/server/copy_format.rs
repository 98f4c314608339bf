//! COPY's data formats, sans I/O: [`Decoder`] cuts the bytes of COPY FROM
//! (in whatever chunks CopyData brings them) into rows of raw field values,
//! and [`encode_row`] prints one row for COPY TO, as PostgreSQL's
//! `copyfromparse.c` and `copyto.c` do:
//!
//! - text: fields split by the delimiter, lines by `\n`, `\r\n` or `\r`
//!   (the first line decides); backslash escapes (`\t`, `\n`, `\\`, octal
//!   `\123`, hex `\x41`, …); a field whose raw text is the NULL string
//!   (`\N`) is NULL; `\.` ends the data.
//! - CSV: quoted fields may hold delimiters, quotes (doubled, or after the
//!   escape character) and newlines; an unquoted field equal to the NULL
//!   string (empty) is NULL, a quoted one never (unless FORCE_NULL); `\.`
//!   alone on a line ends the data.
//! - binary: the `PGCOPY` signature, flags and header extension, then per
//!   tuple a field count and length-prefixed values in the types' binary
//!   formats, ended by a count of -1.

use crate::translate::{CopyFormat, CopyOptions, ForceQuote, Header};

/// The binary format's signature.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";

/// A bad input: its SQLSTATE and message, and where (the CONTEXT).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FormatError {
    pub code: &'static str,
    pub message: String,
    pub hint: Option<&'static str>,
    /// The line (or binary tuple), from 1.
    pub line: u64,
    /// The raw line, when PostgreSQL quotes it in the context.
    pub text: Option<String>,
}

/// One row read: its line number, its raw line (for error contexts) and
/// each field's bytes (`None` for NULL): text for text and CSV, the type's
/// binary format for binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Row {
    pub line: u64,
    pub text: String,
    pub fields: Vec<Option<Vec<u8>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Eol {
    Nl,
    Cr,
    CrNl,
}

/// Reads COPY FROM data.
#[derive(Debug)]
pub(crate) struct Decoder {
    options: CopyOptions,
    /// The target columns' names, in order.
    columns: Vec<String>,
    buf: Vec<u8>,
    pos: usize,
    /// Lines (tuples) consumed so far.
    line: u64,
    eol: Option<Eol>,
    header_pending: bool,
    binary_header_read: bool,
    /// The end marker (`\.`, or the binary trailer) was read.
    done: bool,
}

impl Decoder {
    pub fn new(options: CopyOptions, columns: Vec<String>) -> Decoder {
        let header_pending = options.header != Header::None && options.format != CopyFormat::Binary;
        Decoder {
            options,
            columns,
            buf: Vec::new(),
            pos: 0,
            line: 0,
            eol: None,
            header_pending,
            binary_header_read: false,
            done: false,
        }
    }

    /// Adds bytes of a CopyData message.
    pub fn feed(&mut self, data: &[u8]) {
        if self.done {
            return;
        }
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next complete row, `None` if more data is needed (or, `at_end`,
    /// when there are no more rows).
    pub fn next_row(&mut self, at_end: bool) -> Result<Option<Row>, FormatError> {
        loop {
            if self.done {
                return Ok(None);
            }
            if self.options.format == CopyFormat::Binary {
                return self.next_tuple(at_end);
            }
            let Some(line) = self.next_line(at_end)? else {
                return Ok(None);
            };
            let text = String::from_utf8_lossy(&line).into_owned();
            if self.header_pending {
                self.header_pending = false;
                if self.options.header == Header::Match {
                    self.check_header(&line, &text)?;
                }
                continue;
            }
            let fields = match self.options.format {
                CopyFormat::Csv => self.csv_fields(&line, &text)?,
                _ => self.text_fields(&line)?,
            };
            let fields = self.checked_count(fields, &text)?;
            return Ok(Some(Row {
                line: self.line,
                text,
                fields,
            }));
        }
    }

    fn error(&self, code: &'static str, message: impl Into<String>) -> FormatError {
        FormatError {
            code,
            message: message.into(),
            hint: None,
            line: self.line,
            text: None,
        }
    }

    fn bad(&self, message: impl Into<String>) -> FormatError {
        self.error("22P04", message)
    }

    /// Cuts the next line out of the buffer (without its line end).
    fn next_line(&mut self, at_end: bool) -> Result<Option<Vec<u8>>, FormatError> {
        let csv = self.options.format == CopyFormat::Csv;
        let (quote, escape) = (self.options.quote, self.options.escape);
        let start = self.pos;
        let bytes = &self.buf[start..];
        let mut in_quote = false;
        let mut i = 0;
        // The line number the line being cut will have, for errors.
        let number = self.line + 1;
        let at = |code: &'static str, message: &str, hint: &'static str| FormatError {
            code,
            message: message.to_owned(),
            hint: Some(hint),
            line: number,
            text: None,
        };
        while i < bytes.len() {
            let c = bytes[i];
            if csv {
                if in_quote && c == escape && escape != quote {
                    if bytes
                        .get(i + 1)
                        .is_some_and(|n| *n == quote || *n == escape)
                    {
                        i += 2;
                        continue;
                    }
                } else if c == quote {
                    in_quote = !in_quote;
                    i += 1;
                    continue;
                }
                if in_quote {
                    i += 1;
                    continue;
                }
            }
            if c == b'\\' && !csv {
                let Some(&next) = bytes.get(i + 1) else {
                    if !at_end {
                        return Ok(None);
                    }
                    i += 1;
                    continue;
                };
                if next == b'.' {
                    // `\.`: the end marker, which must end its line.
                    let after = &bytes[i + 2..];
                    let ends = match after.first() {
                        None if !at_end => return Ok(None),
                        None => true,
                        Some(b'\n') => true,
                        Some(b'\r') => true,
                        _ => false,
                    };
                    if !ends {
                        self.line = number;
                        return Err(self.bad("end-of-copy marker corrupt"));
                    }
                    self.done = true;
                    let line = bytes[..i].to_vec();
                    if line.is_empty() {
                        return Ok(None);
                    }
                    self.line = number;
                    return Ok(Some(line));
                }
                i += 2;
                continue;
            }
            if c == b'\n' || c == b'\r' {
                let crnl = c == b'\r' && bytes.get(i + 1) == Some(&b'\n');
                if c == b'\r' && i + 1 == bytes.len() && !at_end {
                    return Ok(None);
                }
                let found = match (c, crnl) {
                    (b'\n', _) => Eol::Nl,
                    (_, true) => Eol::CrNl,
                    _ => Eol::Cr,
                };
                let eol = *self.eol.get_or_insert(found);
                if eol != found {
                    let (message, hint) = match (c, csv) {
                        (b'\n', false) => (
                            "literal newline found in data",
                            "Use \"\\n\" to represent newline.",
                        ),
                        (b'\n', true) => (
                            "unquoted newline found in data",
                            "Use quoted CSV field to represent newline.",
                        ),
                        (_, false) => (
                            "literal carriage return found in data",
                            "Use \"\\r\" to represent carriage return.",
                        ),
                        (_, true) => (
                            "unquoted carriage return found in data",
                            "Use quoted CSV field to represent carriage return.",
                        ),
                    };
                    return Err(at("22P04", message, hint));
                }
                let line = bytes[..i].to_vec();
                self.pos = start + i + if crnl { 2 } else { 1 };
                self.line = number;
                if csv && line == b"\\." {
                    self.done = true;
                    return Ok(None);
                }
                return Ok(Some(line));
            }
            i += 1;
        }
        if !at_end || bytes.is_empty() {
            return Ok(None);
        }
        let line = bytes.to_vec();
        self.pos = self.buf.len();
        self.line = number;
        if csv && line == b"\\." {
            self.done = true;
            return Ok(None);
        }
        Ok(Some(line))
    }

    fn checked_count(
        &self,
        fields: Vec<Option<Vec<u8>>>,
        text: &str,
    ) -> Result<Vec<Option<Vec<u8>>>, FormatError> {
        let with_text = |mut e: FormatError| {
            e.text = Some(text.to_owned());
            e
        };
        if fields.len() > self.columns.len() {
            return Err(with_text(self.bad("extra data after last expected column")));
        }
        if let Some(missing) = self.columns.get(fields.len()) {
            return Err(with_text(
                self.bad(format!("missing data for column \"{missing}\"")),
            ));
        }
        Ok(fields)
    }

    /// The fields of a text-format line.
    fn text_fields(&self, line: &[u8]) -> Result<Vec<Option<Vec<u8>>>, FormatError> {
        let delimiter = self.options.delimiter;
        let null = self.options.null.as_bytes();
        let mut fields = Vec::new();
        let mut i = 0;
        loop {
            let start = i;
            let mut value = Vec::new();
            while i < line.len() && line[i] != delimiter {
                let c = line[i];
                i += 1;
                if c != b'\\' {
                    value.push(c);
                    continue;
                }
                let Some(&next) = line.get(i) else {
                    value.push(b'\\');
                    break;
                };
                i += 1;
                match next {
                    b'0'..=b'7' => {
                        let mut byte = u32::from(next - b'0');
                        for _ in 0..2 {
                            match line.get(i) {
                                Some(d @ b'0'..=b'7') => {
                                    byte = byte * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        value.push((byte & 0xff) as u8);
                    }
                    b'x' => match line.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(first) => {
                            i += 1;
                            let mut byte = first;
                            if let Some(second) =
                                line.get(i).and_then(|d| (*d as char).to_digit(16))
                            {
                                byte = byte * 16 + second;
                                i += 1;
                            }
                            value.push(byte as u8);
                        }
                        None => value.push(b'x'),
                    },
                    b'b' => value.push(0x08),
                    b'f' => value.push(0x0c),
                    b'n' => value.push(b'\n'),
                    b'r' => value.push(b'\r'),
                    b't' => value.push(b'\t'),
                    b'v' => value.push(0x0b),
                    other => value.push(other),
                }
            }
            let raw = &line[start..i];
            fields.push((raw != null).then_some(value));
            if i >= line.len() {
                break;
            }
            i += 1;
        }
        for value in fields.iter().flatten() {
            self.check_utf8(value)?;
        }
        Ok(fields)
    }

    fn check_utf8(&self, value: &[u8]) -> Result<(), FormatError> {
        if let Err(error) = std::str::from_utf8(value) {
            let at = error.valid_up_to();
            let len = error.error_len().unwrap_or(value.len() - at);
            let bytes: Vec<String> = value[at..at + len]
                .iter()
                .map(|b| format!("0x{b:02x}"))
                .collect();
            return Err(self.error(
                "22021",
                format!(
                    "invalid byte sequence for encoding \"UTF8\": {}",
                    bytes.join(" ")
                ),
            ));
        }
        Ok(())
    }

    /// The fields of a CSV line.
    fn csv_fields(&self, line: &[u8], text: &str) -> Result<Vec<Option<Vec<u8>>>, FormatError> {
        let o = &self.options;
        let null = o.null.as_bytes();
        let mut fields = Vec::new();
        let mut i = 0;
        loop {
            let start = i;
            let mut value = Vec::new();
            let mut quoted = false;
            let mut in_quote = false;
            while i < line.len() {
                let c = line[i];
                if in_quote {
                    if c == o.escape
                        && line
                            .get(i + 1)
                            .is_some_and(|n| *n == o.quote || *n == o.escape)
                    {
                        value.push(line[i + 1]);
                        i += 2;
                        continue;
                    }
                    if c == o.quote {
                        in_quote = false;
                        i += 1;
                        continue;
                    }
                    value.push(c);
                    i += 1;
                    continue;
                }
                if c == o.delimiter {
                    break;
                }
                if c == o.quote {
                    in_quote = true;
                    quoted = true;
                    i += 1;
                    continue;
                }
                value.push(c);
                i += 1;
            }
            if in_quote {
                let mut error = self.bad("unterminated CSV quoted field");
                error.text = Some(text.to_owned());
                return Err(error);
            }
            let column = self.columns.get(fields.len());
            let named = |list: &[String]| column.is_some_and(|c| list.contains(c));
            let is_null = if named(&o.force_not_null) {
                false
            } else if named(&o.force_null) {
                value == null
            } else {
                !quoted && &line[start..i] == null
            };
            fields.push((!is_null).then_some(value));
            if i >= line.len() {
                break;
            }
            i += 1;
        }
        for value in fields.iter().flatten() {
            self.check_utf8(value)?;
        }
        Ok(fields)
    }

    /// `HEADER MATCH`: the header line names the columns, in order.
    fn check_header(&self, line: &[u8], text: &str) -> Result<(), FormatError> {
        self.header_fields(line, text).map_err(|mut e| {
            e.text = Some(text.to_owned());
            e
        })
    }

    fn header_fields(&self, line: &[u8], text: &str) -> Result<(), FormatError> {
        let fields = match self.options.format {
            CopyFormat::Csv => self.csv_fields(line, text)?,
            _ => self.text_fields(line)?,
        };
        if fields.len() != self.columns.len() {
            return Err(self.bad(format!(
                "wrong number of fields in header line: got {}, expected {}",
                fields.len(),
                self.columns.len()
            )));
        }
        for (i, (field, column)) in fields.iter().zip(&self.columns).enumerate() {
            let got = field
                .as_deref()
                .map(|f| String::from_utf8_lossy(f).into_owned());
            if got.as_deref() != Some(column.as_str()) {
                return Err(self.bad(match got {
                    None => format!(
                        "column name mismatch in header line field {}: got null value (\"{}\"), expected \"{column}\"",
                        i + 1,
                        self.options.null
                    ),
                    Some(got) => format!(
                        "column name mismatch in header line field {}: got \"{got}\", expected \"{column}\"",
                        i + 1
                    ),
                }));
            }
        }
        Ok(())
    }

    /// The next binary tuple.
    fn next_tuple(&mut self, at_end: bool) -> Result<Option<Row>, FormatError> {
        let eof = |d: &Decoder| d.bad("unexpected EOF in COPY data");
        let bytes = &self.buf[self.pos..];
        let mut r = bytes;
        if !self.binary_header_read {
            if r.len() < SIGNATURE.len() + 8 {
                return if at_end {
                    Err(self.bad("COPY file signature not recognized"))
                } else {
                    Ok(None)
                };
            }
            if &r[..SIGNATURE.len()] != SIGNATURE {
                return Err(self.bad("COPY file signature not recognized"));
            }
            let flags = i32::from_be_bytes(r[11..15].try_into().unwrap_or_default());
            if flags & (1 << 16) != 0 {
                return Err(self.bad("invalid COPY file header (WITH OIDS)"));
            }
            if flags & !0xffff & !(1 << 16) != 0 {
                return Err(self.bad("unrecognized critical flags in COPY file header"));
            }
            let extension = i32::from_be_bytes(r[15..19].try_into().unwrap_or_default());
            let Ok(extension) = usize::try_from(extension) else {
                return Err(self.bad("invalid COPY file header (missing length)"));
            };
            if r.len() < 19 + extension {
                return if at_end { Err(eof(self)) } else { Ok(None) };
            }
            self.pos += 19 + extension;
            self.binary_header_read = true;
            return self.next_tuple(at_end);
        }
        let incomplete = |d: &Decoder| {
            if at_end && !bytes.is_empty() {
                Err(eof(d))
            } else {
                Ok(None)
            }
        };
        if r.len() < 2 {
            return incomplete(self);
        }
        let count = i16::from_be_bytes([r[0], r[1]]);
        r = &r[2..];
        let number = self.line + 1;
        if count == -1 {
            self.done = true;
            self.pos = self.buf.len();
            return Ok(None);
        }
        if usize::try_from(count).ok() != Some(self.columns.len()) {
            self.line = number;
            return Err(self.bad(format!(
                "row field count is {count}, expected {}",
                self.columns.len()
            )));
        }
        let mut fields = Vec::with_capacity(self.columns.len());
        for _ in 0..count {
            if r.len() < 4 {
                return incomplete(self);
            }
            let len = i32::from_be_bytes([r[0], r[1], r[2], r[3]]);
            r = &r[4..];
            if len == -1 {
                fields.push(None);
                continue;
            }
            let Ok(len) = usize::try_from(len) else {
                self.line = number;
                return Err(self.bad("invalid field size"));
            };
            if r.len() < len {
                return incomplete(self);
            }
            fields.push(Some(r[..len].to_vec()));
            r = &r[len..];
        }
        self.pos = self.buf.len() - r.len();
        self.line = number;
        Ok(Some(Row {
            line: number,
            text: String::new(),
            fields,
        }))
    }
}

/// Appends one row of COPY TO: each field's text (`None` for NULL) in text
/// or CSV format; `quoted` says which columns FORCE_QUOTE names.
pub(crate) fn encode_row(
    out: &mut Vec<u8>,
    options: &CopyOptions,
    fields: &[Option<&[u8]>],
    quoted: &[bool],
) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(options.delimiter);
        }
        match (field, options.format) {
            (None, _) => out.extend_from_slice(options.null.as_bytes()),
            (Some(value), CopyFormat::Csv) => csv_field(
                out,
                options,
                value,
                quoted.get(i).copied().unwrap_or(false),
                fields.len() == 1,
            ),
            (Some(value), _) => text_field(out, options.delimiter, value),
        }
    }
    out.push(b'\n');
}

/// The header line of COPY TO: the column names, as fields.
pub(crate) fn encode_header(out: &mut Vec<u8>, options: &CopyOptions, names: &[String]) {
    let fields: Vec<Option<&[u8]>> = names.iter().map(|n| Some(n.as_bytes())).collect();
    let mut plain = options.clone();
    plain.force_quote = ForceQuote::None;
    // A name equal to the NULL string is quoted in CSV, as any value.
    encode_row(out, &plain, &fields, &[]);
}

fn text_field(out: &mut Vec<u8>, delimiter: u8, value: &[u8]) {
    for &c in value {
        let escaped = match c {
            0x08 => Some(b'b'),
            0x0c => Some(b'f'),
            b'\n' => Some(b'n'),
            b'\r' => Some(b'r'),
            b'\t' => Some(b't'),
            0x0b => Some(b'v'),
            b'\\' => Some(b'\\'),
            c if c == delimiter => Some(c),
            _ => None,
        };
        match escaped {
            Some(e) => {
                out.push(b'\\');
                out.push(e);
            }
            None => out.push(c),
        }
    }
}

fn csv_field(out: &mut Vec<u8>, o: &CopyOptions, value: &[u8], force: bool, single: bool) {
    let quote = force
        || value == o.null.as_bytes()
        || (single && value == b"\\.")
        || value
            .iter()
            .any(|&c| c == o.delimiter || c == o.quote || c == b'\n' || c == b'\r');
    if !quote {
        out.extend_from_slice(value);
        return;
    }
    out.push(o.quote);
    for &c in value {
        if c == o.quote || c == o.escape {
            out.push(o.escape);
        }
        out.push(c);
    }
    out.push(o.quote);
}

/// Appends one tuple of the binary format: the field count, then each
/// field as its length (-1 for NULL) and bytes.
pub(crate) fn encode_binary_row(out: &mut Vec<u8>, fields: &[Option<Vec<u8>>]) {
    out.extend_from_slice(&(fields.len() as i16).to_be_bytes());
    for field in fields {
        match field {
            None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(bytes) => {
                out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                out.extend_from_slice(bytes);
            }
        }
    }
}

/// The binary format's header: signature, no flags, no extension.
pub(crate) fn binary_header(out: &mut Vec<u8>) {
    out.extend_from_slice(SIGNATURE);
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
}

/// The binary format's trailer.
pub(crate) const BINARY_TRAILER: [u8; 2] = (-1i16).to_be_bytes();

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::{CopyStatement, parse_copy};

    fn options(sql: &str) -> CopyOptions {
        let CopyStatement { options, .. } = parse_copy(sql).unwrap();
        options
    }

    fn decode(
        sql: &str,
        columns: &[&str],
        chunks: &[&[u8]],
    ) -> Result<Vec<Vec<Option<String>>>, FormatError> {
        let mut d = Decoder::new(
            options(sql),
            columns.iter().map(|c| c.to_string()).collect(),
        );
        let mut rows = Vec::new();
        let mut take = |d: &mut Decoder, at_end| -> Result<(), FormatError> {
            while let Some(row) = d.next_row(at_end)? {
                rows.push(
                    row.fields
                        .into_iter()
                        .map(|f| f.map(|f| String::from_utf8(f).unwrap()))
                        .collect(),
                );
            }
            Ok(())
        };
        for chunk in chunks {
            d.feed(chunk);
            take(&mut d, false)?;
        }
        take(&mut d, true)?;
        Ok(rows)
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    #[test]
    fn text_escapes_and_nulls() {
        let rows = decode(
            "COPY t FROM STDIN",
            &["a", "b"],
            &[
                b"1\ta\\tb\\\\c\\nd\n",
                b"\\N\t\\101\\x42\\q",
                b"\n3\t\\N\n\\.\nignored\n",
            ],
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![s("1"), s("a\tb\\c\nd")],
                vec![None, s("ABq")],
                vec![s("3"), None],
            ]
        );
    }

    #[test]
    fn lines_split_anywhere_and_crlf() {
        let rows = decode("COPY t FROM STDIN", &["a"], &[b"x\r", b"\ny\r\n", b"z"]).unwrap();
        assert_eq!(rows, vec![vec![s("x")], vec![s("y")], vec![s("z")]]);
        let error = decode("COPY t FROM STDIN", &["a"], &[b"x\ny\rz\n"]).unwrap_err();
        assert_eq!(
            (error.code, error.message.as_str(), error.line),
            ("22P04", "literal carriage return found in data", 2)
        );
    }

    #[test]
    fn text_errors_match_postgres() {
        let e = decode("COPY t FROM STDIN", &["a", "b"], &[b"1\tx\n2\n"]).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.line, e.text.as_deref()),
            ("missing data for column \"b\"", 2, Some("2"))
        );
        let e = decode("COPY t FROM STDIN", &["a", "b"], &[b"1\tx\t3\n"]).unwrap_err();
        assert_eq!(e.message, "extra data after last expected column");
        let e = decode("COPY t FROM STDIN", &["a"], &[b"a\\.b\n"]).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.line),
            ("end-of-copy marker corrupt", 1)
        );
        let e = decode("COPY t FROM STDIN", &["a"], &[b"a\xff\n"]).unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            ("22021", "invalid byte sequence for encoding \"UTF8\": 0xff")
        );
    }

    #[test]
    fn csv_quotes_nulls_and_newlines() {
        let rows = decode(
            "COPY t FROM STDIN (FORMAT csv, HEADER)",
            &["a", "b", "c"],
            &[b"a,b,c\n1,\"x,\"\"y\"\"\nz\",\n", b"\"\",,\"\"\n\\.\n"],
        )
        .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![s("1"), s("x,\"y\"\nz"), None],
                vec![s(""), None, s("")]
            ]
        );
        let rows = decode(
            "COPY t FROM STDIN (FORMAT csv, ESCAPE '\\', FORCE_NOT_NULL (a), FORCE_NULL (b))",
            &["a", "b"],
            &[b",\"\"\n\"a\\\"b\",x\n"],
        )
        .unwrap();
        assert_eq!(rows, vec![vec![s(""), None], vec![s("a\"b"), s("x")]]);
        let e = decode("COPY t FROM STDIN CSV", &["a", "b"], &[b"1,\"ab\n"]).unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.text.as_deref()),
            ("unterminated CSV quoted field", Some("1,\"ab\n"))
        );
        let e = decode(
            "COPY t FROM STDIN (FORMAT csv, HEADER match)",
            &["a", "b"],
            &[b"a,c\n"],
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "column name mismatch in header line field 2: got \"c\", expected \"b\""
        );
    }

    #[test]
    fn binary_tuples() {
        let mut data = Vec::new();
        binary_header(&mut data);
        data.extend_from_slice(&2i16.to_be_bytes());
        data.extend_from_slice(&4i32.to_be_bytes());
        data.extend_from_slice(&7i32.to_be_bytes());
        data.extend_from_slice(&(-1i32).to_be_bytes());
        data.extend_from_slice(&BINARY_TRAILER);
        let mut d = Decoder::new(
            options("COPY t FROM STDIN (FORMAT binary)"),
            vec!["a".into(), "b".into()],
        );
        for chunk in data.chunks(3) {
            d.feed(chunk);
        }
        let row = d.next_row(true).unwrap().unwrap();
        assert_eq!(row.fields, vec![Some(vec![0, 0, 0, 7]), None]);
        assert_eq!(d.next_row(true), Ok(None));
        let mut d = Decoder::new(
            options("COPY t FROM STDIN (FORMAT binary)"),
            vec!["a".into()],
        );
        d.feed(b"PGCOPY\nXXXXXXXXXXXX");
        assert_eq!(
            d.next_row(true).unwrap_err().message,
            "COPY file signature not recognized"
        );
    }

    #[test]
    fn prints_text_and_csv_like_postgres() {
        let mut out = Vec::new();
        let text = options("COPY t TO STDOUT");
        encode_row(
            &mut out,
            &text,
            &[Some(b"a\tb\\c\nd\x01"), None, Some(b"")],
            &[],
        );
        assert_eq!(out, b"a\\tb\\\\c\\nd\x01\t\\N\t\n");
        let csv = options("COPY t TO STDOUT (FORMAT csv, FORCE_QUOTE (b))");
        let mut out = Vec::new();
        encode_row(
            &mut out,
            &csv,
            &[Some(b"x,\"y\""), Some(b"plain"), Some(b""), None],
            &[false, true, false, false],
        );
        assert_eq!(out, b"\"x,\"\"y\"\"\",\"plain\",\"\",\n");
        let mut out = Vec::new();
        encode_row(&mut out, &csv, &[Some(b"\\.")], &[]);
        assert_eq!(out, b"\"\\.\"\n");
    }
}
