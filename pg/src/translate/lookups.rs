//! Catalog functions that read the system relations
//! ([`crate::catalog`]): each is a scalar subquery over their views
//! (`pg_get_indexdef(oid)` reads `__patina_indexes`), so the answer comes
//! from the live schema when the statement runs. Also `ARRAY(subquery)`
//! and the `regclass` conversions, which look relations up by name or OID.

use sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Query, SelectItem, SetExpr, TableFactor,
    Value,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use super::coerce::{CastKind, allowed};
use super::context::{Translator, Ty, take};
use super::names::{fold, system_relation, table_name};
use super::output::name_outputs;
use crate::catalog::{Source, quote_literal};
use crate::error::Error;
use crate::types::{PgType, Scalar};

/// One catalog function: its parameters, its result, and the SQLite
/// expression computing it, where `$1`, `$2`… stand for the arguments.
struct Lookup {
    name: &'static str,
    params: &'static [PgType],
    result: PgType,
    sql: &'static str,
}

const OID: PgType = PgType::OID;
const TEXT: PgType = PgType::TEXT;
const BOOL: PgType = PgType::BOOL;
const INT4: PgType = PgType::INT4;
const INT8: PgType = PgType::INT8;
const NAME: PgType = PgType::NAME;

const fn lookup(
    name: &'static str,
    params: &'static [PgType],
    result: PgType,
    sql: &'static str,
) -> Lookup {
    Lookup {
        name,
        params,
        result,
        sql,
    }
}

const INDEXDEF: &str = "(SELECT pg_index_def(i.relname, i.tbl, i.uniq, i.columns) \
     FROM __patina_indexes AS i WHERE i.oid = $1)";
/// With a column number other than 0, that key column's definition.
const INDEXDEF_COLUMN: &str = "(SELECT CASE WHEN $2 = 0 THEN pg_index_def(i.relname, i.tbl, i.uniq, i.columns) \
     ELSE json_extract(i.names, '$[' || ($2 - 1) || ']') END \
     FROM __patina_indexes AS i WHERE i.oid = $1)";
const CONSTRAINTDEF: &str = "coalesce(\
     (SELECT CASE WHEN i.pk THEN 'PRIMARY KEY (' ELSE 'UNIQUE (' END || i.columns || ')' \
       FROM __patina_indexes AS i WHERE pg_catalog_oid('pg_constraint', i.relname) = $1), \
     (SELECT 'CHECK (' || k.expr || ')' FROM __patina_checks AS k WHERE k.oid = $1))";
const TABLE_VISIBLE: &str =
    "(SELECT c.relnamespace IN (11, 2200) FROM \"pg_catalog.pg_class\" AS c WHERE c.oid = $1)";
const OBJ_DESCRIPTION: &str = "(SELECT d.description FROM \"pg_catalog.pg_description\" AS d \
     WHERE d.objoid = $1 AND d.objsubid = 0)";
const NO_PROC_TEXT: &str = "(SELECT p.prosrc FROM \"pg_catalog.pg_proc\" AS p WHERE p.oid = $1)";

// Sizes are SQLite's: the bytes of the pages of a relation's b-tree, from
// the `dbstat` table (a table has no other forks; a rowid primary key and
// the system relations have no b-tree of their own, and are 0 bytes).
/// `pg_relation_size` and `pg_table_size` of a table or an index.
const RELATION_SIZE: &str = "(SELECT coalesce((SELECT sum(s.pgsize) FROM dbstat AS s \
     WHERE s.name = CASE r.relkind WHEN 'r' THEN r.tbl WHEN 'i' THEN r.idx END AND s.aggregate = 1), 0) \
     FROM __patina_relations AS r WHERE r.oid = $1)";
/// `pg_indexes_size` of a table: its indexes' pages.
const INDEXES_SIZE: &str = "(SELECT coalesce((SELECT sum(s.pgsize) FROM __patina_relations AS i, dbstat AS s \
     WHERE i.relkind = 'i' AND i.tbl = r.tbl AND s.name = i.idx AND s.aggregate = 1), 0) \
     FROM __patina_relations AS r WHERE r.oid = $1)";
