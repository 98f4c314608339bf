"""asyncpg against the server: named statements, Parse + Describe + Flush
(no Sync) waiting for ParameterDescription and RowDescription before Bind;
binary parameters and results; fetchrow/fetchval Execute with max_rows = 1
and expect PortalSuspended; executemany pipelines Bind/Execute; nested
transactions are SAVEPOINTs. Every expectation here is what PostgreSQL 15
does. Tests are plain functions that run a coroutine with asyncio.run."""

import asyncio
import functools
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import asyncpg
import asyncpg.exceptions as exc
import pytest

from conftest import ERROR_CASES, error_case, new_name, table_ddl

TS = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2)))


def run(coro_fn):
    """Runs an async test body with asyncio.run (no pytest plugin needed)."""

    @functools.wraps(coro_fn)
    def wrapper(*args, **kwargs):
        return asyncio.run(coro_fn(*args, **kwargs))

    return wrapper


async def connect(pg, **kw):
    params = dict(host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"])
    if "password" in pg:
        params["password"] = pg["password"]
    # a hung query fails its test (TimeoutError) instead of the whole run
    params["command_timeout"] = 30
    params.update(kw)
    return await asyncpg.connect(**params)


async def make_table(pg):
    name = new_name()
    c = await connect(pg)
    try:
        await c.execute(table_ddl(name))
    finally:
        await c.close()
    return name


async def with_json(c):
    await c.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


# --- connecting ----------------------------------------------------------------


@run
async def test_connect_server_version_and_settings(pg):
    c = await connect(pg)
    try:
        v = c.get_server_version()
        assert v.major == 15
        s = c.get_settings()
        assert s.client_encoding == "UTF8"
        assert s.DateStyle.startswith("ISO")
        assert s.standard_conforming_strings == "on"
        assert s.server_version.startswith("15.")
        assert await c.fetchval("SELECT 1") == 1
    finally:
        await c.close()


# --- parameterized CRUD ------------------------------------------------------------


@run
async def test_crud_with_binary_parameters(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        await with_json(c)
        row = await c.fetchrow(
            f"INSERT INTO {t} (id, name, qty, price, tags, doc, created, flag) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
            "RETURNING id, name, qty, price, tags, doc, created, flag",
            1, "widget", 3, Decimal("9.90"), ["a", "b c"], {"k": [1, 2]}, TS, True,
        )
        assert tuple(row) == (1, "widget", 3, Decimal("9.90"), ["a", "b c"], {"k": [1, 2]}, TS, True)
        assert str(row["price"]) == "9.90"
        assert row["created"].tzinfo is not None

        status = await c.execute(f"UPDATE {t} SET qty = qty + $1 WHERE id = $2", 2, 1)
        assert status == "UPDATE 1"
        assert await c.fetchval(f"SELECT qty FROM {t} WHERE id = $1", 1) == 5
        status = await c.execute(f"DELETE FROM {t} WHERE id = $1", 1)
        assert status == "DELETE 1"
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 0
    finally:
        await c.close()


@run
async def test_insert_status_and_fetch(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        assert await c.execute(f"INSERT INTO {t} (id, name) VALUES (1, 'a'), (2, 'b')") == "INSERT 0 2"
        rows = await c.fetch(f"SELECT id, name FROM {t} ORDER BY id")
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "b")]
        assert [dict(r) for r in rows] == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]
    finally:
        await c.close()


@run
async def test_fetchrow_and_fetchval_stop_after_one_row(pg):
    # Execute with max_rows = 1: the server answers PortalSuspended.
    t = await make_table(pg)
    c = await connect(pg)
    try:
        await c.executemany(f"INSERT INTO {t} (id, name) VALUES ($1, $2)",
                            [(i, f"n{i}") for i in range(10)])
        row = await c.fetchrow(f"SELECT id, name FROM {t} ORDER BY id")
        assert tuple(row) == (0, "n0")
        assert await c.fetchval(f"SELECT name FROM {t} ORDER BY id DESC") == "n9"
        assert await c.fetchval(f"SELECT name FROM {t} WHERE id = $1", 99) is None
        # the connection is in a clean state afterwards
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 10
    finally:
        await c.close()


