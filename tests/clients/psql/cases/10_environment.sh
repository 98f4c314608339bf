# Startup options from the environment: PGAPPNAME, PGOPTIONS (-c settings);
# the server version psql was told; psql -v/-At/-F output.
PGAPPNAME=from-env $PSQL -At -c "SHOW application_name"
PGOPTIONS="-c TimeZone=UTC" $PSQL -At -c "SHOW TimeZone"
# the major version only: the server's minor version may differ
$PSQL -At -c "SHOW server_version" | cut -d. -f1
$PSQL -At -c "SHOW server_version_num" | cut -c1-2
echo '\echo :SERVER_VERSION_NAME :SERVER_VERSION_NUM' | $PSQL -At | sed -E 's/^15\.[0-9]+.* 15[0-9]{4}$/15.x 15xxxx/'
$PSQL -At -c "SELECT 1, 'two', NULL, true"
$PSQL -At -F ' | ' -c "SELECT 1 AS a, 2 AS b"
$PSQL -At -v x=5 -c "SELECT :x + 1" 2>&1 || true
echo "SELECT :x + 1;" | $PSQL -At -v x=5
