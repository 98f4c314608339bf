-- Set-returning functions in the select list (PostgreSQL 10+ semantics:
-- several in one list run in lockstep, the shorter padded with NULL) and
-- the catalog queries of drivers that use them.

CREATE TABLE sr_parts (id int PRIMARY KEY, code text, qty int);

CREATE INDEX sr_parts_qty ON sr_parts (qty);

CREATE TABLE sr_pairs (a int, b text, note text, PRIMARY KEY (a, b));

INSERT INTO sr_parts VALUES (1, 'a', 10), (2, 'b', 20);

SELECT generate_series(1, 3);

SELECT generate_series(1, 10, 4) AS g, 'x' AS label;

SELECT generate_series(5, 1, -2), generate_series(3000000000, 3000000001);

SELECT unnest(ARRAY[1, 2, 3]), generate_series(1, 2);

SELECT unnest(ARRAY['a', NULL, 'c']) AS u, generate_subscripts(ARRAY['a', NULL, 'c'], 1) AS i;

SELECT generate_subscripts(ARRAY[1, 2], 2);

SELECT generate_series(1, 2) + 1, unnest(NULL::int[]);

SELECT unnest('{}'::int[]);

SELECT id, unnest(ARRAY[id, id * 10]) AS v FROM sr_parts ORDER BY v DESC LIMIT 3;

SELECT DISTINCT unnest(ARRAY[1, 1, 2]) AS d ORDER BY d;

-- ORDER BY an input column (json_each has an "id" column of its own)
SELECT unnest(ARRAY[code, code || '2']) FROM sr_parts ORDER BY id DESC;

SELECT sr_parts.id, unnest(ARRAY[qty, -qty]) AS q FROM sr_parts ORDER BY sr_parts.id, q;

SELECT code, generate_series(1, qty / 10) FROM sr_parts WHERE id > 0 ORDER BY code, 2;

SELECT qty > 15 AS big, unnest(array_agg(code ORDER BY code)) AS c, count(*) FROM sr_parts GROUP BY qty > 15 ORDER BY big, c;

SELECT row_number() OVER (ORDER BY id) AS rn, generate_series(1, id) AS g FROM sr_parts ORDER BY rn, g;

-- error: 0A000
SELECT count(generate_series(1, 2));

SELECT information_schema._pg_expandarray(ARRAY['a b', 'c,d', NULL, '', 'say "hi"']);

SELECT (information_schema._pg_expandarray(ARRAY[7, 8])).n, (information_schema._pg_expandarray(ARRAY[7, 8])).x;

SELECT jsonb_array_elements('[1, "a", {"b": 2}, null]'), jsonb_array_elements_text('[1, "a", null]');

SELECT json_array_elements('[true, [1, 2]]') AS e;

-- error: 22023
SELECT jsonb_array_elements('{"a": 1}');

-- error: 0A000
SELECT 1 WHERE generate_series(1, 2) > 1;

-- pgjdbc 42.5 DatabaseMetaData.getPrimaryKeys
SELECT result.TABLE_CAT, result.TABLE_SCHEM, result.TABLE_NAME, result.COLUMN_NAME, result.KEY_SEQ, result.PK_NAME FROM (SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, a.attname AS COLUMN_NAME, (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ, ci.relname AS PK_NAME, information_schema._pg_expandarray(i.indkey) AS KEYS, a.attnum AS A_ATTNUM FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_attribute a ON (ct.oid = a.attrelid) JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid) JOIN pg_catalog.pg_index i ON ( a.attrelid = i.indrelid) JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) WHERE true AND n.nspname = 'public' AND ct.relname = 'sr_pairs' AND i.indisprimary ) result where result.A_ATTNUM = (result.KEYS).x ORDER BY result.table_name, result.pk_name, result.key_seq;

-- pgjdbc 42.5 DatabaseMetaData.getIndexInfo
SELECT tmp.TABLE_CAT, tmp.TABLE_SCHEM, tmp.TABLE_NAME, tmp.NON_UNIQUE, tmp.INDEX_QUALIFIER, tmp.INDEX_NAME, tmp.TYPE, tmp.ORDINAL_POSITION, trim(both '"' from pg_catalog.pg_get_indexdef(tmp.CI_OID, tmp.ORDINAL_POSITION, false)) AS COLUMN_NAME, CASE tmp.AM_NAME WHEN 'btree' THEN CASE tmp.I_INDOPTION[tmp.ORDINAL_POSITION - 1] & 1::smallint WHEN 1 THEN 'D' ELSE 'A' END ELSE NULL END AS ASC_OR_DESC, tmp.FILTER_CONDITION FROM (SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, ct.relname AS TABLE_NAME, NOT i.indisunique AS NON_UNIQUE, NULL AS INDEX_QUALIFIER, ci.relname AS INDEX_NAME, CASE i.indisclustered WHEN true THEN 1 ELSE CASE am.amname WHEN 'hash' THEN 2 ELSE 3 END END AS TYPE, (information_schema._pg_expandarray(i.indkey)).n AS ORDINAL_POSITION, ci.reltuples AS CARDINALITY, pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS FILTER_CONDITION, ci.oid AS CI_OID, i.indoption AS I_INDOPTION, am.amname AS AM_NAME FROM pg_catalog.pg_class ct JOIN pg_catalog.pg_namespace n ON (ct.relnamespace = n.oid) JOIN pg_catalog.pg_index i ON (ct.oid = i.indrelid) JOIN pg_catalog.pg_class ci ON (ci.oid = i.indexrelid) JOIN pg_catalog.pg_am am ON (ci.relam = am.oid) WHERE true AND n.nspname = 'public' AND ct.relname IN ('sr_parts', 'sr_pairs')) AS tmp ORDER BY NON_UNIQUE, TYPE, INDEX_NAME, ORDINAL_POSITION;

