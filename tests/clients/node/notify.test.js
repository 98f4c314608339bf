'use strict'
// LISTEN/NOTIFY through node-postgres's 'notification' event: another
// connection notifies, on another node of the cluster when there is one
// (connectWriter), so what the listener hears arrives by replication;
// notifications arrive at commit, in order, with
// identical pairs of one transaction folded, and never after a rollback.
// Every expectation here is what PostgreSQL 15 does, except the row change
// feed (LISTEN "patina:changes:<table>"), patina's own, skipped elsewhere.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { connect, connectWriter, waitForRows, newName, makeTable } = require('./helpers')

describe('LISTEN/NOTIFY', () => {
  it("delivers committed notifications to the 'notification' event", async () => {
    const channel = newName('ch')
    const listener = await connect()
    const notifier = await connectWriter()
    try {
      const received = []
      let wake
      listener.on('notification', (n) => {
        received.push([n.channel, n.payload])
        if (wake && received.length >= 3) wake()
      })
      const all = new Promise((resolve) => { wake = resolve })
      await listener.query(`LISTEN ${channel}`)
      await notifier.query('BEGIN')
      await notifier.query(`NOTIFY ${channel}, 'rolled back'`)
      await notifier.query('ROLLBACK')
      await notifier.query('BEGIN')
      await notifier.query(`NOTIFY ${channel}, 'one'`)
      await notifier.query(`NOTIFY ${channel}, 'one'`)
      await notifier.query('SELECT pg_notify($1, $2)', [channel, 'two'])
      await notifier.query('COMMIT')
      await notifier.query(`NOTIFY ${channel}, 'three'`)
      let timer
      const timeout = new Promise((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(received)}`)), 20000)
      })
      await Promise.race([all, timeout])
      clearTimeout(timer)
      assert.deepEqual(received, [[channel, 'one'], [channel, 'two'], [channel, 'three']])
    } finally {
      await listener.end()
      await notifier.end()
    }
  })
})

// Collects what the 'notification' event brings until `count` arrived;
// `stop()` stops collecting.
function collect (client, count) {
  const received = []
  let timer
  let onNotification
  return {
    received,
    done: new Promise((resolve, reject) => {
      onNotification = (n) => {
        received.push(n)
        if (received.length >= count) resolve(received)
      }
      client.on('notification', onNotification)
      timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(received)}`)), 20000)
    }).finally(() => clearTimeout(timer)),
    stop: () => client.off('notification', onNotification)
  }
}

describe('row change feeds', () => {
  it('reports each committed row on patina:changes:<table>', async (t) => {
    const listener = await connect()
    const writer = await connectWriter()
    try {
      const { rows: [{ version }] } = await listener.query('SELECT version()')
      if (!version.includes('(patina')) {
        t.skip("row change feeds are patina's")
        return
      }
      const table = await makeTable()
      await waitForRows(writer, table, 0)
      const channel = `patina:changes:${table}`
      await listener.query(`LISTEN "${channel}"`)
      // Each transaction heard before the next: another node merging a
      // burst of commits may apply only their net effect.
      const first = collect(listener, 2)
      await writer.query('BEGIN')
      await writer.query(`INSERT INTO ${table} (id, name, price, tags) VALUES ($1, $2, $3, $4)`, [1, 'bolt', '2.50', ['x', 'y']])
      await writer.query(`INSERT INTO ${table} (id) VALUES (2)`)
      await writer.query('COMMIT')
      await first.done
      first.stop()
      const then = collect(listener, 1)
      await writer.query('BEGIN')
      await writer.query(`DELETE FROM ${table} WHERE id = 2`)
      await writer.query('ROLLBACK')
      await writer.query(`UPDATE ${table} SET name = $1 WHERE id = $2`, ['nut', 1])
      await then.done
      then.stop()
      const received = [...first.received, ...then.received]
      assert.ok(received.every((n) => n.channel === channel))
      const payloads = received.map((n) => JSON.parse(n.payload))
      assert.deepEqual(payloads.map((p) => [p.op, p.pk.id]), [['insert', 1], ['insert', 2], ['update', 1]])
      assert.equal(payloads[0].table, table)
      assert.equal(payloads[0].columns.price, 2.5)
      assert.equal(payloads[0].columns.tags, '{x,y}')
      assert.deepEqual(payloads[2].columns, { name: 'nut' })
      // One transaction, one writer and version; the next one after it.
      assert.equal(payloads[0].db_version, payloads[1].db_version)
      assert.ok(payloads[2].db_version > payloads[1].db_version)
      assert.match(payloads[0].origin, /^[0-9a-f]{32}$/)
      await assert.rejects(listener.query(`NOTIFY "${channel}", 'forged'`), { code: '22023' })
      await assert.rejects(listener.query(`LISTEN "patina:changes:${newName('missing')}"`), { code: '42P01' })
    } finally {
      await listener.end()
      await writer.end()
    }
  })
})

describe('query subscriptions', () => {
  it("follows a query's result on patina:sub:<id>, and resumes", async (t) => {
    const listener = await connect()
    const writer = await connectWriter()
    try {
      const { rows: [{ version }] } = await listener.query('SELECT version()')
      if (!version.includes('(patina')) {
        t.skip("query subscriptions are patina's")
        return
      }
      const table = await makeTable()
      await waitForRows(writer, table, 0)
      await writer.query(`INSERT INTO ${table} (id, name, qty) VALUES (1, 'a', 1), (2, 'b', 5)`)
      await waitForRows(listener, table, 2)
      const query = `SELECT id, name FROM ${table} WHERE qty > 2`
      const notices = []
      listener.on('notice', (n) => notices.push(n.message))
      const { rows, fields } = await listener.query(`SELECT * FROM patina_subscribe('${query}')`)
      assert.deepEqual(fields.map((f) => f.name), ['patina_sub', 'patina_change_id', 'patina_row_id', 'id', 'name'])
      assert.deepEqual(rows.map((r) => [r.patina_change_id, r.id, r.name]), [['0', 2, 'b']])
      const sub = rows[0].patina_sub
      assert.ok(notices.includes(`subscribed to "patina:sub:${sub}" at change 0`), JSON.stringify(notices))
      const changes = collect(listener, 1)
      await writer.query(`UPDATE ${table} SET qty = $1 WHERE id = $2`, [9, 1])
      await changes.done
      const change = JSON.parse(changes.received[0].payload)
      assert.equal(changes.received[0].channel, `patina:sub:${sub}`)
      assert.deepEqual(change, { change_id: 1, op: 'insert', row_id: 2, row: { id: 1, name: 'a' } })

      // Another connection resumes after change 0: it gets change 1 again.
      const again = await connect()
      try {
        const missed = collect(again, 1)
        const resumed = await again.query('SELECT * FROM patina_resume($1, $2)', [sub, 0])
        assert.deepEqual(resumed.rows, [{ patina_sub: sub, patina_change_id: '1' }])
        await missed.done
        assert.deepEqual(JSON.parse(missed.received[0].payload), change)
        await assert.rejects(again.query("SELECT * FROM patina_resume('nope', 0)"), { code: '42704' })
        await assert.rejects(again.query("SELECT * FROM patina_subscribe('SELECT * FROM nope')"), { code: '42P01' })
      } finally {
        await again.end()
      }
    } finally {
      await listener.end()
      await writer.end()
    }
  })
})
