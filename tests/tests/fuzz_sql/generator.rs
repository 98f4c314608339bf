//! The statement generator: random statements over a few tables, and
//! random mutations of them.

use super::*;

pub(crate) fn literal(rng: &mut Rng) -> String {
    rng.pick(&[
        "0",
        "1",
        "-1",
        "42",
        "2147483647",
        "-2147483648",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
        "1.5",
        "-0.0",
        "1e308",
        "1e-320",
        "'NaN'",
        "'Infinity'",
        "''",
        "'abc'",
        "'it''s'",
        "'%a_'",
        "E'tab\\there'",
        "'ünïcödé ☃'",
        "NULL",
        "TRUE",
        "FALSE",
        "'2024-02-29'",
        "'2024-02-30'",
        "'12:34:56'",
        "'2024-01-01 00:00:00+05'",
        "'1 day 2 hours'",
        "'00000000-0000-0000-0000-000000000000'",
        "'{\"k\": [1, {\"x\": null}]}'",
        "'[1,2'",
        "'\\xff00'",
        "ARRAY[1, 2, 3]",
        "ARRAY['a', NULL]",
        "'{}'",
        "$1",
        "$2",
        "DEFAULT",
        "CURRENT_DATE",
        "CURRENT_TIMESTAMP",
        "LOCALTIMESTAMP",
    ])
    .to_string()
}

pub(crate) fn column(rng: &mut Rng, table: &Table) -> String {
    let (name, _) = rng.pick(table.columns);
    if rng.chance(15) {
        format!("{}.{name}", table.name)
    } else {
        (*name).to_owned()
    }
}

pub(crate) fn expr(rng: &mut Rng, table: Option<&Table>, depth: usize) -> String {
    let leaf = depth == 0 || rng.chance(30);
    if leaf {
        return match table {
            Some(t) if rng.chance(60) => column(rng, t),
            _ => literal(rng),
        };
    }
    let d = depth - 1;
    match rng.below(16) {
        0..=3 => format!(
            "{} {} {}",
            expr(rng, table, d),
            rng.pick(OPERATORS),
            expr(rng, table, d)
        ),
        4 => format!(
            "{}{}",
            rng.pick(&["-", "NOT ", "+", "~", "@"]),
            expr(rng, table, d)
        ),
        5 => format!("{}::{}", paren(expr(rng, table, d)), rng.pick(TYPES)),
        6 => format!("CAST({} AS {})", expr(rng, table, d), rng.pick(TYPES)),
        7 | 8 => {
            let (name, arity) = *rng.pick(FUNCTIONS);
            let arity = if rng.chance(10) { rng.below(4) } else { arity };
            let args: Vec<String> = (0..arity).map(|_| expr(rng, table, d)).collect();
            format!("{name}({})", args.join(", "))
        }
        9 => format!(
            "CASE WHEN {} THEN {} ELSE {} END",
            expr(rng, table, d),
            expr(rng, table, d),
            expr(rng, table, d)
        ),
        10 => format!(
            "{} {}IN ({}, {})",
            expr(rng, table, d),
            if rng.chance(30) { "NOT " } else { "" },
            expr(rng, table, d),
            expr(rng, table, d)
        ),
        11 => format!(
            "{} BETWEEN {} AND {}",
            expr(rng, table, d),
            expr(rng, table, d),
            expr(rng, table, d)
        ),
        12 => format!(
            "{} IS {}",
            expr(rng, table, d),
            rng.pick(&["NULL", "NOT NULL", "TRUE", "NOT FALSE", "UNKNOWN"])
        ),
        13 => {
            let t = rng.pick(TABLES);
            format!("(SELECT {} FROM {} LIMIT 1)", column(rng, t), t.name)
        }
        14 => {
            let t = rng.pick(TABLES);
            format!(
                "EXISTS (SELECT 1 FROM {} WHERE {})",
                t.name,
                expr(rng, Some(t), d)
            )
        }
        _ => format!(
            "EXTRACT({} FROM {})",
            rng.pick(&["year", "month", "epoch", "dow", "hour", "nope"]),
            expr(rng, table, d)
        ),
    }
}

/// The generator's three well-typed families: most statements use them, so
/// they get past type checking and run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Text,
    Bool,
}

pub(crate) fn ty_of(sql_type: &str) -> Option<Ty> {
    match sql_type {
        "int" | "bigint" | "smallint" => Some(Ty::Int),
        "text" | "varchar" => Some(Ty::Text),
        "bool" => Some(Ty::Bool),
        _ => None,
    }
}

