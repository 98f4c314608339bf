"""COPY through the Python drivers: psycopg2's copy_expert (both ways),
psycopg 3's cursor.copy (rows written and read, text, CSV and binary), and
asyncpg's copy_records_to_table (binary COPY FROM), copy_to_table and
copy_from_table. A bad value fails the whole COPY with the value's
SQLSTATE and keeps nothing. Every expectation here is what PostgreSQL 15
does."""

import asyncio
import io
from datetime import datetime
from decimal import Decimal

import asyncpg
import psycopg
import psycopg2
import psycopg2.extensions
import pytest

from conftest import new_name

DDL = """CREATE TABLE {t} (
    id integer PRIMARY KEY,
    name text,
    price numeric(10,2),
    at timestamp,
    ok boolean,
    tags text[]
)"""

TEXT = (
    "1\tplain\t1.50\t2024-01-02 03:04:05\tt\t{a,b}\n"
    "2\ttab\\there\\nnewline \\\\ back\t\\N\t\\N\tf\t{}\n"
    "3\tünïcødé\t-2.00\t2000-01-01 00:00:00\t\\N\t\\N\n"
)


@pytest.fixture
def blocking_psycopg2():
    """psycopg2's COPY needs the blocking protocol: no wait callback (other
    suites install one for cancellation)."""
    saved = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    yield
    psycopg2.extensions.set_wait_callback(saved)


def rows(cur, t):
    cur.execute(f"SELECT id, name, price, at, ok, tags FROM {t} ORDER BY id")
    return cur.fetchall()


EXPECTED = [
    (1, "plain", Decimal("1.50"), datetime(2024, 1, 2, 3, 4, 5), True, ["a", "b"]),
    (2, "tab\there\nnewline \\ back", None, None, False, []),
    (3, "ünïcødé", Decimal("-2.00"), datetime(2000, 1, 1), None, None),
]


def test_psycopg2_copy_expert_both_ways(dsn, blocking_psycopg2):
    t = new_name()
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(DDL.format(t=t))
        cur.copy_expert(f"COPY {t} FROM STDIN", io.StringIO(TEXT))
        assert cur.rowcount == 3
        assert rows(cur, t) == EXPECTED
        out = io.StringIO()
        cur.copy_expert(f"COPY {t} TO STDOUT", out)
        assert out.getvalue() == TEXT
        out = io.StringIO()
        cur.copy_expert(f"COPY (SELECT id, name FROM {t} ORDER BY id) TO STDOUT WITH CSV HEADER", out)
        assert out.getvalue() == 'id,name\n1,plain\n2,"tab\there\nnewline \\ back"\n3,ünïcødé\n'


def test_psycopg2_bad_value_keeps_nothing(dsn, blocking_psycopg2):
    t = new_name()
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(DDL.format(t=t))
        with pytest.raises(psycopg2.errors.InvalidTextRepresentation) as info:
            cur.copy_expert(f"COPY {t} (id, name) FROM STDIN", io.StringIO("1\ta\nx\tb\n"))
        assert info.value.diag.context.startswith(f"COPY {t}, line 2, column id")
        with pytest.raises(psycopg2.errors.BadCopyFileFormat) as info:
            cur.copy_expert(f"COPY {t} (id, name) FROM STDIN", io.StringIO("1\ta\n2\n"))
        assert info.value.diag.message_primary == 'missing data for column "name"'
        cur.execute(f"SELECT count(*) FROM {t}")
        assert cur.fetchone() == (0,)
    conn.close()


def test_psycopg3_copy_rows_text_csv_and_binary(dsn):
    t = new_name()
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(DDL.format(t=t))
        with cur.copy(f"COPY {t} (id, name, price, ok) FROM STDIN") as copy:
            copy.write_row((1, "one\ttab", Decimal("1.25"), True))
            copy.write_row((2, None, None, False))
        with cur.copy(f"COPY {t} (id, name) FROM STDIN (FORMAT csv)") as copy:
            copy.write('3,"three, quoted ""x"""\n4,\n')
        with cur.copy(f"COPY {t} (id, name, ok) FROM STDIN (FORMAT binary)") as copy:
            copy.set_types(["int4", "text", "bool"])
            copy.write_row((5, "binary ✓", None))
        cur.execute(f"SELECT id, name, price, ok FROM {t} ORDER BY id")
        assert cur.fetchall() == [
            (1, "one\ttab", Decimal("1.25"), True),
            (2, None, None, False),
            (3, 'three, quoted "x"', None, None),
            (4, None, None, None),
            (5, "binary ✓", None, None),
        ]
        with cur.copy(f"COPY (SELECT id, name FROM {t} ORDER BY id) TO STDOUT") as copy:
            read = [tuple(r) for r in copy.rows()]
        assert read == [
            ("1", "one\ttab"),
            ("2", None),
            ("3", 'three, quoted "x"'),
            ("4", None),
            ("5", "binary ✓"),
        ]
        with cur.copy(f"COPY {t} (id, name) TO STDOUT (FORMAT csv)") as copy:
            data = b"".join(bytes(chunk) for chunk in copy)
        assert data.decode().splitlines()[:2] == ["1,one\ttab", "2,"]


def test_psycopg3_copy_in_a_transaction_rolls_back(dsn):
    t = new_name()
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute(DDL.format(t=t))
        conn.commit()
        with conn.cursor() as cur:
            with cur.copy(f"COPY {t} (id) FROM STDIN") as copy:
                copy.write_row((1,))
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {t}")
            assert cur.fetchone() == (0,)


def run(coro):
    return asyncio.run(coro)


async def asyncpg_copies(pg):
    params = dict(host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"])
    if "password" in pg:
        params["password"] = pg["password"]
    conn = await asyncpg.connect(command_timeout=30, **params)
    t = new_name()
    try:
        await conn.execute(DDL.format(t=t))
        status = await conn.copy_records_to_table(
            t,
            records=[
                (1, "one", Decimal("1.50"), datetime(2024, 1, 2, 3, 4, 5), True, ["a", None]),
                (2, None, None, None, None, None),
            ],
        )
        assert status == "COPY 2"
        status = await conn.copy_to_table(
            t, source=io.BytesIO(b"3,three,9.99\n"), columns=["id", "name", "price"], format="csv"
        )
        assert status == "COPY 1"
        out = io.BytesIO()
        status = await conn.copy_from_table(t, output=out, format="csv", header=True)
        assert status == "COPY 3"
        assert out.getvalue().decode() == (
            "id,name,price,at,ok,tags\n"
            '1,one,1.50,2024-01-02 03:04:05,t,"{a,NULL}"\n'
            "2,,,,,\n"
            "3,three,9.99,,,\n"
        )
        with pytest.raises(asyncpg.exceptions.InvalidTextRepresentationError):
            await conn.copy_to_table(t, source=io.BytesIO(b"4\tx\nbad\ty\n"), columns=["id", "name"])
        assert await conn.fetchval(f"SELECT count(*) FROM {t}") == 3
    finally:
        await conn.close()


def test_asyncpg_copy_records_and_tables(pg):
    run(asyncpg_copies(pg))
