//! Stored values: the text formats patina keeps in SQLite for each
//! PostgreSQL type, their parsing, printing and conversion. Shared by the
//! run-time functions and by the wire layer, which prints results with
//! [`text::to_pg_text`].

pub mod array;
pub mod cast;
pub mod datetime;
pub mod datetime_format;
pub mod datetime_input;
pub mod interval;
pub mod json;
pub mod number_format;
pub mod numeric;
pub mod record;
pub mod regclass;
pub mod template;
pub mod text;
pub mod vector;
