'use strict'
// node-postgres (pg) against the server: parameterless queries use the
// simple protocol; queries with parameters an unnamed Parse without
// parameter OIDs, text in and out; named statements ({ name }) are parsed
// once per connection. Every expectation here is what PostgreSQL 15 does.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { pg, config, connect, newName, makeTable, ERROR_CASES, fill } = require('./helpers')

// Runs body with a fresh client, always closing it.
async function withClient (body, extra) {
  const c = await connect(extra)
  try {
    return await body(c)
  } finally {
    await c.end()
  }
}

async function rejectsWith (promise, code) {
  let err
  try {
    await promise
  } catch (e) {
    err = e
  }
  assert.ok(err, `expected an error with SQLSTATE ${code}, got success`)
  assert.equal(err.code, code, `SQLSTATE of: ${err.message}`)
  return err
}

async function count (c, t) {
  return Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n)
}

async function ids (c, t) {
  return (await c.query(`SELECT id FROM ${t} ORDER BY id`)).rows.map(r => r.id)
}

describe('connecting', () => {
  it('SHOW gives PostgreSQL 15 settings', async () => {
    await withClient(async c => {
      const show = async name => Object.values((await c.query(`SHOW ${name}`)).rows[0])[0]
      assert.match(await show('server_version'), /^15\./)
      assert.equal(await show('client_encoding'), 'UTF8')
      assert.match(await show('DateStyle'), /^ISO/)
      assert.equal(await show('standard_conforming_strings'), 'on')
    })
  })

  it('receives ParameterStatus messages', async () => {
    const c = new pg.Client(config())
    const seen = {}
    c.connection.on('parameterStatus', m => { seen[m.parameterName] = m.parameterValue })
    await c.connect()
    try {
      assert.match(seen.server_version, /^15\./)
      assert.equal(seen.client_encoding, 'UTF8')
      assert.match(seen.DateStyle, /^ISO/)
      assert.equal(seen.standard_conforming_strings, 'on')
      assert.equal(seen.integer_datetimes, 'on')
    } finally {
      await c.end()
    }
  })

  it('a pool runs queries on several connections', async () => {
    const pool = new pg.Pool(config({ max: 3 }))
    try {
      const rows = await Promise.all([1, 2, 3, 4, 5, 6].map(i => pool.query('SELECT $1::int * 2 AS v', [i])))
      assert.deepEqual(rows.map(r => r.rows[0].v), [2, 4, 6, 8, 10, 12])
    } finally {
      await pool.end()
    }
  })
})

describe('parameterized CRUD', () => {
  let t
  before(async () => { t = await makeTable() })

  it('insert, select, update, delete with text parameters', async () => {
    await withClient(async c => {
      const created = new Date('2024-01-02T01:04:05.678Z')
      let r = await c.query(
        `INSERT INTO ${t} (id, name, qty, price, tags, doc, created, flag)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         RETURNING id, name, qty, price, tags, doc, created, flag`,
        [1, 'widget', 3, '9.90', ['a', 'b c'], JSON.stringify({ k: [1, 2] }), created, true])
      assert.equal(r.command, 'INSERT')
      assert.equal(r.rowCount, 1)
      assert.deepEqual(r.rows[0], {
        id: 1,
        name: 'widget',
        qty: 3,
        price: '9.90', // numeric comes back as its text
        tags: ['a', 'b c'],
        doc: { k: [1, 2] },
        created,
        flag: true
      })
      assert.deepEqual(r.fields.map(f => f.dataTypeID), [23, 25, 23, 1700, 1009, 3802, 1184, 16])

      r = await c.query(`UPDATE ${t} SET qty = qty + $1, name = $2 WHERE id = $3`, [2, 'gadget', 1])
      assert.equal(r.command, 'UPDATE')
      assert.equal(r.rowCount, 1)
      r = await c.query(`SELECT name, qty FROM ${t} WHERE id = $1`, [1])
      assert.deepEqual(r.rows, [{ name: 'gadget', qty: 5 }])
      r = await c.query(`DELETE FROM ${t} WHERE id = $1`, [1])
      assert.equal(r.command, 'DELETE')
      assert.equal(r.rowCount, 1)
      assert.equal(await count(c, t), 0)
    })
  })

  it('null, text escaping and unicode round-trip', async () => {
    const t2 = await makeTable()
    await withClient(async c => {
      const values = ["O'Reilly", 'back\\slash', 'ünïcödé ✓ 🐘', '', 'line\nbreak', null]
      for (let i = 0; i < values.length; i++) {
        await c.query(`INSERT INTO ${t2} (id, name) VALUES ($1, $2)`, [i, values[i]])
      }
      const r = await c.query(`SELECT name FROM ${t2} ORDER BY id`)
      assert.deepEqual(r.rows.map(x => x.name), values)
      assert.equal(Number((await c.query(`SELECT count(*) AS n FROM ${t2} WHERE name IS NULL`)).rows[0].n), 1)
    })
  })

  it('count is int8 (returned as a string) and rowCount of SELECT', async () => {
    const t2 = await makeTable()
    await withClient(async c => {
      await c.query(`INSERT INTO ${t2} (id, qty) VALUES (1, 2), (2, 3)`)
      const r = await c.query(`SELECT count(*) AS n, sum(qty) AS s FROM ${t2}`)
      assert.deepEqual(r.rows[0], { n: '2', s: '5' })
      assert.deepEqual(r.fields.map(f => f.dataTypeID), [20, 20])
      const s = await c.query(`SELECT id FROM ${t2} ORDER BY id`)
      assert.equal(s.command, 'SELECT')
      assert.equal(s.rowCount, 2)
    })
  })

  it('parameter types are inferred by the server', async () => {
    const t2 = await makeTable()
    await withClient(async c => {
      await c.query(`INSERT INTO ${t2} (id, price, flag, created) VALUES ($1, $2, $3, $4)`,
        ['7', '1.5', 'true', '2024-01-02 03:04:05+00'])
      const r = await c.query(`SELECT id, price, flag, created FROM ${t2} WHERE id = $1 AND price > $2`, ['7', '1'])
      assert.deepEqual(r.rows, [{ id: 7, price: '1.50', flag: true, created: new Date('2024-01-02T03:04:05Z') }])
    })
  })

  it('rowMode array and multiple result columns of the same name', async () => {
    await withClient(async c => {
      const r = await c.query({ text: 'SELECT 1 AS a, 2 AS a, $1::text AS b', values: ['x'], rowMode: 'array' })
      assert.deepEqual(r.rows, [[1, 2, 'x']])
    })
  })
})

