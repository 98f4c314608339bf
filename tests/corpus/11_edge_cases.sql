-- Edge cases the SQL fuzzer found (internal errors where PostgreSQL has a
-- specific SQLSTATE), and to_char / to_date / to_timestamp templates.

CREATE TABLE ec_t (
    id int PRIMARY KEY,
    s text DEFAULT 'a',
    f float8 DEFAULT 0,
    r real DEFAULT 0,
    n int DEFAULT 7,
    iv interval
);

INSERT INTO ec_t (id, s, iv) VALUES (1, '', '1 day'), (2, '{"k":1}', '-1 mon 2 hours'), (3, '2024-03-05', NULL);

-- Text to date/time casts validate, constant or not.
-- error: 22007
SELECT ''::date;

-- error: 22007
SELECT ('')::date;

-- error: 22007
SELECT '{"k":1}'::timestamptz;

-- error: 22007
SELECT s::date FROM ec_t WHERE id = 1;

-- error: 22007
SELECT s::timestamptz FROM ec_t WHERE id = 2;

-- error: 22007
SELECT (CASE WHEN id > 0 THEN 'x' END)::date FROM ec_t WHERE id = 1;

SELECT s::date FROM ec_t WHERE id = 3;

-- error: 22P02
SELECT ('2024-02-29')::boolean;

-- LIMIT NULL and OFFSET NULL are no limit and no offset.
SELECT id FROM ec_t ORDER BY id LIMIT NULL;

SELECT id FROM ec_t ORDER BY id LIMIT ALL;

SELECT id FROM ec_t ORDER BY id LIMIT ALL OFFSET NULL;

SELECT id FROM ec_t ORDER BY id LIMIT (SELECT NULL::int) OFFSET 1;

-- error: 2201W
SELECT id FROM ec_t LIMIT -1;

-- error: 2201X
SELECT id FROM ec_t OFFSET -1;

-- INSERT with fewer values than columns fills in the defaults.
INSERT INTO ec_t VALUES (4);

INSERT INTO ec_t VALUES (5, DEFAULT, 5);

INSERT INTO ec_t SELECT 6;

SELECT id, s, f, r, n, iv FROM ec_t WHERE id >= 4 ORDER BY id;

-- error: 42601
INSERT INTO ec_t VALUES (7, 'a', 1, 1, 1, '1 day', 7);

-- error: 42601
INSERT INTO ec_t (id, s) VALUES (7);

-- error: 42601
INSERT INTO ec_t VALUES (7), (8, 'b');

-- ALTER TABLE: a duplicate column, and NOT NULL without a DEFAULT (which
-- patina refuses; see INTENDED_DIFFERENCES).
-- error: 42701
ALTER TABLE ec_t ADD COLUMN s int;

CREATE TABLE ec_empty (id int PRIMARY KEY);

ALTER TABLE ec_empty ADD COLUMN y int NOT NULL;

-- Out of range numbers.
-- error: 22003
UPDATE ec_t SET f = '1e400' WHERE id = 1;

-- error: 22003
UPDATE ec_t SET r = '1e40' WHERE id = 1;

-- error: 22003
UPDATE ec_t SET r = '1e-50' WHERE id = 1;

-- error: 22003
SELECT '-1e400'::float8;

-- error: 22003
SELECT '1e300'::float8::float4;

-- error: 22P02
SELECT 'abc'::real;

UPDATE ec_t SET f = 'Infinity', r = '-Infinity' WHERE id = 1;

SELECT f, r FROM ec_t WHERE id = 1;

-- error: 22003
SELECT 2147483647::int + 1;

-- error: 22003
SELECT 32768::int2;

-- error: 22003
UPDATE ec_t SET n = n + 2147483647 WHERE id = 1;

-- ORDER BY an interval output column by position.
SELECT id, iv FROM ec_t WHERE iv IS NOT NULL ORDER BY 2;

SELECT iv FROM ec_t WHERE iv IS NOT NULL ORDER BY 1 DESC;

-- error: 42883
SELECT +iv FROM ec_t;

SELECT id, (-7)::text ILIKE left(s, 0) FROM ec_t ORDER BY 1;

-- A reserved word is no table alias; other aliases work in UPDATE and DELETE.
-- error: 42601
SELECT * FROM ec_t AND WHERE id = 1;

-- error: 42601
UPDATE ec_t AND SET n = 1;

UPDATE ec_t x SET n = x.n + 1 WHERE x.id = 4;

DELETE FROM ec_t ec_t WHERE id = 6 OR (n::text IS NULL);

SELECT id, n FROM ec_t ORDER BY id;

-- to_char of timestamps, dates and intervals.
SELECT to_char(timestamp '2024-03-05 14:07:09.123456', 'YYYY-MM-DD HH24:MI:SS.MS.US');

SELECT to_char(timestamp '2024-03-05 14:07:09.123456', 'Day, DD Month YYYY');

