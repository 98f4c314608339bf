-- Error messages as psql shows them by default (message, DETAIL, LINE and caret).
CREATE TABLE :t (id integer PRIMARY KEY, name text, qty integer NOT NULL DEFAULT 0 CHECK (qty >= 0));
INSERT INTO :t (id) VALUES (1);
INSERT INTO :t (id) VALUES (1);
SELECT 1 FROM;
SELECT nope FROM :t;
SELECT 'abc'::int;
SELECT * FROM :t WHERE id = 1/0;
