-- Types and casts: ::type, CAST, numeric scale, booleans, integer and
-- float arithmetic, text patterns.

SELECT 1::int, '42'::int, '42'::bigint, '7'::smallint;

SELECT CAST('123' AS integer), CAST(45 AS text), CAST('3.14' AS numeric);

SELECT '9.90'::numeric, 9.90, '9.90'::numeric(5,2), 1.5::numeric(5,3);

SELECT 10::numeric(6,2), 2.345::numeric(6,2), 2.355::numeric(6,2), (-2.345)::numeric(6,2);

SELECT '1.5'::float8, '2.25'::real, 0.1::float8 + 0.2::float8;

SELECT 3.7::int, (-3.5)::int, 2.5::int, '10'::numeric::int;

SELECT true, false, 't'::boolean, 'no'::boolean, 'TRUE'::bool, 'off'::bool;

SELECT 1 = 1, 1 <> 1, 2 > 1, 'a' < 'b', NOT true, true AND false, true OR false;

SELECT 1 = 1 AND NULL, false AND NULL, true OR NULL, NULL::boolean IS NULL;

SELECT true::text, false::text, 1::boolean, 0::boolean;

SELECT '2024-01-15'::date, '2024-01-15 10:30:00'::timestamp, '2024-01-15 10:30:00+02'::timestamptz;

SELECT '10:30'::time, '1 day 2 hours'::interval, '90 minutes'::interval;

SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid;

SELECT 'hello'::varchar(3), 'ab'::char(4), length('ab'::char(4)), 'x'::text || 'y'::varchar;

SELECT 7 / 2, 7 % 3, -7 / 2, -7 % 3, 7.0 / 2, 2 ^ 10;

SELECT 1 + 2 * 3, (1 + 2) * 3, 10 - 4 - 3, 2 * 3.5;

SELECT 9223372036854775807::bigint, (-2147483648)::int, 32767::smallint;

SELECT 100000::bigint * 100000, 2147483647::bigint + 1;

SELECT 1.10 + 2.205, 1.5 * 1.5, 10.00 - 0.5, 1 + 1.0;

SELECT 1 / 3.0, 2.0 / 3, 10 / 4.0;

SELECT abs(-5), abs(-2.5::float8), round(2.567, 2), round(2.5), round(-2.5), round(7.0);

SELECT ceil(2.1), floor(2.9), ceiling(-2.1), trunc(2.99), trunc(-2.99);

SELECT mod(17, 5), power(2, 8), sqrt(16), sign(-3), sign(0.0);

SELECT 5 > 3.5, 2::smallint + 3, 2::smallint * 3::smallint, 4::int8 / 2;

SELECT 'abc' LIKE 'a%', 'abc' LIKE 'A%', 'abc' ILIKE 'A%', 'abc' NOT LIKE '_b_', 'a_c' LIKE 'a\_c';

SELECT 'abc' ~ '^a.c$', 'abc' ~ 'B', 'abc' ~* 'B', 'abc' !~ 'z', 'abc' !~* 'A';

SELECT 'abc' || 'def', 'n=' || 5, 5 || '!', NULL || 'x';

SELECT 'It''s', E'tab\there', $$dollar 'quoted'$$;

SELECT '  padded  ' = 'padded', 'a' = 'A', 'B' < 'a';

SELECT 42::text::int + 1, '0042'::int, ' 17 '::int;

SELECT '1e3'::float8, '1e3'::numeric, '-0.000'::numeric, '1.2300'::numeric;

SELECT 12345.678::numeric(10,1), 0.5::numeric(3,0), 123.456::numeric(6,3)::text;

SELECT 3::float8 / 2, 1::real / 3, 10 / 3::numeric;

SELECT pg_typeof(1), pg_typeof(1.5), pg_typeof('a'::text), pg_typeof(now());

CREATE TABLE tc_values (
    id int PRIMARY KEY,
    n numeric(8,3),
    f double precision,
    r real,
    i2 smallint,
    i8 bigint,
    b boolean,
    vc varchar(5),
    ch char(3)
);

INSERT INTO tc_values VALUES (1, 1.5, 1.5, 1.5, 1, 1, true, 'abc', 'x');

INSERT INTO tc_values VALUES (2, '2.25', '2.25', '0.1', '2', '20000000000', 'false', 'de', 'yz');

INSERT INTO tc_values (id, n, i8) VALUES (3, 10, 3);

SELECT id, n, f, r, i2, i8, b, vc, ch FROM tc_values ORDER BY id;

SELECT sum(n), avg(n), sum(i2), sum(i8), avg(i8), sum(f), sum(r) FROM tc_values;

SELECT id, n * 2, n + i2, f * 2, i8 * 2 FROM tc_values ORDER BY id;

SELECT id FROM tc_values WHERE n > 2 ORDER BY id;

SELECT id FROM tc_values WHERE n = 1.500 ORDER BY id;

SELECT id, b, NOT b FROM tc_values WHERE b IS NOT NULL ORDER BY id;

SELECT id FROM tc_values WHERE b ORDER BY id;

SELECT id FROM tc_values WHERE b = false;

SELECT id, ch || '|', vc || '|', length(ch) FROM tc_values ORDER BY id;

SELECT n::text, f::text, i8::text, b::text FROM tc_values WHERE id = 1;

SELECT n::int, f::int, i8::numeric, i2::float8 FROM tc_values WHERE id = 2;

UPDATE tc_values SET n = n / 3 WHERE id = 3;

SELECT n FROM tc_values WHERE id = 3;

SELECT CAST(n AS numeric(10,1)) FROM tc_values ORDER BY id;

SELECT max(n), min(n), max(vc), min(ch) FROM tc_values;