@run
async def test_null_and_text_values(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        row = await c.fetchrow(
            f"INSERT INTO {t} (id, name, price, created, flag) VALUES ($1, $2, $3, $4, $5) "
            "RETURNING name, price, created, flag", 1, None, None, None, None)
        assert tuple(row) == (None, None, None, None)
        values = ["O'Reilly", "back\\slash", "ünïcödé ✓ 🐘", "", "line\nbreak"]
        for i, v in enumerate(values, start=2):
            await c.execute(f"INSERT INTO {t} (id, name) VALUES ($1, $2)", i, v)
        assert [r[0] for r in await c.fetch(f"SELECT name FROM {t} WHERE id >= 2 ORDER BY id")] == values
    finally:
        await c.close()


@run
async def test_various_binary_types(pg):
    c = await connect(pg)
    try:
        row = await c.fetchrow(
            "SELECT $1::date + 1 AS d, $2::bigint * 2 AS b, $3::smallint AS s, "
            "$4::float8 / 2 AS f, $5::bool AS t, $6::bytea AS y",
            date(2024, 2, 28), 2**40, 7, 3.0, False, b"\x00\xff")
        assert tuple(row) == (date(2024, 2, 29), 2**41, 7, 1.5, False, b"\x00\xff")
    finally:
        await c.close()


# --- prepared statements, Describe before Bind --------------------------------------


@run
async def test_prepared_statement_describes_parameters_and_columns(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        stmt = await c.prepare(
            f"SELECT id, name, price, created FROM {t} WHERE id = $1 AND name = $2 AND qty > $3")
        # ParameterDescription: types inferred from the columns compared with
        assert [p.name for p in stmt.get_parameters()] == ["int4", "text", "int4"]
        assert [(a.name, a.type.name) for a in stmt.get_attributes()] == [
            ("id", "int4"), ("name", "text"), ("price", "numeric"), ("created", "timestamptz")]
        assert await stmt.fetch(1, "x", 0) == []
    finally:
        await c.close()


@run
async def test_parameter_types_inferred_from_insert_targets(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        stmt = await c.prepare(
            f"INSERT INTO {t} (id, name, qty, price, flag, created) VALUES ($1, $2, $3, $4, $5, $6)")
        assert [p.name for p in stmt.get_parameters()] == [
            "int4", "text", "int4", "numeric", "bool", "timestamptz"]
        assert stmt.get_attributes() == ()
        await stmt.fetch(1, "a", 2, Decimal("1.25"), True, TS)
        stmt = await c.prepare(f"UPDATE {t} SET qty = $1 WHERE id = $2 RETURNING qty + 1")
        assert [p.name for p in stmt.get_parameters()] == ["int4", "int4"]
        assert await stmt.fetchval(5, 1) == 6
    finally:
        await c.close()


@run
async def test_prepared_statement_reused_many_times(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        ins = await c.prepare(f"INSERT INTO {t} (id, qty) VALUES ($1, $2)")
        for i in range(20):
            await ins.fetch(i, i * 2)
        sel = await c.prepare(f"SELECT qty FROM {t} WHERE id = $1")
        for i in range(20):
            assert await sel.fetchval(i) == i * 2
        assert await c.fetchval(f"SELECT sum(qty) FROM {t}") == 380
    finally:
        await c.close()


@run
async def test_statement_cache_and_pool_reset(pg):
    t = await make_table(pg)
    pool = await asyncpg.create_pool(
        host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"],
        password=pg.get("password"), min_size=1, max_size=2)
    try:
        for i in range(5):
            async with pool.acquire() as c:
                # release runs "SELECT pg_advisory_unlock_all(); CLOSE ALL;
                # UNLISTEN *; RESET ALL;" as one simple query
                await c.execute("SET application_name = 'dirty'")
                await c.execute(f"INSERT INTO {t} (id) VALUES ($1)", i)
        async with pool.acquire() as c:
            assert await c.fetchval("SHOW application_name") == ""
            assert await c.fetchval(f"SELECT count(*) FROM {t}") == 5
    finally:
        await pool.close()


# --- executemany ---------------------------------------------------------------------


@run
async def test_executemany_pipelined(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        rows = [(i, f"n{i}", Decimal(i) / 4) for i in range(200)]
        await c.executemany(f"INSERT INTO {t} (id, name, price) VALUES ($1, $2, $3)", rows)
        assert tuple(await c.fetchrow(f"SELECT count(*), sum(price) FROM {t}")) == (200, Decimal("4975.00"))
    finally:
        await c.close()


@run
async def test_executemany_error_inserts_nothing(pg):
    # executemany runs in one implicit transaction: an error undoes all rows
    t = await make_table(pg)
    c = await connect(pg)
    try:
        with pytest.raises(exc.UniqueViolationError):
            await c.executemany(f"INSERT INTO {t} (id) VALUES ($1)", [(1,), (2,), (2,), (3,)])
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 0
        await c.executemany(f"INSERT INTO {t} (id) VALUES ($1)", [(1,), (2,)])
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 2
    finally:
        await c.close()


# --- transactions, savepoints, cursors ------------------------------------------------


@run
async def test_transaction_commit_and_rollback(pg):
    t = await make_table(pg)
    c = await connect(pg)
    other = await connect(pg)
    try:
        async with c.transaction():
            await c.execute(f"INSERT INTO {t} (id) VALUES (1)")
            assert c.is_in_transaction()
            assert await other.fetchval(f"SELECT count(*) FROM {t}") == 0
        assert await other.fetchval(f"SELECT count(*) FROM {t}") == 1
        with pytest.raises(ZeroDivisionError):
            async with c.transaction():
                await c.execute(f"INSERT INTO {t} (id) VALUES (2)")
                1 / 0
        assert not c.is_in_transaction()
        assert [r[0] for r in await c.fetch(f"SELECT id FROM {t}")] == [1]
    finally:
        await c.close()
        await other.close()


@run
async def test_nested_transactions_are_savepoints(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        async with c.transaction():
            await c.execute(f"INSERT INTO {t} (id) VALUES (1)")
            with pytest.raises(exc.UniqueViolationError):
                async with c.transaction():
                    await c.execute(f"INSERT INTO {t} (id) VALUES (2)")
                    await c.execute(f"INSERT INTO {t} (id) VALUES (1)")
            async with c.transaction():
                await c.execute(f"INSERT INTO {t} (id) VALUES (3)")
        assert [r[0] for r in await c.fetch(f"SELECT id FROM {t} ORDER BY id")] == [1, 3]
    finally:
        await c.close()


@run
async def test_transaction_isolation_and_read_only(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        async with c.transaction(isolation="repeatable_read"):
            assert await c.fetchval("SHOW transaction_isolation") == "repeatable read"
        async with c.transaction(isolation="serializable"):
            assert await c.fetchval("SHOW transaction_isolation") == "serializable"
        with pytest.raises(exc.ReadOnlySQLTransactionError):
            async with c.transaction(readonly=True):
                await c.execute(f"INSERT INTO {t} (id) VALUES (1)")
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 0
    finally:
        await c.close()


@run
async def test_cursor_fetches_in_chunks(pg):
    # A cursor inside a transaction executes its portal with max_rows and
    # resumes it after each PortalSuspended.
    t = await make_table(pg)
    c = await connect(pg)
    try:
        await c.executemany(f"INSERT INTO {t} (id) VALUES ($1)", [(i,) for i in range(25)])
        async with c.transaction():
            got = [r["id"] async for r in c.cursor(f"SELECT id FROM {t} ORDER BY id", prefetch=10)]
        assert got == list(range(25))
        async with c.transaction():
            cur = await c.cursor(f"SELECT id FROM {t} WHERE id >= $1 ORDER BY id", 5)
            assert [r[0] for r in await cur.fetch(3)] == [5, 6, 7]
            assert (await cur.fetchrow())[0] == 8
            assert [r[0] for r in await cur.fetch(2)] == [9, 10]
    finally:
        await c.close()


@run
async def test_failed_transaction_is_25P02(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        tr = c.transaction()
        await tr.start()
        await c.execute(f"INSERT INTO {t} (id) VALUES (1)")
        with pytest.raises(exc.DivisionByZeroError):
            await c.execute("SELECT 1/0")
        with pytest.raises(exc.InFailedSQLTransactionError) as e:
            await c.fetchval("SELECT 1")
        assert e.value.sqlstate == "25P02"
        await tr.rollback()
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 0
    finally:
        await c.close()


@run
async def test_disconnect_mid_transaction_loses_only_that_transaction(pg):
    t = await make_table(pg)
    c = await connect(pg)
    await c.execute(f"INSERT INTO {t} (id) VALUES (1)")
    tr = c.transaction()
    await tr.start()
    await c.execute(f"INSERT INTO {t} (id) VALUES (2)")
    c.terminate()  # closes the socket without COMMIT
    c2 = await connect(pg)
    try:
        assert [r[0] for r in await c2.fetch(f"SELECT id FROM {t}")] == [1]
        await c2.execute(f"INSERT INTO {t} (id) VALUES (2)")
        assert await c2.fetchval(f"SELECT count(*) FROM {t}") == 2
    finally:
        await c2.close()


@run
async def test_concurrent_connections(pg):
    t = await make_table(pg)
    conns = [await connect(pg) for _ in range(4)]
    try:
        async def work(k, c):
            for i in range(10):
                await c.execute(f"INSERT INTO {t} (id, qty) VALUES ($1, $2)", k * 100 + i, k)
                await c.fetchval(f"SELECT count(*) FROM {t}")

        await asyncio.gather(*(work(k, c) for k, c in enumerate(conns)))
        rows = await conns[0].fetch(f"SELECT qty, count(*) FROM {t} GROUP BY qty ORDER BY qty")
        assert [tuple(r) for r in rows] == [(0, 10), (1, 10), (2, 10), (3, 10)]
    finally:
        for c in conns:
            await c.close()


@run
async def test_reads_do_not_wait_for_an_open_write_transaction(pg):
    t = await make_table(pg)
    writer = await connect(pg)
    reader = await connect(pg)
    try:
        tr = writer.transaction()
        await tr.start()
        await writer.execute(f"INSERT INTO {t} (id, qty) VALUES (1, 1)")
        assert await reader.fetchval(f"SELECT count(*) FROM {t}") == 0
        await tr.commit()
        assert await reader.fetchval(f"SELECT qty FROM {t}") == 1
    finally:
        await writer.close()
        await reader.close()


# --- errors --------------------------------------------------------------------------


@pytest.mark.parametrize("sqlstate, sql, message", ERROR_CASES)
@run
async def test_error_sqlstate_and_connection_survives(pg, sqlstate, sql, message):
    t = await make_table(pg)
    sql, message = error_case(sql, message, t)
    c = await connect(pg)
    try:
        await c.execute(f"INSERT INTO {t} (id, name) VALUES (1, 'first')")
        with pytest.raises(asyncpg.PostgresError) as e:
            await c.fetch(sql)
        assert e.value.sqlstate == sqlstate
        assert e.value.severity == "ERROR"
        assert [tuple(r) for r in await c.fetch(f"SELECT id, name, qty FROM {t}")] == [(1, "first", 0)]
        assert e.value.message == message
    finally:
        await c.close()


@pytest.mark.parametrize("sqlstate, sql, message", ERROR_CASES)
@run
async def test_error_via_simple_protocol(pg, sqlstate, sql, message):
    # execute() without arguments uses the simple query protocol
    t = await make_table(pg)
    sql, _ = error_case(sql, message, t)
    c = await connect(pg)
    try:
        await c.execute(f"INSERT INTO {t} (id, name) VALUES (1, 'first')")
        with pytest.raises(asyncpg.PostgresError) as e:
            await c.execute(sql)
        assert e.value.sqlstate == sqlstate
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 1
    finally:
        await c.close()


@run
async def test_error_classes(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        await c.execute(f"INSERT INTO {t} (id) VALUES (1)")
        with pytest.raises(exc.UniqueViolationError) as e:
            await c.execute(f"INSERT INTO {t} (id) VALUES ($1)", 1)
        assert e.value.constraint_name == f"{t}_pkey"
        assert e.value.table_name == t
        with pytest.raises(exc.NotNullViolationError) as e:
            await c.execute(f"INSERT INTO {t} (id, qty) VALUES ($1, $2)", 2, None)
        assert e.value.column_name == "qty"
        with pytest.raises(exc.CheckViolationError):
            await c.execute(f"INSERT INTO {t} (id, qty) VALUES ($1, $2)", 3, -1)
        with pytest.raises(exc.PostgresSyntaxError):
            await c.execute("SELEC $1", 1)
        with pytest.raises(exc.UndefinedTableError):
            await c.fetch(f"SELECT * FROM {new_name('missing')} WHERE id = $1", 1)
        with pytest.raises(exc.UndefinedColumnError):
            await c.fetch(f"SELECT nope FROM {t} WHERE id = $1", 1)
        with pytest.raises(exc.DivisionByZeroError):
            await c.fetchval("SELECT $1::int / 0", 1)
        with pytest.raises(exc.InvalidTextRepresentationError):
            await c.fetchval("SELECT $1::text::int", "abc")
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 1
    finally:
        await c.close()


@run
async def test_foreign_key_is_enforced_or_refused(pg):
    # PostgreSQL enforces a FOREIGN KEY (23503); patina refuses it at CREATE
    # TABLE with 0A000. Accepting it without enforcing it would be wrong.
    parent, child = new_name("parent"), new_name("child")
    c = await connect(pg)
    try:
        await c.execute(f"CREATE TABLE {parent} (id integer PRIMARY KEY)")
        try:
            await c.execute(
                f"CREATE TABLE {child} (id integer PRIMARY KEY, p integer REFERENCES {parent} (id))")
        except asyncpg.PostgresError as e:
            assert e.sqlstate == "0A000", e
            assert "FOREIGN KEY" in e.message
            assert await c.fetchval("SELECT 1") == 1
            return
        await c.execute(f"INSERT INTO {parent} (id) VALUES (1)")
        await c.execute(f"INSERT INTO {child} (id, p) VALUES ($1, $2)", 1, 1)
        with pytest.raises(exc.ForeignKeyViolationError) as e:
            await c.execute(f"INSERT INTO {child} (id, p) VALUES ($1, $2)", 2, 2)
        assert e.value.sqlstate == "23503"
    finally:
        await c.close()


# --- simple protocol multi-statement and session statements --------------------------


@run
async def test_multi_statement_execute_is_one_implicit_transaction(pg):
    t = await make_table(pg)
    c = await connect(pg)
    try:
        with pytest.raises(exc.UniqueViolationError):
            await c.execute(f"INSERT INTO {t} (id) VALUES (1); INSERT INTO {t} (id) VALUES (1); "
                            f"INSERT INTO {t} (id) VALUES (2)")
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 0
        await c.execute(f"INSERT INTO {t} (id) VALUES (1); INSERT INTO {t} (id) VALUES (2)")
        assert await c.fetchval(f"SELECT count(*) FROM {t}") == 2
    finally:
        await c.close()


@run
async def test_session_statements(pg):
    # DISCARD ALL and DEALLOCATE ALL drop asyncpg's cached named statements
    # on the server (as on PostgreSQL): run without the statement cache.
    c = await connect(pg, statement_cache_size=0)
    try:
        await c.execute("SET application_name = 'apg'")
        assert await c.fetchval("SHOW application_name") == "apg"
        await c.execute("RESET ALL")
        assert await c.fetchval("SHOW application_name") == ""
        await c.execute("SET application_name = 'apg'")
        await c.execute("DISCARD ALL")
        assert await c.fetchval("SHOW application_name") == ""
        await c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert await c.fetchval("SHOW transaction_isolation") == "repeatable read"
        await c.execute("COMMIT")
        await c.execute("DEALLOCATE ALL")
        assert await c.fetchval("SELECT $1::int + 1", 1) == 2
    finally:
        await c.close()
