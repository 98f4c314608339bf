//! PostgreSQL SQL to SQLite SQL: [`translate`] parses a query string with
//! sqlparser's PostgreSQL dialect, rewrites each statement's AST for
//! SQLite and types it against a [`Catalog`]: the PostgreSQL type of every
//! `$n` parameter and every result column, so the wire layer can describe
//! statements and format values (see [`crate::values::text`]).
//!
//! The translated SQL calls the functions of [`crate::functions`]; it
//! expects parameters bound as their PostgreSQL text (or as SQLite
//! integers and floats for number types), and returns values in the stored
//! forms of [`crate::types`].
//!
//! Layout: `catalog` (what tables exist: [`Catalog`]), `names` (case
//! folding, `public.`/`pg_catalog.` qualifiers), `params` (`$n` → `?n`),
//! `scope` (column resolution), `context` (per-statement state), `coerce`
//! (casts), `expr`, `operators` (with `bitwise`) and `functions`
//! (expressions), `query`
//! (`SELECT`; with `window` for window functions, `recursive` for `WITH
//! RECURSIVE`, `distinct_on` for `DISTINCT ON`, `grouping` for the
//! grouping rule, `srf` and `srf_from` for set-returning functions in the
//! select list and in `FROM`), `locks` (parsing, and `FOR UPDATE` locking reads),
//! `output` (result column names, `*`), `dml`
//! (`INSERT`/`UPDATE`/`DELETE`), `ddl` (`CREATE`/`ALTER`/`DROP`), `copy`
//! and `maintenance` (the grammars of `COPY` and `VACUUM`/`ANALYZE`/
//! `TRUNCATE`, over `words`),
//! `transaction` (`BEGIN`…); `builtins` (plain functions chosen by
//! overload), `polymorphic` (functions typed by their arguments, and
//! the session information functions) and `lookups` (catalog functions
//! and `regclass`, over the system relations of [`crate::catalog`])
//! complete `functions`.

mod bitwise;
mod builtins;
mod catalog;
mod coerce;
mod context;
mod copy;
mod ddl;
mod distinct_on;
mod dml;
mod expr;
mod functions;
mod grouping;
mod locks;
mod lookups;
mod maintenance;
mod names;
mod operators;
mod output;
mod params;
mod polymorphic;
mod query;
mod recursive;
mod schema_file;
mod scope;
mod srf;
mod srf_from;
mod transaction;
mod window;
mod words;

use sqlparser::ast::Statement;

pub use catalog::Catalog;
pub use copy::{
    CopyFormat, CopyOptions, CopySource, CopyStatement, Endpoint, ForceQuote, Header, is_copy,
    parse_copy,
};
pub use ddl::TranslatedDdl;
pub use locks::RowLock;
pub use maintenance::{Maintenance, parse_maintenance};
pub(crate) use names::fold as fold_identifier;
pub use names::quote_ident;
pub use schema_file::{SchemaFile, SchemaRefusal, SchemaStep, plan_schema};

use crate::catalog::Views;
use crate::error::Error;
use crate::types::PgType;
use catalog::Overlay;
use context::Translator;
use params::Params;

/// What kind of statement was translated; the wire layer builds its
/// command tag from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// `SELECT`, `VALUES`, `WITH … SELECT`
    Select,
    /// `INSERT`
    Insert,
    /// `UPDATE`
    Update,
    /// `DELETE`
    Delete,
    /// `CREATE TABLE`
    CreateTable,
    /// `CREATE INDEX`
    CreateIndex,
    /// `DROP TABLE`
    DropTable,
    /// `DROP INDEX`
    DropIndex,
    /// `ALTER TABLE`
    AlterTable,
    /// `BEGIN` / `START TRANSACTION`
    Begin,
    /// `COMMIT` / `END`
    Commit,
    /// `ROLLBACK`
    Rollback,
    /// `SAVEPOINT`
    Savepoint,
    /// `RELEASE SAVEPOINT`
    Release,
    /// `ROLLBACK TO SAVEPOINT`
    RollbackToSavepoint,
}

/// A result column: its name as PostgreSQL reports it, and its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column name (`count`, `?column?`, the alias…).
    pub name: String,
    /// The PostgreSQL type.
    pub ty: PgType,
}

