-- DDL is transactional: a CREATE TABLE rolled back leaves no table, and DDL
-- afterwards works. Runs near the end: a server that breaks here would fail
-- every later CREATE TABLE.
\set VERBOSITY sqlstate
BEGIN;
CREATE TABLE :t (id integer PRIMARY KEY);
INSERT INTO :t (id) VALUES (1);
ROLLBACK;
SELECT * FROM :t;
CREATE TABLE :u (id integer PRIMARY KEY);
INSERT INTO :u (id) VALUES (1);
BEGIN;
CREATE TABLE :t (id integer PRIMARY KEY, name text);
SELECT 1/0;
COMMIT;
SELECT * FROM :t;
CREATE TABLE :t (id integer PRIMARY KEY, name text);
INSERT INTO :t (id, name) VALUES (1, 'kept');
SELECT * FROM :t;
SELECT * FROM :u;
