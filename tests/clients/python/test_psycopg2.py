"""psycopg2 against the server: simple query protocol only, parameters
interpolated on the client, BEGIN sent before the first statement unless
autocommit. Every expectation here is what PostgreSQL 15 does."""

import os
import socket
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
import pytest

from conftest import ERROR_CASES, error_case, new_name, table_ddl

# Wait for the server in Python, not inside libpq, so that pytest-timeout's
# signal can interrupt a hung query.
psycopg2.extensions.set_wait_callback(psycopg2.extras.wait_select)

TS = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=2)))


@pytest.fixture
def conn(pg):
    c = psycopg2.connect(**pg)
    yield c
    c.close()


@pytest.fixture
def aconn(pg):
    """An autocommit connection."""
    c = psycopg2.connect(**pg)
    c.autocommit = True
    yield c
    c.close()


@pytest.fixture
def table(pg):
    """A fresh table (TABLE_DDL). Never dropped: the names are unique, and a
    DROP while the test's own connections still hold locks would wait."""
    name = new_name()
    c = psycopg2.connect(**pg)
    c.autocommit = True
    with c.cursor() as cur:
        cur.execute(table_ddl(name))
    c.close()
    return name


def count(cur, table):
    cur.execute(f"SELECT count(*) FROM {table}")
    return cur.fetchone()[0]


def ids(cur, table):
    cur.execute(f"SELECT id FROM {table} ORDER BY id")
    return [r[0] for r in cur.fetchall()]


# --- connecting ------------------------------------------------------------


def test_server_version_is_15(conn):
    assert 150000 <= conn.server_version < 160000
    assert conn.get_parameter_status("server_version").startswith("15.")
    with conn.cursor() as cur:
        cur.execute("SELECT version()")
        assert "PostgreSQL 15" in cur.fetchone()[0]


def test_startup_parameter_status(conn):
    assert conn.get_parameter_status("client_encoding") == "UTF8"
    assert conn.get_parameter_status("server_encoding") == "UTF8"
    assert conn.get_parameter_status("DateStyle").startswith("ISO")
    assert conn.get_parameter_status("standard_conforming_strings") == "on"
    assert conn.get_parameter_status("integer_datetimes") == "on"


def test_backend_pid_is_reported(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        assert cur.fetchone()[0] == conn.get_backend_pid()


# --- parameterized CRUD and types --------------------------------------------


def test_insert_returning_gives_python_types(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, name, qty, price, tags, doc, created, flag) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING id, name, qty, price, tags, doc, created, flag",
            (1, "widget", 3, Decimal("9.90"), ["a", "b c"],
             psycopg2.extras.Json({"k": [1, 2], "s": "x"}), TS, True),
        )
        row = cur.fetchone()
    assert row == (1, "widget", 3, Decimal("9.90"), ["a", "b c"],
                   {"k": [1, 2], "s": "x"}, TS, True)
    assert [type(v) for v in row] == [int, str, int, Decimal, list, dict, datetime, bool]
    assert str(row[3]) == "9.90"
    assert row[6].tzinfo is not None


def test_defaults_fill_omitted_columns(aconn, table):
    with aconn.cursor() as cur:
        cur.execute("SELECT now()")
        before = cur.fetchone()[0]
        cur.execute(f"INSERT INTO {table} (id) VALUES (%s) RETURNING name, qty, created, flag", (1,))
        name, qty, created, flag = cur.fetchone()
    assert (name, qty, flag) == (None, 0, None)
    assert created.tzinfo is not None
    assert abs(created - before) < timedelta(minutes=5)


def test_numeric_column_keeps_its_scale(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, price) VALUES (1, %s), (2, %s), (3, %s), (4, %s)",
            (Decimal("9.90"), Decimal("9.9"), 7, Decimal("1.005")),
        )
        cur.execute(f"SELECT price FROM {table} ORDER BY id")
        prices = [r[0] for r in cur.fetchall()]
    # numeric(10,2) pads to two places and rounds half away from zero
    assert [str(p) for p in prices] == ["9.90", "9.90", "7.00", "1.01"]


