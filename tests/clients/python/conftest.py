"""Shared fixtures of the real-client compatibility suites.

The server under test is given by the libpq environment variables:
PGHOST (default 127.0.0.1), PGPORT (default 5433, patina's default),
PGUSER (default postgres), PGDATABASE (default postgres) and, if set,
PGPASSWORD. Every test makes its own uniquely named tables, so the suites
can run again and again against one long-lived server.

The notification tests write on another node of the same cluster, at
PATINA_WRITER_PORT (same host and user; `tests/clients/run` starts it), so
what they hear arrives by replication; without it they write on PGPORT.
"""

import os
import time
import uuid

import psycopg
import pytest


def conn_params():
    params = {
        "host": os.environ.get("PGHOST") or "127.0.0.1",
        "port": int(os.environ.get("PGPORT") or "5433"),
        "user": os.environ.get("PGUSER") or "postgres",
        "dbname": os.environ.get("PGDATABASE") or "postgres",
    }
    if os.environ.get("PGPASSWORD"):
        params["password"] = os.environ["PGPASSWORD"]
    return params


@pytest.fixture(scope="session")
def pg():
    """Connection parameters: host, port, user, dbname (and password)."""
    return conn_params()


@pytest.fixture(scope="session")
def dsn(pg):
    """The same parameters as a libpq conninfo string."""
    return " ".join(f"{k}={v}" for k, v in pg.items())


@pytest.fixture(scope="session")
def writer_pg(pg):
    """Connection parameters of the writer's node (PATINA_WRITER_PORT)."""
    return {**pg, "port": int(os.environ.get("PATINA_WRITER_PORT") or pg["port"])}


@pytest.fixture(scope="session")
def writer_dsn(writer_pg):
    """The writer's node as a libpq conninfo string."""
    return " ".join(f"{k}={v}" for k, v in writer_pg.items())


# How long replication may take to bring a table (or rows) to the writer.
REPLICATION_TIMEOUT = 30


def wait_for_rows(dsn, table, count):
    """Polls until `table` exists at `dsn` holding `count` rows: a table made
    on one node reaches the writer's node by replication. Bounded."""
    deadline = time.monotonic() + REPLICATION_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                last = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if last == count:
                return
        except psycopg.errors.UndefinedTable as e:
            last = e
        time.sleep(0.05)
    raise AssertionError(f"{table} at {dsn}: expected {count} rows, last saw {last!r}")


def new_name(prefix="t"):
    """A table (or other object) name no other test uses."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


# The table most tests use. patina's rules: a primary key on every table,
# NOT NULL columns outside the key need a DEFAULT, no UNIQUE outside the key,
# no FOREIGN KEY.
TABLE_DDL = """CREATE TABLE {t} (
    id integer PRIMARY KEY,
    name text,
    qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0),
    price numeric(10,2),
    tags text[],
    doc jsonb,
    created timestamptz DEFAULT now(),
    flag boolean
)"""


def table_ddl(name):
    return TABLE_DDL.format(t=name)


# Statements and the error PostgreSQL 15 answers, run against a table {t}
# (made with TABLE_DDL) that holds the row id = 1. {u} is a fresh name.
# (sqlstate, sql, primary message)
ERROR_CASES = [
    pytest.param(
        "23505",
        "INSERT INTO {t} (id, name) VALUES (1, 'again')",
        'duplicate key value violates unique constraint "{t}_pkey"',
        id="23505-duplicate-primary-key",
    ),
    pytest.param(
        "23502",
        "INSERT INTO {t} (id, qty) VALUES (2, NULL)",
        'null value in column "qty" of relation "{t}" violates not-null constraint',
        id="23502-null-into-not-null-column",
    ),
    pytest.param(
        "23502",
        "INSERT INTO {t} (id, name) VALUES (NULL, 'no key')",
        'null value in column "id" of relation "{t}" violates not-null constraint',
        id="23502-null-primary-key",
    ),
    pytest.param(
        "23514",
        "INSERT INTO {t} (id, qty) VALUES (3, -1)",
        'new row for relation "{t}" violates check constraint "{t}_qty_check"',
        id="23514-check-on-insert",
    ),
    pytest.param(
        "23514",
        "UPDATE {t} SET qty = -5 WHERE id = 1",
        'new row for relation "{t}" violates check constraint "{t}_qty_check"',
        id="23514-check-on-update",
    ),
    pytest.param(
        "42601",
        "SELEC 1",
        'syntax error at or near "SELEC"',
        id="42601-syntax-error",
    ),
    pytest.param(
        "42P01",
        "SELECT * FROM {u}",
        'relation "{u}" does not exist',
        id="42P01-undefined-table",
    ),
    pytest.param(
        "42703",
        "SELECT no_such_column FROM {t}",
        'column "no_such_column" does not exist',
        id="42703-undefined-column",
    ),
    pytest.param(
        "22012",
        "SELECT 1/0",
        "division by zero",
        id="22012-division-by-zero",
    ),
    pytest.param(
        "22P02",
        "SELECT 'abc'::int",
        'invalid input syntax for type integer: "abc"',
        id="22P02-invalid-text-representation",
    ),
    pytest.param(
        "0A000",
        "SELECT * FROM other_db.public.{t}",
        'cross-database references are not implemented: "other_db.public.{t}"',
        id="0A000-cross-database-reference",
    ),
    pytest.param(
        "0A000",
        "SELECT count(*) FROM {t} FOR UPDATE",
        "FOR UPDATE is not allowed with aggregate functions",
        id="0A000-for-update-with-aggregate",
    ),
]


def error_case(sql, message, table):
    """Fills the {t}/{u} placeholders of an ERROR_CASES entry."""
    u = new_name("missing")
    return sql.format(t=table, u=u), message.format(t=table, u=u)