/// One translated statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    /// What the statement is.
    pub kind: StatementKind,
    /// The SQLite SQL.
    pub sql: String,
    /// The types of `$1…$n` (unreferenced or untyped ones are `text`).
    pub params: Vec<PgType>,
    /// The result columns (a `SELECT`'s, or a `RETURNING` list's).
    pub columns: Vec<Column>,
    /// For DDL: the table definition to record (or forget, for
    /// [`StatementKind::DropTable`], whose `columns` are empty).
    pub ddl: Option<TranslatedDdl>,
    /// For a locking read (`SELECT … FOR UPDATE`): its first lock's
    /// strength. It must run on the writer, inside its transaction.
    pub row_lock: Option<RowLock>,
    /// The system relations its SQL reads, to create on a connection
    /// before it prepares the statement ([`crate::catalog::ensure`]).
    pub views: Views,
}

impl Translated {
    /// Whether the statement is a locking read, which runs like a write.
    pub fn locks_rows(&self) -> bool {
        self.row_lock.is_some()
    }
}

/// Parses one query string (one or more statements) and translates each.
/// Tables created by an earlier statement of the same string are known to
/// the later ones.
pub fn translate(sql: &str, catalog: &dyn Catalog) -> Result<Vec<Translated>, Error> {
    translate_typed(sql, catalog, &[])
}

/// Like [`translate`], with the types a client declared for `$1…$n`
/// (`None` where it left the type to the server): they win over inferred
/// ones, as a Parse message's parameter OIDs do in PostgreSQL.
pub fn translate_typed(
    sql: &str,
    catalog: &dyn Catalog,
    given: &[Option<PgType>],
) -> Result<Vec<Translated>, Error> {
    let parsed = locks::parse(sql)?;
    let mut overlay = Overlay::new(catalog);
    let mut translated = Vec::with_capacity(parsed.statements.len());
    for (mut statement, lock) in parsed.statements.into_iter().zip(parsed.locks) {
        let mut result = translate_statement(&mut statement, &overlay, given, lock)?;
        result.views = Views::read_by(&result.sql);
        if let Some(ddl) = &result.ddl {
            for old in ddl.renamed_from.iter().chain(&ddl.more_dropped) {
                overlay.set(old.clone(), None);
            }
            let columns = (result.kind != StatementKind::DropTable).then(|| ddl.columns.clone());
            overlay.set(ddl.table.clone(), columns);
        }
        translated.push(result);
    }
    Ok(translated)
}

/// Splits a query string into its statements' texts, as written,
/// rejecting a syntax error before anything runs (as PostgreSQL does).
/// Statements keep the clauses sqlparser does not print, as
/// `FOR NO KEY UPDATE`.
pub fn split(sql: &str) -> Result<Vec<String>, Error> {
    match locks::parse(sql) {
        Ok(parsed) => Ok(parsed.texts),
        Err(error) => words::split_utility(sql).unwrap_or(Err(error)),
    }
}

fn columns(columns: Vec<(String, PgType)>) -> Vec<Column> {
    columns
        .into_iter()
        .map(|(name, ty)| Column { name, ty })
        .collect()
}