pub(crate) fn typed_column(rng: &mut Rng, table: Option<&Table>, ty: Ty) -> Option<String> {
    let table = table?;
    let matching: Vec<&str> = table
        .columns
        .iter()
        .filter(|(_, t)| ty_of(t) == Some(ty))
        .map(|(c, _)| *c)
        .collect();
    (!matching.is_empty()).then(|| rng.pick(&matching).to_string())
}

/// A well-typed expression of `ty` (parenthesised, so precedence never
/// changes its meaning).
pub(crate) fn typed(rng: &mut Rng, table: Option<&Table>, ty: Ty, depth: usize) -> String {
    if depth == 0 || rng.chance(25) {
        if rng.chance(60)
            && let Some(c) = typed_column(rng, table, ty)
        {
            return c;
        }
        return match ty {
            Ty::Int => rng
                .pick(&["0", "1", "-7", "42", "2147483647", "-2147483648", "NULL"])
                .to_string(),
            Ty::Text => rng
                .pick(&[
                    "''",
                    "'abc'",
                    "'A_b%'",
                    "'it''s'",
                    "'ünï ☃'",
                    "NULL",
                    "'42'",
                ])
                .to_string(),
            Ty::Bool => rng.pick(&["TRUE", "FALSE", "NULL"]).to_string(),
        };
    }
    let d = depth - 1;
    let t = |ty: Ty, rng: &mut Rng| typed(rng, table, ty, d);
    match ty {
        Ty::Int => match rng.below(10) {
            0 => format!(
                "({} {} {})",
                t(Ty::Int, rng),
                rng.pick(&["+", "-", "*"]),
                t(Ty::Int, rng)
            ),
            1 => format!("({} / NULLIF({}, 0))", t(Ty::Int, rng), t(Ty::Int, rng)),
            2 => format!("({} % 7)", t(Ty::Int, rng)),
            3 => format!("abs({})", t(Ty::Int, rng)),
            4 => format!("length({})", t(Ty::Text, rng)),
            5 => format!("coalesce({}, {})", t(Ty::Int, rng), t(Ty::Int, rng)),
            6 => format!(
                "CASE WHEN {} THEN {} ELSE {} END",
                t(Ty::Bool, rng),
                t(Ty::Int, rng),
                t(Ty::Int, rng)
            ),
            7 => format!("greatest({}, {})", t(Ty::Int, rng), t(Ty::Int, rng)),
            8 => format!("({})::int", t(Ty::Int, rng)),
            _ => format!("strpos({}, {})", t(Ty::Text, rng), t(Ty::Text, rng)),
        },
        Ty::Text => match rng.below(10) {
            0 => format!("({} || {})", t(Ty::Text, rng), t(Ty::Text, rng)),
            1 => format!("lower({})", t(Ty::Text, rng)),
            2 => format!("upper({})", t(Ty::Text, rng)),
            3 => format!("substr({}, {})", t(Ty::Text, rng), t(Ty::Int, rng)),
            4 => format!(
                "replace({}, {}, {})",
                t(Ty::Text, rng),
                t(Ty::Text, rng),
                t(Ty::Text, rng)
            ),
            5 => format!("({})::text", t(Ty::Int, rng)),
            6 => format!("concat({}, {})", t(Ty::Text, rng), t(Ty::Int, rng)),
            7 => format!("coalesce({}, {})", t(Ty::Text, rng), t(Ty::Text, rng)),
            8 => format!("left({}, {})", t(Ty::Text, rng), t(Ty::Int, rng)),
            _ => format!("trim({})", t(Ty::Text, rng)),
        },
        Ty::Bool => match rng.below(10) {
            0 | 1 => format!(
                "({} {} {})",
                t(Ty::Int, rng),
                rng.pick(&["=", "<>", "<", ">", "<=", ">="]),
                t(Ty::Int, rng)
            ),
            2 => format!(
                "({} {} {})",
                t(Ty::Text, rng),
                rng.pick(&["=", "<>", "<", ">=", "LIKE", "ILIKE", "NOT LIKE"]),
                t(Ty::Text, rng)
            ),
            3 => format!(
                "({} {} {})",
                t(Ty::Bool, rng),
                rng.pick(&["AND", "OR"]),
                t(Ty::Bool, rng)
            ),
            4 => format!("(NOT {})", t(Ty::Bool, rng)),
            5 => format!(
                "({} IS {}NULL)",
                t(*rng.pick(&[Ty::Int, Ty::Text, Ty::Bool]), rng),
                if rng.chance(50) { "NOT " } else { "" }
            ),
            6 => format!(
                "({} IN ({}, {}))",
                t(Ty::Int, rng),
                t(Ty::Int, rng),
                t(Ty::Int, rng)
            ),
            7 => format!(
                "({} BETWEEN {} AND {})",
                t(Ty::Int, rng),
                t(Ty::Int, rng),
                t(Ty::Int, rng)
            ),
            8 => {
                let other = rng.pick(TABLES);
                format!(
                    "EXISTS (SELECT 1 FROM {} x WHERE {})",
                    other.name,
                    typed(rng, Some(other), Ty::Bool, d)
                )
            }
            _ => format!("({} IS DISTINCT FROM {})", t(Ty::Int, rng), t(Ty::Int, rng)),
        },
    }
}