/// `pg_total_relation_size` of a table: its pages and its indexes'.
const TOTAL_RELATION_SIZE: &str = "(SELECT coalesce((SELECT sum(s.pgsize) FROM dbstat AS s \
     WHERE s.aggregate = 1 AND (s.name = r.tbl AND r.relkind = 'r' OR s.name = r.idx \
       OR s.name IN (SELECT i.idx FROM __patina_relations AS i WHERE i.relkind = 'i' AND i.tbl = r.tbl AND r.relkind = 'r'))), 0) \
     FROM __patina_relations AS r WHERE r.oid = $1)";
/// `pg_database_size`: the database file's pages, for the one database.
const DATABASE_SIZE: &str = "(SELECT p.page_count * z.page_size FROM pragma_page_count AS p, pragma_page_size AS z \
     WHERE (SELECT count(*) FROM \"pg_catalog.pg_database\" AS d WHERE d.datname = $1) > 0)";
const DATABASE_SIZE_BY_OID: &str = "(SELECT p.page_count * z.page_size FROM pragma_page_count AS p, pragma_page_size AS z \
     WHERE (SELECT count(*) FROM \"pg_catalog.pg_database\" AS d WHERE d.oid = $1) > 0)";

/// Every catalog function, overloads of one name together.
const LOOKUPS: &[Lookup] = &[
    lookup("pg_relation_size", &[PgType::REGCLASS], INT8, RELATION_SIZE),
    lookup("pg_table_size", &[PgType::REGCLASS], INT8, RELATION_SIZE),
    lookup("pg_indexes_size", &[PgType::REGCLASS], INT8, INDEXES_SIZE),
    lookup(
        "pg_total_relation_size",
        &[PgType::REGCLASS],
        INT8,
        TOTAL_RELATION_SIZE,
    ),
    lookup("pg_database_size", &[NAME], INT8, DATABASE_SIZE),
    lookup("pg_database_size", &[OID], INT8, DATABASE_SIZE_BY_OID),
    lookup("pg_get_indexdef", &[OID], TEXT, INDEXDEF),
    lookup("pg_get_indexdef", &[OID, INT4, BOOL], TEXT, INDEXDEF_COLUMN),
    lookup("pg_get_constraintdef", &[OID], TEXT, CONSTRAINTDEF),
    lookup("pg_get_constraintdef", &[OID, BOOL], TEXT, CONSTRAINTDEF),
    lookup(
        "pg_get_userbyid",
        &[OID],
        NAME,
        "coalesce((SELECT r.rolname FROM \"pg_catalog.pg_roles\" AS r WHERE r.oid = $1), \
         'unknown (OID=' || $1 || ')')",
    ),
    lookup("pg_table_is_visible", &[OID], BOOL, TABLE_VISIBLE),
    lookup(
        "pg_type_is_visible",
        &[OID],
        BOOL,
        "(SELECT t.typnamespace = 11 FROM \"pg_catalog.pg_type\" AS t WHERE t.oid = $1)",
    ),
    lookup(
        "pg_function_is_visible",
        &[OID],
        BOOL,
        "(SELECT p.pronamespace IN (11, 2200) FROM \"pg_catalog.pg_proc\" AS p WHERE p.oid = $1)",
    ),
    lookup(
        "pg_collation_is_visible",
        &[OID],
        BOOL,
        "(SELECT c.collnamespace = 11 FROM \"pg_catalog.pg_collation\" AS c WHERE c.oid = $1)",
    ),
    lookup(
        "pg_relation_is_publishable",
        &[OID],
        BOOL,
        "(SELECT c.relkind IN ('r', 'p') AND c.relnamespace = 2200 \
         FROM \"pg_catalog.pg_class\" AS c WHERE c.oid = $1)",
    ),
    lookup("obj_description", &[OID], TEXT, OBJ_DESCRIPTION),
    lookup("obj_description", &[OID, NAME], TEXT, OBJ_DESCRIPTION),
    lookup(
        "shobj_description",
        &[OID, NAME],
        TEXT,
        "(SELECT d.description FROM \"pg_catalog.pg_shdescription\" AS d WHERE d.objoid = $1)",
    ),
    lookup(
        "col_description",
        &[OID, INT4],
        TEXT,
        "(SELECT d.description FROM \"pg_catalog.pg_description\" AS d \
         WHERE d.objoid = $1 AND d.objsubid = $2)",
    ),
    lookup(
        "pg_get_statisticsobjdef_columns",
        &[OID],
        TEXT,
        "(SELECT s.stxname FROM \"pg_catalog.pg_statistic_ext\" AS s WHERE s.oid = $1)",
    ),
    lookup("pg_get_function_result", &[OID], TEXT, NO_PROC_TEXT),
    lookup("pg_get_function_arguments", &[OID], TEXT, NO_PROC_TEXT),
    lookup(
        "pg_get_function_identity_arguments",
        &[OID],
        TEXT,
        NO_PROC_TEXT,
    ),
    // `generate_series` in FROM reads this array (see `names`)
    lookup(
        "__patina_generate_series",
        &[INT4, INT4],
        PgType::INT4.array_of(),
        "pg_series($1, $2, 1)",
    ),
    lookup(
        "__patina_generate_series",
        &[INT4, INT4, INT4],
        PgType::INT4.array_of(),
        "pg_series($1, $2, $3)",
    ),
    lookup(
        "__patina_generate_series",
        &[INT8, INT8],
        PgType::INT8.array_of(),
        "pg_series($1, $2, 1)",
    ),
    lookup(
        "__patina_generate_series",
        &[INT8, INT8, INT8],
        PgType::INT8.array_of(),
        "pg_series($1, $2, $3)",
    ),
    // timestamptz first: PostgreSQL's preferred type for `date` arguments
    lookup(
        "__patina_generate_series",
        &[PgType::TIMESTAMPTZ, PgType::TIMESTAMPTZ, PgType::INTERVAL],
        PgType::TIMESTAMPTZ.array_of(),
        "pg_time_series($1, $2, $3, 'timestamp with time zone')",
    ),
    lookup(
        "__patina_generate_series",
        &[PgType::TIMESTAMP, PgType::TIMESTAMP, PgType::INTERVAL],
        PgType::TIMESTAMP.array_of(),
        "pg_time_series($1, $2, $3, 'timestamp without time zone')",
    ),
    lookup(
        "pg_get_serial_sequence",
        &[TEXT, TEXT],
        TEXT,
        "(SELECT 'public.' || pg_quote_ident(r.relname) FROM __patina_relations AS r \
         WHERE r.relkind = 'S' AND r.relname = pg_regclass_name($1) || '_' || $2 || '_seq')",
    ),
    // `adbin` and the other expression columns hold the printed expression
    lookup("pg_get_expr", &[TEXT, OID], TEXT, "CAST($1 AS TEXT)"),
    lookup("pg_get_expr", &[TEXT, OID, BOOL], TEXT, "CAST($1 AS TEXT)"),
    lookup("format_type", &[OID, INT4], TEXT, "pg_format_type($1, $2)"),
    lookup(
        "pg_encoding_to_char",
        &[INT4],
        NAME,
        "pg_encoding_to_char($1)",
    ),
    lookup("quote_ident", &[TEXT], TEXT, "pg_quote_ident($1)"),
    lookup(
        "to_regclass",
        &[TEXT],
        PgType::REGCLASS,
        "(SELECT c.oid FROM \"pg_catalog.pg_class\" AS c \
         WHERE c.relname = pg_regclass_name($1) AND c.relnamespace IN (11, 2200))",
    ),
    lookup("to_regtype", &[TEXT], PgType::REGTYPE, "pg_to_regtype($1)"),
    lookup(
        "current_schemas",
        &[BOOL],
        PgType::NAME.array_of(),
        "CASE WHEN $1 THEN '[\"pg_catalog\",\"public\"]' ELSE '[\"public\"]' END",
    ),
    // patina's one role is a superuser: it holds every privilege
    lookup("has_table_privilege", &[TEXT, TEXT], BOOL, "1"),
    lookup("has_table_privilege", &[OID, TEXT], BOOL, "1"),
    lookup("has_table_privilege", &[NAME, TEXT, TEXT], BOOL, "1"),
    lookup("has_table_privilege", &[NAME, OID, TEXT], BOOL, "1"),
    lookup("has_schema_privilege", &[TEXT, TEXT], BOOL, "1"),
    lookup("has_schema_privilege", &[NAME, TEXT, TEXT], BOOL, "1"),
    lookup("has_database_privilege", &[TEXT, TEXT], BOOL, "1"),
    lookup("has_database_privilege", &[NAME, TEXT, TEXT], BOOL, "1"),
    lookup("has_column_privilege", &[TEXT, TEXT, TEXT], BOOL, "1"),
    lookup("has_column_privilege", &[OID, TEXT, TEXT], BOOL, "1"),
    lookup("has_function_privilege", &[TEXT, TEXT], BOOL, "1"),
    lookup("has_any_column_privilege", &[TEXT, TEXT], BOOL, "1"),
    lookup("has_any_column_privilege", &[OID, TEXT], BOOL, "1"),
];

