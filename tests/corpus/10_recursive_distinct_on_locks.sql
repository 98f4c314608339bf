-- WITH RECURSIVE, SELECT DISTINCT ON, and locking reads (SELECT … FOR
-- UPDATE and the other strengths), which run on the writer inside their
-- transaction; float constants that SQLite's decimal reader rounds.

WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r ORDER BY n;

WITH RECURSIVE r AS (SELECT 1 AS n, 1::bigint AS f UNION ALL SELECT n + 1, f * (n + 1) FROM r WHERE n < 10) SELECT n, f FROM r ORDER BY n;

WITH RECURSIVE fib(a, b) AS (SELECT 0::numeric, 1::numeric UNION ALL SELECT b, a + b FROM fib WHERE b < 100) SELECT a FROM fib ORDER BY a;

WITH RECURSIVE s(x) AS (SELECT 'a' UNION SELECT x || 'a' FROM s WHERE length(x) < 4) SELECT x, length(x) FROM s ORDER BY x;

CREATE TABLE rc_tree (id integer PRIMARY KEY, parent integer, name text);

INSERT INTO rc_tree VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 1, 'b'), (4, 2, 'a1'), (5, 4, 'a1x'), (6, 3, 'b1');

WITH RECURSIVE sub AS (
    SELECT id, name, 0 AS depth, name AS path FROM rc_tree WHERE id = 2
    UNION ALL
    SELECT t.id, t.name, sub.depth + 1, sub.path || '/' || t.name FROM rc_tree t JOIN sub ON t.parent = sub.id
) SELECT id, name, depth, path FROM sub ORDER BY id;

WITH RECURSIVE up(id, parent, lvl) AS (
    SELECT id, parent, 1 FROM rc_tree WHERE id = 5
    UNION ALL
    SELECT t.id, t.parent, up.lvl + 1 FROM rc_tree t, up WHERE t.id = up.parent
), counted AS (SELECT count(*) AS c FROM up) SELECT c FROM counted;

WITH RECURSIVE r(n) AS (VALUES (1) UNION ALL SELECT n * 2 FROM r WHERE n < 100) SELECT sum(n), max(n) FROM r;

-- error: 42804
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1.5 FROM r WHERE n < 3) SELECT n FROM r;

-- error: 42804
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT (n + 1)::bigint FROM r WHERE n < 3) SELECT n FROM r;

CREATE TABLE do_events (id integer PRIMARY KEY, kind text, at integer, price numeric(8,2), note text);

INSERT INTO do_events VALUES
    (1, 'a', 10, 1.50, 'first a'),
    (2, 'a', 30, 2.50, 'latest a'),
    (3, 'b', 20, 3.00, 'only b'),
    (4, 'c', 5, 1.00, 'old c'),
    (5, 'c', 15, 1.0, 'new c'),
    (6, NULL, 1, NULL, 'null kind'),
    (7, NULL, 2, 9.99, 'null kind 2');

SELECT DISTINCT ON (kind) kind, at, note FROM do_events ORDER BY kind, at DESC;

SELECT DISTINCT ON (kind) kind, at, note FROM do_events ORDER BY kind DESC, at;

SELECT DISTINCT ON (kind) id, note FROM do_events ORDER BY kind, price DESC NULLS LAST, id;

SELECT DISTINCT ON (1) kind, id FROM do_events ORDER BY 1, 2 DESC;

SELECT DISTINCT ON (k) kind AS k, id FROM do_events ORDER BY k NULLS FIRST, id DESC LIMIT 3;

SELECT DISTINCT ON (price) price, id FROM do_events ORDER BY price, id;

SELECT DISTINCT ON (kind, at > 10) kind, at > 10 AS late, id FROM do_events ORDER BY kind, at > 10, id;

SELECT DISTINCT ON (upper(kind)) upper(kind) AS k, note FROM do_events WHERE kind IS NOT NULL ORDER BY upper(kind), at;

SELECT DISTINCT ON (kind) * FROM do_events ORDER BY kind, id;

SELECT count(*) FROM (SELECT DISTINCT ON (kind) kind FROM do_events) AS d;

SELECT DISTINCT ON (kind) kind, count(*) FROM do_events GROUP BY kind, at ORDER BY kind, count(*) DESC, at;

-- error: 42P10
SELECT DISTINCT ON (kind) kind, at FROM do_events ORDER BY at, kind;

CREATE TABLE lk_accounts (id integer PRIMARY KEY, owner text, balance integer NOT NULL DEFAULT 0);

INSERT INTO lk_accounts VALUES (1, 'ann', 100), (2, 'bob', 50), (3, 'cy', 0);

BEGIN;

SELECT id, balance FROM lk_accounts WHERE id = 1 FOR UPDATE;

UPDATE lk_accounts SET balance = balance - 10 WHERE id = 1;

SELECT id, owner FROM lk_accounts WHERE balance > 0 ORDER BY id FOR SHARE;

SELECT a.id FROM lk_accounts a WHERE a.id = 2 FOR UPDATE OF a NOWAIT;

SELECT id FROM lk_accounts ORDER BY id FOR SHARE SKIP LOCKED;

SELECT id FROM lk_accounts ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;

COMMIT;

SELECT id, balance FROM lk_accounts ORDER BY id FOR UPDATE;

BEGIN READ ONLY;

-- error: 25006
SELECT id FROM lk_accounts FOR UPDATE;

ROLLBACK;

-- error: 0A000
SELECT count(*) FROM lk_accounts FOR UPDATE;

-- error: 0A000
SELECT DISTINCT owner FROM lk_accounts FOR UPDATE;

-- error: 0A000
SELECT owner FROM lk_accounts GROUP BY owner FOR SHARE;

-- error: 0A000
SELECT owner FROM lk_accounts GROUP BY owner HAVING count(*) > 0 FOR NO KEY UPDATE;

-- error: 0A000
SELECT sum(balance) OVER () FROM lk_accounts FOR KEY SHARE;

-- error: 42P01
SELECT id FROM lk_accounts FOR UPDATE OF nope;

SELECT '1e-300'::float8, '-2.5e-308'::float8, '1.7976931348623157e308'::float8, '4.9e-324'::float8;

SELECT '1e-300'::float8 * '1e300'::float8, '123456789012345678'::float8, '2.2250738585072014e-308'::float8 / 2;

SELECT '1.5e-45'::real, '3.4e38'::real, 1e-300::float8::text;