def test_numeric_literal_and_parameter_keep_scale(aconn):
    with aconn.cursor() as cur:
        cur.execute("SELECT %s, 1.50, %s::numeric + 0.10", (Decimal("9.90"), Decimal("2.5")))
        row = cur.fetchone()
    assert [str(v) for v in row] == ["9.90", "1.50", "2.60"]


def test_select_with_each_parameter_type(aconn, table):
    other = datetime(2023, 6, 1, tzinfo=timezone.utc)
    with aconn.cursor() as cur:
        ins = (f"INSERT INTO {table} (id, name, price, tags, doc, created, flag) "
               "VALUES (%s, %s, %s, %s, %s, %s, %s)")
        cur.execute(ins, (1, "one", Decimal("9.90"), ["a", "b"],
                          psycopg2.extras.Json({"k": 1}), TS, True))
        cur.execute(ins, (2, "two", Decimal("1.00"), ["c"],
                          psycopg2.extras.Json({"k": 2}), other, False))
        checks = [
            ("id = %s", 1),
            ("name = %s", "one"),
            ("price = %s", Decimal("9.9")),
            ("flag = %s", True),
            ("created = %s", TS),
            ("created < %s", datetime(2024, 1, 1, tzinfo=timezone.utc)),
            ("doc = %s", psycopg2.extras.Json({"k": 1})),
            ("tags = %s", ["a", "b"]),
        ]
        found = {}
        for where, value in checks:
            cur.execute(f"SELECT id FROM {table} WHERE {where}", (value,))
            found[where] = [r[0] for r in cur.fetchall()]
    assert found == {
        "id = %s": [1], "name = %s": [1], "price = %s": [1], "flag = %s": [1],
        "created = %s": [1], "created < %s": [2], "doc = %s": [1], "tags = %s": [1],
    }


def test_jsonb_equality_ignores_key_order_and_text_is_normalized(aconn):
    with aconn.cursor() as cur:
        cur.execute(
            """SELECT '{"b": 1, "a": 2}'::jsonb = '{"a":2,"b":1}'::jsonb,
                      '{"b":1,"a":2,"a":3, "aa": [1,2]}'::jsonb::text"""
        )
        equal, text = cur.fetchone()
    assert equal is True
    # jsonb keeps the last duplicate and orders keys by length, then bytes
    assert text == '{"a": 3, "b": 1, "aa": [1, 2]}'


def test_null_parameters_and_results(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {table} (id, name, price, tags, doc, created, flag) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING name, price, tags, doc, created, flag",
            (1, None, None, None, None, None, None),
        )
        assert cur.fetchone() == (None,) * 6
        cur.execute(f"SELECT id FROM {table} WHERE name IS NULL AND %s IS NULL", (None,))
        assert cur.fetchall() == [(1,)]
        cur.execute(f"SELECT count(*) FROM {table} WHERE name = %s", (None,))
        assert cur.fetchone()[0] == 0  # = NULL is never true


