"""LISTEN/NOTIFY through each Python driver's own notification API:
psycopg2 (`poll()` and `connection.notifies`), psycopg 3
(`Connection.notifies()`) and asyncpg (`add_listener`). The notifying
connection is a different one; notifications arrive at commit, in order,
with identical pairs of one transaction folded. Every expectation here is
what PostgreSQL 15 does."""

import asyncio
import select

import asyncpg
import psycopg
import psycopg2
import psycopg2.extensions

from conftest import new_name

TIMEOUT = 20


def notifier(dsn, channel, payloads):
    """Commits `payloads` on `channel` in one transaction, from psycopg 3."""
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            for payload in payloads:
                cur.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def test_psycopg2_poll_and_notifies(dsn):
    channel = new_name("ch")
    listener = psycopg2.connect(dsn)
    listener.set_isolation_level(psycopg2.extensions.ISOLATION_LEVEL_AUTOCOMMIT)
    listener.cursor().execute(f"LISTEN {channel}")
    notifier(dsn, channel, ["one", "two", "one", "three"])
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


def test_psycopg3_notifies_generator(dsn):
    channel = new_name("ch")
    with psycopg.connect(dsn, autocommit=True) as listener:
        listener.execute(f"LISTEN {channel}")
        notifier(dsn, channel, ["a", "b"])
        received = []
        for n in listener.notifies(timeout=TIMEOUT, stop_after=2):
            received.append((n.channel, n.payload))
        assert received == [(channel, "a"), (channel, "b")]


def test_asyncpg_add_listener(pg):
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
            host=pg["host"], port=pg["port"], user=pg["user"], database=pg["dbname"]
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
