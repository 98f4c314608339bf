// pgjdbc (Debian's libpostgresql-jdbc-java) against the server given by
// PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD: connecting, prepared
// statements past the driver's prepareThreshold (from the 5th execution on
// they are named server-side statements, reused with Bind/Execute only),
// and DatabaseMetaData.getTables/getColumns/getPrimaryKeys/getIndexInfo,
// which query pg_catalog; then
// patina's row change feed (LISTEN "patina:changes:<table>") through
// PGConnection.getNotifications, and a query subscription
// (patina_subscribe, patina_resume) the same way, skipped on another server;
// their writer is on another node of the cluster when there is one
// (PATINA_WRITER_PORT, else PGPORT), so what the listener hears arrives by
// replication.
// Every other expectation here is what PostgreSQL 15 does. Exits non-zero
// with a message at the first failure.

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.regex.Pattern;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

public class JdbcSuite {
    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    public static void main(String[] args) throws Exception {
        String url = "jdbc:postgresql://" + env("PGHOST", "127.0.0.1") + ":"
            + env("PGPORT", "5433") + "/" + env("PGDATABASE", "postgres");
        Properties props = new Properties();
        props.setProperty("user", env("PGUSER", "postgres"));
        String password = System.getenv("PGPASSWORD");
        if (password != null) {
            props.setProperty("password", password);
        }
        String writerUrl = "jdbc:postgresql://" + env("PGHOST", "127.0.0.1") + ":"
            + env("PATINA_WRITER_PORT", env("PGPORT", "5433")) + "/" + env("PGDATABASE", "postgres");
        String table = "jdbc_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection conn = DriverManager.getConnection(url, props)) {
            connecting(conn);
            prepared(conn, table);
            metadata(conn, table);
        }
        rowFeed(url, writerUrl, props, table);
        querySubscription(url, writerUrl, props, table);
        System.out.println("pgjdbc: all checks passed");
    }

    static void connecting(Connection conn) throws Exception {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_setting('server_version_num')::int")) {
            check(rs.next() && rs.getInt(1) >= 150000, "server_version_num is PostgreSQL 15's");
        }
        check(conn.getMetaData().getDatabaseMajorVersion() == 15, "major version 15");
    }

    static void prepared(Connection conn, String table) throws Exception {
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE " + table
                + " (id integer PRIMARY KEY, name text, price numeric(10,2))");
        }
        try (PreparedStatement insert = conn.prepareStatement(
                "INSERT INTO " + table + " (id, name, price) VALUES (?, ?, ?)")) {
            for (int i = 1; i <= 10; i++) {
                insert.setInt(1, i);
                insert.setString(2, "item " + i);
                insert.setBigDecimal(3, new java.math.BigDecimal(i + ".50"));
                check(insert.executeUpdate() == 1, "insert " + i + " counts one row");
            }
        }
        conn.setAutoCommit(false);
        try (PreparedStatement select = conn.prepareStatement(
                "SELECT name, price FROM " + table + " WHERE id = ?")) {
            for (int i = 1; i <= 10; i++) {
                select.setInt(1, i);
                try (ResultSet rs = select.executeQuery()) {
                    check(rs.next(), "row " + i + " found");
                    check(rs.getString(1).equals("item " + i), "name of row " + i);
                    check(rs.getBigDecimal(2).toPlainString().equals(i + ".50"), "price of row " + i);
                    check(!rs.next(), "one row for id " + i);
                }
            }
        }
        conn.commit();
        conn.setAutoCommit(true);
    }

    static void metadata(Connection conn, String table) throws Exception {
        DatabaseMetaData meta = conn.getMetaData();
        try (ResultSet rs = meta.getTables(null, "public", table, new String[] {"TABLE"})) {
            check(rs.next(), "getTables finds " + table);
            check(rs.getString("TABLE_NAME").equals(table), "TABLE_NAME");
            check(rs.getString("TABLE_TYPE").equals("TABLE"), "TABLE_TYPE");
            check(!rs.next(), "getTables finds one table");
        }
        List<String> columns = new ArrayList<>();
        try (ResultSet rs = meta.getColumns(null, "public", table, null)) {
            while (rs.next()) {
                columns.add(rs.getString("COLUMN_NAME") + ":" + rs.getString("TYPE_NAME")
                    + ":" + rs.getInt("ORDINAL_POSITION"));
            }
        }
        check(columns.equals(List.of("id:int4:1", "name:text:2", "price:numeric:3")),
            "getColumns: " + columns);
        keys(conn, meta, table + "_k");
    }

    /** getPrimaryKeys and getIndexInfo: pgjdbc expands pg_index.indkey
     * with information_schema._pg_expandarray in a select list. */
    static void keys(Connection conn, DatabaseMetaData meta, String table) throws Exception {
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE " + table + " (b text, a integer, note text, PRIMARY KEY (a, b))");
            st.execute("CREATE INDEX " + table + "_note ON " + table + " (note)");
            // indoption (int2vector) is read from subscript 0
            st.execute("CREATE INDEX " + table + "_note_desc ON " + table + " (note DESC, a)");
        }
        List<String> pk = new ArrayList<>();
        try (ResultSet rs = meta.getPrimaryKeys(null, "public", table)) {
            while (rs.next()) {
                pk.add(rs.getString("COLUMN_NAME") + ":" + rs.getInt("KEY_SEQ") + ":" + rs.getString("PK_NAME"));
            }
        }
        check(pk.equals(List.of("a:1:" + table + "_pkey", "b:2:" + table + "_pkey")), "getPrimaryKeys: " + pk);
        List<String> indexes = new ArrayList<>();
        try (ResultSet rs = meta.getIndexInfo(null, "public", table, false, false)) {
            while (rs.next()) {
                indexes.add(rs.getString("INDEX_NAME") + ":" + rs.getBoolean("NON_UNIQUE") + ":"
                    + rs.getShort("ORDINAL_POSITION") + ":" + rs.getString("COLUMN_NAME") + ":"
                    + rs.getString("ASC_OR_DESC"));
            }
        }
        check(indexes.equals(List.of(
            table + "_pkey:false:1:a:A", table + "_pkey:false:2:b:A", table + "_note:true:1:note:A",
            table + "_note_desc:true:1:note:D", table + "_note_desc:true:2:a:A")),
            "getIndexInfo: " + indexes);
    }

    /** The notifications `listener` receives until it has `count` (bounded wait). */
    static List<PGNotification> notifications(Connection listener, int count) throws Exception {
        PGConnection pg = listener.unwrap(PGConnection.class);
        List<PGNotification> received = new ArrayList<>();
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (received.size() < count && System.nanoTime() < deadline) {
            PGNotification[] got = pg.getNotifications(500);
            if (got != null) {
                received.addAll(List.of(got));
            }
        }
        check(received.size() == count, "expected " + count + " notifications, got " + received.size());
        return received;
    }

    /** The rows of `table` (id and name, in order) as one string. */
    static String rows(Connection conn, String table) throws Exception {
        StringBuilder out = new StringBuilder();
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, name FROM " + table + " ORDER BY id")) {
            while (rs.next()) {
                out.append(rs.getInt(1)).append('=').append(rs.getString(2)).append(';');
            }
        }
        return out.toString();
    }

    /** Polls (bounded) until `writer`'s node holds `table` as `listener`'s
     * does: it gets there by replication. */
    static void waitForSameRows(Connection listener, Connection writer, String table) throws Exception {
        String expected = rows(listener, table);
        String last = null;
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            try {
                last = rows(writer, table);
                if (last.equals(expected)) {
                    return;
                }
            } catch (java.sql.SQLException e) {
                check("42P01".equals(e.getSQLState()), "reading " + table + ": " + e);
                last = e.getMessage();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the writer's node never held " + expected + ", last " + last);
    }

    static void rowFeed(String url, String writerUrl, Properties props, String table) throws Exception {
        try (Connection listener = DriverManager.getConnection(url, props);
             Connection writer = DriverManager.getConnection(writerUrl, props)) {
            try (Statement st = listener.createStatement();
                 ResultSet rs = st.executeQuery("SELECT version()")) {
                rs.next();
                if (!rs.getString(1).contains("(patina")) {
                    System.out.println("pgjdbc: row change feed skipped (not patina)");
                    return;
                }
            }
            waitForSameRows(listener, writer, table);
            String channel = "patina:changes:" + table;
            try (Statement st = listener.createStatement()) {
                st.execute("LISTEN \"" + channel + "\"");
            }
            writer.setAutoCommit(false);
            try (PreparedStatement update = writer.prepareStatement(
                    "UPDATE " + table + " SET name = ? WHERE id = ?");
                 Statement st = writer.createStatement()) {
                update.setString(1, "renamed");
                update.setInt(2, 1);
                update.executeUpdate();
                st.execute("DELETE FROM " + table + " WHERE id = 2");
                writer.commit();
                st.execute("DELETE FROM " + table + " WHERE id = 3");
                writer.rollback();
            }
            writer.setAutoCommit(true);
            try (Statement st = writer.createStatement()) {
                st.execute("INSERT INTO " + table + " (id, name, price) VALUES (11, 'new', 1.25)");
            }
            List<PGNotification> got = notifications(listener, 3);
            String origin = "\"origin\":\"[0-9a-f]{32}\",\"db_version\":[0-9]+\\}";
            String prefix = Pattern.quote("{\"table\":\"" + table + "\",");
            String[] expected = {
                prefix + Pattern.quote("\"op\":\"update\",\"pk\":{\"id\":1},\"columns\":{\"name\":\"renamed\"},") + origin,
                prefix + Pattern.quote("\"op\":\"delete\",\"pk\":{\"id\":2},\"columns\":{},") + origin,
                prefix + Pattern.quote("\"op\":\"insert\",\"pk\":{\"id\":11},\"columns\":{\"id\":11,\"name\":\"new\",\"price\":1.25},") + origin,
            };
            for (int i = 0; i < expected.length; i++) {
                PGNotification n = got.get(i);
                check(n.getName().equals(channel), "channel " + n.getName());
                check(n.getParameter().matches(expected[i]), "payload " + i + ": " + n.getParameter());
            }
        }
    }

    static void querySubscription(String url, String writerUrl, Properties props, String table)
            throws Exception {
        try (Connection listener = DriverManager.getConnection(url, props);
             Connection writer = DriverManager.getConnection(writerUrl, props)) {
            try (Statement st = listener.createStatement();
                 ResultSet rs = st.executeQuery("SELECT version()")) {
                rs.next();
                if (!rs.getString(1).contains("(patina")) {
                    System.out.println("pgjdbc: query subscription skipped (not patina)");
                    return;
                }
            }
            String sub;
            long at;
            // A prepared statement (extended protocol): the query is a literal.
            try (PreparedStatement subscribe = listener.prepareStatement(
                    "SELECT * FROM patina_subscribe('SELECT id, name FROM " + table + " WHERE id > 10')");
                 ResultSet rs = subscribe.executeQuery()) {
                check(rs.getMetaData().getColumnCount() == 5, "three columns of the subscription, two of the query");
                check(rs.getMetaData().getColumnName(4).equals("id"), "the query's columns follow");
                check(rs.next(), "the row of id 11");
                sub = rs.getString("patina_sub");
                at = rs.getLong("patina_change_id");
                check(rs.getInt("id") == 11 && rs.getString("name").equals("new"), "row 11");
                check(!rs.next(), "one row");
            }
            String channel = "patina:sub:" + sub;
            // Each write heard before the next: another node merging a burst
            // of commits may apply only their net effect.
            List<PGNotification> got = new ArrayList<>();
            try (Statement st = writer.createStatement()) {
                st.execute("INSERT INTO " + table + " (id, name) VALUES (12, 'twelve')");
                got.addAll(notifications(listener, 1));
                st.execute("UPDATE " + table + " SET name = 'eleven' WHERE id = 11");
                got.addAll(notifications(listener, 1));
            }
            String[] expected = {
                Pattern.quote("{\"change_id\":" + (at + 1) + ",\"op\":\"insert\",\"row_id\":") + "[0-9]+"
                    + Pattern.quote(",\"row\":{\"id\":12,\"name\":\"twelve\"}}"),
                Pattern.quote("{\"change_id\":" + (at + 2) + ",\"op\":\"update\",\"row_id\":") + "[0-9]+"
                    + Pattern.quote(",\"row\":{\"id\":11,\"name\":\"eleven\"}}"),
            };
            for (int i = 0; i < expected.length; i++) {
                PGNotification n = got.get(i);
                check(n.getName().equals(channel), "channel " + n.getName());
                check(n.getParameter().matches(expected[i]), "change " + i + ": " + n.getParameter());
            }
            // Resuming on another connection delivers what came after `at`.
            try (Connection again = DriverManager.getConnection(url, props)) {
                try (PreparedStatement resume = again.prepareStatement(
                        "SELECT * FROM patina_resume(?, ?)")) {
                    resume.setString(1, sub);
                    resume.setLong(2, at + 1);
                    try (ResultSet rs = resume.executeQuery()) {
                        check(rs.next() && rs.getLong(2) == at + 2, "resumed at change " + (at + 2));
                    }
                }
                List<PGNotification> missed = notifications(again, 1);
                check(missed.get(0).getParameter().equals(got.get(1).getParameter()),
                    "the missed change: " + missed.get(0).getParameter());
            }
        }
    }
}
