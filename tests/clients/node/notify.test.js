'use strict'
// LISTEN/NOTIFY through node-postgres's 'notification' event: another
// connection notifies; notifications arrive at commit, in order, with
// identical pairs of one transaction folded, and never after a rollback.
// Every expectation here is what PostgreSQL 15 does.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { connect, newName } = require('./helpers')

describe('LISTEN/NOTIFY', () => {
  it("delivers committed notifications to the 'notification' event", async () => {
    const channel = newName('ch')
    const listener = await connect()
    const notifier = await connect()
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