describe('prepared statements', () => {
  it('named statements are parsed once and reused', async () => {
    const t = await makeTable()
    await withClient(async c => {
      for (let i = 0; i < 10; i++) {
        await c.query({ name: 'ins', text: `INSERT INTO ${t} (id, qty) VALUES ($1, $2)`, values: [i, i * 2] })
      }
      for (let i = 0; i < 10; i++) {
        const r = await c.query({ name: 'sel', text: `SELECT qty FROM ${t} WHERE id = $1`, values: [i] })
        assert.deepEqual(r.rows, [{ qty: i * 2 }])
      }
    })
  })

  it('a named statement still works after an error in another query', async () => {
    const t = await makeTable()
    await withClient(async c => {
      const q = v => c.query({ name: 'ins', text: `INSERT INTO ${t} (id) VALUES ($1)`, values: [v] })
      await q(1)
      await rejectsWith(q(1), '23505')
      await rejectsWith(c.query('SELECT 1/0'), '22012')
      await q(2)
      assert.deepEqual(await ids(c, t), [1, 2])
    })
  })
})

describe('transactions and savepoints', () => {
  it('commit is visible to others, rollback discards', async () => {
    const t = await makeTable()
    await withClient(async c => {
      await withClient(async other => {
        await c.query('BEGIN')
        await c.query(`INSERT INTO ${t} (id) VALUES ($1)`, [1])
        assert.equal(await count(other, t), 0)
        await c.query('COMMIT')
        assert.equal(await count(other, t), 1)
        await c.query('BEGIN')
        await c.query(`INSERT INTO ${t} (id) VALUES ($1)`, [2])
        await c.query('ROLLBACK')
        assert.deepEqual(await ids(other, t), [1])
      })
    })
  })

  it('savepoints recover from an error', async () => {
    const t = await makeTable()
    await withClient(async c => {
      await c.query('BEGIN')
      await c.query(`INSERT INTO ${t} (id) VALUES (1)`)
      await c.query('SAVEPOINT s1')
      await c.query(`INSERT INTO ${t} (id) VALUES (2)`)
      await rejectsWith(c.query(`INSERT INTO ${t} (id) VALUES ($1)`, [1]), '23505')
      await rejectsWith(c.query('SELECT 1'), '25P02')
      await c.query('ROLLBACK TO SAVEPOINT s1')
      await c.query(`INSERT INTO ${t} (id) VALUES (3)`)
      await c.query('SAVEPOINT s2')
      await c.query(`INSERT INTO ${t} (id) VALUES (4)`)
      await c.query('RELEASE SAVEPOINT s2')
      await c.query('COMMIT')
      assert.deepEqual(await ids(c, t), [1, 3, 4])
    })
  })

  it('an error aborts the transaction until ROLLBACK (25P02)', async () => {
    const t = await makeTable()
    await withClient(async c => {
      await c.query('BEGIN')
      await c.query(`INSERT INTO ${t} (id) VALUES (1)`)
      await rejectsWith(c.query('SELECT $1::int / 0', [1]), '22012')
      const e = await rejectsWith(c.query(`SELECT * FROM ${t}`), '25P02')
      assert.equal(e.message, 'current transaction is aborted, commands ignored until end of transaction block')
      await rejectsWith(c.query(`SELECT * FROM ${t} WHERE id = $1`, [1]), '25P02')
      const r = await c.query('COMMIT')
      assert.equal(r.command, 'ROLLBACK')
      assert.equal(await count(c, t), 0)
    })
  })

  it('BEGIN ISOLATION LEVEL and SET TRANSACTION are shown', async () => {
    await withClient(async c => {
      const level = async () => (await c.query('SHOW transaction_isolation')).rows[0].transaction_isolation
      assert.equal(await level(), 'read committed')
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
      assert.equal(await level(), 'repeatable read')
      await c.query('COMMIT')
      await c.query('BEGIN')
      await c.query('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE')
      assert.equal(await level(), 'serializable')
      await c.query('ROLLBACK')
      assert.equal(await level(), 'read committed')
    })
  })

  it('a client that disconnects mid-transaction loses only that transaction', async () => {
    const t = await makeTable()
    const c = await connect()
    await c.query(`INSERT INTO ${t} (id) VALUES (1)`)
    await c.query('BEGIN')
    await c.query(`INSERT INTO ${t} (id) VALUES (2)`)
    c.on('error', () => {}) // "Connection terminated unexpectedly": expected
    const ended = new Promise(resolve => c.once('end', resolve))
    c.connection.stream.destroy() // drop the socket, no COMMIT, no Terminate
    await ended
    await withClient(async c2 => {
      assert.deepEqual(await ids(c2, t), [1])
      await c2.query(`INSERT INTO ${t} (id) VALUES (2)`)
      assert.deepEqual(await ids(c2, t), [1, 2])
    })
  })

  it('reads do not wait for an open write transaction', async () => {
    const t = await makeTable()
    await withClient(async writer => {
      await withClient(async reader => {
        await writer.query('BEGIN')
        await writer.query(`INSERT INTO ${t} (id, qty) VALUES (1, 1)`)
        assert.equal(await count(reader, t), 0)
        assert.deepEqual((await reader.query('SELECT 1 AS one')).rows, [{ one: 1 }])
        await writer.query('COMMIT')
        assert.equal(await count(reader, t), 1)
      })
    })
  })
})

