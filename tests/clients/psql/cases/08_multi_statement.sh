# One -c string with several statements is one simple Query message: one
# implicit transaction, rolled back entirely at the first error; psql shows
# the last result only.
# Terse: patina sends no DETAIL for a duplicate key (tests/clients/README.md).
PSQL="$PSQL -v VERBOSITY=terse"
$PSQL -q -c "CREATE TABLE $t (id integer PRIMARY KEY, qty integer NOT NULL DEFAULT 0)"
$PSQL -c "INSERT INTO $t (id) VALUES (1); INSERT INTO $t (id) VALUES (2); SELECT 1/0; INSERT INTO $t (id) VALUES (3)"
echo "status: $?"
$PSQL -At -c "SELECT count(*) FROM $t"
$PSQL -c "INSERT INTO $t (id) VALUES (1); INSERT INTO $t (id) VALUES (1)"
echo "status: $?"
$PSQL -At -c "SELECT count(*) FROM $t"
$PSQL -c "INSERT INTO $t (id) VALUES (1); INSERT INTO $t (id) VALUES (2); SELECT count(*) FROM $t"
echo "status: $?"
# an explicit COMMIT inside the string keeps what came before it
$PSQL -c "BEGIN; INSERT INTO $t (id) VALUES (3); COMMIT; INSERT INTO $t (id) VALUES (4); SELECT 1/0"
$PSQL -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM $t"
# several -c options are separate queries: the error stops only its own
$PSQL -c "INSERT INTO $t (id) VALUES (5)" -c "SELECT 1/0" -c "INSERT INTO $t (id) VALUES (6)"
echo "status: $?"
$PSQL -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM $t"
# stdin works like -f
printf 'SELECT 40 + 2 AS answer;\nSELECT count(*) FROM %s;\n' "$t" | $PSQL -A
