"""The catalog lookups drivers and toolkits make, against the server:
asyncpg's type lookup by name (set_type_codec), SQLAlchemy's version
check, default schema, has_table, table listing and column reflection,
and regclass / regtype
conversions as psycopg2 reads them. Every expectation here is what
PostgreSQL 15 does. Each test makes its own uniquely named tables."""

import asyncio
import json

import asyncpg
import psycopg2
import pytest
from sqlalchemy import create_engine, inspect, text

from conftest import new_name


@pytest.fixture
def table(pg):
    """A fresh table with a serial key, a NOT NULL column and an index
    (left behind: patina refuses to drop a replicated table)."""
    name = new_name()
    c = psycopg2.connect(**pg)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute(
            f"CREATE TABLE {name} (id serial PRIMARY KEY, label varchar(20) NOT NULL DEFAULT '', "
            "score numeric(8,3), tags text[])"
        )
        cur.execute(f"CREATE INDEX {name}_label ON {name} (label)")
    c.close()
    return name


@pytest.fixture
def engine(pg):
    url = "postgresql+psycopg2://{user}@{host}:{port}/{dbname}".format(**pg)
    args = {"password": pg["password"]} if "password" in pg else {}
    e = create_engine(url, connect_args=args)
    yield e
    e.dispose()


def test_sqlalchemy_reads_version_and_schema(engine):
    with engine.connect() as c:
        assert engine.dialect.server_version_info[0] == 15
        assert engine.dialect.default_schema_name == "public"
        assert c.execute(text("select current_schema()")).scalar() == "public"


def test_sqlalchemy_has_table_and_lists_tables(engine, table):
    inspector = inspect(engine)
    assert inspector.has_table(table)
    assert not inspector.has_table(new_name())
    assert table in inspector.get_table_names()
    # patina's bookkeeping never shows
    assert not [t for t in inspector.get_table_names() if t.startswith(("__", "sqlite"))]


def test_sqlalchemy_reflects_columns(engine, table):
    columns = inspect(engine).get_columns(table)
    assert [
        (c["name"], str(c["type"]), c["nullable"], c["default"], c["autoincrement"])
        for c in columns
    ] == [
        ("id", "INTEGER", False, f"nextval('{table}_id_seq'::regclass)", True),
        ("label", "VARCHAR(20)", False, "''::character varying", False),
        ("score", "NUMERIC(8, 3)", True, None, False),
        ("tags", "ARRAY", True, None, False),
    ]


def test_sqlalchemy_reflects_keys(engine, pg):
    """get_pk_constraint and get_unique_constraints list a constraint's
    columns with unnest(indkey) and generate_subscripts(indkey, 1) side by
    side in a select list (set-returning functions in lockstep)."""
    name = new_name()
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE {name} (b text, a int, note text, PRIMARY KEY (a, b))"))
    inspector = inspect(engine)
    pk = inspector.get_pk_constraint(name)
    assert (pk["name"], pk["constrained_columns"]) == (f"{name}_pkey", ["a", "b"])
    assert inspector.get_unique_constraints(name) == []


def test_sqlalchemy_reflects_indexes_and_autoloads(engine):
    """get_indexes reads pg_index.indkey / indoption (int2vector: text
    "1 2", subscripts from 0) with unnest and generate_subscripts, and
    Table(..., autoload_with=engine) builds the table with its indexes."""
    from sqlalchemy import MetaData, Table

    name = new_name()
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE {name} (id int PRIMARY KEY, label text NOT NULL DEFAULT '', "
                       "qty int NOT NULL DEFAULT 0)"))
        c.execute(text(f"CREATE INDEX {name}_qty_label ON {name} (qty, label)"))
        c.execute(text(f"CREATE INDEX {name}_label_desc ON {name} (label DESC)"))
    indexes = sorted(inspect(engine).get_indexes(name), key=lambda i: i["name"])
    assert [(i["name"], i["column_names"], i["unique"], i.get("column_sorting")) for i in indexes] == [
        (f"{name}_label_desc", ["label"], False, {"label": ("desc",)}),
        (f"{name}_qty_label", ["qty", "label"], False, None),
    ]
    table = Table(name, MetaData(), autoload_with=engine)
    assert [c.name for c in table.columns] == ["id", "label", "qty"]
    assert [c.name for c in table.primary_key.columns] == ["id"]
    assert sorted((i.name, [c.name for c in i.columns]) for i in table.indexes) == [
        (f"{name}_label_desc", ["label"]),
        (f"{name}_qty_label", ["qty", "label"]),
    ]