// The templates alias pg_class `"?rc"`, which cannot hide a column
// their argument reads (`c.oid::regclass` over `pg_class AS c`).

/// `'name'::regclass`: the relation's OID, or 42P01.
const REGCLASS_IN: &str = "coalesce((SELECT \"?rc\".oid FROM \"pg_catalog.pg_class\" AS \"?rc\" \
     WHERE \"?rc\".relname = pg_regclass_name($1) AND \"?rc\".relnamespace IN (11, 2200)), pg_undefined_table($1))";
/// `oid::regclass::text`: the relation's name, or the number.
const REGCLASS_OUT: &str = "coalesce((SELECT pg_quote_ident(\"?rc\".relname) FROM \"pg_catalog.pg_class\" AS \"?rc\" \
     WHERE \"?rc\".oid = $1), CAST($1 AS TEXT))";

/// A `regclass` result value: `'<oid> <name>'` (see
/// [`crate::values::regclass`]).
const REGCLASS_RESULT: &str = "CAST($1 AS TEXT) || ' ' || coalesce((SELECT pg_quote_ident(\"?rc\".relname) \
     FROM \"pg_catalog.pg_class\" AS \"?rc\" WHERE \"?rc\".oid = $1), CAST($1 AS TEXT))";

/// Parses a SQLite expression template.
fn template(sql: &str) -> Result<Expr, Error> {
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_expr())
        .map_err(|e| Error::Syntax(format!("catalog template: {e}")))
}

