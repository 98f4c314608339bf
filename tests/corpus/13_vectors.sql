-- int2vector and oidvector, the types of pg_index.indkey, indclass,
-- indcollation and indoption: space-separated text, subscripts from 0,
-- elements like an array's. Drivers read indexes through them (SQLAlchemy's
-- get_indexes, pgjdbc's getIndexInfo, psql's \d).

CREATE TABLE vc_items (id int PRIMARY KEY, label text NOT NULL DEFAULT '', qty int NOT NULL DEFAULT 0);

CREATE INDEX vc_items_qty_label ON vc_items (qty, label);

CREATE INDEX vc_items_label_desc ON vc_items (label DESC, qty);

CREATE TABLE vc_pairs (a int, b text, PRIMARY KEY (b, a));

SELECT '1  2'::int2vector AS v, ''::int2vector AS e, '3 4'::oidvector AS o;

SELECT '1 2'::int2vector, '7'::oidvector;

SELECT ('5 6'::int2vector)[0] AS first, ('5 6'::int2vector)[1] AS second, ('5 6'::int2vector)[2] AS past;

SELECT ('8 9'::oidvector)[1];

SELECT array_to_string('1 2 3'::int2vector::int2[], ',') AS a, array_to_string('4 5'::oidvector::oid[], '-') AS b;

SELECT array_lower('5 6'::int2vector, 1), array_upper('5 6'::int2vector, 1), array_length('5 6'::int2vector, 1);

SELECT unnest('5 6 7'::int2vector) AS k, generate_subscripts('5 6 7'::int2vector, 1) AS s;

SELECT '1 2'::int2vector::text AS t, length('10 20'::oidvector::text) AS n;

SELECT 6 = ANY('5 6'::int2vector) AS has6, 8 = ANY('5 6'::int2vector) AS has8;

-- error: 22P02
SELECT '{1,2}'::int2vector;

-- error: 22P02
SELECT '1 x'::oidvector;

SELECT typname, typelem, typarray, typcategory FROM pg_type WHERE oid IN (22, 30, 1006, 1013) ORDER BY oid;

SELECT format_type(22, NULL), format_type(30, NULL), format_type(1006, NULL);

SELECT pg_typeof(indkey), pg_typeof(indclass), pg_typeof(indcollation), pg_typeof(indoption) FROM pg_index WHERE indrelid = 'vc_items'::regclass LIMIT 1;

SELECT c.relname, i.indkey, i.indoption, i.indkey[0] AS k0, i.indkey[1] AS k1, i.indnatts FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid IN ('vc_items'::regclass, 'vc_pairs'::regclass) ORDER BY c.relname;

SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a WHERE a.attrelid = 'pg_index'::regclass AND a.attname IN ('indkey', 'indclass', 'indcollation', 'indoption') ORDER BY a.attnum;

-- psql \d: the columns of an index's key, by position
SELECT c.relname, a.attname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'vc_items'::regclass ORDER BY 1, 2;

-- SQLAlchemy get_indexes: subscripts from 0, pg_get_indexdef by ord + 1
SELECT idx.indexrelid::regclass::text AS idx, idx.ord, a.attname, pg_get_indexdef(idx.indexrelid, idx.ord + 1, true) AS def FROM (SELECT i.indexrelid, i.indrelid, unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord FROM pg_index i WHERE NOT i.indisprimary AND i.indrelid = 'vc_items'::regclass) idx LEFT JOIN pg_attribute a ON a.attnum = idx.attnum AND a.attrelid = idx.indrelid ORDER BY 1, 2;

-- pgjdbc getIndexInfo: indoption indexed from (keys).n - 1 (the casts: patina
-- types a field of a subquery's record column as text)
SELECT k.relname, (k.keys).n::int4 AS n, (k.keys).x::int2 AS attnum, CASE k.indoption[(k.keys).n - 1] & 1 WHEN 1 THEN 'D' ELSE 'A' END AS asc_or_desc FROM (SELECT c.relname, i.indoption, information_schema._pg_expandarray(i.indkey) AS keys FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = 'vc_items'::regclass) k ORDER BY 1, 2;
