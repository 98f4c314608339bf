-- Errors and their SQLSTATEs.

CREATE TABLE er_t (
    id int PRIMARY KEY,
    name text NOT NULL DEFAULT 'x',
    qty int CHECK (qty >= 0),
    code varchar(3)
);

INSERT INTO er_t (id, name, qty) VALUES (1, 'one', 1);

-- error: 23505
INSERT INTO er_t (id, name, qty) VALUES (1, 'again', 2);

-- error: 23505
INSERT INTO er_t (id) VALUES (2), (2);

INSERT INTO er_t (id) VALUES (8);

-- error: 23505
UPDATE er_t SET id = 1 WHERE id = 8;

SELECT count(*) FROM er_t;

-- error: 23502
INSERT INTO er_t (id, name) VALUES (3, NULL);

CREATE TABLE er_k (
    k text PRIMARY KEY,
    v int DEFAULT 0
);

-- error: 23502
INSERT INTO er_k (k, v) VALUES (NULL, 1);

-- error: 23502
INSERT INTO er_k (v) VALUES (2);

CREATE TABLE er_auto (
    id int PRIMARY KEY,
    v text
);

-- error: 23502
INSERT INTO er_auto (id, v) VALUES (NULL, 'null key');

-- error: 23502
UPDATE er_t SET name = NULL WHERE id = 1;

-- error: 23514
INSERT INTO er_t (id, qty) VALUES (4, -1);

-- error: 23514
UPDATE er_t SET qty = -5 WHERE id = 1;

-- error: 22001
INSERT INTO er_t (id, code) VALUES (5, 'toolong');

SELECT id, name, qty FROM er_t ORDER BY id;

-- error: 42601
SELEC 1;

-- error: 42601
SELECT * FROM;

-- error: 42601
INSERT INTO er_t VALUES (;

-- error: 42P01
SELECT * FROM er_missing;

-- error: 42P01
INSERT INTO er_missing VALUES (1);

-- error: 42P01
UPDATE er_missing SET a = 1;

-- error: 42703
SELECT nope FROM er_t;

-- error: 42703
SELECT er_t.nope FROM er_t;

-- error: 42703
INSERT INTO er_t (id, nope) VALUES (9, 1);

-- error: 42703
UPDATE er_t SET nope = 1;

-- error: 42703
SELECT id FROM er_t ORDER BY nope;

-- error: 22012
SELECT 1 / 0;

-- error: 22012
SELECT 1.5 / 0;

-- error: 22012
SELECT id / (qty - 1) FROM er_t;

-- error: 22012
SELECT 5 % 0;

-- error: 22P02
SELECT 'abc'::int;

-- error: 22P02
SELECT '1.5'::int;

-- error: 22P02
SELECT 'maybe'::boolean;

-- error: 22P02
SELECT 'not-a-uuid'::uuid;

-- error: 22P02
SELECT '{bad json'::jsonb;

-- error: 22P02
SELECT 'x'::numeric;

-- error: 22P02
INSERT INTO er_t (id, qty) VALUES (6, 'many');

-- error: 22P02
SELECT id FROM er_t WHERE id = 'one';

-- error: 22007
SELECT 'not a date'::date;

-- error: 22008
SELECT '2024-02-30'::date;

-- error: 22003
SELECT 2147483647 + 1;

-- error: 22003
SELECT '99999999999'::int;

-- error: 22003
SELECT 1000::numeric(3,0);

-- error: 42883
SELECT frobnicate(1);

-- error: 42883
SELECT lower(1);

-- error: 22P02
SELECT 'a' - 1;

-- error: 42883
SELECT true + 1;

-- error: 22003
SELECT 100000 * 100000;

-- error: 42804
SELECT CASE WHEN true THEN 1 ELSE 'x'::text END;

-- error: 42804
SELECT id FROM er_t WHERE name;

-- error: 42P07
CREATE TABLE er_t (id int PRIMARY KEY);

-- error: 42702
SELECT id FROM er_t a, er_t b;

-- error: 42803
SELECT name, count(*) FROM er_t;

-- error: 42803
SELECT name, count(*) FROM er_t GROUP BY qty;

-- error: 42803
SELECT qty FROM er_t GROUP BY qty HAVING name = 'one';

-- error: 42803
SELECT * FROM er_t GROUP BY name;

SELECT name, count(*) FROM er_t GROUP BY er_t.name ORDER BY name;

SELECT upper(name) AS u, sum(qty) FROM er_t GROUP BY 1 ORDER BY 1;

SELECT upper(name) AS u, max(qty) FROM er_t GROUP BY u ORDER BY u;

SELECT qty FROM er_t GROUP BY qty HAVING count(*) > 0 ORDER BY qty;

SELECT id, name, qty FROM er_t GROUP BY id ORDER BY id;

-- error: 42601
SELECT 1 UNION SELECT 1, 2;

-- error: 21000
SELECT (SELECT id FROM (VALUES (1), (2)) AS v(id));

BEGIN;

-- error: 22012
SELECT 1 / 0;

-- error: 25P02
SELECT 1;

ROLLBACK;

SELECT 1;

BEGIN;

INSERT INTO er_t (id) VALUES (7);

-- error: 23505
INSERT INTO er_t (id) VALUES (7);

ROLLBACK;

SELECT count(*) FROM er_t WHERE id = 7;
