"""psycopg 3 against the server: extended query protocol with unnamed
statements, parameters sent as binary ints (with their OIDs) and text
strings (OID 0); named prepared statements `_pg3_N` after prepare_threshold
executions; executemany and pipeline mode send many Bind/Execute before one
Sync; nested transactions are SAVEPOINTs. Every expectation here is what
PostgreSQL 15 does."""

import threading
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import psycopg.errors
import pytest
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb

from conftest import ERROR_CASES, error_case, new_name, table_ddl

TS = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2)))


def connect(pg, **kw):
    return psycopg.connect(**pg, **kw)


@pytest.fixture
def conn(pg):
    c = connect(pg)
    yield c
    c.close()


@pytest.fixture
def aconn(pg):
    """An autocommit connection."""
    c = connect(pg, autocommit=True)
    yield c
    c.close()


@pytest.fixture
def table(pg):
    """A fresh table (TABLE_DDL). Never dropped: names are unique."""
    name = new_name()
    with connect(pg, autocommit=True) as c:
        c.execute(table_ddl(name))
    return name


def count(c, table):
    return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def ids(c, table):
    return [r[0] for r in c.execute(f"SELECT id FROM {table} ORDER BY id")]


# --- connecting ----------------------------------------------------------------


def test_connect_and_parameter_status(conn):
    info = conn.info
    assert 150000 <= info.server_version < 160000
    assert info.parameter_status("server_version").startswith("15.")
    assert info.parameter_status("client_encoding") == "UTF8"
    assert info.parameter_status("DateStyle").startswith("ISO")
    assert info.parameter_status("standard_conforming_strings") == "on"
    assert info.transaction_status == TransactionStatus.IDLE
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_show_server_version(aconn):
    assert aconn.execute("SHOW server_version").fetchone()[0].startswith("15.")
    assert aconn.execute("SHOW client_encoding").fetchone()[0] == "UTF8"
    assert aconn.execute("SHOW standard_conforming_strings").fetchone()[0] == "on"


# --- parameterized CRUD, binary and text --------------------------------------------


@pytest.mark.parametrize("binary", [False, True], ids=["text-results", "binary-results"])
def test_crud_round_trip(aconn, table, binary):
    with aconn.cursor(binary=binary) as cur:
        cur.execute(
            f"INSERT INTO {table} (id, name, qty, price, tags, doc, created, flag) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id, name, qty, price, tags, doc, created, flag",
            (1, "widget", 3, Decimal("9.90"), ["a", "b c"], Jsonb({"k": [1, 2]}), TS, True),
        )
        row = cur.fetchone()
        assert row == (1, "widget", 3, Decimal("9.90"), ["a", "b c"], {"k": [1, 2]}, TS, True)
        assert str(row[3]) == "9.90"
        assert cur.rowcount == 1
        assert cur.statusmessage == "INSERT 0 1"

        cur.execute(f"UPDATE {table} SET name = %s, qty = qty + %s WHERE id = %s", ("gadget", 2, 1))
        assert (cur.rowcount, cur.statusmessage) == (1, "UPDATE 1")
        cur.execute(f"SELECT name, qty FROM {table} WHERE id = %s", (1,))
        assert cur.fetchall() == [("gadget", 5)]
        cur.execute(f"DELETE FROM {table} WHERE id = %s", (1,))
        assert (cur.rowcount, cur.statusmessage) == (1, "DELETE 1")
        cur.execute(f"SELECT count(*) FROM {table}")
        assert cur.fetchone() == (0,)


def test_binary_parameters_with_explicit_format(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, name, price, flag) VALUES (%b, %b, %b, %b)",
            (7, "bin", Decimal("12.34"), False),
        )
        cur.execute(f"SELECT id, name, price, flag FROM {table} WHERE id = %t", (7,))
        assert cur.fetchone() == (7, "bin", Decimal("12.34"), False)


def test_result_types_are_described(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id, name) VALUES (%s, %s)", (1, "x"))
        cur.execute(f"SELECT id, name, qty, price, tags, doc, created, flag, id::bigint AS n FROM {table}")
        names = [d.name for d in cur.description]
        oids = [d.type_code for d in cur.description]
    assert names == ["id", "name", "qty", "price", "tags", "doc", "created", "flag", "n"]
    # int4, text, int4, numeric, text[], jsonb, timestamptz, bool, int8
    assert oids == [23, 25, 23, 1700, 1009, 3802, 1184, 16, 20]