def test_array_parameters(aconn, table):
    with aconn.cursor() as cur:
        cur.execute("SELECT %s::int[], %s::text[]", ([1, 2, 3], ["x", None, "y z"]))
        assert cur.fetchone() == ([1, 2, 3], ["x", None, "y z"])
        cur.execute(f"INSERT INTO {table} (id) VALUES (1), (2), (3)")
        cur.execute(f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id", ([1, 3],))
        assert cur.fetchall() == [(1,), (3,)]


def test_text_round_trips_exactly(aconn, table):
    values = ["O'Reilly", "back\\slash", "line\nbreak", "tab\tx", "ünïcödé ✓ 🐘",
              "", "%s and %% stay", '"double"', "semi; colon"]
    with aconn.cursor() as cur:
        for i, v in enumerate(values):
            cur.execute(f"INSERT INTO {table} (id, name) VALUES (%s, %s)", (i, v))
        cur.execute(f"SELECT name FROM {table} ORDER BY id")
        assert [r[0] for r in cur.fetchall()] == values
        cur.execute(f"SELECT count(*) FROM {table} WHERE name = ''")
        assert cur.fetchone()[0] == 1  # '' is not NULL


def test_parameters_are_interpolated_on_the_client(aconn):
    with aconn.cursor() as cur:
        q = "SELECT %s, %s, %s"
        args = ("O'Reilly", 5, None)
        assert cur.mogrify(q, args) == b"SELECT 'O''Reilly', 5, NULL"
        cur.execute(q, args)
        assert cur.query == b"SELECT 'O''Reilly', 5, NULL"
        assert cur.fetchone() == ("O'Reilly", 5, None)


def test_update_and_delete_row_counts(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id, name) VALUES (%s, %s)", (1, "a"))
        assert (cur.rowcount, cur.statusmessage) == (1, "INSERT 0 1")
        cur.execute(f"INSERT INTO {table} (id, name) VALUES (2, 'b'), (3, 'c')")
        assert (cur.rowcount, cur.statusmessage) == (2, "INSERT 0 2")
        cur.execute(f"UPDATE {table} SET qty = qty + 1 WHERE id <= %s", (2,))
        assert (cur.rowcount, cur.statusmessage) == (2, "UPDATE 2")
        cur.execute(f"UPDATE {table} SET qty = 1 WHERE id = 99")
        assert (cur.rowcount, cur.statusmessage) == (0, "UPDATE 0")
        cur.execute(f"DELETE FROM {table} WHERE id = %s", (3,))
        assert (cur.rowcount, cur.statusmessage) == (1, "DELETE 1")
        cur.execute(f"SELECT id, qty FROM {table} ORDER BY id")
        assert (cur.rowcount, cur.statusmessage) == (2, "SELECT 2")
        assert cur.fetchall() == [(1, 1), (2, 1)]


def test_executemany_inserts_every_row(aconn, table):
    rows = [(i, f"n{i}", Decimal(i) / 4) for i in range(50)]
    with aconn.cursor() as cur:
        cur.executemany(f"INSERT INTO {table} (id, name, price) VALUES (%s, %s, %s)", rows)
        assert cur.rowcount == 50
        cur.execute(f"SELECT count(*), sum(price) FROM {table}")
        assert cur.fetchone() == (50, Decimal("306.25"))


# --- transactions -------------------------------------------------------------


def test_commit_makes_rows_visible_to_other_connections(pg, conn, table):
    other = psycopg2.connect(**pg)
    try:
        with conn.cursor() as cur:
            cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with other.cursor() as ocur:
            assert count(ocur, table) == 0
        other.rollback()
        conn.commit()
        with other.cursor() as ocur:
            assert count(ocur, table) == 1
    finally:
        other.close()


def test_rollback_discards_changes(conn, table):
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        conn.commit()
        cur.execute(f"INSERT INTO {table} (id) VALUES (2)")
        cur.execute(f"UPDATE {table} SET qty = 7 WHERE id = 1")
        conn.rollback()
        cur.execute(f"SELECT id, qty FROM {table}")
        assert cur.fetchall() == [(1, 0)]


def test_error_aborts_transaction_until_rollback(conn, table):
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute("SELECT 1/0")
        assert conn.get_transaction_status() == psycopg2.extensions.TRANSACTION_STATUS_INERROR
        for sql in ("SELECT 1", f"INSERT INTO {table} (id) VALUES (2)", f"SELECT * FROM {table}"):
            with pytest.raises(psycopg2.errors.InFailedSqlTransaction) as e:
                cur.execute(sql)
            assert e.value.pgcode == "25P02"
            assert e.value.diag.message_primary == (
                "current transaction is aborted, commands ignored until end of transaction block")
        conn.rollback()
        assert count(cur, table) == 0


def test_commit_of_a_failed_transaction_answers_rollback(aconn, table):
    with aconn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        cur.execute("COMMIT")  # no error: the command tag says what happened
        assert cur.statusmessage == "ROLLBACK"
        assert count(cur, table) == 0


def test_savepoint_rollback_to_recovers_from_error(conn, table):
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        cur.execute("SAVEPOINT s1")
        assert cur.statusmessage == "SAVEPOINT"
        cur.execute(f"INSERT INTO {table} (id) VALUES (2)")
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        cur.execute("ROLLBACK TO SAVEPOINT s1")
        assert cur.statusmessage == "ROLLBACK"
        cur.execute(f"INSERT INTO {table} (id) VALUES (3)")
        cur.execute("SAVEPOINT s2")
        cur.execute(f"INSERT INTO {table} (id) VALUES (4)")
        cur.execute("RELEASE SAVEPOINT s2")
        assert cur.statusmessage == "RELEASE"
        conn.commit()
        assert ids(cur, table) == [1, 3, 4]


def test_rollback_to_unknown_savepoint_is_3B001(conn):
    with conn.cursor() as cur:
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("ROLLBACK TO SAVEPOINT no_such_savepoint")
        assert e.value.pgcode == "3B001"
    conn.rollback()


def test_savepoint_outside_transaction_is_25P01(aconn):
    with aconn.cursor() as cur:
        with pytest.raises(psycopg2.Error) as e:
            cur.execute("SAVEPOINT s1")
        assert e.value.pgcode == "25P01"
        cur.execute("SELECT 1")


def test_transaction_control_out_of_place_only_warns(aconn):
    with aconn.cursor() as cur:
        cur.execute("COMMIT")
        assert cur.statusmessage == "COMMIT"
        cur.execute("ROLLBACK")
        assert cur.statusmessage == "ROLLBACK"
        cur.execute("BEGIN")
        cur.execute("BEGIN")
        assert cur.statusmessage == "BEGIN"
        cur.execute("ROLLBACK")
    assert aconn.notices == [
        "WARNING:  there is no transaction in progress\n",
        "WARNING:  there is no transaction in progress\n",
        "WARNING:  there is already a transaction in progress\n",
    ]


def test_closing_mid_transaction_loses_the_transaction(pg, table):
    c = psycopg2.connect(**pg)
    with c.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1)")  # after an implicit BEGIN
    c.close()  # Terminate, no COMMIT
    c2 = psycopg2.connect(**pg)
    c2.autocommit = True
    try:
        with c2.cursor() as cur:
            assert count(cur, table) == 0
            cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
            assert count(cur, table) == 1
    finally:
        c2.close()