describe('errors: SQLSTATE and the connection afterwards', () => {
  for (const [code, label, sql, message] of ERROR_CASES) {
    for (const proto of ['simple', 'extended']) {
      it(`${code} ${label} (${proto} protocol)`, async () => {
        const t = await makeTable()
        const u = newName('missing')
        await withClient(async c => {
          await c.query(`INSERT INTO ${t} (id, name) VALUES (1, 'first')`)
          // queryMode 'extended': Parse/Bind/Execute even without parameters
          const q = proto === 'simple'
            ? c.query(fill(sql, t, u))
            : c.query({ text: `${fill(sql, t, u)}`, values: [], queryMode: 'extended' })
          const e = await rejectsWith(q, code)
          assert.equal(e.severity, 'ERROR')
          const r = await c.query(`SELECT id, name, qty FROM ${t} WHERE id = $1`, [1])
          assert.deepEqual(r.rows, [{ id: 1, name: 'first', qty: 0 }])
          assert.equal(e.message, fill(message, t, u))
        })
      })
    }
  }

  it('error fields name the table, constraint and column', async () => {
    const t = await makeTable()
    await withClient(async c => {
      await c.query(`INSERT INTO ${t} (id) VALUES (1)`)
      let e = await rejectsWith(c.query(`INSERT INTO ${t} (id) VALUES ($1)`, [1]), '23505')
      // No DETAIL ("Key (id)=(1) already exists."): see tests/clients/README.md.
      assert.deepEqual([e.schema, e.table, e.constraint], ['public', t, `${t}_pkey`])
      e = await rejectsWith(c.query(`INSERT INTO ${t} (id, qty) VALUES ($1, $2)`, [2, null]), '23502')
      assert.deepEqual([e.table, e.column], [t, 'qty'])
      e = await rejectsWith(c.query(`INSERT INTO ${t} (id, qty) VALUES ($1, $2)`, [3, -1]), '23514')
      assert.equal(e.constraint, `${t}_qty_check`)
    })
  })

  it('a parameter that is not a valid integer is 22P02', async () => {
    const t = await makeTable()
    await withClient(async c => {
      const e = await rejectsWith(c.query(`INSERT INTO ${t} (id) VALUES ($1)`, ['abc']), '22P02')
      assert.equal(e.message, 'invalid input syntax for type integer: "abc"')
      assert.equal(await count(c, t), 0)
    })
  })

  it('FOREIGN KEY: enforced (23503) or refused at CREATE TABLE (0A000)', async () => {
    // PostgreSQL enforces it; patina cannot across replicas and refuses it.
    const parent = newName('parent')
    const child = newName('child')
    await withClient(async c => {
      await c.query(`CREATE TABLE ${parent} (id integer PRIMARY KEY)`)
      let refused = null
      try {
        await c.query(`CREATE TABLE ${child} (id integer PRIMARY KEY, p integer REFERENCES ${parent} (id))`)
      } catch (e) {
        refused = e
      }
      if (refused) {
        assert.equal(refused.code, '0A000', refused.message)
        assert.match(refused.message, /FOREIGN KEY/)
        assert.deepEqual((await c.query('SELECT 1 AS x')).rows, [{ x: 1 }])
        return
      }
      await c.query(`INSERT INTO ${parent} (id) VALUES (1)`)
      await c.query(`INSERT INTO ${child} (id, p) VALUES ($1, $2)`, [1, 1])
      await rejectsWith(c.query(`INSERT INTO ${child} (id, p) VALUES ($1, $2)`, [2, 2]), '23503')
    })
  })
})

