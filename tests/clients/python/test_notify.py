"""LISTEN/NOTIFY through each Python driver's own notification API:
psycopg2 (`poll()` and `connection.notifies`), psycopg 3
(`Connection.notifies()`) and asyncpg (`add_listener`). The notifying
connection is a different one, on another node of the cluster when there is
one (the `writer_dsn` fixture), so what the listener hears arrives by
replication; notifications arrive at commit, in order,
with identical pairs of one transaction folded. Every expectation here is
what PostgreSQL 15 does, except the row change feeds at the end
(`LISTEN "patina:changes:<table>"`), which are patina's own and skipped
on another server."""

import asyncio
import json
import re
import select
from decimal import Decimal

import asyncpg
import psycopg
import psycopg.sql
import psycopg2
import psycopg2.extensions
import pytest

from conftest import new_name, table_ddl, wait_for_rows

TIMEOUT = 20


def notifier(dsn, channel, payloads):
    """Commits `payloads` on `channel` in one transaction, from psycopg 3."""
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            for payload in payloads:
                cur.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def test_psycopg2_poll_and_notifies(dsn, writer_dsn):
    channel = new_name("ch")
    listener = psycopg2.connect(dsn)
    listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    listener.cursor().execute(f"LISTEN {channel}")
    notifier(writer_dsn, channel, ["one", "two", "one", "three"])
    received = []
    while len(received) < 3:
        ready, _, _ = select.select([listener], [], [], TIMEOUT)
        assert ready, f"timed out with {received}"
        listener.poll()
        while listener.notifies:
            n = listener.notifies.pop(0)
            received.append((n.channel, n.payload))
    assert received == [(channel, "one"), (channel, "two"), (channel, "three")]
    listener.close()


def test_psycopg3_notifies_generator(dsn, writer_dsn):
    channel = new_name("ch")
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {channel}")
        notifier(writer_dsn, channel, ["a", "b"])
        received = []
        for n in listener.notifies(timeout=TIMEOUT, stop_after=2):
            received.append((n.channel, n.payload))
        assert received == [(channel, "a"), (channel, "b")]


def test_asyncpg_add_listener(pg, writer_pg):
    async def run():
        channel = new_name("ch")
        listener = await asyncpg.connect(
            host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"]
        )
        queue = asyncio.Queue()
        await listener.add_listener(
            channel, lambda _conn, _pid, ch, payload: queue.put_nowait((ch, payload))
        )
        other = await asyncpg.connect(
            host=writer_pg["host"],
            port=writer_pg["port"],
            user=writer_pg["user"],
            database=writer_pg["dbname"],
        )
        async with other.transaction():
            await other.execute(f"NOTIFY {channel}, 'x'")
            await other.execute(f"NOTIFY {channel}, 'y'")
        await other.execute(f"NOTIFY {channel}, 'after'")
        got = [await asyncio.wait_for(queue.get(), TIMEOUT) for _ in range(3)]
        assert got == [(channel, "x"), (channel, "y"), (channel, "after")]
        await other.close()
        await listener.close()

    asyncio.run(run())


# Row change feeds: patina's own channels, so these run against patina only.


def server_is_patina(dsn):
    with psycopg.connect(dsn) as conn:
        return "(patina" in conn.execute("SELECT version()").fetchone()[0]


@pytest.fixture
def feed_table(dsn, writer_dsn):
    """A fresh table and its feed channel, on patina (and on the writer's
    node)."""
    if not server_is_patina(dsn):
        pytest.skip("row change feeds are patina's")
    table = new_name("feed")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(table_ddl(table))
    wait_for_rows(writer_dsn, table, 0)
    return table, f"patina:changes:{table}"


def change(payload):
    """A feed payload without its writer (checked apart), numbers exact."""
    p = json.loads(payload, parse_float=Decimal)
    assert re.fullmatch(r"[0-9a-f]{32}", p["origin"]), p
    assert isinstance(p["db_version"], int), p
    return {k: p[k] for k in ("table", "op", "pk", "columns")}