def test_dropped_socket_mid_transaction_loses_the_transaction(pg, table):
    c = psycopg2.connect(**pg)
    with c.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'lost')")
        cur.execute(f"UPDATE {table} SET qty = 1 WHERE id = 1")
    # Cut the connection without a Terminate message.
    s = socket.socket(fileno=os.dup(c.fileno()))
    s.shutdown(socket.SHUT_RDWR)
    s.close()
    c2 = psycopg2.connect(**pg)
    c2.autocommit = True
    try:
        with c2.cursor() as cur:
            assert count(cur, table) == 0
            # the abandoned transaction holds nothing: the same key goes in
            cur.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'kept')")
            cur.execute(f"SELECT name, qty FROM {table}")
            assert cur.fetchall() == [("kept", 0)]
    finally:
        c2.close()
        c.close()


# --- errors ------------------------------------------------------------------


@pytest.mark.parametrize("sqlstate, sql, message", ERROR_CASES)
def test_error_sqlstate_and_connection_survives(aconn, table, sqlstate, sql, message):
    sql, _ = error_case(sql, message, table)
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'first')")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(sql)
        assert e.value.pgcode == sqlstate
        assert e.value.diag.severity == "ERROR"
        cur.execute(f"SELECT id, name, qty FROM {table}")
        assert cur.fetchall() == [(1, "first", 0)]


@pytest.mark.parametrize("sqlstate, sql, message", ERROR_CASES)
def test_error_message_matches_postgres(aconn, table, sqlstate, sql, message):
    sql, message = error_case(sql, message, table)
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'first')")
        with pytest.raises(psycopg2.Error) as e:
            cur.execute(sql)
        assert e.value.diag.message_primary == message