def test_parameter_types_are_inferred_by_the_server(aconn, table):
    # Untyped (OID 0) text parameters: the server infers them from context.
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1), (2), (3)")
        cur.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", ("1",))
        assert cur.fetchall() == [(2,), (3,)]
        cur.execute(f"UPDATE {table} SET price = %s WHERE id = %s", ("2.50", "2"))
        cur.execute(f"SELECT price FROM {table} WHERE id = 2")
        assert cur.fetchone() == (Decimal("2.50"),)


def test_count_is_int8_and_sum_is_numeric(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id, qty, price) VALUES (1, 2, 1.5), (2, 3, 2.25)")
        cur.execute(f"SELECT count(*), sum(qty), sum(price), avg(qty) FROM {table}")
        assert cur.fetchone() == (2, 5, Decimal("3.75"), Decimal("2.5000000000000000"))
        assert [d.type_code for d in cur.description] == [20, 20, 1700, 1700]


def test_null_and_special_values(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, name, price, created) VALUES (%s, %s, %s, %s) "
            "RETURNING name, price, created",
            (1, None, None, None),
        )
        assert cur.fetchone() == (None, None, None)
        values = ["O'Reilly", "back\\slash", "ünïcödé ✓ 🐘", "", "line\nbreak"]
        for i, v in enumerate(values, start=2):
            cur.execute(f"INSERT INTO {table} (id, name) VALUES (%s, %s)", (i, v))
        cur.execute(f"SELECT name FROM {table} WHERE id >= 2 ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == values


def test_date_and_bigint_parameters(aconn):
    row = aconn.execute(
        "SELECT %s::date + 1, %s::bigint * 2, %s::smallint, %s::float8 / 2",
        (date(2024, 2, 28), 2**40, 7, 3.0),
    ).fetchone()
    assert row == (date(2024, 2, 29), 2**41, 7, 1.5)


# --- prepared and auto-prepared statements -------------------------------------------


def test_auto_prepare_after_threshold(pg, table):
    with connect(pg, autocommit=True, prepare_threshold=2) as c:
        for i in range(6):
            c.execute(f"INSERT INTO {table} (id, name) VALUES (%s, %s)", (i, f"n{i}"))
        for i in range(6):
            assert c.execute(f"SELECT name FROM {table} WHERE id = %s", (i,)).fetchone() == (f"n{i}",)
        assert count(c, table) == 6


def test_prepare_true_uses_a_named_statement(pg, table):
    with connect(pg, autocommit=True) as c:
        for i in range(3):
            c.execute(f"INSERT INTO {table} (id, qty) VALUES (%s, %s)", (i, i * 10), prepare=True)
        rows = c.execute(f"SELECT id, qty FROM {table} WHERE qty >= %s ORDER BY id", (10,),
                         prepare=True).fetchall()
        assert rows == [(1, 10), (2, 20)]
        # the same statement again, now from the prepared cache
        rows = c.execute(f"SELECT id, qty FROM {table} WHERE qty >= %s ORDER BY id", (20,),
                         prepare=True).fetchall()
        assert rows == [(2, 20)]


def test_deallocate_all_drops_prepared_statements(pg, table):
    with connect(pg, autocommit=True) as c:
        c.execute(f"INSERT INTO {table} (id) VALUES (1)")
        c.execute("PREPARE by_id (int) AS SELECT id FROM " + table + " WHERE id = $1")
        assert c.execute("EXECUTE by_id (1)").fetchall() == [(1,)]
        c.execute("DEALLOCATE ALL")
        with pytest.raises(psycopg.errors.InvalidSqlStatementName):
            c.execute("EXECUTE by_id (1)")
        assert c.execute("SELECT 1").fetchone() == (1,)


def test_prepared_statement_survives_an_error(pg, table):
    with connect(pg, autocommit=True, prepare_threshold=0) as c:
        q = f"INSERT INTO {table} (id) VALUES (%s)"
        c.execute(q, (1,))
        with pytest.raises(psycopg.errors.UniqueViolation):
            c.execute(q, (1,))
        c.execute(q, (2,))
        assert ids(c, table) == [1, 2]


# --- executemany and pipelines -------------------------------------------------------


def test_executemany_is_pipelined(aconn, table):
    rows = [(i, f"n{i}", Decimal(i) / 4) for i in range(100)]
    with aconn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} (id, name, price) VALUES (%s, %s, %s)", rows)
        assert cur.rowcount == 100
    assert aconn.execute(f"SELECT count(*), sum(price) FROM {table}").fetchone() == (
        100, Decimal("1237.50"))