/// A boolean condition: well typed most of the time.
pub(crate) fn condition(rng: &mut Rng, table: Option<&Table>, depth: usize) -> String {
    if rng.chance(75) {
        typed(rng, table, Ty::Bool, depth)
    } else {
        expr(rng, table, depth)
    }
}

/// A value for a column of `sql_type`: well typed most of the time.
pub(crate) fn value_for(
    rng: &mut Rng,
    table: Option<&Table>,
    sql_type: &str,
    depth: usize,
) -> String {
    match ty_of(sql_type) {
        Some(ty) if rng.chance(75) => typed(rng, table, ty, depth),
        _ => expr(rng, table, depth),
    }
}

pub(crate) fn paren(s: String) -> String {
    format!("({s})")
}

pub(crate) fn select(rng: &mut Rng) -> String {
    if rng.chance(15) {
        let items: Vec<String> = (0..1 + rng.below(3)).map(|_| expr(rng, None, 3)).collect();
        return format!("SELECT {}", items.join(", "));
    }
    let t = rng.pick(TABLES);
    let aggregate = rng.chance(20);
    let items: Vec<String> = (0..1 + rng.below(3))
        .map(|i| {
            if aggregate && i == 0 {
                let agg = rng.pick(AGGREGATES);
                match *agg {
                    "string_agg" => format!("string_agg({}::text, ',')", column(rng, t)),
                    "count" if rng.chance(50) => "count(*)".to_owned(),
                    _ => format!("{agg}({})", expr(rng, Some(t), 1)),
                }
            } else if rng.chance(10) {
                "*".to_owned()
            } else {
                let e = if rng.chance(60) {
                    let ty = *rng.pick(&[Ty::Int, Ty::Text, Ty::Bool]);
                    typed(rng, Some(t), ty, 2)
                } else {
                    expr(rng, Some(t), 2)
                };
                if rng.chance(20) {
                    format!("{e} AS x{i}")
                } else {
                    e
                }
            }
        })
        .collect();
    let mut sql = format!(
        "SELECT {}{} FROM {}",
        if rng.chance(10) { "DISTINCT " } else { "" },
        items.join(", "),
        t.name
    );
    if rng.chance(15) {
        let other = rng.pick(TABLES);
        let join = rng.pick(&["JOIN", "LEFT JOIN", "CROSS JOIN", "INNER JOIN"]);
        sql += &format!(" {join} {} o", other.name);
        if *join != "CROSS JOIN" {
            sql += &format!(" ON {}", condition(rng, Some(other), 1));
        }
    }
    if rng.chance(60) {
        sql += &format!(" WHERE {}", condition(rng, Some(t), 3));
    }
    if aggregate && rng.chance(50) {
        sql += &format!(" GROUP BY {}", column(rng, t));
        if rng.chance(30) {
            sql += &format!(" HAVING {}", condition(rng, None, 1));
        }
    }
    if rng.chance(40) {
        sql += &format!(
            " ORDER BY {}{}",
            if rng.chance(50) {
                "1".to_owned()
            } else {
                column(rng, t)
            },
            rng.pick(&["", " DESC", " NULLS FIRST", " ASC NULLS LAST"])
        );
    }
    if rng.chance(30) {
        sql += &format!(
            " LIMIT {}",
            rng.pick(&["1", "0", "5", "-1", "ALL", "NULL", "$1"])
        );
    }
    if rng.chance(10) {
        sql += &format!(" OFFSET {}", rng.pick(&["1", "100", "-1"]));
    }
    if rng.chance(8) {
        sql = format!(
            "{sql} {} {}",
            rng.pick(&["UNION", "UNION ALL", "INTERSECT", "EXCEPT"]),
            select_simple(rng)
        );
    }
    if rng.chance(5) {
        sql = format!("WITH w AS ({}) SELECT * FROM w", select_simple(rng));
    }
    sql
}