-- SQLAlchemy 2.0 inspector get_pk_constraint (the constraint's columns by unnest and generate_subscripts)
SELECT attr.conrelid = 'sr_pairs'::regclass AS ours, array_agg(CAST(attr.attname AS TEXT) ORDER BY attr.ord) AS cols, attr.conname, min(attr.description) AS description, min(attr.indnkeyatts) AS indnkeyatts FROM (SELECT con.conrelid AS conrelid, con.conname AS conname, con.description AS description, con.ord AS ord, con.indnkeyatts AS indnkeyatts, pg_catalog.pg_attribute.attname AS attname FROM pg_catalog.pg_attribute JOIN (SELECT pg_catalog.pg_constraint.conrelid AS conrelid, pg_catalog.pg_constraint.conname AS conname, unnest(pg_catalog.pg_index.indkey) AS attnum, generate_subscripts(pg_catalog.pg_index.indkey, 1) AS ord, pg_catalog.pg_index.indnkeyatts AS indnkeyatts, pg_catalog.pg_description.description AS description FROM pg_catalog.pg_constraint JOIN pg_catalog.pg_index ON pg_catalog.pg_constraint.conindid = pg_catalog.pg_index.indexrelid LEFT OUTER JOIN pg_catalog.pg_description ON pg_catalog.pg_description.objoid = pg_catalog.pg_constraint.oid AND pg_catalog.pg_description.classoid = CAST('pg_catalog.pg_constraint' AS REGCLASS) WHERE pg_catalog.pg_constraint.contype = 'p' AND pg_catalog.pg_constraint.conrelid IN ('sr_pairs'::regclass)) AS con ON pg_catalog.pg_attribute.attnum = con.attnum AND pg_catalog.pg_attribute.attrelid = con.conrelid WHERE con.conrelid IN ('sr_pairs'::regclass)) AS attr GROUP BY attr.conrelid, attr.conname ORDER BY attr.conrelid, attr.conname;

SELECT 6 & 3, 6 | 3, 6 # 3, 5::smallint & 1::smallint, 12::bigint & 4;





-- in FROM
SELECT * FROM information_schema._pg_expandarray(ARRAY[3, 1, 2]);

SELECT k.n, k.x FROM information_schema._pg_expandarray(ARRAY['a', 'b']) AS k;

SELECT * FROM generate_series(1, 3) WITH ORDINALITY;

SELECT * FROM unnest(ARRAY['a', 'b']) WITH ORDINALITY AS t(v, i);

SELECT * FROM generate_subscripts(ARRAY[5, 6], 1) AS s;

SELECT * FROM json_each('{"b": 1, "a": [1,  2], "b": "x"}');

SELECT key, value FROM jsonb_each_text('{"bb": 1, "a": null, "c": "x"}');

SELECT * FROM jsonb_each('{"b": {"y": 1,   "x": 2}}');

SELECT * FROM json_array_elements('[1, {"a": 2}]') WITH ORDINALITY;

SELECT e FROM jsonb_array_elements_text('[1, "x", null]') AS e;

-- error: 22023
SELECT * FROM jsonb_each('[1]');

SELECT generate_series('2024-01-31'::timestamp, '2024-04-30', '1 month') AS month_end;

SELECT * FROM generate_series('2024-01-02'::timestamptz, '2024-01-01 12:00', '-12 hours') AS t;

-- error: 22023
SELECT generate_series('2024-01-01'::timestamp, '2024-01-02', '0 days');

SELECT * FROM unnest(ARRAY[1, 2]) u, sr_parts WHERE u = sr_parts.id ORDER BY u;

SELECT * FROM pg_catalog.generate_series(5, 1, -2) AS s(v);

SELECT g, pg_typeof(g) FROM generate_series('2024-01-01'::date, '2024-01-03'::date, '1 day') AS g;

SELECT pg_typeof(generate_series('2024-01-01', '2024-01-02', interval '12 hours'));
