-- Error messages as psql shows them by default (message, LINE and caret).
CREATE TABLE :t (id integer PRIMARY KEY, name text, qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0));
INSERT INTO :t (id) VALUES (1);
SELECT 1 FROM;
SELECT * FROM :t WHERE id = 1/0;
-- patina sends no DETAIL for a duplicate key (tests/clients/README.md): the
-- message itself must match.
\set VERBOSITY terse
INSERT INTO :t (id) VALUES (1);
