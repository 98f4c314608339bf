// pgjdbc (Debian's libpostgresql-jdbc-java) against the server given by
// PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD: connecting, prepared
// statements past the driver's prepareThreshold (from the 5th execution on
// they are named server-side statements, reused with Bind/Execute only),
// and DatabaseMetaData.getTables/getColumns, which query pg_catalog.
// Every expectation here is what PostgreSQL 15 does. Exits non-zero with a
// message at the first failure.

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
        String table = "jdbc_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        try (Connection conn = DriverManager.getConnection(url, props)) {
            connecting(conn);
            prepared(conn, table);
            metadata(conn, table);
        }
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
    }
}