def test_executemany_returning(aconn, table):
    with aconn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {table} (id, qty) VALUES (%s, %s) RETURNING id * 10",
            [(1, 1), (2, 2), (3, 3)], returning=True,
        )
        got = []
        while True:
            got.append(cur.fetchone()[0])
            if not cur.nextset():
                break
    assert got == [10, 20, 30]


def test_executemany_error_in_transaction_rolls_everything_back(conn, table):
    with pytest.raises(psycopg.errors.UniqueViolation):
        with conn.transaction():
            conn.cursor().executemany(
                f"INSERT INTO {table} (id) VALUES (%s)", [(1,), (2,), (2,), (3,)])
    assert conn.info.transaction_status in (TransactionStatus.IDLE, TransactionStatus.INTRANS)
    conn.rollback()
    assert count(conn, table) == 0


def test_pipeline_mode(aconn, table):
    with aconn.pipeline():
        for i in range(20):
            aconn.execute(f"INSERT INTO {table} (id, qty) VALUES (%s, %s)", (i, i))
        cur = aconn.execute(f"SELECT sum(qty) FROM {table}")
    assert cur.fetchone() == (190,)


def test_pipeline_error_then_connection_works(aconn, table):
    with pytest.raises(psycopg.errors.UniqueViolation):
        with aconn.pipeline():
            aconn.execute(f"INSERT INTO {table} (id) VALUES (1)")
            aconn.execute(f"INSERT INTO {table} (id) VALUES (1)")
            aconn.execute(f"INSERT INTO {table} (id) VALUES (2)")
    # Everything up to one Sync is one implicit transaction: the error rolls
    # back the first insert too, and the statement after it is skipped.
    assert ids(aconn, table) == []
    assert aconn.execute("SELECT 2").fetchone() == (2,)


# --- transactions and savepoints ------------------------------------------------------


def test_commit_and_rollback(pg, conn, table):
    conn.execute(f"INSERT INTO {table} (id) VALUES (1)")
    assert conn.info.transaction_status == TransactionStatus.INTRANS
    with connect(pg, autocommit=True) as other:
        assert count(other, table) == 0
        conn.commit()
        assert count(other, table) == 1
    conn.execute(f"INSERT INTO {table} (id) VALUES (2)")
    conn.rollback()
    assert ids(conn, table) == [1]


def test_nested_transactions_use_savepoints(aconn, table):
    with aconn.transaction():
        aconn.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            with aconn.transaction():
                aconn.execute(f"INSERT INTO {table} (id) VALUES (2)")
                aconn.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with aconn.transaction():
            aconn.execute(f"INSERT INTO {table} (id) VALUES (3)")
            with aconn.transaction():
                aconn.execute(f"INSERT INTO {table} (id) VALUES (4)")
    assert ids(aconn, table) == [1, 3, 4]


def test_rollback_exception_undoes_a_transaction_block(aconn, table):
    with aconn.transaction():
        aconn.execute(f"INSERT INTO {table} (id) VALUES (1)")
    with aconn.transaction() as tx:
        aconn.execute(f"INSERT INTO {table} (id) VALUES (2)")
        raise psycopg.Rollback(tx)
    assert ids(aconn, table) == [1]


def test_failed_transaction_is_25P02_until_rollback(conn, table):
    conn.execute(f"INSERT INTO {table} (id) VALUES (1)")
    with pytest.raises(psycopg.errors.DivisionByZero):
        conn.execute("SELECT 1/0")
    assert conn.info.transaction_status == TransactionStatus.INERROR
    for sql in ("SELECT 1", f"SELECT * FROM {table}"):
        with pytest.raises(psycopg.errors.InFailedSqlTransaction) as e:
            conn.execute(sql)
        assert e.value.sqlstate == "25P02"
    conn.rollback()
    assert conn.info.transaction_status == TransactionStatus.IDLE
    assert count(conn, table) == 0


def test_closing_mid_transaction_loses_only_that_transaction(pg, table):
    c = connect(pg)
    c.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'lost')")
    c.close()
    with connect(pg, autocommit=True) as c2:
        assert count(c2, table) == 0
        c2.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'kept')")
        assert c2.execute(f"SELECT name FROM {table}").fetchall() == [("kept",)]


