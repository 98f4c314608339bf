-- String functions, date/time arithmetic, now(), gen_random_uuid(), and
-- the session information functions.

SELECT lower('HeLLo'), upper('HeLLo'), pg_catalog.lower('ABC'), pg_catalog.upper('abc');

SELECT length('hello'), char_length('héllo'), octet_length('héllo'), length('');

SELECT substring('abcdef' FROM 2 FOR 3), substring('abcdef' FROM 3), substr('abcdef', 2, 2), substr('abcdef', 4);

SELECT position('c' IN 'abcde'), strpos('abcde', 'de'), position('z' IN 'abc');

SELECT trim('  x  '), ltrim('  x  '), rtrim('  x  '), btrim('xxaxx', 'x'), trim(both 'x' from 'xxbxx');

SELECT replace('a-b-c', '-', '+'), reverse('abc'), repeat('ab', 3), left('abcdef', 2), right('abcdef', 2);

SELECT concat('a', 1, NULL, true), concat_ws('-', 'a', NULL, 'b'), initcap('hello world');

SELECT lpad('5', 3, '0'), rpad('ab', 4, '*'), lpad('abcdef', 3), split_part('a,b,c', ',', 2);

SELECT chr(65), ascii('A'), format('%s is %s', 'x', 1), format('%I = %L', 'Col', 'it''s');

SELECT starts_with('patina', 'pat'), 'abc' ^@ 'ab', translate('abc', 'ab', 'xy');

SELECT regexp_replace('a1b2c3', '[0-9]', '#', 'g'), regexp_replace('a1b2', '[0-9]', '#');

SELECT now() = now(), now() > '2020-01-01', current_timestamp >= now(), now() = current_timestamp;

SELECT current_date > '2020-01-01'::date, localtimestamp > '2020-01-01', transaction_timestamp() = now();

SELECT pg_typeof(now()), pg_typeof(current_date);

SELECT length(gen_random_uuid()::text), gen_random_uuid() <> gen_random_uuid();

SELECT gen_random_uuid()::text ~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$';

SELECT '2024-01-31 10:00:00'::timestamp + interval '1 day', '2024-01-31'::date + 1, '2024-03-01'::date - 1;

SELECT '2024-01-31 10:00:00'::timestamp + interval '1 month', '2024-02-29'::date + interval '1 year';

SELECT timestamp '2024-03-10 12:00:00' - interval '36 hours', timestamptz '2024-03-10 12:00:00+00' + interval '90 minutes';

SELECT '2024-03-10'::date - '2024-01-01'::date, timestamp '2024-03-10 12:00' - timestamp '2024-03-01 06:30';

SELECT interval '1 day' + interval '3 hours', interval '2 hours' * 3, interval '1 hour' / 2, - interval '5 minutes';

SELECT interval '1 year 2 months 3 days 04:05:06', interval '36 hours', interval '0 seconds', interval '-1 day';

SELECT interval '1 day' = interval '24 hours', interval '1 month' > interval '29 days';

SELECT date_trunc('month', timestamp '2024-05-17 13:45:12'), date_trunc('hour', timestamp '2024-05-17 13:45:12'), date_trunc('year', timestamptz '2024-05-17 13:45:12+00');

SELECT date_trunc('day', timestamptz '2024-05-17 23:59:59+00'), date_trunc('week', timestamp '2024-05-17 10:00');

SELECT extract(year FROM timestamp '2024-05-17 13:45:12'), extract(month FROM date '2024-05-17'), extract(dow FROM date '2024-05-17');

SELECT extract(epoch FROM timestamptz '2024-01-01 00:00:00+00'), extract(second FROM timestamp '2024-05-17 13:45:12.5'), extract(doy FROM date '2024-12-31');

SELECT extract(hour FROM interval '3 days 04:05:06'), extract(epoch FROM interval '1 day');

SELECT date_part('year', timestamp '2024-05-17 13:45:12'), date_part('minute', timestamp '2024-05-17 13:45:12');

SELECT timestamptz '2024-05-17 13:45:12+02', timestamp '2024-05-17 13:45:12.123456', time '23:59:59.5';

SELECT date '2024-02-29' < date '2024-03-01', timestamp '2024-01-01' = date '2024-01-01', timestamptz '2024-01-01 00:00:00+00' = timestamp '2024-01-01';

SELECT make_date(2024, 2, 29), make_date(2023, 12, 31) + 1;

SELECT version() LIKE 'PostgreSQL 15.%';

SELECT version() ~ '^PostgreSQL \d+\.\d+';

SELECT current_database(), current_schema(), current_user, session_user;

SELECT current_schema, user;

CREATE TABLE fd_log (
    id serial PRIMARY KEY,
    msg text,
    at timestamptz DEFAULT now(),
    day date DEFAULT current_date,
    token uuid DEFAULT gen_random_uuid()
);

INSERT INTO fd_log (msg) VALUES ('one'), ('two');

SELECT msg, at <= now(), day <= current_date, length(token::text) FROM fd_log ORDER BY id;

SELECT count(DISTINCT token) FROM fd_log;

SELECT msg FROM fd_log WHERE at > now() - interval '1 hour' ORDER BY msg;

BEGIN;

INSERT INTO fd_log (msg) VALUES ('three');

SELECT count(*) FROM fd_log WHERE at = now();

COMMIT;

SELECT md5('abc'), md5(''), md5(NULL), md5('héllo');

SELECT to_timestamp(0), to_timestamp(1700000000.5), to_timestamp('Infinity'), to_timestamp(-1.25);

SELECT age('2024-03-01'::timestamp, '2023-01-15'::timestamp), age(timestamp '2024-01-01', timestamp '2024-03-15 10:00');

SELECT age('2024-03-31'::timestamptz, '2024-02-29 12:00'::timestamptz), age('2024-01-31'::timestamp, '2023-12-31 23:00');

SELECT age('2024-03-01', '2024-01-31'), age('2024-02-01'::date, '2024-03-31'::date);

SELECT age(timestamp '2000-01-01') > interval '20 years', age(now()) < interval '1 day';
