# LISTEN/NOTIFY as psql shows them ("Asynchronous notification ..."), after
# each statement: at commit, folded, never after a rollback or UNLISTEN.
# The server's process id differs from run to run: shown as <pid>.
$PSQL -v ON_ERROR_STOP=1 2>&1 <<SQL | sed -E 's/PID [0-9]+/PID <pid>/'
LISTEN $t;
NOTIFY $t, 'hello';
BEGIN;
NOTIFY $t, 'one';
NOTIFY $t, 'one';
NOTIFY $t, 'two';
COMMIT;
BEGIN;
NOTIFY $t, 'gone';
ROLLBACK;
SELECT pg_notify('$t', 'function');
UNLISTEN *;
NOTIFY $t, 'unheard';
SQL
echo "status: ${PIPESTATUS[0]}"