def test_error_fields_name_table_constraint_column(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with pytest.raises(psycopg2.errors.UniqueViolation) as e:
            cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        d = e.value.diag
        assert (d.schema_name, d.table_name, d.constraint_name) == ("public", table, f"{table}_pkey")
        # No DETAIL ("Key (id)=(1) already exists."): see tests/clients/README.md.
        with pytest.raises(psycopg2.errors.NotNullViolation) as e:
            cur.execute(f"INSERT INTO {table} (id, qty) VALUES (2, NULL)")
        d = e.value.diag
        assert (d.table_name, d.column_name) == (table, "qty")
        with pytest.raises(psycopg2.errors.CheckViolation) as e:
            cur.execute(f"INSERT INTO {table} (id, qty) VALUES (3, -1)")
        assert e.value.diag.constraint_name == f"{table}_qty_check"


def test_syntax_error_reports_position(aconn):
    with aconn.cursor() as cur:
        with pytest.raises(psycopg2.errors.SyntaxError) as e:
            cur.execute("SELECT 1 FROM")
        assert e.value.diag.message_primary == "syntax error at end of input"
        assert e.value.diag.statement_position == "14"


def test_error_classes_map_from_sqlstate(aconn, table):
    with aconn.cursor() as cur:
        with pytest.raises(psycopg2.errors.UndefinedTable):
            cur.execute("SELECT * FROM " + new_name("missing"))
        with pytest.raises(psycopg2.errors.InvalidTextRepresentation):
            cur.execute(f"INSERT INTO {table} (id) VALUES (%s)", ("abc",))
        with pytest.raises(psycopg2.IntegrityError):
            cur.execute(f"INSERT INTO {table} (id, qty) VALUES (1, -1)")
        with pytest.raises(psycopg2.ProgrammingError):
            cur.execute(f"SELECT nope FROM {table}")


# --- multi-statement simple queries -------------------------------------------


def test_multi_statement_string_rolls_back_entirely(aconn, table):
    with aconn.cursor() as cur:
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute(f"INSERT INTO {table} (id) VALUES (1); "
                        f"INSERT INTO {table} (id) VALUES (2); SELECT 1/0")
        assert count(cur, table) == 0


def test_multi_statement_string_stops_at_first_error(aconn, table):
    with aconn.cursor() as cur:
        with pytest.raises(psycopg2.errors.UniqueViolation):
            cur.execute(f"INSERT INTO {table} (id) VALUES (1); "
                        f"INSERT INTO {table} (id) VALUES (1); "
                        f"INSERT INTO {table} (id) VALUES (3)")
        assert count(cur, table) == 0
        cur.execute("SELECT 1")


def test_multi_statement_string_returns_last_result(aconn, table):
    with aconn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1); INSERT INTO {table} (id) VALUES (2)")
        assert (cur.rowcount, cur.statusmessage) == (1, "INSERT 0 1")
        cur.execute("SELECT 1; SELECT 2, 3")
        assert cur.fetchall() == [(2, 3)]
        assert count(cur, table) == 2


def test_multi_statement_string_keeps_what_an_explicit_commit_committed(aconn, table):
    with aconn.cursor() as cur:
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute(f"BEGIN; INSERT INTO {table} (id) VALUES (1); COMMIT; "
                        f"INSERT INTO {table} (id) VALUES (2); SELECT 1/0")
        assert ids(cur, table) == [1]


def test_multi_statement_string_inside_transaction_aborts_it(conn, table):
    with conn.cursor() as cur:
        cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        with pytest.raises(psycopg2.errors.DivisionByZero):
            cur.execute(f"INSERT INTO {table} (id) VALUES (2); SELECT 1/0")
        with pytest.raises(psycopg2.errors.InFailedSqlTransaction):
            cur.execute("SELECT 1")
        conn.rollback()
        assert count(cur, table) == 0


# --- session statements ---------------------------------------------------------


def test_set_show_reset_application_name(pg):
    c = psycopg2.connect(application_name="from-startup", **pg)
    c.autocommit = True
    try:
        with c.cursor() as cur:
            def show():
                cur.execute("SHOW application_name")
                return cur.fetchone()[0]

            assert show() == "from-startup"
            cur.execute("SET application_name = 'suite'")
            assert cur.statusmessage == "SET"
            assert show() == "suite"
            cur.execute("SELECT current_setting('application_name')")
            assert cur.fetchone()[0] == "suite"
            cur.execute("RESET application_name")
            assert show() == "from-startup"
            cur.execute("SET application_name TO 'again'")
            cur.execute("RESET ALL")
            assert cur.statusmessage == "RESET"
            assert show() == "from-startup"  # back to the startup value, not ''
            cur.execute("SET application_name = 'once more'")
            cur.execute("DISCARD ALL")
            assert cur.statusmessage == "DISCARD ALL"
            assert show() == "from-startup"
    finally:
        c.close()