SELECT to_char(timestamp '2024-03-05 14:07:09.123456', 'FMDay, FMDD FMMonth YY');

SELECT to_char(timestamp '2024-03-05 14:07:09.123456', 'HH12:MI am Dy MON mon D DDD');

SELECT to_char(timestamp '2024-01-01 00:00:00', 'HH:MI AM PM pm a.m. P.M.');

SELECT to_char(timestamptz '2024-03-05 14:07:09+00', 'DDth "of" Mon YYYY TZ tz');

SELECT to_char(timestamp '2001-02-03 04:05:06', 'MONTH Month month MON Mon mon DAY Day day DY Dy dy');

SELECT to_char(timestamp '2001-02-21 04:05:06', 'DDTH DDth FMDDth MMth "YYYY is" YYYY');

SELECT to_char(date '2024-12-31', 'YYYY YYY YY Y DDD D ID Q CC Y,YYY');

SELECT to_char(date '2024-03-05', 'yyyy/mm/dd hh24:mi:ss');

SELECT to_char(interval '1 year 2 mons 3 days 04:05:06.789', 'YYYY MM DD HH24:MI:SS.MS US');

SELECT to_char(interval '30 hours 15 minutes', 'HH24:MI HH12 HH');

SELECT to_char(interval '-5 hours', 'HH24:MI');

SELECT to_char(timestamp 'infinity', 'YYYY'), to_char(NULL::timestamp, 'YYYY');

SELECT id, to_char(iv, 'MM DD HH24') FROM ec_t WHERE iv IS NOT NULL ORDER BY id;

-- to_char of numbers.
SELECT to_char(5, '999'), to_char(-5, '999'), to_char(0, '999'), to_char(12345, '999');

SELECT to_char(1.5, '990.00'), to_char(-1.5, '990.00'), to_char(1.5, 'FM999.00'), to_char(1.5, 'FM999.99');

SELECT to_char(1, 'FM999.99'), to_char(123, 'FM999.'), to_char(0.5, '999.99'), to_char(-0.5, '999.99');

SELECT to_char(42, '0000'), to_char(42, '9099'), to_char(12, 'FM0000'), to_char(-12, 'FM0000');

SELECT to_char(1234567, '9,999,999'), to_char(1234, '9G999D99'), to_char(-1234.567, 'FM9,999.99');

SELECT to_char(42, 'S999'), to_char(-42, 'S999'), to_char(42, '999S'), to_char(-42, '999S');

SELECT to_char(42, '999MI'), to_char(-42, '999MI'), to_char(-42, '999PR'), to_char(42, '999PR');

SELECT to_char(3.14159::float8, '9.999'), to_char(2.5::real, '9'), to_char(9999999999::bigint, '9,999,999,999');

SELECT to_char(12345.6, '999.9'), to_char(99.999, '99.99'), to_char(-0.001, '9.99');

SELECT to_char(n, 'FM000') FROM ec_t ORDER BY id;

-- to_date and to_timestamp.
SELECT to_date('2024-03-05', 'YYYY-MM-DD'), to_date('20240305', 'YYYYMMDD'), to_date('05 Mar 2024', 'DD Mon YYYY');

SELECT to_date('March 5, 2024', 'Month DD, YYYY'), to_date('5/3/24', 'DD/MM/YY'), to_date('2024 060', 'YYYY DDD');

SELECT to_date('99-12-31', 'YY-MM-DD'), to_date('2024/3/5', 'YYYY-MM-DD'), to_date('JAN 5 2020', 'MON DD YYYY');

-- error: 22008
SELECT to_date('2024-13-01', 'YYYY-MM-DD');

-- error: 22008
SELECT to_date('2024-02-30', 'YYYY-MM-DD');

-- error: 22007
SELECT to_date('abcd', 'YYYY');

-- error: 22007
SELECT to_date('Foo 5 2020', 'Mon DD YYYY');

SELECT to_timestamp('2024-03-05 14:07:09', 'YYYY-MM-DD HH24:MI:SS');

SELECT to_timestamp('2024-03-05 02:07:09 PM', 'YYYY-MM-DD HH12:MI:SS AM'), to_timestamp('2024-03-05 12:07:09 am', 'YYYY-MM-DD HH:MI:SS am');

SELECT to_timestamp('05.03.2024 14:07:09.5', 'DD.MM.YYYY HH24:MI:SS.MS'), to_timestamp('2024-03-05T14:07', 'YYYY-MM-DD"T"HH24:MI');

SELECT to_timestamp('Tue 05 Mar 2024', 'Dy DD Mon YYYY'), to_timestamp(NULL, 'YYYY');

-- error: 22007
SELECT to_timestamp('2024-03-05 13:00 PM', 'YYYY-MM-DD HH12:MI PM');

-- error: 22008
SELECT to_timestamp('2024-03-05 25:00', 'YYYY-MM-DD HH24:MI');

SELECT to_date(s, 'YYYY-MM-DD') FROM ec_t WHERE id = 3;