def test_regclass_and_regtype_conversions(pg, table):
    with psycopg2.connect(**pg) as c, c.cursor() as cur:
        cur.execute(f"SELECT '{table}'::regclass, '{table}'::regclass::oid = "
                    f"(SELECT oid FROM pg_class WHERE relname = '{table}')")
        assert cur.fetchone() == (table, True)
        cur.execute("SELECT 1007::oid::regtype::text, to_regtype('integer')::oid, "
                    "format_type(1043, 24)")
        assert cur.fetchone() == ("integer[]", 23, "character varying(20)")
        cur.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull "
            f"FROM pg_attribute a WHERE a.attrelid = '{table}'::regclass AND a.attnum > 0 "
            "ORDER BY a.attnum"
        )
        assert cur.fetchall() == [
            ("id", "integer", True),
            ("label", "character varying(20)", True),
            ("score", "numeric(8,3)", False),
            ("tags", "text[]", False),
        ]


def test_unknown_relation_is_42p01(pg):
    with psycopg2.connect(**pg) as c, c.cursor() as cur:
        with pytest.raises(psycopg2.errors.UndefinedTable):
            cur.execute(f"SELECT '{new_name()}'::regclass")


def test_information_schema_lists_columns(pg, table):
    with psycopg2.connect(**pg) as c, c.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type, is_nullable, character_maximum_length, "
            "numeric_precision, numeric_scale FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
            (table,),
        )
        assert cur.fetchall() == [
            ("id", "integer", "NO", None, 32, 0),
            ("label", "character varying", "NO", 20, None, None),
            ("score", "numeric", "YES", None, 8, 3),
            ("tags", "ARRAY", "YES", None, None, None),
        ]


def test_asyncpg_looks_types_up_by_name(pg):
    async def body():
        params = dict(host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"])
        if "password" in pg:
            params["password"] = pg["password"]
        conn = await asyncpg.connect(command_timeout=30, **params)
        try:
            await conn.set_type_codec(
                "jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
            )
            assert await conn.fetchval("SELECT '{\"a\": [1, 2]}'::jsonb") == {"a": [1, 2]}
            assert await conn.fetchval("SELECT $1::jsonb ->> 'k'", {"k": "v"}) == "v"
            with pytest.raises(ValueError):
                await conn.set_type_codec(
                    "no_such_type", encoder=str, decoder=str, schema="pg_catalog"
                )
        finally:
            await conn.close()

    asyncio.run(body())


def test_sqlalchemy_create_all_insert_returning_and_has_table(engine):
    """The ORM toolkit's table lifecycle: create_all checks has_table and
    emits CREATE TABLE; insert().returning() reads the assigned key back.
    drop_all is the one step that differs: patina refuses to drop a
    replicated table (0A000), so the table is left behind."""
    from sqlalchemy import Column, Integer, MetaData, Numeric, String, Table, insert, select
    from sqlalchemy.exc import NotSupportedError

    metadata = MetaData()
    name = new_name()
    items = Table(
        name,
        metadata,
        Column("id", Integer, primary_key=True),
        Column("label", String(20)),
        Column("price", Numeric(10, 2)),
    )
    metadata.create_all(engine)
    assert inspect(engine).has_table(name)
    metadata.create_all(engine)  # again: has_table says it exists, nothing is emitted
    with engine.begin() as c:
        first = c.execute(insert(items).values(label="a", price=1.5).returning(items.c.id)).scalar()
        second = c.execute(insert(items).values(label="b").returning(items.c.id, items.c.label)).one()
    assert (first, tuple(second)) == (1, (2, "b"))
    with engine.connect() as c:
        rows = c.execute(select(items.c.label, items.c.price).order_by(items.c.id)).all()
    assert [tuple(r) for r in rows] == [("a", 1.5), ("b", None)]
    if "patina" in _version(engine):
        with pytest.raises(NotSupportedError):
            metadata.drop_all(engine)
    else:
        metadata.drop_all(engine)
        assert not inspect(engine).has_table(name)


def _version(engine):
    with engine.connect() as c:
        return c.execute(text("select version()")).scalar()
