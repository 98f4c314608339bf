-- Create, insert, select, update, delete; psql's aligned output of each type.
SET TIME ZONE 'UTC';
CREATE TABLE :t (
    id integer PRIMARY KEY,
    name text,
    qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0),
    price numeric(10,2),
    tags text[],
    doc jsonb,
    created timestamptz,
    flag boolean
);
INSERT INTO :t (id, name, qty, price, tags, doc, created, flag)
VALUES (1, 'widget', 3, 9.9, ARRAY['a', 'b c'], '{"k": [1, 2], "s": "x"}',
        '2024-01-02 03:04:05.678+02', true);
INSERT INTO :t (id, name) VALUES (2, 'O''Reilly'), (3, NULL);
INSERT INTO :t (id, name) VALUES (4, 'four') RETURNING id, name, qty;
SELECT * FROM :t ORDER BY id;
UPDATE :t SET qty = qty + 1, price = 1.005 WHERE id >= 2;
SELECT id, qty, price FROM :t ORDER BY id;
DELETE FROM :t WHERE id = 3;
SELECT count(*), sum(qty), max(name) FROM :t;
SELECT id, name FROM :t WHERE name LIKE 'O%' OR name IS NULL ORDER BY id;
\pset format unaligned
\pset fieldsep ','
SELECT id, name, price, flag FROM :t ORDER BY id;
\pset format aligned
\x on
SELECT id, tags, doc FROM :t WHERE id = 1;