def test_reads_do_not_wait_for_a_write_transaction(pg, table):
    with connect(pg) as writer, connect(pg, autocommit=True) as reader:
        writer.execute(f"INSERT INTO {table} (id) VALUES (1)")
        writer.execute(f"UPDATE {table} SET qty = 5 WHERE id = 1")
        # the writer's transaction is open; a reader sees the last committed state
        assert count(reader, table) == 0
        assert reader.execute("SELECT 1").fetchone() == (1,)
        writer.commit()
        assert reader.execute(f"SELECT qty FROM {table}").fetchall() == [(5,)]


def test_concurrent_connections_in_threads(pg, table):
    errors = []

    def work(k):
        try:
            with connect(pg, autocommit=True) as c:
                for i in range(10):
                    c.execute(f"INSERT INTO {table} (id, qty) VALUES (%s, %s)", (k * 100 + i, k))
                    c.execute(f"SELECT count(*) FROM {table}").fetchone()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with connect(pg, autocommit=True) as c:
        assert c.execute(f"SELECT qty, count(*) FROM {table} GROUP BY qty ORDER BY qty").fetchall() == [
            (0, 10), (1, 10), (2, 10), (3, 10)]


def test_cancel_interrupts_a_running_query_with_57014(pg):
    """Connection.cancel() from another thread (a CancelRequest on a
    connection of its own) stops a query that would never end; the
    connection stays usable. Cancels repeat until the query gives up, as a
    cancel that arrives before the query starts is ignored."""
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    with connect(pg, autocommit=True) as c:
        done = threading.Event()

        def cancel_until_done():
            while not done.wait(0.2):
                c.cancel()

        canceller = threading.Thread(target=cancel_until_done)
        canceller.start()
        try:
            with pytest.raises(psycopg.errors.QueryCanceled) as raised:
                c.execute(endless)
        finally:
            done.set()
            canceller.join()
        assert raised.value.sqlstate == "57014"
        assert c.execute("SELECT 1").fetchone() == (1,)


# --- errors ----------------------------------------------------------------------


@pytest.mark.parametrize("sqlstate, sql, message", ERROR_CASES)
def test_error_sqlstate_and_connection_survives(aconn, table, sqlstate, sql, message):
    sql, message = error_case(sql, message, table)
    aconn.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'first')")
    with pytest.raises(psycopg.Error) as e:
        aconn.execute(sql)
    assert e.value.sqlstate == sqlstate
    assert e.value.diag.severity == "ERROR"
    assert aconn.execute(f"SELECT id, name, qty FROM {table}").fetchall() == [(1, "first", 0)]
    assert e.value.diag.message_primary == message


@pytest.mark.parametrize("sqlstate, sql, message", ERROR_CASES)
def test_error_in_transaction_then_rollback(conn, table, sqlstate, sql, message):
    sql, _ = error_case(sql, message, table)
    conn.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'first')")
    conn.commit()
    conn.execute(f"INSERT INTO {table} (id, name) VALUES (2, 'second')")
    with pytest.raises(psycopg.Error) as e:
        conn.execute(sql)
    assert e.value.sqlstate == sqlstate
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        conn.execute("SELECT 1")
    conn.rollback()
    assert ids(conn, table) == [1]


def test_parameter_of_wrong_type_is_22P02(aconn, table):
    with pytest.raises(psycopg.errors.InvalidTextRepresentation) as e:
        aconn.execute(f"INSERT INTO {table} (id) VALUES (%s)", ("abc",))
    assert e.value.sqlstate == "22P02"
    assert aconn.execute("SELECT 1").fetchone() == (1,)


def test_division_by_zero_with_parameters_is_22012(aconn):
    with pytest.raises(psycopg.errors.DivisionByZero):
        aconn.execute("SELECT %s::int / %s::int", (1, 0))
    assert aconn.execute("SELECT %s::int / %s::int", (6, 3)).fetchone() == (2,)


