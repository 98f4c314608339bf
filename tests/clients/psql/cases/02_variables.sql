-- psql variables: \set, interpolation as identifier, literal and text; \gset.
\set id 10
\set name 'it''s'
CREATE TABLE :t (id integer PRIMARY KEY, name text, qty integer NOT NULL DEFAULT 0);
INSERT INTO :t (id, name) VALUES (:id, :'name');
SELECT id, name FROM :"t" WHERE id = :id;
SELECT max(id) + 1 AS next_id, count(*) AS n FROM :t \gset
\echo next_id=:next_id n=:n
INSERT INTO :t (id, name) VALUES (:next_id, 'via gset');
SELECT id, name FROM :t ORDER BY id \g
\echo ROW_COUNT=:ROW_COUNT ERROR=:ERROR
SELECT :id * 2 AS doubled \gx
