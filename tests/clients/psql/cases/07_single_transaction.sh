# -1 / --single-transaction: an error rolls back everything the file did.
# Terse: patina sends no DETAIL for a duplicate key (tests/clients/README.md).
PSQL="$PSQL -v VERBOSITY=terse"
$PSQL -q -c "CREATE TABLE $t (id integer PRIMARY KEY)"
cat >"${TMPDIR:-/tmp}/$t.sql" <<SQL
INSERT INTO $t (id) VALUES (1);
INSERT INTO $t (id) VALUES (2);
INSERT INTO $t (id) VALUES (2);
SQL
$PSQL -q -v ON_ERROR_STOP=1 --single-transaction -f "${TMPDIR:-/tmp}/$t.sql" 2>&1 | sed "s|${TMPDIR:-/tmp}/||"
echo "status: ${PIPESTATUS[0]}"
rm -f "${TMPDIR:-/tmp}/$t.sql"
$PSQL -At -c "SELECT count(*) FROM $t"
$PSQL -q -1 -c "INSERT INTO $t (id) VALUES (1)" -c "INSERT INTO $t (id) VALUES (2)"
$PSQL -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM $t"