/// Replaces the template's `$n` with the `n`th of `args`.
fn fill(expr: &mut Expr, args: &[Expr]) {
    match expr {
        Expr::Value(value) => {
            if let Value::Placeholder(placeholder) = &value.value
                && let Some(arg) = placeholder
                    .strip_prefix('$')
                    .and_then(|n| n.parse::<usize>().ok())
                    .and_then(|n| args.get(n.wrapping_sub(1)))
            {
                *expr = arg.clone();
            }
        }
        Expr::BinaryOp { left, right, .. } => {
            fill(left, args);
            fill(right, args);
        }
        Expr::Nested(inner)
        | Expr::UnaryOp { expr: inner, .. }
        | Expr::Cast { expr: inner, .. } => fill(inner, args),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => {
            for inner in operand.iter_mut().chain(else_result.iter_mut()) {
                fill(inner, args);
            }
            for when in conditions {
                fill(&mut when.condition, args);
                fill(&mut when.result, args);
            }
        }
        Expr::Function(function) => {
            if let FunctionArguments::List(list) = &mut function.args {
                for arg in &mut list.args {
                    if let FunctionArg::Unnamed(FunctionArgExpr::Expr(inner)) = arg {
                        fill(inner, args);
                    }
                }
            }
        }
        Expr::Subquery(query) => fill_query(query, args),
        _ => {}
    }
}

fn fill_query(query: &mut Query, args: &[Expr]) {
    if let SetExpr::Select(select) = query.body.as_mut() {
        for item in &mut select.projection {
            if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item {
                fill(expr, args);
            }
        }
        if let Some(selection) = &mut select.selection {
            fill(selection, args);
        }
    }
}

/// The template `sql` with `args` in place of its `$n`.
fn instantiate(sql: &str, args: Vec<Expr>) -> Result<Expr, Error> {
    let mut expr = template(sql)?;
    fill(&mut expr, &args);
    Ok(expr)
}