fn translate_statement(
    statement: &mut Statement,
    catalog: &dyn Catalog,
    given: &[Option<PgType>],
    lock: Option<RowLock>,
) -> Result<Translated, Error> {
    let mut translator = Translator::new(catalog, Params::given(given), lock);
    let simple = |kind: StatementKind, sql: String| Translated {
        kind,
        sql,
        params: Vec::new(),
        columns: Vec::new(),
        ddl: None,
        row_lock: None,
        views: Views::NONE,
    };
    let (kind, output) = match statement {
        Statement::Query(query) => {
            let output = translator.query(query)?;
            translator.print_regclass(query, &output)?;
            (StatementKind::Select, output)
        }
        Statement::Insert(insert) => (StatementKind::Insert, translator.insert(insert)?),
        Statement::Update(update) => (StatementKind::Update, translator.update(update)?),
        Statement::Delete(delete) => (StatementKind::Delete, translator.delete(delete)?),
        Statement::CreateTable(create) => {
            let ddl = translator.create_table(create)?;
            return Ok(Translated {
                sql: ddl.sql.clone(),
                ddl: Some(ddl),
                ..simple(StatementKind::CreateTable, String::new())
            });
        }
        Statement::CreateIndex(index) => {
            return Ok(simple(
                StatementKind::CreateIndex,
                translator.create_index(index)?,
            ));
        }
        Statement::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            restrict: _,
            purge: false,
            temporary: false,
            table: None,
        } => {
            let (sql, tables) = translator.drop(object_type, *if_exists, names, *cascade)?;
            return Ok(match tables.split_first() {
                Some((table, more)) => Translated {
                    ddl: Some(TranslatedDdl {
                        sql: sql.clone(),
                        table: table.clone(),
                        more_dropped: more.to_vec(),
                        ..TranslatedDdl::default()
                    }),
                    ..simple(StatementKind::DropTable, sql)
                },
                None => simple(StatementKind::DropIndex, sql),
            });
        }
        Statement::AlterTable(alter) => {
            if alter.if_exists
                || alter.only
                || alter.location.is_some()
                || alter.on_cluster.is_some()
                || alter.table_type.is_some()
            {
                return Err(Error::Unsupported("ALTER TABLE clause".into()));
            }
            let ddl = translator.alter_table(&alter.name, &alter.operations)?;
            return Ok(Translated {
                sql: ddl.sql.clone(),
                ddl: Some(ddl),
                ..simple(StatementKind::AlterTable, String::new())
            });
        }
        other => {
            let (kind, sql) = transaction::translate(other)?;
            return Ok(simple(kind, sql));
        }
    };
    Ok(Translated {
        kind,
        sql: statement.to_string(),
        params: translator.params.finish(),
        columns: columns(output),
        ddl: None,
        // the strength is the parser's; see `locks::parse`
        row_lock: lock.filter(|_| translator.locks_rows),
        views: Views::NONE,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn catalog() -> HashMap<String, Vec<(String, PgType)>> {
        let mut catalog = HashMap::new();
        let ty = |name: &str| PgType::from_name(name).expect(name);
        catalog.insert(
            "items".to_string(),
            vec![
                ("id".to_string(), PgType::INT4),
                ("name".to_string(), ty("varchar(20)")),
                ("price".to_string(), ty("numeric(10,2)")),
                ("qty".to_string(), PgType::INT8),
                ("active".to_string(), PgType::BOOL),
                ("created".to_string(), PgType::TIMESTAMPTZ),
                ("tags".to_string(), PgType::TEXT.array_of()),
                ("doc".to_string(), PgType::JSONB),
                ("ratio".to_string(), PgType::FLOAT8),
            ],
        );
        catalog
    }

    fn one(sql: &str) -> Translated {
        let mut all = translate(sql, &catalog()).unwrap_or_else(|e| panic!("{sql}: {e}"));
        assert_eq!(all.len(), 1, "{sql}");
        all.remove(0)
    }

    fn err(sql: &str) -> Error {
        translate(sql, &catalog()).expect_err(sql)
    }

    fn described(t: &Translated) -> Vec<(String, String)> {
        t.columns
            .iter()
            .map(|c| (c.name.clone(), c.ty.to_string()))
            .collect()
    }

    #[test]
    fn placeholders_keep_their_numbers_and_types() {
        let t = one("SELECT name FROM items WHERE id = $2 AND qty > $1");
        assert_eq!(
            t.sql,
            "SELECT name FROM items WHERE id = pg_cast(?2, NULL, 'integer') AND qty > pg_cast(?1, NULL, 'bigint')"
        );
        assert_eq!(t.params, vec![PgType::INT8, PgType::INT4]);
        let t = one("INSERT INTO items (id, name) VALUES ($1, $2)");
        assert_eq!(t.params, vec![PgType::INT4, PgType::VARCHAR]);
        assert_eq!(
            t.sql,
            "INSERT INTO items (id, name) VALUES (pg_assign(?1, NULL, 'integer'), pg_assign(?2, NULL, 'character varying(20)'))"
        );
        assert_eq!(one("SELECT $1").params, vec![PgType::TEXT]);
        assert_eq!(one("SELECT 1 LIMIT $1").params, vec![PgType::INT8]);
    }

    #[test]
    fn parameter_types_match_postgres_15() {
        // PREPARE …; SELECT name, parameter_types FROM pg_prepared_statements
        let cases = [
            (
                "SELECT name FROM items WHERE id = $2 AND qty > $1",
                "bigint,integer",
            ),
            (
                "INSERT INTO items (id, name, price, active, created, tags, doc) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                "integer,character varying,numeric,boolean,timestamp with time zone,text[],jsonb",
            ),
            ("SELECT $1", "text"),
            ("SELECT 1 LIMIT $1 OFFSET $2", "bigint,bigint"),
            ("SELECT id FROM items WHERE id = ANY($1)", "integer[]"),
            (
                "SELECT price * $1, $2 || name, created + $3 FROM items",
                "numeric,text,interval",
            ),
            (
                "UPDATE items SET price = $1 WHERE name LIKE $2 RETURNING id",
                "numeric,text",
            ),
            (
                "SELECT id FROM items WHERE doc @> $1 AND doc ->> $2 = $3",
                "jsonb,text,text",
            ),
            (
                "SELECT coalesce($1, name), $2::int + 1 FROM items WHERE price BETWEEN $3 AND $4",
                "character varying,integer,numeric,numeric",
            ),
        ];
        for (sql, expected) in cases {
            let params: Vec<String> = one(sql).params.iter().map(ToString::to_string).collect();
            assert_eq!(params.join(","), expected, "{sql}");
        }
    }

    #[test]
    fn result_types_follow_postgres() {
        // Checked with pg_typeof / RowDescription in PostgreSQL 15.
        let t = one(
            "SELECT count(*), sum(id), sum(qty), sum(price), avg(id), avg(ratio), max(price), min(name) FROM items",
        );
        assert_eq!(
            described(&t),
            [
                ("count", "bigint"),
                ("sum", "bigint"),
                ("sum", "numeric"),
                ("sum", "numeric"),
                ("avg", "numeric"),
                ("avg", "double precision"),
                ("max", "numeric"),
                ("min", "text"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let t = one(
            "SELECT id = 1, name || 'x', 1 + 2, 1.5, 'a', NULL, id::text, '1'::int, true, now(), current_date, gen_random_uuid(), lower(name), length(name) FROM items",
        );
        assert_eq!(
            described(&t),
            [
                ("?column?", "boolean"),
                ("?column?", "text"),
                ("?column?", "integer"),
                ("?column?", "numeric"),
                ("?column?", "text"),
                ("?column?", "text"),
                ("id", "text"),
                ("int4", "integer"),
                ("?column?", "boolean"),
                ("now", "timestamp with time zone"),
                ("current_date", "date"),
                ("gen_random_uuid", "uuid"),
                ("lower", "text"),
                ("length", "integer"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let t = one(
            "SELECT CASE WHEN id > 1 THEN 'a' END, EXISTS(SELECT 1), ARRAY[1], extract(year from created), \
             position('a' in name), substring(name from 1), trim(name), interval '1 day', DATE '2024-01-01', \
             created - created, tags, doc -> 'a', doc ->> 'a', array_agg(id), string_agg(name, ','), \
             date_trunc('day', created), date_part('day', created), coalesce(qty, id), round(price, 1), \
             (SELECT 1 AS x), random() FROM items GROUP BY id, created, tags, doc, name, price, qty",
        );
        let expected = [
            ("case", "text"),
            ("exists", "boolean"),
            ("array", "integer[]"),
            ("extract", "numeric"),
            ("position", "integer"),
            ("substring", "text"),
            ("btrim", "text"),
            ("interval", "interval"),
            ("date", "date"),
            ("?column?", "interval"),
            ("tags", "text[]"),
            ("?column?", "jsonb"),
            ("?column?", "text"),
            ("array_agg", "integer[]"),
            ("string_agg", "text"),
            ("date_trunc", "timestamp with time zone"),
            ("date_part", "double precision"),
            ("coalesce", "bigint"),
            ("round", "numeric"),
            ("x", "integer"),
            ("random", "double precision"),
        ];
        assert_eq!(
            described(&t),
            expected.map(|(a, b)| (a.to_string(), b.to_string()))
        );
        let t = one("SELECT * FROM items");
        assert_eq!(t.columns.len(), 9);
        assert_eq!(t.columns[2].ty.to_string(), "numeric(10,2)");
    }

    #[test]
    fn create_table_maps_types_and_keys() {
        let t = one(
            "CREATE TABLE public.users (id bigserial PRIMARY KEY, email varchar(100) NOT NULL UNIQUE, \
             balance numeric(12,2) DEFAULT 0, created_at timestamptz DEFAULT now(), active boolean DEFAULT true, \
             meta jsonb, tags text[]) WITH (fillfactor=80)",
        );
        assert_eq!(t.kind, StatementKind::CreateTable);
        assert_eq!(
            t.sql,
            "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, \
             balance TEXT COLLATE pg_numeric DEFAULT ('0.00'), \
             created_at TEXT DEFAULT (pg_now('timestamp with time zone')), active INTEGER DEFAULT (1), \
             meta TEXT, tags TEXT)"
        );
        let ddl = t.ddl.expect("ddl");
        assert_eq!(ddl.table, "users");
        let types: Vec<String> = ddl
            .columns
            .iter()
            .map(|(n, t)| format!("{n} {t}"))
            .collect();
        assert_eq!(
            types,
            [
                "id bigint",
                "email character varying(100)",
                "balance numeric(12,2)",
                "created_at timestamp with time zone",
                "active boolean",
                "meta jsonb",
                "tags text[]"
            ]
        );
        let t =
            one("CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY, v text, PRIMARY KEY (id))");
        assert_eq!(
            t.sql,
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)"
        );
        let t = one("CREATE TABLE t (id bigint PRIMARY KEY, v text)");
        assert_eq!(t.sql, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
        let t = one("CREATE TABLE t (a int, b text, PRIMARY KEY (a, b), CHECK (a > 0))");
        assert_eq!(
            t.sql,
            "CREATE TABLE t (a INTEGER NOT NULL, b TEXT NOT NULL, PRIMARY KEY (a, b), CONSTRAINT \"t_a_check\" CHECK (a > 0))"
        );
        // named as PostgreSQL names them: by the one column read, else the
        // table, numbered when taken
        let t = one(
            "CREATE TABLE ck (id int PRIMARY KEY, a int CHECK (a > 0), b int CHECK (b > a), \
             c int, CHECK (c > 0), CHECK (c < 100), CHECK (a + c > 0), \
             CONSTRAINT Named CHECK (c <> 5))",
        );
        let names: Vec<&str> = t
            .sql
            .split("CONSTRAINT \"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(
            names,
            [
                "ck_a_check",
                "ck_check",
                "ck_c_check",
                "ck_c_check1",
                "ck_check1",
                "named"
            ]
        );
        assert!(matches!(
            err("CREATE TABLE t (id serial, v text)"),
            Error::Unsupported(_)
        ));
        assert!(matches!(
            err("CREATE TABLE t (p point)"),
            Error::Unsupported(_)
        ));
        assert!(matches!(
            err("CREATE TABLE t (a int) PARTITION BY RANGE (a)"),
            Error::Unsupported(_) | Error::Syntax(_)
        ));
    }

    #[test]
    fn indexes_alters_and_drops() {
        assert_eq!(
            one("CREATE INDEX ON items (name)").sql,
            "CREATE INDEX items_name_idx ON items (name)"
        );
        assert_eq!(
            one("CREATE UNIQUE INDEX IF NOT EXISTS lower_name ON public.items USING btree (lower(name) DESC) WHERE active").sql,
            "CREATE UNIQUE INDEX IF NOT EXISTS lower_name ON items (pg_lower(name) DESC) WHERE active"
        );
        assert!(matches!(
            err("CREATE INDEX ON items USING gin (doc)"),
            Error::Unsupported(_)
        ));
        let t = one("ALTER TABLE items ADD COLUMN note varchar(10) DEFAULT 'x' NOT NULL");
        assert_eq!(
            t.sql,
            "ALTER TABLE items ADD COLUMN note TEXT DEFAULT 'x' NOT NULL"
        );
        let ddl = t.ddl.expect("ddl");
        assert_eq!(
            ddl.columns.last(),
            Some(&(
                "note".to_string(),
                PgType::from_name("varchar(10)").expect("type")
            ))
        );
        assert!(matches!(
            err("ALTER TABLE items ADD COLUMN at timestamptz DEFAULT now()"),
            Error::Unsupported(_)
        ));
        let t = one("ALTER TABLE items RENAME TO goods");
        assert_eq!(t.sql, "ALTER TABLE items RENAME TO goods");
        assert_eq!(
            t.ddl
                .as_ref()
                .map(|d| (d.table.as_str(), d.renamed_from.as_deref())),
            Some(("goods", Some("items")))
        );
        let t = one("ALTER TABLE items DROP COLUMN doc");
        assert_eq!(t.ddl.map(|d| d.columns.len()), Some(8));
        let t = one("DROP TABLE IF EXISTS public.items");
        assert_eq!(
            (t.kind, t.sql.as_str()),
            (StatementKind::DropTable, "DROP TABLE IF EXISTS items")
        );
        assert!(matches!(
            err("DROP TABLE items CASCADE"),
            Error::Unsupported(_)
        ));
    }

    #[test]
    fn default_in_values_leaves_the_column_out() {
        assert_eq!(
            one("INSERT INTO items (id, name) VALUES (DEFAULT, 'a'), (DEFAULT, 'b')").sql,
            "INSERT INTO items (name) VALUES ('a'), ('b')"
        );
        assert!(matches!(
            err("INSERT INTO items (id, name) VALUES (DEFAULT, 'a'), (2, 'b')"),
            Error::Unsupported(_)
        ));
    }

    #[test]
    fn later_statements_see_tables_created_earlier() {
        let all = translate("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a') RETURNING id", &HashMap::new())
            .expect("translate");
        assert_eq!(all[1].sql, "INSERT INTO t VALUES (1, 'a') RETURNING id");
        assert_eq!(
            described(&all[1]),
            [("id".to_string(), "integer".to_string())]
        );
    }

    #[test]
    fn upsert_prints_for_sqlite() {
        let t = one(
            "INSERT INTO items (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name RETURNING id, name",
        );
        assert_eq!(
            t.sql,
            "INSERT INTO items (id, name) VALUES (1, 'a') ON CONFLICT(id) DO UPDATE SET name = EXCLUDED.name RETURNING id, name"
        );
        let t = one("INSERT INTO items (id) SELECT id FROM items ON CONFLICT DO NOTHING");
        assert!(
            t.sql.contains("WHERE true ON CONFLICT DO NOTHING"),
            "{}",
            t.sql
        );
    }

    #[test]
    fn expressions_get_postgres_semantics() {
        let sql = |s: &str| one(s).sql;
        assert_eq!(
            sql("SELECT id FROM items WHERE name LIKE 'a%'"),
            "SELECT id FROM items WHERE pg_like(name, 'a%', 0)"
        );
        assert_eq!(
            sql("SELECT id FROM items WHERE name ILIKE 'a%'"),
            "SELECT id FROM items WHERE pg_like(name, 'a%', 1)"
        );
        assert_eq!(
            sql("SELECT id FROM items WHERE name !~* '^x'"),
            "SELECT id FROM items WHERE NOT (pg_regex(name, '^x', 'i'))"
        );
        assert_eq!(
            sql("SELECT id FROM items WHERE active"),
            "SELECT id FROM items WHERE active"
        );
        assert_eq!(
            sql("SELECT id FROM items WHERE active = 'yes'"),
            "SELECT id FROM items WHERE active = 1"
        );
        assert_eq!(
            sql("SELECT id FROM items WHERE price > 5"),
            "SELECT id FROM items WHERE (price) COLLATE pg_numeric > '5'"
        );
        assert_eq!(
            sql("SELECT id FROM items WHERE created > '2024-01-01 10:00+02'"),
            "SELECT id FROM items WHERE created > '2024-01-01 08:00:00+00'"
        );
        assert_eq!(
            sql("SELECT id / 2, id % 2, id + 1 FROM items"),
            "SELECT pg_cast(pg_div(id, 2), 'bigint', 'integer'), pg_cast(pg_mod(id, 2), 'bigint', 'integer'), \
             pg_cast(((id) + (1)), 'bigint', 'integer') FROM items"
        );
        assert_eq!(
            sql("SELECT interval '1 day' = interval '24 hours'"),
            "SELECT pg_interval_key('1 day') = pg_interval_key('24:00:00')"
        );
        assert_eq!(
            err("SELECT id FROM items WHERE doc < '{}'").sqlstate(),
            "0A000"
        );
        assert_eq!(
            err("SELECT id FROM items ORDER BY tags").sqlstate(),
            "0A000"
        );
        assert_eq!(
            sql("SELECT price * 2 FROM items"),
            "SELECT pg_numeric('*', price, 2) FROM items"
        );
        assert_eq!(
            sql(
                "SELECT doc -> 'a', doc ->> 'b', doc #>> '{a,b}' FROM items WHERE doc @> '{\"a\":1}'"
            ),
            "SELECT pg_json_get(doc, 'a', 0, 1), pg_json_get(doc, 'b', 1, 1), pg_json_path(doc, '[\"a\",\"b\"]', 1, 1) FROM items WHERE pg_jsonb_contains(doc, '{\"a\": 1}')"
        );
        assert_eq!(
            sql("SELECT id FROM items WHERE id = ANY($1)"),
            "SELECT id FROM items WHERE id IN (SELECT value FROM json_each(pg_cast(?1, NULL, 'integer[]')))"
        );
        assert_eq!(
            sql("SELECT created + interval '1 day' FROM items"),
            "SELECT pg_datetime_add(created, '1 day', 'timestamp with time zone', 1) FROM items"
        );
        assert_eq!(
            sql("SELECT id FROM public.items ORDER BY id DESC"),
            "SELECT id FROM items ORDER BY id DESC NULLS FIRST"
        );
        assert_eq!(
            sql("SELECT ARRAY[1, 2]"),
            "SELECT pg_array('integer', 1, 2)"
        );
        assert_eq!(
            sql("SELECT pg_catalog.now()"),
            "SELECT pg_now('timestamp with time zone')"
        );
    }

    #[test]
    fn keys_and_create_if_not_exists_follow_postgres() {
        // a primary key is NOT NULL in PostgreSQL; SQLite needs it said
        assert_eq!(
            one("CREATE TABLE t (k text PRIMARY KEY, v int)").sql,
            "CREATE TABLE t (k TEXT PRIMARY KEY NOT NULL, v INTEGER)"
        );
        assert_eq!(
            one("CREATE TABLE t (a text, b int NOT NULL, c int, PRIMARY KEY (a, b))").sql,
            "CREATE TABLE t (a TEXT NOT NULL, b INTEGER NOT NULL, c INTEGER, PRIMARY KEY (a, b))"
        );
        // an existing table keeps its columns
        let t = one("CREATE TABLE IF NOT EXISTS items (id int PRIMARY KEY)");
        assert_eq!(t.ddl.map(|d| d.columns.len()), Some(9));
    }

    #[test]
    fn queries_print_for_sqlite() {
        let sql = |s: &str| one(s).sql;
        assert_eq!(
            sql("SELECT id FROM items ORDER BY id OFFSET 2"),
            "SELECT id FROM items ORDER BY id NULLS LAST LIMIT -1 OFFSET 2"
        );
        assert_eq!(
            sql("SELECT string_agg(name, ',' ORDER BY price DESC) FROM items"),
            "SELECT group_concat(name, ',' ORDER BY (price) COLLATE pg_numeric DESC NULLS FIRST) FROM items"
        );
        assert_eq!(
            sql("INSERT INTO items AS i (id) VALUES (1) RETURNING i.id, i.name"),
            "INSERT INTO items AS i (id) VALUES (1) RETURNING id, name"
        );
        assert_eq!(
            sql("SELECT (SELECT id FROM items)"),
            "SELECT (SELECT pg_scalar(v) FROM (SELECT id AS \"v\" FROM items))"
        );
        assert_eq!(
            sql("SELECT (SELECT id FROM items LIMIT 1)"),
            "SELECT (SELECT id FROM items LIMIT 1)"
        );
        assert_eq!(
            sql("SELECT x FROM unnest(ARRAY[1, 2]) AS u(x)"),
            "SELECT x FROM (SELECT value AS \"x\" FROM json_each(pg_array('integer', 1, 2))) AS \"u\""
        );
        assert_eq!(
            sql("SELECT concat('a', active), length('ab'::char(4)) FROM items"),
            "SELECT concat('a', substr('ft', ((active) + 1), 1)), length(rtrim('ab  ', ' ')) FROM items"
        );
    }

    #[test]
    fn more_result_types_follow_postgres() {
        // RowDescription in PostgreSQL 15
        let t = one(
            "SELECT (-3.5)::int, '10'::numeric::int, 1.5::numeric(4,1)::text, substr('ab', 1), \
             1::real / 3, 1::real * 1::real, ceil(2.5), ceil(2), mod(7, 2), 2 ^ 3, \
             version(), current_database(), current_schema, jsonb_build_object('a', 1), \
             ARRAY[1] || 2, array_to_string(tags, ','), CASE WHEN true THEN 1 ELSE id END FROM items",
        );
        let expected = [
            ("int4", "integer"),
            ("int4", "integer"),
            ("text", "text"),
            ("substr", "text"),
            ("?column?", "double precision"),
            ("?column?", "real"),
            ("ceil", "numeric"),
            ("ceil", "double precision"),
            ("mod", "integer"),
            ("?column?", "double precision"),
            ("version", "text"),
            ("current_database", "name"),
            ("current_schema", "name"),
            ("jsonb_build_object", "jsonb"),
            ("?column?", "integer[]"),
            ("array_to_string", "text"),
            ("id", "integer"),
        ];
        assert_eq!(
            described(&t),
            expected.map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert!(
            polymorphic::version().starts_with("PostgreSQL 15.8 (patina "),
            "{}",
            polymorphic::version()
        );
    }

    #[test]
    fn value_errors_of_typed_constants_wait_for_the_run() {
        // PostgreSQL: Parse succeeds, Execute fails (22003, 22001)
        assert_eq!(
            one("SELECT 1000::numeric(3,0)").sql,
            "SELECT pg_cast(1000, 'integer', 'numeric(3,0)')"
        );
        assert_eq!(
            one("INSERT INTO items (id, name) VALUES (1, 'much too long for twenty')").sql,
            "INSERT INTO items (id, name) VALUES (1, pg_assign('much too long for twenty', \
             'character varying', 'character varying(20)'))"
        );
        // …but an untyped literal is read while parsing
        assert_eq!(err("SELECT '1000x'::numeric(3,0)").sqlstate(), "22P02");
        assert_eq!(err("SELECT '2024-02-30'::date").sqlstate(), "22008");
    }

    #[test]
    fn errors_carry_postgres_sqlstates() {
        assert_eq!(err("SELECT id FROM items WHERE name").sqlstate(), "42804");
        assert_eq!(
            err("SELECT id FROM items WHERE id AND true").sqlstate(),
            "42804"
        );
        assert_eq!(err("SELECT sqrt(2.0)").sqlstate(), "0A000");
        assert_eq!(err("SELECT reverse(1)").sqlstate(), "42883");
        assert_eq!(err("SELEC 1").sqlstate(), "42601");
        assert_eq!(err("SELECT * FROM nope").sqlstate(), "42P01");
        assert_eq!(err("SELECT nope FROM items").sqlstate(), "42703");
        assert_eq!(err("SELECT frobnicate(1)").sqlstate(), "42883");
        assert_eq!(err("SELECT 'x'::int").sqlstate(), "22P02");
        assert_eq!(
            err("SELECT count(*) FROM items FOR UPDATE").sqlstate(),
            "0A000"
        );
        assert_eq!(err("SELECT id FROM other.items").sqlstate(), "0A000");
        assert_eq!(
            err("SELECT x FROM items AS a, items AS b WHERE id = 1").sqlstate(),
            "42703"
        );
        assert_eq!(
            err("SELECT id FROM items AS a, items AS b").sqlstate(),
            "42702"
        );
        assert_eq!(
            err("SELECT DISTINCT ON (id) id, name FROM items ORDER BY name, id").sqlstate(),
            "42P10"
        );
        assert_eq!(
            err("SELECT lower(name) OVER () FROM items").sqlstate(),
            "42809"
        );
        assert_eq!(err("SELECT row_number() FROM items").sqlstate(), "42809");
    }

    #[test]
    fn dialect_gaps_print_for_sqlite() {
        let t = one(
            "SELECT id, row_number() OVER w, rank() OVER (ORDER BY price DESC), \
             sum(qty) OVER (PARTITION BY active ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), \
             lag(price, 1, 0) OVER w, percent_rank() OVER w, ntile(2) OVER w \
             FROM items WINDOW w AS (ORDER BY id)",
        );
        assert_eq!(
            t.sql,
            "SELECT id, row_number() OVER w, rank() OVER (ORDER BY (price) COLLATE pg_numeric DESC NULLS FIRST), \
             pg_numeric_sum(qty) OVER (PARTITION BY active ORDER BY id NULLS LAST ROWS BETWEEN 1 PRECEDING AND CURRENT ROW), \
             lag(price, 1, '0') OVER w, percent_rank() OVER w, ntile(2) OVER w \
             FROM items WINDOW w AS (ORDER BY id NULLS LAST)"
        );
        let types: Vec<String> = t.columns.iter().map(|c| c.ty.to_string()).collect();
        assert_eq!(
            types,
            [
                "integer",
                "bigint",
                "bigint",
                "numeric",
                "numeric",
                "double precision",
                "integer"
            ]
        );
        let t = one(
            "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT n FROM r",
        );
        assert_eq!(described(&t), [("n".to_string(), "integer".to_string())]);
        assert_eq!(
            err(
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1.5 FROM r) SELECT n FROM r"
            )
            .sqlstate(),
            "42804"
        );
        assert_eq!(
            one("SELECT DISTINCT ON (name) name, id FROM items ORDER BY name, price DESC").sql,
            "SELECT \"?c1\" AS \"name\", \"?c2\" AS \"id\" FROM (SELECT name AS \"?c1\", id AS \"?c2\", \
             price AS \"?o1\", row_number() OVER (PARTITION BY name ORDER BY name NULLS LAST, \
             (price) COLLATE pg_numeric DESC NULLS FIRST) AS \"?rn\" FROM items) AS \"?distinct_on\" \
             WHERE \"?rn\" = 1 ORDER BY \"?c1\" NULLS LAST, (\"?o1\") COLLATE pg_numeric DESC NULLS FIRST"
        );
        let t = one("SELECT id FROM items WHERE id = 1 FOR NO KEY UPDATE OF items NOWAIT");
        assert_eq!(
            (t.sql.as_str(), t.row_lock),
            (
                "SELECT id FROM items WHERE id = 1",
                Some(RowLock::NoKeyUpdate)
            )
        );
        assert_eq!(one("SELECT id FROM items").row_lock, None);
        assert_eq!(
            one("SELECT '1e-300'::float8, '1.5'::float8").sql,
            "SELECT pg_cast('1e-300', NULL, 'double precision'), 1.5"
        );
    }
}