pub(crate) fn select_simple(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    format!("SELECT {} FROM {}", column(rng, t), t.name)
}

pub(crate) fn insert(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    let n = 1 + rng.below(t.columns.len());
    let columns: Vec<&str> = t.columns[..n].iter().map(|(c, _)| *c).collect();
    let values: Vec<String> = t.columns[..n]
        .iter()
        .enumerate()
        .map(|(i, (_, sql_type))| {
            if i == 0 {
                key_value(rng, t)
            } else {
                value_for(rng, None, sql_type, 1)
            }
        })
        .collect();
    let mut sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        t.name,
        columns.join(", "),
        values.join(", ")
    );
    match rng.below(4) {
        0 => sql += &format!(" ON CONFLICT ({}) DO NOTHING", t.key),
        1 => {
            sql += &format!(
                " ON CONFLICT ({}) DO UPDATE SET {} = {}",
                t.key,
                rng.pick(&columns[..]),
                expr(rng, Some(t), 1).replace(t.name, "excluded")
            )
        }
        _ => {}
    }
    if rng.chance(25) {
        sql += &format!(" RETURNING {}", if rng.chance(50) { "*" } else { t.key });
    }
    sql
}

pub(crate) fn key_value(rng: &mut Rng, t: &Table) -> String {
    if t.key == "id" {
        rng.range(1, 40).to_string()
    } else {
        format!("'{}'", rng.pick(&["a", "b", "c", "d", "e", "ff", "g"]))
    }
}

pub(crate) fn update(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    let sets: Vec<String> = (0..1 + rng.below(2))
        .map(|_| {
            format!(
                "{} = {}",
                rng.pick(&t.columns[1..]).0,
                expr(rng, Some(t), 2)
            )
        })
        .collect();
    let mut sql = format!("UPDATE {} SET {}", t.name, sets.join(", "));
    if rng.chance(85) {
        sql += &format!(" WHERE {}", condition(rng, Some(t), 2));
    }
    if rng.chance(20) {
        sql += &format!(" RETURNING {}", column(rng, t));
    }
    sql
}

pub(crate) fn delete(rng: &mut Rng) -> String {
    let t = rng.pick(TABLES);
    let mut sql = format!(
        "DELETE FROM {} WHERE {} = {}",
        t.name,
        t.key,
        key_value(rng, t)
    );
    if rng.chance(40) {
        sql += &format!(" OR {}", condition(rng, Some(t), 2));
    }
    if rng.chance(20) {
        sql += " RETURNING *";
    }
    sql
}

pub(crate) fn ddl(rng: &mut Rng, n: usize) -> String {
    let name = format!("fz_{}", n % 7);
    match rng.below(6) {
        0 | 1 => {
            let cols: Vec<String> = (0..rng.below(4))
                .map(|i| {
                    format!(
                        "c{i} {}{}",
                        rng.pick(TYPES),
                        rng.pick(&[
                            "",
                            "",
                            " NOT NULL",
                            " DEFAULT 0",
                            " NOT NULL DEFAULT ''",
                            " UNIQUE"
                        ])
                    )
                })
                .collect();
            let key = rng.pick(&[
                "id INT PRIMARY KEY",
                "id BIGINT PRIMARY KEY",
                "id TEXT",
                "id SERIAL PRIMARY KEY",
                "id UUID PRIMARY KEY DEFAULT gen_random_uuid()",
            ]);
            let mut all = vec![key.to_string()];
            all.extend(cols);
            format!(
                "CREATE TABLE {}{name} ({})",
                if rng.chance(30) { "IF NOT EXISTS " } else { "" },
                all.join(", ")
            )
        }
        2 => format!(
            "CREATE INDEX {}ix_{name} ON {name} (id)",
            if rng.chance(50) { "IF NOT EXISTS " } else { "" }
        ),
        3 => format!(
            "ALTER TABLE {name} ADD COLUMN {} {} {}",
            rng.pick(&["x", "y", "id"]),
            rng.pick(TYPES),
            rng.pick(&["", "DEFAULT 1", "NOT NULL"])
        ),
        4 => format!(
            "DROP TABLE {}{name}",
            if rng.chance(50) { "IF EXISTS " } else { "" }
        ),
        _ => format!("INSERT INTO {name} (id) VALUES ({})", rng.range(1, 9)),
    }
}