impl Translator<'_> {
    /// Rewrites a catalog function call; `None` when `name` is not one.
    pub(crate) fn catalog_lookup(
        &mut self,
        name: &str,
        args: &mut [&mut Expr],
    ) -> Result<Option<(Expr, PgType)>, Error> {
        if !LOOKUPS
            .iter()
            .any(|l| l.name == name && l.params.len() == args.len())
        {
            return Ok(None);
        }
        let mut types = Vec::with_capacity(args.len());
        for arg in args.iter_mut() {
            types.push(self.expr(arg)?);
        }
        let fits = |params: &[PgType]| {
            types.iter().zip(params).all(|(ty, param)| match ty {
                Ty::Known(t) => {
                    t.is_string() && param.is_string() || allowed(*t, *param, CastKind::Implicit)
                }
                Ty::Unknown => true,
            })
        };
        // as PostgreSQL: an exact match of the known types first, else
        // the first that takes them by implicit casts
        let exact = |params: &[PgType]| {
            types
                .iter()
                .zip(params)
                .all(|(ty, param)| ty.known().is_none_or(|t| t == *param))
        };
        let candidates = || {
            LOOKUPS
                .iter()
                .filter(|l| l.name == name && l.params.len() == args.len() && fits(l.params))
        };
        let Some(lookup) = candidates()
            .find(|l| exact(l.params))
            .or_else(|| candidates().next())
        else {
            let shown: Vec<String> = types
                .iter()
                .map(|t| t.known().map_or("unknown".into(), |t| t.to_string()))
                .collect();
            return Err(Error::UndefinedFunction(format!(
                "{name}({})",
                shown.join(", ")
            )));
        };
        let mut converted = Vec::with_capacity(args.len());
        for ((arg, param), ty) in args.iter_mut().zip(lookup.params).zip(types) {
            self.coerce(arg, ty, *param, CastKind::Implicit)?;
            converted.push(take(arg));
        }
        Ok(Some((instantiate(lookup.sql, converted)?, lookup.result)))
    }

    /// `ARRAY(subquery)`: the subquery's values as an array, in its order.
    pub(crate) fn array_subquery(&mut self, query: &mut Query) -> Result<(Expr, PgType), Error> {
        let columns = self.subquery(query)?;
        let [(_, element)] = columns.as_slice() else {
            return Err(Error::Syntax("subquery must return only one column".into()));
        };
        let element = *element;
        if element.is_array() {
            return Err(Error::Unsupported("ARRAY(subquery) of arrays".into()));
        }
        name_outputs(query, &vec![("__patina_element".to_owned(), element)])?;
        let mut wrapper = template(
            "(SELECT coalesce(json_group_array(__patina_element), '[]') FROM (SELECT 1) AS __patina_array)",
        )?;
        if let Expr::Subquery(outer) = &mut wrapper
            && let SetExpr::Select(select) = outer.body.as_mut()
            && let Some(from) = select.from.first_mut()
            && let sqlparser::ast::TableFactor::Derived { subquery, .. } = &mut from.relation
        {
            **subquery = query.clone();
        }
        Ok((wrapper, element.array_of()))
    }

    /// Converts to or from `regclass` where the stored form changes
    /// meaning: a name is looked up (42P01 if no relation has it), and a
    /// `regclass` prints as its relation's name. `None` when this is not
    /// such a conversion.
    pub(crate) fn regclass_cast(
        &mut self,
        expr: &mut Expr,
        ty: Ty,
        target: PgType,
    ) -> Result<bool, Error> {
        let from = ty.known();
        let from_regclass = from.is_some_and(is_regclass);
        if is_regclass(target)
            && !from_regclass
            && !from.is_some_and(|t| t.is_integer() || t.scalar() == Scalar::Oid)
        {
            if let Some(from) = from.filter(|t| !t.is_string()) {
                return Err(Error::UndefinedOperator(format!(
                    "cannot cast type {from} to regclass"
                )));
            }
            *expr = instantiate(REGCLASS_IN, vec![take(expr)])?;
            return Ok(true);
        }
        if from_regclass && target.is_string() {
            *expr = instantiate(REGCLASS_OUT, vec![take(expr)])?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Makes the `regclass` columns of a query's result print as their
    /// relations' names (PostgreSQL's output function): each value
    /// carries the OID and the name.
    pub(crate) fn print_regclass(
        &mut self,
        query: &mut Query,
        columns: &[(String, PgType)],
    ) -> Result<(), Error> {
        if !columns.iter().any(|(_, ty)| is_regclass(*ty)) {
            return Ok(());
        }
        print_regclass_in(query.body.as_mut(), columns)
    }
}

/// `pg_settings`' row of a setting.
fn setting_row(name: &str, value: &str) -> Vec<Option<String>> {
    let text = |t: &str| Some(t.to_owned());
    vec![
        text(name),
        text(value),
        None,
        None,
        None,
        None,
        text("user"),
        text("string"),
        text("session"),
        None,
        None,
        None,
        text(value),
        text(value),
        None,
        None,
        text("false"),
    ]
}

impl Translator<'_> {
    /// A system relation whose rows the session holds (see
    /// [`Source::Session`]) in `FROM`: its rows as a subquery in place of
    /// the view, as the same relation. `pg_settings` lists the session's
    /// settings; others ask [`super::Catalog::session_rows`].
    pub(crate) fn session_relation(&mut self, factor: &mut TableFactor) -> Result<(), Error> {
        let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        else {
            return Ok(());
        };
        let Some(relation) = table_name(name, &self.catalog.database())
            .ok()
            .and_then(|ident| system_relation(&fold(&ident)))
            .filter(|r| matches!(r.source, Source::Session))
        else {
            return Ok(());
        };
        let alias = alias
            .as_ref()
            .map_or_else(|| relation.name.to_owned(), |a| a.name.to_string());
        let rows = match (relation.schema, relation.name) {
            ("pg_catalog", "pg_settings") => self
                .catalog
                .settings()
                .iter()
                .map(|(name, value)| setting_row(name, value))
                .collect(),
            (schema, name) => self.catalog.session_rows(schema, name),
        };
        let select = |cells: &[Option<String>], keep: bool| {
            let columns: Vec<String> = relation
                .columns
                .iter()
                .enumerate()
                .map(|(i, (column, ty))| {
                    let cell = cells
                        .get(i)
                        .and_then(Option::as_deref)
                        .map_or_else(|| "NULL".to_owned(), quote_literal);
                    format!("CAST({cell} AS {ty}) AS {column}")
                })
                .collect();
            format!(
                "SELECT {}{}",
                columns.join(", "),
                if keep { "" } else { " WHERE false" }
            )
        };
        // a row filtered out gives the relation its columns when it has no rows
        let selects: Vec<String> = rows
            .iter()
            .map(|cells| select(cells, true))
            .chain([select(&[], false)])
            .collect();
        let sql = format!("SELECT * FROM ({}) AS {alias}", selects.join(" UNION ALL "));
        let parsed = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&sql)
            .and_then(|mut parser| parser.parse_query())
            .map_err(|e| Error::Syntax(format!("{}: {e}", relation.name)))?;
        if let SetExpr::Select(select) = *parsed.body
            && let Some(from) = select.from.into_iter().next()
        {
            *factor = from.relation;
        }
        Ok(())
    }
}

/// [`Translator::print_regclass`] in every `SELECT` of a set operation.
fn print_regclass_in(body: &mut SetExpr, columns: &[(String, PgType)]) -> Result<(), Error> {
    match body {
        SetExpr::Select(select) => {
            for (item, (_, ty)) in select.projection.iter_mut().zip(columns) {
                if !is_regclass(*ty) {
                    continue;
                }
                if let SelectItem::UnnamedExpr(expr) | SelectItem::ExprWithAlias { expr, .. } = item
                {
                    *expr = instantiate(REGCLASS_RESULT, vec![take(expr)])?;
                }
            }
            Ok(())
        }
        SetExpr::SetOperation { left, right, .. } => {
            print_regclass_in(left, columns)?;
            print_regclass_in(right, columns)
        }
        SetExpr::Query(query) => print_regclass_in(query.body.as_mut(), columns),
        _ => Ok(()),
    }
}

fn is_regclass(ty: PgType) -> bool {
    !ty.is_array() && ty.scalar() == Scalar::Regclass
}