def test_set_is_undone_by_rollback_and_set_local_ends_with_transaction(aconn):
    with aconn.cursor() as cur:
        cur.execute("SET application_name = 'before'")
        cur.execute("BEGIN")
        cur.execute("SET application_name = 'inside'")
        cur.execute("ROLLBACK")
        cur.execute("SHOW application_name")
        assert cur.fetchone()[0] == "before"
        cur.execute("BEGIN")
        cur.execute("SET LOCAL application_name = 'local'")
        cur.execute("SHOW application_name")
        assert cur.fetchone()[0] == "local"
        cur.execute("COMMIT")
        cur.execute("SHOW application_name")
        assert cur.fetchone()[0] == "before"


def test_discard_all_inside_transaction_is_25001(aconn):
    with aconn.cursor() as cur:
        cur.execute("BEGIN")
        with pytest.raises(psycopg2.errors.ActiveSqlTransaction):
            cur.execute("DISCARD ALL")
        cur.execute("ROLLBACK")
        cur.execute("SELECT 1")


def test_asyncpg_pool_reset_query_as_one_string(aconn):
    with aconn.cursor() as cur:
        cur.execute("SET application_name = 'dirty'")
        cur.execute("SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;")
        assert cur.statusmessage == "RESET"
        cur.execute("SHOW application_name")
        assert cur.fetchone()[0] == ""


def test_isolation_levels_are_shown(aconn):
    with aconn.cursor() as cur:
        def level():
            cur.execute("SHOW transaction isolation level")
            return cur.fetchone()[0]

        assert level() == "read committed"
        cur.execute("SHOW default_transaction_isolation")
        assert cur.fetchone()[0] == "read committed"
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        assert level() == "repeatable read"
        cur.execute("COMMIT")
        assert level() == "read committed"
        cur.execute("BEGIN")
        cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        assert cur.statusmessage == "SET"
        assert level() == "serializable"
        cur.execute("ROLLBACK")
        cur.execute("START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY")
        assert cur.statusmessage == "START TRANSACTION"
        assert level() == "read committed"
        cur.execute("SHOW transaction_read_only")
        assert cur.fetchone()[0] == "on"
        cur.execute("COMMIT")


def test_set_transaction_after_a_query_is_25001(aconn):
    with aconn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SELECT 1")
        with pytest.raises(psycopg2.errors.ActiveSqlTransaction) as e:
            cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        assert e.value.diag.message_primary == (
            "SET TRANSACTION ISOLATION LEVEL must be called before any query")
        cur.execute("ROLLBACK")


def test_set_transaction_outside_a_block_only_warns(aconn):
    with aconn.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
        cur.execute("SHOW transaction isolation level")
        assert cur.fetchone()[0] == "read committed"
    assert aconn.notices == ["WARNING:  SET TRANSACTION can only be used in transaction blocks\n"]


def test_driver_isolation_level_setting(pg):
    c = psycopg2.connect(**pg)
    try:
        c.set_session(isolation_level="REPEATABLE READ")
        with c.cursor() as cur:
            cur.execute("SHOW transaction isolation level")
            assert cur.fetchone()[0] == "repeatable read"
        c.rollback()
        c.set_session(isolation_level="SERIALIZABLE", readonly=True)
        with c.cursor() as cur:
            cur.execute("SHOW transaction isolation level")
            assert cur.fetchone()[0] == "serializable"
            cur.execute("SHOW transaction_read_only")
            assert cur.fetchone()[0] == "on"
        c.rollback()
    finally:
        c.close()


def test_read_only_transaction_refuses_writes_with_25006(aconn, table):
    with aconn.cursor() as cur:
        cur.execute("BEGIN READ ONLY")
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            cur.execute(f"INSERT INTO {table} (id) VALUES (1)")
        cur.execute("ROLLBACK")
        assert count(cur, table) == 0