describe('simple protocol multi-statement queries', () => {
  it('run as one implicit transaction, rolled back at the first error', async () => {
    const t = await makeTable()
    await withClient(async c => {
      await rejectsWith(c.query(
        `INSERT INTO ${t} (id) VALUES (1); INSERT INTO ${t} (id) VALUES (2); SELECT 1/0; INSERT INTO ${t} (id) VALUES (3)`),
      '22012')
      assert.equal(await count(c, t), 0)
      const r = await c.query(`INSERT INTO ${t} (id) VALUES (1); SELECT count(*) AS n FROM ${t}`)
      assert.equal(r.length, 2)
      assert.equal(r[0].command, 'INSERT')
      assert.deepEqual(r[1].rows, [{ n: '1' }])
    })
  })

  it('several statements with parameters are refused (42601)', async () => {
    await withClient(async c => {
      const e = await rejectsWith(c.query('SELECT $1::int; SELECT 2', [1]), '42601')
      assert.equal(e.message, 'cannot insert multiple commands into a prepared statement')
      assert.deepEqual((await c.query('SELECT 3 AS x')).rows, [{ x: 3 }])
    })
  })
})

describe('session statements', () => {
  it('SET, SHOW, RESET ALL, DISCARD ALL, DEALLOCATE ALL', async () => {
    await withClient(async c => {
      const show = async () => (await c.query('SHOW application_name')).rows[0].application_name
      assert.equal(await show(), 'from-startup')
      let r = await c.query("SET application_name = 'node'")
      assert.equal(r.command, 'SET')
      assert.equal(await show(), 'node')
      r = await c.query('RESET ALL')
      assert.equal(r.command, 'RESET')
      assert.equal(await show(), 'from-startup')
      await c.query("SET application_name = 'again'")
      r = await c.query('DISCARD ALL')
      assert.equal(r.command, 'DISCARD')
      assert.equal(await show(), 'from-startup')
      r = await c.query('DEALLOCATE ALL')
      assert.equal(r.command, 'DEALLOCATE')
    }, { application_name: 'from-startup' })
  })

  it('SET TIME ZONE changes timestamptz text output', async () => {
    await withClient(async c => {
      await c.query("SET TIME ZONE 'UTC'")
      const r = await c.query("SELECT '2024-01-02 03:04:05+02'::timestamptz::text AS t")
      assert.equal(r.rows[0].t, '2024-01-02 01:04:05+00')
    })
  })
})

describe('concurrency', () => {
  let clients = []
  after(async () => { await Promise.all(clients.map(c => c.end())) })

  it('several connections write at once', async () => {
    const t = await makeTable()
    clients = await Promise.all([0, 1, 2, 3].map(() => connect()))
    await Promise.all(clients.map(async (c, k) => {
      for (let i = 0; i < 10; i++) {
        await c.query(`INSERT INTO ${t} (id, qty) VALUES ($1, $2)`, [k * 100 + i, k])
        await c.query(`SELECT count(*) FROM ${t}`)
      }
    }))
    const r = await clients[0].query(`SELECT qty, count(*)::int AS n FROM ${t} GROUP BY qty ORDER BY qty`)
    assert.deepEqual(r.rows, [0, 1, 2, 3].map(k => ({ qty: k, n: 10 })))
  })
})