def writes(dsn, statements):
    """Runs each statement in a transaction of its own, from psycopg 3."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def test_psycopg2_row_feed(dsn, writer_dsn, feed_table):
    table, channel = feed_table
    listener = psycopg2.connect(dsn)
    listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    listener.cursor().execute(f'LISTEN "{channel}"')
    received = []

    def write_and_hear(sql):
        # One write at a time, heard before the next: another node merging a
        # burst of commits may apply only their net effect.
        writes(writer_dsn, [sql])
        heard = len(received) + 1
        while len(received) < heard:
            ready, _, _ = select.select([listener], [], [], TIMEOUT)
            assert ready, f"timed out with {received}"
            listener.poll()
            while listener.notifies:
                n = listener.notifies.pop(0)
                assert n.channel == channel
                received.append(change(n.payload))

    write_and_hear(
        f"INSERT INTO {table} (id, name, qty, price, tags, doc, created, flag) VALUES "
        "(1, 'bolt', 3, 9.90, '{a,b}', '{\"k\": [1, 2]}', '2024-01-02 03:04:05+00', true)"
    )
    write_and_hear(f"UPDATE {table} SET qty = 4, name = 'bolt' WHERE id = 1")
    write_and_hear(f"DELETE FROM {table} WHERE id = 1")
    assert received == [
        {
            "table": table,
            "op": "insert",
            "pk": {"id": 1},
            "columns": {
                "id": 1,
                "name": "bolt",
                "qty": 3,
                "price": Decimal("9.90"),
                "tags": "{a,b}",
                "doc": {"k": [1, 2]},
                "created": "2024-01-02 03:04:05+00",
                "flag": True,
            },
        },
        {"table": table, "op": "update", "pk": {"id": 1}, "columns": {"qty": 4}},
        {"table": table, "op": "delete", "pk": {"id": 1}, "columns": {}},
    ]
    listener.close()


def test_psycopg3_row_feed_transactions(dsn, writer_dsn, feed_table):
    table, channel = feed_table
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute(f'LISTEN "{channel}"')

        def hear(count):
            # Heard before the next write: another node merging a burst of
            # commits may apply only their net effect.
            return [
                change(n.payload)
                for n in listener.notifies(timeout=TIMEOUT, stop_after=count)
            ]

        with psycopg.connect(writer_dsn) as writer:
            with writer.transaction():
                writer.execute(f"INSERT INTO {table} (id, name) VALUES (1, 'a'), (2, 'b')")
                writer.execute(f"UPDATE {table} SET name = 'c' WHERE id = 1")
            got = hear(2)
            with pytest.raises(psycopg.errors.DivisionByZero):
                with writer.transaction():
                    writer.execute(f"INSERT INTO {table} (id) VALUES (3)")
                    writer.execute("SELECT 1/0")
            with writer.transaction():
                writer.execute(f"DELETE FROM {table} WHERE id = 2")
            got += hear(1)
    # One notification per row, the rolled-back insert of 3 never.
    assert [(c["op"], c["pk"]["id"]) for c in got] == [
        ("insert", 1),
        ("insert", 2),
        ("delete", 2),
    ]
    assert got[0]["columns"]["name"] == "c"


def test_psycopg3_row_feed_errors(dsn, feed_table):
    table, channel = feed_table
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            conn.execute(f'LISTEN "patina:changes:{new_name("missing")}"')
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute(f"NOTIFY \"{channel}\", 'forged'")
        with pytest.raises(psycopg.errors.InvalidParameterValue):
            conn.execute("SELECT pg_notify(%s, 'forged')", (channel,))


def test_asyncpg_row_feed_add_listener(pg, writer_pg, feed_table):
    table, channel = feed_table

    async def run():
        listener = await asyncpg.connect(
            host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"]
        )
        queue = asyncio.Queue()

        def on_change(_conn, _pid, _channel, payload):
            queue.put_nowait(payload)

        await listener.add_listener(channel, on_change)
        writer = await asyncpg.connect(
            host=writer_pg["host"],
            port=writer_pg["port"],
            user=writer_pg["user"],
            database=writer_pg["dbname"],
        )
        # Each write heard before the next: another node merging a burst of
        # commits may apply only their net effect.
        got = []
        for sql in [
            f"INSERT INTO {table} (id, name) VALUES (1, 'a')",
            f"UPDATE {table} SET flag = false WHERE id = 1",
        ]:
            await writer.execute(sql)
            got.append(change(await asyncio.wait_for(queue.get(), TIMEOUT)))
        assert got[1] == {
            "table": table,
            "op": "update",
            "pk": {"id": 1},
            "columns": {"flag": False},
        }
        # Removing the last callback is UNLISTEN: the feed stops. The
        # sentinel comes after the delete's version, so the delete's
        # notification would have come first.
        await listener.remove_listener(channel, on_change)
        await writer.execute(f"DELETE FROM {table} WHERE id = 1")
        await listener.add_listener("sentinel", lambda *_: queue.put_nowait("sentinel"))
        await writer.execute("NOTIFY sentinel")
        assert await asyncio.wait_for(queue.get(), TIMEOUT) == "sentinel"
        await writer.close()
        await listener.close()

    asyncio.run(run())


# Query subscriptions (`SELECT * FROM patina_subscribe('<query>')`):
# patina's own, so these run against patina only.


@pytest.fixture
def sub_table(dsn, writer_dsn):
    """A fresh table holding two rows, on patina (and on the writer's
    node)."""
    if not server_is_patina(dsn):
        pytest.skip("query subscriptions are patina's")
    table = new_name("sub")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(table_ddl(table))
        conn.execute(f"INSERT INTO {table} (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 5)")
    wait_for_rows(writer_dsn, table, 2)
    return table


def sub_change(payload):
    """A subscription change: (change_id, op, row_id, row or None)."""
    p = json.loads(payload, parse_float=Decimal)
    return p["change_id"], p["op"], p["row_id"], p.get("row")


def replay(rows, last, payload):
    """Applies a change to rows (row id -> row); returns its change id,
    which must follow `last`. Changes of writes the server handled together
    may come as their net effect."""
    change_id, op, row_id, row = sub_change(payload)
    assert change_id == last + 1, (last, payload)
    if op == "delete":
        del rows[row_id]
    else:
        assert (row_id in rows) == (op == "update"), payload
        rows[row_id] = row
    return change_id


def values(rows):
    return sorted(rows.values(), key=lambda r: json.dumps(r, sort_keys=True, default=str))


def test_psycopg2_query_subscription(dsn, writer_dsn, sub_table):
    listener = psycopg2.connect(dsn)
    listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    cur = listener.cursor()
    query = f"SELECT id, name FROM {sub_table} WHERE qty > 2"
    cur.execute("SELECT * FROM patina_subscribe(%s)", (query,))
    assert [d.name for d in cur.description] == [
        "patina_sub", "patina_change_id", "patina_row_id", "id", "name"
    ]
    rows = cur.fetchall()
    assert [(r[1], r[3], r[4]) for r in rows] == [(0, 2, "b")]
    sub = rows[0][0]
    assert any(f'subscribed to "patina:sub:{sub}" at change 0' in n for n in listener.notices)
    state = {r[2]: {"id": r[3], "name": r[4]} for r in rows}
    last = 0

    def follow_until(expected):
        nonlocal last
        while values(state) != expected:
            ready, _, _ = select.select([listener], [], [], TIMEOUT)
            assert ready, f"timed out at {state}"
            listener.poll()
            while listener.notifies:
                n = listener.notifies.pop(0)
                assert n.channel == f"patina:sub:{sub}"
                last = replay(state, last, n.payload)

    writes(writer_dsn, [f"UPDATE {sub_table} SET qty = 3 WHERE id = 1"])
    follow_until([{"id": 1, "name": "a"}, {"id": 2, "name": "b"}])
    assert last == 1
    writes(writer_dsn, [
        f"UPDATE {sub_table} SET name = 'bb' WHERE id = 2",
        f"DELETE FROM {sub_table} WHERE id = 1",
    ])
    follow_until([{"id": 2, "name": "bb"}])
    assert state == {rows[0][2]: {"id": 2, "name": "bb"}}
    listener.close()


def test_psycopg3_query_subscription_resume(dsn, writer_dsn, sub_table):
    query = f"SELECT id, qty FROM {sub_table}"
    with psycopg.connect(dsn, autocommit=True) as first:
        # The query is a literal (Describe must know its columns): composed
        # client side, not bound.
        statement = psycopg.sql.SQL("SELECT * FROM patina_subscribe({})").format(query)
        rows = first.execute(statement).fetchall()
        sub, at = rows[0][0], rows[0][1]
        with pytest.raises(psycopg.errors.FeatureNotSupported):
            first.execute("SELECT * FROM patina_subscribe(%s)", (query,))
        writes(writer_dsn, [f"UPDATE {sub_table} SET qty = qty + 10"])
        # Followed here until the update is in: the changes to resume.
        expected = [{"id": 1, "qty": 11}, {"id": 2, "qty": 15}]
        seen = {r[2]: {"id": r[3], "qty": r[4]} for r in rows}
        seen_last = at
        for n in first.notifies(timeout=TIMEOUT):
            seen_last = replay(seen, seen_last, n.payload)
            if values(seen) == expected:
                break
        assert values(seen) == expected, seen
    with psycopg.connect(dsn, autocommit=True) as again:
        # psycopg 3 binds the parameters (extended protocol).
        resumed = again.execute("SELECT * FROM patina_resume(%s, %s)", (sub, at)).fetchall()
        assert resumed[0][0] == sub
        assert resumed[0][1] == seen_last
        state = {r[2]: {"id": r[3], "qty": r[4]} for r in rows}
        last = at
        for n in again.notifies(timeout=TIMEOUT, stop_after=resumed[0][1] - at):
            last = replay(state, last, n.payload)
        assert last == resumed[0][1]
        assert values(state) == expected
        with pytest.raises(psycopg.errors.UndefinedObject):
            again.execute("SELECT * FROM patina_resume('nope', 0)")
        with pytest.raises(psycopg.errors.UndefinedTable):
            again.execute("SELECT * FROM patina_subscribe('SELECT * FROM nope')")


def test_asyncpg_query_subscription(pg, writer_pg, sub_table):
    async def run():
        listener = await asyncpg.connect(
            host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"]
        )
        # asyncpg prepares: Describe reports the query's own columns too.
        rows = await listener.fetch(
            f"SELECT * FROM patina_subscribe('SELECT count(*) AS n FROM {sub_table}')"
        )
        assert [(r["patina_change_id"], r["n"]) for r in rows] == [(0, 2)]
        sub = rows[0]["patina_sub"]
        queue = asyncio.Queue()
        await listener.add_listener(
            f"patina:sub:{sub}", lambda _c, _p, _ch, payload: queue.put_nowait(payload)
        )
        writer = await asyncpg.connect(
            host=writer_pg["host"],
            port=writer_pg["port"],
            user=writer_pg["user"],
            database=writer_pg["dbname"],
        )
        await writer.execute(f"INSERT INTO {sub_table} (id) VALUES (3)")
        change = sub_change(await asyncio.wait_for(queue.get(), TIMEOUT))
        assert change == (1, "update", rows[0]["patina_row_id"], {"n": 3})
        with pytest.raises(asyncpg.exceptions.FeatureNotSupportedError):
            await listener.fetch("SELECT * FROM patina_subscribe($1)", "SELECT 1")
        await writer.close()
        await listener.close()

    asyncio.run(run())