pub(crate) fn transactional(rng: &mut Rng) -> String {
    rng.pick(&[
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT sp",
        "ROLLBACK TO SAVEPOINT sp",
        "RELEASE sp",
        "BEGIN; SELECT 1/0; COMMIT",
        "BEGIN; INSERT INTO t_b (k) VALUES ('tx'); ROLLBACK",
        "SET TimeZone = 'UTC'",
        "SET DateStyle = 'German'",
        "SHOW ALL",
        "SHOW no_such_setting",
        "RESET ALL",
        "DISCARD ALL",
        "DEALLOCATE nope",
        "SELECT 1; SELECT 2; SELECT 3/0; SELECT 4",
        ";;;",
        "  ",
        "-- only a comment",
        "/* unterminated",
        "SELECT 'unterminated",
        "SELECT $$dollar$$",
        "SELECT $1",
        "EXPLAIN SELECT 1",
        "VACUUM",
        "LISTEN ch",
        "NOTIFY ch, 'x'",
        "COPY t_a TO STDOUT",
        "PREPARE p AS SELECT 1",
        "EXECUTE p",
        "TRUNCATE t_b",
        "SELECT * FROM pg_catalog.pg_type LIMIT 3",
        "SELECT * FROM information_schema.tables LIMIT 3",
        "SELECT generate_series(1, 5)",
        "SELECT * FROM generate_series(1, 3) g",
    ])
    .to_string()
}

/// One statement: generated, then maybe mutated; the bytes may not be
/// UTF-8.
pub(crate) fn statement(rng: &mut Rng, n: usize) -> Vec<u8> {
    let sql = match rng.below(20) {
        0..=6 => select(rng),
        7..=9 => insert(rng),
        10..=11 => update(rng),
        12 => delete(rng),
        13 => ddl(rng, n),
        14 => transactional(rng),
        _ => select(rng),
    };
    let mut bytes = sql.into_bytes();
    if rng.chance(20) {
        bytes = mutate(rng, bytes);
    }
    // A NUL cannot be inside a query string (the protocol ends strings
    // with it); the protocol fuzz sends those.
    bytes.retain(|b| *b != 0);
    bytes
}

pub(crate) fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + rng.below(3) {
        if bytes.is_empty() {
            break;
        }
        match rng.below(7) {
            0 => {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            1 => {
                let at = rng.below(bytes.len());
                bytes[at] = *rng.pick(b"()'\",;:$*-+/\\%[]{}\xff0");
            }
            2 => {
                let keep = rng.below(bytes.len());
                bytes.truncate(keep);
            }
            3 | 4 => {
                // Token swap / drop / duplicate.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut tokens: Vec<&str> = text.split(' ').collect();
                let i = rng.below(tokens.len());
                let j = rng.below(tokens.len());
                match rng.below(3) {
                    0 => tokens.swap(i, j),
                    1 => {
                        tokens.remove(i);
                    }
                    _ => {
                        let t = tokens[i];
                        tokens.insert(j, t);
                    }
                }
                bytes = tokens.join(" ").into_bytes();
            }
            5 => {
                let at = rng.below(bytes.len() + 1);
                let word = rng.pick(&[
                    " SELECT ",
                    " FROM ",
                    " WHERE ",
                    " NULL ",
                    " ( ",
                    " ) ",
                    " , ",
                    " :: ",
                    " ORDER BY ",
                    " RETURNING * ",
                    " LIMIT ",
                    " AND ",
                    " 'x' ",
                    " $3 ",
                ]);
                bytes.splice(at..at, word.bytes());
            }
            _ => {
                let at = rng.below(bytes.len());
                let n = rng.below(bytes.len() - at + 1);
                let copy = bytes[at..at + n].to_vec();
                bytes.extend(copy);
            }
        }
    }
    bytes
}

#[test]
pub(crate) fn the_generator_is_deterministic() {
    let a: Vec<Vec<u8>> = {
        let mut rng = Rng::new(7);
        (0..50).map(|n| statement(&mut rng, n)).collect()
    };
    let b: Vec<Vec<u8>> = {
        let mut rng = Rng::new(7);
        (0..50).map(|n| statement(&mut rng, n)).collect()
    };
    assert_eq!(a, b);
}
