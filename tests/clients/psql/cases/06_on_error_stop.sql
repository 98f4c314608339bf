-- psql-options: -v ON_ERROR_STOP=1
-- With ON_ERROR_STOP psql stops at the first error and exits with status 3.
-- (Terse: patina sends no DETAIL for a duplicate key, tests/clients/README.md.)
\set VERBOSITY terse
CREATE TABLE :t (id integer PRIMARY KEY);
INSERT INTO :t (id) VALUES (1);
INSERT INTO :t (id) VALUES (1);
INSERT INTO :t (id) VALUES (2);
