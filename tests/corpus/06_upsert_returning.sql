-- RETURNING and INSERT … ON CONFLICT.

CREATE TABLE ur_kv (
    k text PRIMARY KEY,
    v int NOT NULL DEFAULT 0,
    hits int DEFAULT 1,
    updated boolean DEFAULT false
);

INSERT INTO ur_kv (k, v) VALUES ('a', 1) RETURNING k, v, hits;

INSERT INTO ur_kv (k, v) VALUES ('b', 2), ('c', 3) RETURNING *;

INSERT INTO ur_kv (k, v) VALUES ('a', 10) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v, hits = ur_kv.hits + 1, updated = true;

SELECT k, v, hits, updated FROM ur_kv ORDER BY k;

INSERT INTO ur_kv (k, v) VALUES ('a', 100) ON CONFLICT (k) DO NOTHING;

INSERT INTO ur_kv (k, v) VALUES ('b', 100) ON CONFLICT DO NOTHING;

INSERT INTO ur_kv (k, v) VALUES ('d', 4) ON CONFLICT DO NOTHING;

SELECT k, v FROM ur_kv ORDER BY k;

INSERT INTO ur_kv (k, v) VALUES ('b', 20), ('e', 5) ON CONFLICT (k) DO UPDATE SET v = ur_kv.v + EXCLUDED.v RETURNING k, v;

INSERT INTO ur_kv (k, v) VALUES ('c', 30) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v WHERE ur_kv.v > 100 RETURNING k;

INSERT INTO ur_kv AS t (k, v) VALUES ('c', 31) ON CONFLICT (k) DO UPDATE SET v = t.v + EXCLUDED.v RETURNING t.k, t.v;

INSERT INTO ur_kv (k, v) VALUES ('a', 0) ON CONFLICT (k) DO NOTHING RETURNING k;

SELECT k, v, hits FROM ur_kv ORDER BY k;

UPDATE ur_kv SET v = v * 10 WHERE k IN ('a', 'b') RETURNING k, v;

UPDATE ur_kv SET hits = hits + 1 RETURNING k, hits AS h;

DELETE FROM ur_kv WHERE v > 100 RETURNING k, v;

DELETE FROM ur_kv WHERE k = 'zzz' RETURNING k;

SELECT k FROM ur_kv ORDER BY k;

CREATE TABLE ur_items (
    id serial PRIMARY KEY,
    name text,
    price numeric(8,2) DEFAULT 0,
    created timestamptz DEFAULT now()
);

INSERT INTO ur_items (name, price) VALUES ('pen', 1.5) RETURNING id, name, price;

INSERT INTO ur_items (name) VALUES ('cup') RETURNING id, price, created <= now() AS recent;

INSERT INTO ur_items (name, price) VALUES ('ink', 3), ('pad', 4.255) RETURNING id, price * 2 AS double;

INSERT INTO ur_items (id, name, price) VALUES (1, 'pen', 2.5) ON CONFLICT (id) DO UPDATE SET price = EXCLUDED.price RETURNING id, name, price;

UPDATE ur_items SET price = price + 0.01 WHERE name LIKE 'p%' RETURNING name, price;

DELETE FROM ur_items WHERE name = 'cup' RETURNING id, name;

SELECT id, name, price FROM ur_items ORDER BY id;

INSERT INTO ur_items (name, price) SELECT name || '2', price FROM ur_items WHERE id < 3 RETURNING name, price;

CREATE TABLE ur_counter (
    id int PRIMARY KEY,
    n bigint DEFAULT 0
);

INSERT INTO ur_counter VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = ur_counter.n + 1 RETURNING n;

INSERT INTO ur_counter VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = ur_counter.n + 1 RETURNING n;

INSERT INTO ur_counter VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = ur_counter.n + EXCLUDED.n RETURNING id, n;

SELECT id, n FROM ur_counter;