def test_foreign_key_is_enforced_or_refused(aconn):
    # PostgreSQL enforces a FOREIGN KEY (23503); patina cannot hold one across
    # replicas and refuses it at CREATE TABLE with 0A000. Either is fine;
    # accepting the constraint and not enforcing it is not.
    parent, child = new_name("parent"), new_name("child")
    aconn.execute(f"CREATE TABLE {parent} (id integer PRIMARY KEY)")
    try:
        aconn.execute(
            f"CREATE TABLE {child} (id integer PRIMARY KEY, p integer REFERENCES {parent} (id))")
    except psycopg.Error as e:
        assert e.sqlstate == "0A000", e
        assert "FOREIGN KEY" in e.diag.message_primary
        assert aconn.execute("SELECT 1").fetchone() == (1,)
        with pytest.raises(psycopg.errors.UndefinedTable):
            aconn.execute(f"SELECT * FROM {child}")
        return
    aconn.execute(f"INSERT INTO {parent} (id) VALUES (1)")
    aconn.execute(f"INSERT INTO {child} (id, p) VALUES (1, 1)")
    with pytest.raises(psycopg.errors.ForeignKeyViolation) as e:
        aconn.execute(f"INSERT INTO {child} (id, p) VALUES (2, 2)")
    assert e.value.sqlstate == "23503"
    assert aconn.execute(f"SELECT count(*) FROM {child}").fetchone() == (1,)


# --- multi-statement strings (simple protocol) --------------------------------------


def test_multi_statement_without_parameters_is_one_implicit_transaction(aconn, table):
    # Without parameters psycopg 3 still uses the extended protocol, which
    # refuses several statements; a ClientCursor sends the simple protocol.
    cur = psycopg.ClientCursor(aconn)
    with pytest.raises(psycopg.errors.UniqueViolation):
        cur.execute(f"INSERT INTO {table} (id) VALUES (1); INSERT INTO {table} (id) VALUES (1); "
                    f"INSERT INTO {table} (id) VALUES (2)")
    assert count(aconn, table) == 0
    cur.execute(f"INSERT INTO {table} (id) VALUES (%s); INSERT INTO {table} (id) VALUES (%s)", (1, 2))
    assert ids(aconn, table) == [1, 2]


def test_several_statements_in_extended_protocol_is_42601(aconn):
    with pytest.raises(psycopg.errors.SyntaxError) as e:
        aconn.execute("SELECT %s; SELECT 2", (1,))
    assert e.value.diag.message_primary == "cannot insert multiple commands into a prepared statement"
    assert aconn.execute("SELECT 1").fetchone() == (1,)


# --- session statements ----------------------------------------------------------


def test_set_show_reset(aconn):
    def show():
        return aconn.execute("SHOW application_name").fetchone()[0]

    aconn.execute("SET application_name = 'pg3'")
    assert show() == "pg3"
    aconn.execute("SET application_name TO DEFAULT")
    assert show() == ""
    aconn.execute("SET application_name = 'again'")
    aconn.execute("RESET ALL")
    assert show() == ""
    aconn.execute("SET application_name = 'x'")
    aconn.execute("DISCARD ALL")
    assert show() == ""


def test_set_timezone_changes_timestamptz_output(aconn):
    aconn.execute("SET TIME ZONE 'UTC'")
    assert aconn.execute("SHOW TimeZone").fetchone()[0] == "UTC"
    got = aconn.execute("SELECT '2024-01-02 03:04:05+02'::timestamptz::text").fetchone()[0]
    assert got == "2024-01-02 01:04:05+00"


def test_isolation_level_and_read_only(pg, table):
    with connect(pg, autocommit=True) as setup:
        setup.execute(f"INSERT INTO {table} (id) VALUES (1)")
    with connect(pg) as c:
        c.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        assert c.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
        c.rollback()
        c.read_only = True
        assert c.execute("SHOW transaction_read_only").fetchone() == ("on",)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            c.execute(f"DELETE FROM {table}")
        c.rollback()
    with connect(pg, autocommit=True) as check:
        assert count(check, table) == 1


def test_begin_isolation_level_and_set_transaction(aconn):
    aconn.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
    assert aconn.execute("SHOW transaction_isolation").fetchone() == ("serializable",)
    aconn.execute("COMMIT")
    aconn.execute("BEGIN")
    aconn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    assert aconn.execute("SHOW transaction_isolation").fetchone() == ("repeatable read",)
    aconn.execute("COMMIT")
    assert aconn.execute("SHOW transaction_isolation").fetchone() == ("read committed",)


def test_notices_of_misplaced_transaction_control(aconn):
    notices = []
    aconn.add_notice_handler(lambda d: notices.append((d.severity, d.sqlstate, d.message_primary)))
    aconn.execute("COMMIT")
    assert notices == [("WARNING", "25P01", "there is no transaction in progress")]
