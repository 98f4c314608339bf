-- Special values and catalog types: NaN and infinite floats, infinite
-- dates and timestamps, `name`, `oid`, `"char"` and `regtype`.

SELECT 'NaN'::float8, 'NaN'::real, 'nan'::float8, 'Infinity'::float8, '-Infinity'::real;

SELECT 'NaN'::float8 = 'NaN'::float8, 'NaN'::float8 > 'Infinity'::float8, 'NaN'::float8 < 1;

SELECT 'NaN'::float8 + 1, -('NaN'::float8), 'NaN'::float8 * 0, 'NaN'::float8 / 2, sqrt('NaN'::float8);

SELECT 'Infinity'::float8 - 'Infinity'::float8, 'Infinity'::float8 * 0;

SELECT ARRAY['Infinity'::float8, '-Infinity', 'NaN', NULL], ARRAY['NaN'::real];

SELECT '{0.1,1e20}'::real[]::text, '{1.5,1e300,-0}'::float8[]::text;

SELECT ARRAY[E'a\u00a0b', 'c d', E'e\tf']::text, ARRAY['Infinity'::float8]::text;

CREATE TABLE sv_floats (id int PRIMARY KEY, f float8, r real);

INSERT INTO sv_floats VALUES (1, 'NaN', 'NaN'), (2, 1.5, -2), (3, 'Infinity', '-Infinity'), (4, NULL, 0)
RETURNING id, f, r;

SELECT id, f FROM sv_floats ORDER BY f, id;

SELECT id, r FROM sv_floats ORDER BY r DESC, id;

SELECT id FROM sv_floats WHERE f = 'NaN';

SELECT id FROM sv_floats WHERE f > 100 ORDER BY id;

UPDATE sv_floats SET f = f + 1 WHERE id IN (1, 2) RETURNING id, f;

SELECT max(f), min(f) FROM sv_floats;

SELECT f::text, r::text FROM sv_floats WHERE id = 1;

SELECT 'infinity'::date, '-infinity'::date, 'INFINITY'::timestamp, ' -Infinity '::timestamptz;

-- error: 22007
SELECT '+infinity'::timestamp;

SELECT 'infinity'::date::timestamp, '-infinity'::timestamp::timestamptz, 'infinity'::timestamptz::date;

SELECT 'infinity'::timestamp + interval '1 day', '-infinity'::date + 1, date_trunc('day', 'infinity'::timestamptz);

SELECT 'infinity'::date > '9999-12-31'::date, '-infinity'::timestamp < '0001-01-01'::timestamp;

CREATE TABLE sv_times (id int PRIMARY KEY, d date, ts timestamp, tz timestamptz);

INSERT INTO sv_times VALUES
    (1, 'infinity', '-infinity', 'infinity'),
    (2, '2024-01-01', '2024-01-01 10:00', '2024-01-01 10:00+00'),
    (3, '-infinity', 'infinity', '-infinity'),
    (4, '0001-01-01', '9999-12-31 23:59:59', '2000-01-01 00:00:00+00')
RETURNING id, d, ts, tz;

SELECT id, d FROM sv_times ORDER BY d;

SELECT id, ts FROM sv_times ORDER BY ts DESC;

SELECT id, tz FROM sv_times ORDER BY tz;

SELECT id FROM sv_times WHERE tz > '2020-01-01' ORDER BY id;

SELECT id FROM sv_times WHERE d = 'infinity';

SELECT max(d), min(ts), max(tz) FROM sv_times;

SELECT 'abc'::name, 'x'::"char", 'xyz'::"char", ''::"char", 65::"char";

SELECT 42::oid, (-1)::oid, '4294967295'::oid, '-1'::oid, 7::oid = 7;

SELECT ARRAY['a', 'b c']::name[], ARRAY[1, 2]::oid[], ARRAY['a', 'b']::"char"[];

SELECT pg_typeof('a'::name), pg_typeof(1::oid), pg_typeof('a'::"char"), pg_typeof(pg_typeof(1));

SELECT pg_typeof('x'::varchar(3)), pg_typeof(1)::text, pg_typeof(ARRAY[1]);

SELECT upper(current_user), length(current_database()), current_user || '!', current_schema() = 'public';

SELECT 'a_very_long_name_that_goes_on_and_on_past_sixty_three_bytes_of_text_x'::name;

CREATE TABLE sv_names (id int PRIMARY KEY, n name, o oid, c "char");

INSERT INTO sv_names VALUES (1, 'alpha', 10, 'a'), (2, 'beta', 4294967295, 'b') RETURNING n, o, c;

SELECT id, n, o, c FROM sv_names WHERE o > 100 ORDER BY n;

SELECT '-9'::oid;

-- error: 42704
SELECT 'nosuchtype'::regtype;
