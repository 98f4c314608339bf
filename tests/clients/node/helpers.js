'use strict'
// Shared helpers of the node-postgres suites. The server under test comes
// from the libpq environment variables PGHOST (default 127.0.0.1), PGPORT
// (default 5433), PGUSER (default postgres), PGDATABASE (default postgres)
// and PGPASSWORD. Every test makes its own uniquely named tables. The
// notification tests write on another node of the same cluster, at
// PATINA_WRITER_PORT (`tests/clients/run` starts it), so what they hear
// arrives by replication; without it they write on PGPORT.

const crypto = require('node:crypto')
const pg = require('pg')

function config (extra = {}) {
  return {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5433),
    user: process.env.PGUSER || 'postgres',
    database: process.env.PGDATABASE || 'postgres',
    password: process.env.PGPASSWORD || undefined,
    // a hung query fails its test instead of the whole run (no per-test
    // timeout of the runner: CREATE TABLE may be slow on a big schema)
    query_timeout: 30000,
    connectionTimeoutMillis: 10000,
    ...extra
  }
}

async function connect (extra) {
  const c = new pg.Client(config(extra))
  await c.connect()
  return c
}

// A connection to the writer's node.
async function connectWriter (extra) {
  const port = Number(process.env.PATINA_WRITER_PORT || process.env.PGPORT || 5433)
  return connect({ port, ...extra })
}

// Polls (bounded) until `table` exists on `client`'s node holding `count`
// rows: a table made on one node reaches the others by replication.
async function waitForRows (client, table, count) {
  const deadline = Date.now() + 30000
  let last
  while (Date.now() < deadline) {
    try {
      const { rows: [{ n }] } = await client.query(`SELECT count(*)::int AS n FROM ${table}`)
      if (n === count) return
      last = n
    } catch (e) {
      if (e.code !== '42P01') throw e
      last = e.message
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`${table}: expected ${count} rows, last saw ${last}`)
}

function newName (prefix = 't') {
  return `${prefix}_${crypto.randomBytes(8).toString('hex')}`
}

// patina's rules: a primary key on every table, NOT NULL columns outside the
// key need a DEFAULT, no UNIQUE outside the key, no FOREIGN KEY.
function tableDdl (name) {
  return `CREATE TABLE ${name} (
    id integer PRIMARY KEY,
    name text,
    qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0),
    price numeric(10,2),
    tags text[],
    doc jsonb,
    created timestamptz DEFAULT now(),
    flag boolean
  )`
}

async function makeTable () {
  const name = newName()
  const c = await connect()
  try {
    await c.query(tableDdl(name))
  } finally {
    await c.end()
  }
  return name
}

// Statements and the error PostgreSQL 15 answers, run against a table {t}
// holding the row id = 1. {u} is a fresh name. The same list as the Python
// suites' conftest.py.
const ERROR_CASES = [
  ['23505', 'duplicate-primary-key', "INSERT INTO {t} (id, name) VALUES (1, 'again')",
    'duplicate key value violates unique constraint "{t}_pkey"'],
  ['23502', 'null-into-not-null-column', 'INSERT INTO {t} (id, qty) VALUES (2, NULL)',
    'null value in column "qty" of relation "{t}" violates not-null constraint'],
  ['23502', 'null-primary-key', "INSERT INTO {t} (id, name) VALUES (NULL, 'no key')",
    'null value in column "id" of relation "{t}" violates not-null constraint'],
  ['23514', 'check-on-insert', 'INSERT INTO {t} (id, qty) VALUES (3, -1)',
    'new row for relation "{t}" violates check constraint "{t}_qty_check"'],
  ['23514', 'check-on-update', 'UPDATE {t} SET qty = -5 WHERE id = 1',
    'new row for relation "{t}" violates check constraint "{t}_qty_check"'],
  ['42601', 'syntax-error', 'SELEC 1', 'syntax error at or near "SELEC"'],
  ['42P01', 'undefined-table', 'SELECT * FROM {u}', 'relation "{u}" does not exist'],
  ['42703', 'undefined-column', 'SELECT no_such_column FROM {t}',
    'column "no_such_column" does not exist'],
  ['22012', 'division-by-zero', 'SELECT 1/0', 'division by zero'],
  ['22P02', 'invalid-text-representation', "SELECT 'abc'::int",
    'invalid input syntax for type integer: "abc"'],
  ['0A000', 'cross-database-reference', 'SELECT * FROM other_db.public.{t}',
    'cross-database references are not implemented: "other_db.public.{t}"'],
  ['0A000', 'for-update-with-aggregate', 'SELECT count(*) FROM {t} FOR UPDATE',
    'FOR UPDATE is not allowed with aggregate functions']
]

function fill (text, t, u) {
  return text.replaceAll('{t}', t).replaceAll('{u}', u)
}

module.exports = {
  pg, config, connect, connectWriter, waitForRows, newName, tableDdl, makeTable, ERROR_CASES, fill
}
